"""The OAuth 2.0 and OpenID Connect rules IMS applies: wire errors, scopes, PKCE, redirect URIs, JWTs, keys, profiles."""

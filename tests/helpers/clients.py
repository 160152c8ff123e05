"""Extra clients for tests that need more than the built-in confidential web app."""

from __future__ import annotations

from typing import Any

from mock_ims.config import MockConfig, default_config

# A single-page app: no secret, so PKCE is required (docs/ims-facts.md §7).
PUBLIC_CLIENT_ID = "public-spa"
PUBLIC_REDIRECT_URI = "https://localhost:9443/spa/callback"

# A client allowed the implicit grant (response_type token / id_token).
IMPLICIT_CLIENT_ID = "implicit-app"
IMPLICIT_SECRET = "implicit-secret"
IMPLICIT_REDIRECT_URI = "https://localhost:9443/implicit"

# A client with IMS's "Default Redirect URI": a redirect_uri that matches no pattern goes there.
DEFAULT_REDIRECT_CLIENT_ID = "default-redirect-app"
DEFAULT_REDIRECT_SECRET = "default-redirect-secret"
REGISTERED_REDIRECT_URI = "https://partner.example/callback"
DEFAULT_REDIRECT_URI = "https://partner.example/default"

# A second confidential client, to redeem another client's codes and tokens.
OTHER_CLIENT_ID = "other-app"
OTHER_SECRET = "other-secret"

# A confidential client that may only use the authorization code grant.
CODE_ONLY_CLIENT_ID = "code-only-app"
CODE_ONLY_SECRET = "code-only-secret"

EXTRA_CLIENTS: list[dict[str, Any]] = [
    {
        "client_id": PUBLIC_CLIENT_ID,
        "redirect_uris": [r"https://localhost:9443/spa/.*"],
        "scopes": ["openid", "AdobeID", "lr_partner_apis", "offline_access"],
    },
    {
        "client_id": IMPLICIT_CLIENT_ID,
        "client_secret": IMPLICIT_SECRET,
        "redirect_uris": [r"https://localhost:9443/implicit"],
        "scopes": ["openid", "AdobeID", "email", "profile"],
        "grant_types": ["authorization_code", "implicit"],
    },
    {
        "client_id": DEFAULT_REDIRECT_CLIENT_ID,
        "client_secret": DEFAULT_REDIRECT_SECRET,
        "redirect_uris": [r"https://partner\.example/callback"],
        "default_redirect_uri": DEFAULT_REDIRECT_URI,
        "scopes": ["openid", "AdobeID", "lr_partner_apis", "offline_access"],
    },
    {
        "client_id": OTHER_CLIENT_ID,
        "client_secret": OTHER_SECRET,
        "redirect_uris": [r"http://localhost:\d+/.*"],
        "scopes": ["openid", "AdobeID", "lr_partner_apis", "offline_access"],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
    },
    {
        "client_id": CODE_ONLY_CLIENT_ID,
        "client_secret": CODE_ONLY_SECRET,
        "redirect_uris": [r"http://localhost:\d+/.*"],
        "scopes": ["openid", "AdobeID"],
        "grant_types": ["authorization_code"],
    },
]


def config_with_extra_clients(**settings: Any) -> MockConfig:
    """The built-in configuration (its client stays the default) plus EXTRA_CLIENTS."""
    data = default_config().to_dict()
    data["clients"] = [*data["clients"], *EXTRA_CLIENTS]
    data.update(settings)
    return MockConfig.from_dict({k: v for k, v in data.items() if v is not None})

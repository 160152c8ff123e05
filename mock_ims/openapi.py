"""`/openapi.json`: the OpenAPI 3.1 description of every route the mock serves.

The document is built by one function per group of paths (`PATH_GROUPS`); a new group of
routes gets its own function, added there. Shared pieces (schemas, responses, headers,
security schemes) live in `components()` and are referred to with `ref(...)`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.version import __version__

Schema = dict[str, Any]
Operation = dict[str, Any]
Paths = dict[str, dict[str, Operation]]

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
JSON = "application/json"
HTML = "text/html; charset=utf-8"

DESCRIPTION = """\
A strict mock of Adobe IMS (OAuth 2.0 / OpenID Connect) for testing Lightroom partner apps.
Never trust its tokens in production.

Conventions of every IMS endpoint:
- parameters come from the query string, a urlencoded body or a multipart body (as IMS takes
  them), so they are listed in both places and are optional in each; the endpoint's errors say
  which are required;
- a value longer than 8192 characters or with a control character, a parameter repeated, or
  one that differs between the query and the body, is refused (400); a body over 64 KiB: 413;
- HEAD is served wherever GET is (RFC 9110 §9.3.2) and is not listed;
- any other path under /ims/ answers 404, any other method on a listed path 405 with `Allow`.
"""

MAX_VALUE_LENGTH = 8192
# A parameter value as mock_ims.params accepts it: no control characters, at most 8192 long.
TEXT: Schema = {"type": "string", "maxLength": MAX_VALUE_LENGTH, "pattern": "^[^\\u0000-\\u001f\\u007f]*$"}


def ref(kind: str, name: str) -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def text(description: str, **schema: Any) -> Schema:
    return {**TEXT, "description": description, **schema}


# ---- building blocks ------------------------------------------------------------------------


def query_parameters(fields: dict[str, Schema], required: tuple[str, ...] = ()) -> list[Schema]:
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": schema.get("description", ""),
            "schema": {k: v for k, v in schema.items() if k != "description"},
        }
        for name, schema in fields.items()
    ]


def form_body(fields: dict[str, Schema], description: str) -> Schema:
    """The same fields as a urlencoded or a multipart body (plain fields, no files)."""
    schema = {"type": "object", "properties": fields}
    return {
        "required": False,
        "description": description,
        "content": {FORM: {"schema": schema}, MULTIPART: {"schema": schema}},
    }


def json_content(schema: Schema) -> dict[str, Any]:
    return {JSON: {"schema": schema}}


def html_content(description: str) -> dict[str, Any]:
    return {"text/html": {"schema": {"type": "string", "description": description}}}


def response(
    description: str, *, content: dict[str, Any] | None = None, headers: dict[str, Any] | None = None
) -> Schema:
    answer: Schema = {"description": description}
    if headers:
        answer["headers"] = headers
    if content:
        answer["content"] = content
    return answer


Security = list[dict[str, list[str]]]
# RFC 6750 §2.1, or an access_token parameter
BEARER_OR_PARAMETER: Security = [{"bearerAuth": []}, {}]
# RFC 6749 §2.3.1, or client_id and client_secret parameters
BASIC_OR_PARAMETERS: Security = [{"basicAuth": []}, {}]
# The control plane needs the admin token only when the mock runs with --admin-token.
ADMIN_SECURITY: Security = [{"adminToken": []}, {}]


# ---- /ims/authorize and the login form -------------------------------------------------------

AUTHORIZE_FIELDS: dict[str, Schema] = {
    "client_id": text("The client (API key). Unknown or missing: an HTML error page, never a redirect."),
    "redirect_uri": text(
        "Where the answer goes; must fully match one of the client's redirect URI patterns "
        "(regular expressions). Missing or unregistered: the client's default redirect URI if it "
        "has one, else an HTML error page.",
        maxLength=2048,
    ),
    "scope": text("Comma- or space-separated scopes, e.g. `openid,AdobeID,lr_partner_apis`."),
    "response_type": text(
        "`code` (default), or with the implicit grant `token`, `id_token`, `id_token token`, `code id_token`."
    ),
    "response_mode": text("`query` (default for `code`) or `fragment` (default otherwise)."),
    "state": text("Returned unchanged with the answer; at most 4096 characters.", maxLength=4096),
    "nonce": text("Copied into the ID token (OIDC Core §3.1.2.1); required for `id_token` responses."),
    "code_challenge": text("RFC 7636 §4.2; required for public clients."),
    "code_challenge_method": text("`S256` or `plain` (the default when a challenge is sent)."),
    "prompt": text("`none`, or any of `login`, `consent`, `select_account` (space-separated)."),
    "login_hint": text("An email address: the login page preselects that user; SSO only answers for them."),
}

LOGIN_FIELDS: dict[str, Schema] = {
    "rid": text("The login request the page was rendered for (single use)."),
    "csrf": text("Must equal the `mock_ims_csrf` cookie."),
    "user": text("The email of a test user (the user buttons): sign in as that user and allow."),
    "email": text("Email, with `password`, when no `user` is chosen."),
    "password": text("The user's password."),
    "action": text("`allow` (default) or `deny` (answers `error=access_denied`)."),
}

SSO_COOKIE_PARAMETER: Schema = {
    "name": "mock_ims_sso",
    "in": "cookie",
    "required": False,
    "description": "The mock's sign-in session: with it, authorize answers at once (SSO).",
    "schema": {"type": "string"},
}
CSRF_COOKIE_PARAMETER: Schema = {
    "name": "mock_ims_csrf",
    "in": "cookie",
    "required": False,
    "description": "Set by the login page; the form's `csrf` field must equal it.",
    "schema": {"type": "string"},
}


def authorize_operation(method: str, version: str) -> Operation:
    is_get = method == "get"
    operation: Operation = {
        "operationId": f"authorize{version.replace('/', '_') or '_unversioned'}_{method}",
        "tags": ["sign-in"],
        "summary": "Start a sign-in (RFC 6749 §4.1.1, OIDC Core §3.1.2)",
        "description": (
            "Shows the login page, or answers at once for a signed-in browser (SSO), `prompt=none`, "
            "or the `auto_login` setting. Errors before the client and redirect URI are known are an "
            "HTML page; later ones are redirected with `error` and `state` (RFC 6749 §4.1.2.1)."
        ),
        "parameters": [
            *query_parameters(AUTHORIZE_FIELDS, required=("client_id",) if is_get else ()),
            SSO_COOKIE_PARAMETER,
            CSRF_COOKIE_PARAMETER,
        ],
        "responses": {
            "200": ref("responses", "LoginPage"),
            "302": ref("responses", "RedirectToClient"),
            "400": ref("responses", "ErrorPage"),
        },
    }
    if not is_get:
        operation["requestBody"] = form_body(AUTHORIZE_FIELDS, "The authorize parameters as a form.")
        operation["responses"]["413"] = ref("responses", "ErrorPageTooLarge")
    return operation


def authorize_paths() -> Paths:
    paths: Paths = {}
    for version in ("/v2", "/v1", ""):
        paths[f"/ims/authorize{version}"] = {
            "get": authorize_operation("get", version),
            "post": authorize_operation("post", version),
        }
    paths["/ims/login"] = {
        "post": {
            "operationId": "login_post",
            "tags": ["sign-in"],
            "summary": "The login page's form: allow as a user, or deny",
            "parameters": [CSRF_COOKIE_PARAMETER, SSO_COOKIE_PARAMETER],
            "requestBody": form_body(LOGIN_FIELDS, "The login form."),
            "responses": {
                "200": ref("responses", "LoginPage"),
                "302": ref("responses", "RedirectToClient"),
                "400": ref("responses", "ErrorPage"),
                "403": response(
                    "The CSRF check failed, or the form was posted from another site.",
                    content=html_content("An HTML error page."),
                    headers=PAGE_HEADERS,
                ),
                "413": ref("responses", "ErrorPageTooLarge"),
            },
        }
    }
    return paths


# ---- /ims/token ------------------------------------------------------------------------------

TOKEN_FIELDS: dict[str, Schema] = {
    "grant_type": text("`authorization_code`, `refresh_token` or `client_credentials`."),
    "code": text("The authorization code (authorization_code grant)."),
    "redirect_uri": text(
        "Must equal the authorize request's when given; omitting it is accepted and journalled "
        "(`redirect_uri_omitted`), as IMS does."
    ),
    "code_verifier": text("RFC 7636 §4.5; required when the authorize request sent a challenge."),
    "refresh_token": text("The refresh token (refresh_token grant); single use, it rotates."),
    "scope": text("A narrower scope (refresh_token), or the scopes wanted (client_credentials)."),
    "client_id": text("The client, when it does not use HTTP Basic."),
    "client_secret": text(
        "The secret, when the client does not use HTTP Basic; in the query string it is accepted "
        "and journalled (`client_secret_in_query`)."
    ),
}


def token_paths() -> Paths:
    paths: Paths = {}
    for version, unit in (
        ("/v3", "seconds"),
        ("/v2", "milliseconds"),
        ("/v1", "milliseconds"),
        ("", "milliseconds"),
    ):
        name = version.replace("/", "_") or "_unversioned"
        success = "TokenResponseV1" if version in ("/v1", "") else "TokenResponse"
        paths[f"/ims/token{version}"] = {
            "post": {
                "operationId": f"token{name}_post",
                "tags": ["tokens"],
                "summary": "Trade a grant for tokens (RFC 6749 §3.2, §4.1.3, §4.4, §6)",
                "description": f"`expires_in` is in {unit}.",
                "security": BASIC_OR_PARAMETERS,
                "parameters": query_parameters(TOKEN_FIELDS),
                "requestBody": form_body(TOKEN_FIELDS, "The token request."),
                "responses": {
                    "200": response(
                        "The tokens (RFC 6749 §5.1).",
                        content=json_content(ref("schemas", success)),
                        headers=NO_STORE_HEADERS,
                    ),
                    "400": ref("responses", "OAuthError"),
                    "413": ref("responses", "TooLarge"),
                },
            },
            "get": {
                "operationId": f"token{name}_get",
                "tags": ["tokens"],
                "summary": "Refused: the token endpoint takes POST",
                "security": BASIC_OR_PARAMETERS,
                "parameters": query_parameters(TOKEN_FIELDS),
                "responses": {
                    "400": ref("responses", "OAuthError"),
                    "405": ref("responses", "MethodNotAllowed"),
                },
            },
        }
    return paths


# ---- userinfo and profile --------------------------------------------------------------------

BEARER_FIELDS: dict[str, Schema] = {
    "access_token": text(
        "The access token, when it is not sent as `Authorization: Bearer` "
        "(journalled: `access_token_in_query` / `access_token_in_body`)."
    ),
    "client_id": text("The calling client (IMS asks for it; a different one is journalled)."),
}


def bearer_responses(success: Schema, *, with_body: bool, forbidden: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": response(
            "The user.",
            content=json_content(success),
            headers={"Cache-Control": ref("headers", "CacheControl")},
        ),
        "400": ref("responses", "OAuthError"),
        "401": ref("responses", "InvalidToken"),
    }
    if forbidden:
        responses["403"] = ref("responses", "InsufficientScope")
    if with_body:
        responses["413"] = ref("responses", "TooLarge")
    return responses


def userinfo_paths() -> Paths:
    paths: Paths = {}
    for version in ("/v2", "/v1", ""):
        name = version.replace("/", "_") or "_unversioned"
        common = {
            "tags": ["user"],
            "summary": "The user's standard claims, by scope (OIDC Core §5.3)",
            "security": BEARER_OR_PARAMETER,
        }
        paths[f"/ims/userinfo{version}"] = {
            "get": {
                **common,
                "operationId": f"userinfo{name}_get",
                "parameters": query_parameters(BEARER_FIELDS),
                "responses": bearer_responses(ref("schemas", "UserInfo"), with_body=False, forbidden=True),
            },
            "post": {
                **common,
                "operationId": f"userinfo{name}_post",
                "parameters": query_parameters(BEARER_FIELDS),
                "requestBody": form_body(BEARER_FIELDS, "The parameters as a form."),
                "responses": bearer_responses(ref("schemas", "UserInfo"), with_body=True, forbidden=True),
            },
        }
    paths["/ims/profile/v1"] = {
        "get": {
            "operationId": "profile_v1_get",
            "tags": ["user"],
            "summary": "The user's IMS profile (not an OIDC document)",
            "security": BEARER_OR_PARAMETER,
            "parameters": query_parameters(BEARER_FIELDS),
            "responses": bearer_responses(ref("schemas", "Profile"), with_body=False, forbidden=False),
        }
    }
    return paths


# ---- revoke, logout, validate_token ----------------------------------------------------------

REVOKE_FIELDS: dict[str, Schema] = {
    "token": text("The access or refresh token to revoke; a refresh token takes its whole grant."),
    "token_type_hint": text("`access_token` or `refresh_token` (RFC 7009 §2.1; not needed)."),
    "client_id": text("The client, when it does not use HTTP Basic (a public client sends only this)."),
    "client_secret": text("The secret, when the client does not use HTTP Basic."),
}


def revoke_paths() -> Paths:
    return {
        "/ims/revoke": {
            "post": {
                "operationId": "revoke_post",
                "tags": ["tokens"],
                "summary": "Revoke a token (RFC 7009)",
                "security": BASIC_OR_PARAMETERS,
                "parameters": query_parameters(REVOKE_FIELDS),
                "requestBody": form_body(REVOKE_FIELDS, "The revocation request."),
                "responses": {
                    "200": response(
                        "Revoked, or nothing to revoke (RFC 7009 §2.2): no body, as IMS answers."
                    ),
                    "400": ref("responses", "OAuthError"),
                    "413": ref("responses", "TooLarge"),
                },
            },
            "get": {
                "operationId": "revoke_get",
                "tags": ["tokens"],
                "summary": "Refused: revocation takes POST",
                "security": BASIC_OR_PARAMETERS,
                "parameters": query_parameters(REVOKE_FIELDS),
                "responses": {
                    "400": ref("responses", "OAuthError"),
                    "405": ref("responses", "MethodNotAllowed"),
                },
            },
        }
    }


LOGOUT_FIELDS: dict[str, Schema] = {
    "redirect_uri": text(
        "Front channel: where to go after signing out, if it matches the client's patterns."
    ),
    "client_id": text("The client whose patterns `redirect_uri` must match (else the token's client)."),
    "client_secret": text("Back channel: with it (or HTTP Basic) the answer is JSON `{}`."),
    "access_token": text("The token whose grant (access and refresh tokens) ends, with its session."),
}


def logout_operation(method: str) -> Operation:
    operation: Operation = {
        "operationId": f"logout_v1_{method}",
        "tags": ["sign-in"],
        "summary": "Sign out: end the session and the token's grant",
        "description": (
            "Front channel (a browser): clears the SSO session and redirects to `redirect_uri` when it "
            "matches the client's patterns, else shows a signed-out page. Back channel (client "
            "credentials given): answers `{}`."
        ),
        "security": [{"basicAuth": []}, {"bearerAuth": []}, {}],
        "parameters": [*query_parameters(LOGOUT_FIELDS), SSO_COOKIE_PARAMETER],
        "responses": {
            "200": response(
                "Signed out: a page (front channel) or `{}` (back channel).",
                content={
                    **html_content("The signed-out page."),
                    JSON: {"schema": {"type": "object", "maxProperties": 0}},
                },
                headers={
                    "Cache-Control": ref("headers", "CacheControl"),
                    "Set-Cookie": ref("headers", "SetCookie"),
                },
            ),
            "302": ref("responses", "RedirectToClient"),
            "400": ref("responses", "OAuthError"),
        },
    }
    if method == "post":
        operation["requestBody"] = form_body(LOGOUT_FIELDS, "The logout parameters as a form.")
        operation["responses"]["413"] = ref("responses", "TooLarge")
    return operation


VALIDATE_FIELDS: dict[str, Schema] = {
    "token": text("The token to check (or send it as `Authorization: Bearer`)."),
    "client_id": text("The client the token must belong to (or the `X-IMS-ClientId` header)."),
    "type": text("`access_token` (default), `refresh_token` or `authorization_code`."),
}


def validate_operation(method: str) -> Operation:
    operation: Operation = {
        "operationId": f"validate_token_v1_{method}",
        "tags": ["tokens"],
        "summary": "Is this token valid, and for this client?",
        "security": [{"bearerAuth": []}, {}],
        "parameters": [
            *query_parameters(VALIDATE_FIELDS),
            {
                "name": "X-IMS-ClientId",
                "in": "header",
                "required": False,
                "schema": TEXT,
                "description": "The client, instead of `client_id`.",
            },
        ],
        "responses": {
            "200": response("The verdict.", content=json_content(ref("schemas", "ValidateTokenResult"))),
            "400": ref("responses", "OAuthError"),
        },
    }
    if method == "post":
        operation["requestBody"] = form_body(VALIDATE_FIELDS, "The parameters as a form.")
        operation["responses"]["413"] = ref("responses", "TooLarge")
    return operation


def session_paths() -> Paths:
    return {
        "/ims/logout/v1": {"get": logout_operation("get"), "post": logout_operation("post")},
        "/ims/validate_token/v1": {"get": validate_operation("get"), "post": validate_operation("post")},
    }


# ---- discovery and keys ----------------------------------------------------------------------


def discovery_paths() -> Paths:
    def discovery(operation_id: str) -> Operation:
        return {
            "operationId": operation_id,
            "tags": ["discovery"],
            "summary": "The OpenID Provider configuration (OIDC Discovery 1.0 §3)",
            "responses": {
                "200": response(
                    "Every URL points at this server.",
                    content=json_content(ref("schemas", "OpenIDConfiguration")),
                ),
                "400": ref("responses", "OAuthError"),
            },
        }

    return {
        "/ims/.well-known/openid-configuration": {"get": discovery("discovery_ims_get")},
        "/.well-known/openid-configuration": {"get": discovery("discovery_root_get")},
        "/ims/keys": {
            "get": {
                "operationId": "keys_get",
                "tags": ["discovery"],
                "summary": "The public keys of every token the mock signs (RFC 7517)",
                "responses": {
                    "200": response(
                        "A JWK set.",
                        content=json_content(ref("schemas", "JWKS")),
                        headers={"Cache-Control": ref("headers", "CacheControl")},
                    ),
                    "400": ref("responses", "OAuthError"),
                },
            }
        },
    }


# ---- the control plane and this document -----------------------------------------------------

JOURNAL_FILTERS: dict[str, Schema] = {
    "endpoint": {
        "type": "string",
        "description": "Only this endpoint (`authorize`, `token`, `userinfo`, ...).",
    },
    "client_id": {"type": "string", "description": "Only this client (alias: `client`)."},
    "client": {"type": "string", "description": "Alias of `client_id`."},
    "user_id": {"type": "string", "description": "Only this user (alias: `user`)."},
    "user": {"type": "string", "description": "Alias of `user_id`."},
    "outcome": {
        "type": "string",
        "description": "Only entries with this outcome: `ok`, `refused` or `fault`.",
    },
    "since": {
        "type": "string",
        "anyOf": [{"format": "date-time"}, {"maxLength": 0}],
        "description": "Only entries at or after this ISO 8601 time (mock clock); empty: no filter.",
    },
    "after": {
        "type": "string",
        "pattern": "^[0-9]{0,15}$",
        "description": "Only entries with a greater `seq`.",
    },
    "limit": {"type": "string", "pattern": "^[0-9]{0,15}$", "description": "At most this many entries."},
}


def admin_paths() -> Paths:
    return {
        "/__admin/journal": {
            "get": {
                "operationId": "admin_journal_get",
                "tags": ["admin"],
                "summary": "Journal entries, oldest first, filtered",
                "security": ADMIN_SECURITY,
                "parameters": query_parameters(JOURNAL_FILTERS),
                "responses": {
                    "200": response("The entries.", content=json_content(ref("schemas", "Journal"))),
                    "400": ref("responses", "AdminError"),
                    "401": ref("responses", "AdminUnauthorized"),
                },
            },
            "delete": {
                "operationId": "admin_journal_delete",
                "tags": ["admin"],
                "summary": "Clear the journal",
                "security": ADMIN_SECURITY,
                "responses": {
                    "401": ref("responses", "AdminUnauthorized"),
                    "200": response(
                        "Cleared.",
                        content=json_content(
                            {
                                "type": "object",
                                "properties": {"cleared": {"const": True}},
                                "required": ["cleared"],
                                "additionalProperties": False,
                            }
                        ),
                    ),
                },
            },
        }
    }


def openapi_paths() -> Paths:
    return {
        "/openapi.json": {
            "get": {
                "operationId": "openapi_get",
                "tags": ["discovery"],
                "summary": "This document",
                "responses": {
                    "200": response(
                        "The OpenAPI 3.1 document.",
                        content=json_content({"type": "object", "required": ["openapi", "info", "paths"]}),
                    )
                },
            }
        }
    }


PATH_GROUPS: tuple[Callable[[], Paths], ...] = (
    authorize_paths,
    token_paths,
    userinfo_paths,
    revoke_paths,
    session_paths,
    discovery_paths,
    admin_paths,
    openapi_paths,
)


# ---- components ------------------------------------------------------------------------------

NO_STORE_HEADERS: dict[str, Any] = {
    "Cache-Control": {
        "description": "`no-store` (RFC 6749 §5.1).",
        "schema": {"type": "string"},
        "required": True,
    },
    "Pragma": {"description": "`no-cache`.", "schema": {"type": "string"}, "required": True},
}
PAGE_HEADERS: dict[str, Any] = {
    "Cache-Control": ref("headers", "CacheControl"),
    "X-Frame-Options": {
        "description": "`DENY`: the page cannot be framed.",
        "schema": {"type": "string"},
        "required": True,
    },
    "Content-Security-Policy": {
        "description": "No scripts, no framing.",
        "schema": {"type": "string"},
        "required": True,
    },
}

OAUTH_ERRORS = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_token",
    "insufficient_scope",
    "server_error",
]


def schemas() -> dict[str, Schema]:
    string: Schema = {"type": "string"}
    token_properties: Schema = {
        "access_token": {**string, "description": "An IMS-shaped RS256 JWT."},
        "refresh_token": {
            **string,
            "description": "With `offline_access` (or if the client is set up so).",
        },
        "sub": {**string, "description": "The user id (authorization_code grant)."},
        "id_token": {**string, "description": "With `openid` (authorization_code grant)."},
        "token_type": {"const": "bearer"},
        "expires_in": {
            "type": "integer",
            "minimum": 0,
            "description": "Seconds on v3, milliseconds on the legacy versions.",
        },
    }
    token_response: Schema = {
        "type": "object",
        "properties": token_properties,
        "required": ["access_token", "token_type", "expires_in"],
        "additionalProperties": False,
    }
    legacy_claims: Schema = {
        "address": {
            "type": "object",
            "properties": {"country": string},
            "required": ["country"],
            "additionalProperties": False,
        },
        "email_verified": {"const": "true"},
        "name": string,
        "given_name": string,
        "family_name": string,
        "email": string,
    }
    return {
        "OAuthError": {
            "type": "object",
            "properties": {"error": {"enum": OAUTH_ERRORS}, "error_description": string},
            "required": ["error", "error_description"],
            "additionalProperties": False,
        },
        "AdminError": {
            "type": "object",
            "properties": {"error": string, "detail": string},
            "required": ["error", "detail"],
            "additionalProperties": False,
        },
        "TokenResponse": token_response,
        "TokenResponseV1": {
            **token_response,
            "description": "The legacy answer: the user's profile claims inlined (user grants only).",
            "properties": {**token_properties, **legacy_claims},
        },
        "UserInfo": {
            "type": "object",
            "properties": {
                "sub": string,
                "account_type": {"enum": ["ind", "ent"]},
                "name": string,
                "given_name": string,
                "family_name": string,
                "email_verified": {"type": "boolean"},
                "email": string,
                "address": legacy_claims["address"],
            },
            "required": ["sub"],
            "additionalProperties": False,
        },
        "Profile": {
            "type": "object",
            "properties": {
                "account_type": {"enum": ["type1", "type2", "type3"]},
                "utcOffset": string,
                "preferred_languages": {"type": "array", "items": string},
                "displayName": string,
                "last_name": string,
                "userId": string,
                "authId": string,
                "tags": {"type": "array", "items": string},
                "emailVerified": {"enum": ["true", "false"]},
                "phoneNumber": {"type": ["string", "null"]},
                "countryCode": string,
                "name": string,
                "mrktPerm": string,
                "mrktPermEmail": string,
                "first_name": string,
                "email": string,
            },
            "required": ["userId", "email", "account_type", "first_name", "last_name", "displayName"],
            "additionalProperties": False,
        },
        "ValidateTokenResult": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "valid": {"const": True},
                        "token": {"type": "object", "description": "The token's claims."},
                        "expires_at": {"type": "integer", "description": "Epoch milliseconds."},
                    },
                    "required": ["valid", "token", "expires_at"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {"valid": {"const": False}, "reason": string},
                    "required": ["valid", "reason"],
                    "additionalProperties": False,
                },
            ]
        },
        "JWKS": {
            "type": "object",
            "properties": {
                "keys": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "kty": {"const": "RSA"},
                            "kid": string,
                            "use": {"const": "sig"},
                            "alg": {"const": "RS256"},
                            "n": string,
                            "e": string,
                        },
                        "required": ["kty", "kid", "use", "alg", "n", "e"],
                        "additionalProperties": False,
                    },
                }
            },
            "required": ["keys"],
            "additionalProperties": False,
        },
        "OpenIDConfiguration": {
            "type": "object",
            "properties": {
                "issuer": string,
                "authorization_endpoint": string,
                "token_endpoint": string,
                "userinfo_endpoint": string,
                "revocation_endpoint": string,
                "end_session_endpoint": string,
                "jwks_uri": string,
                "response_types_supported": {"type": "array", "items": string},
                "subject_types_supported": {"type": "array", "items": string},
                "id_token_signing_alg_values_supported": {"type": "array", "items": string},
            },
            "required": [
                "issuer",
                "authorization_endpoint",
                "token_endpoint",
                "jwks_uri",
                "response_types_supported",
                "subject_types_supported",
                "id_token_signing_alg_values_supported",
            ],
        },
        "Journal": {
            "type": "object",
            "properties": {
                "entries": {"type": "array", "items": ref("schemas", "JournalEntry")},
                "count": {"type": "integer"},
            },
            "required": ["entries", "count"],
            "additionalProperties": False,
        },
        "JournalEntry": journal_entry_schema(),
    }


def journal_entry_schema() -> Schema:
    string = {"type": "string"}
    maybe = {"type": ["string", "null"]}
    strings = {"type": "array", "items": string}
    string_map = {"type": "object", "additionalProperties": string}
    properties = {
        "seq": {"type": "integer"},
        "time": {**string, "description": "Mock-clock time, ISO 8601."},
        "time_ms": {"type": "integer"},
        "real_time": string,
        "endpoint": string,
        "version": string,
        "method": string,
        "path": string,
        "client_id": maybe,
        "user_id": maybe,
        "grant_type": maybe,
        "params": {
            **string_map,
            "description": "Secrets masked (`***`), codes and tokens replaced by their ids.",
        },
        "param_sources": {"type": "object", "additionalProperties": {"enum": ["query", "body"]}},
        "headers": string_map,
        "auth": {"enum": ["basic", "body", "query", "none", None]},
        "outcome": {"enum": ["ok", "refused", "fault"]},
        "status": {"type": "integer"},
        "error": maybe,
        "reason": maybe,
        "notes": {
            **strings,
            "description": "Leniencies accepted: `redirect_uri_omitted`, `client_secret_in_query`, ...",
        },
        "issued": strings,
        "consumed": maybe,
        "revoked": strings,
        "location": maybe,
        "fault": maybe,
        "pid": {"type": "integer", "description": "The worker process that answered."},
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def components() -> dict[str, Any]:
    return {
        "securitySchemes": {
            "basicAuth": {
                "type": "http",
                "scheme": "basic",
                "description": "client_id:client_secret (RFC 6749 §2.3.1).",
            },
            "adminToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "The admin token, when the mock runs with --admin-token.",
            },
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token (RFC 6750).",
            },
        },
        "headers": {
            "CacheControl": {"description": "Caching directives.", "schema": {"type": "string"}},
            "SetCookie": {
                "description": "The mock's session or CSRF cookie (path /ims).",
                "schema": {"type": "string"},
            },
        },
        "schemas": schemas(),
        "responses": {
            "OAuthError": response(
                "Refused: the OAuth error and why (RFC 6749 §5.2). IMS answers client authentication failures with 400 too.",
                content=json_content(ref("schemas", "OAuthError")),
                headers=NO_STORE_HEADERS,
            ),
            "TooLarge": response(
                "The body is larger than 64 KiB.",
                content=json_content(ref("schemas", "OAuthError")),
                headers=NO_STORE_HEADERS,
            ),
            "MethodNotAllowed": response(
                "This endpoint takes POST (RFC 9110 §15.5.6).",
                content=json_content(ref("schemas", "OAuthError")),
                headers={
                    "Allow": {
                        "description": "The methods served.",
                        "schema": {"type": "string"},
                        "required": True,
                    },
                    **NO_STORE_HEADERS,
                },
            ),
            "InvalidToken": response(
                "The bearer token is missing, malformed, expired or revoked (RFC 6750 §3.1).",
                content=json_content(ref("schemas", "OAuthError")),
                headers={
                    "WWW-Authenticate": {
                        "description": '`Bearer realm="ims"`, with `error` when a token was sent.',
                        "schema": {"type": "string"},
                        "required": True,
                    },
                    **NO_STORE_HEADERS,
                },
            ),
            "InsufficientScope": response(
                "The token lacks the `openid` scope (RFC 6750 §3.1).",
                content=json_content(ref("schemas", "OAuthError")),
                headers={
                    "WWW-Authenticate": {
                        "description": '`Bearer realm="ims", error="insufficient_scope"`.',
                        "schema": {"type": "string"},
                        "required": True,
                    },
                    **NO_STORE_HEADERS,
                },
            ),
            "LoginPage": response(
                "The login page (test users, email and password, Allow and Deny), or it again with an error.",
                content=html_content("The login page."),
                headers={**PAGE_HEADERS, "Set-Cookie": ref("headers", "SetCookie")},
            ),
            "ErrorPage": response(
                "An HTML error page: the client or redirect URI is unknown, or the request cannot be read. Never a redirect.",
                content=html_content("An HTML error page."),
                headers=PAGE_HEADERS,
            ),
            "ErrorPageTooLarge": response(
                "An HTML error page: the body is larger than 64 KiB.",
                content=html_content("An HTML error page."),
                headers=PAGE_HEADERS,
            ),
            "RedirectToClient": response(
                "Back to the client: `code`, tokens, or `error` with `state`, in the query or fragment.",
                headers={
                    "Location": {
                        "description": "A registered redirect URI with the answer.",
                        "schema": {"type": "string"},
                        "required": True,
                    },
                    "Cache-Control": ref("headers", "CacheControl"),
                    "Set-Cookie": ref("headers", "SetCookie"),
                },
            ),
            "AdminUnauthorized": response(
                "The mock runs with --admin-token and the request did not present it.",
                content=json_content(ref("schemas", "AdminError")),
                headers={
                    "WWW-Authenticate": {
                        "description": '`Bearer realm="mock-ims admin"`.',
                        "schema": {"type": "string"},
                        "required": True,
                    }
                },
            ),
            "AdminError": response(
                "A bad control-plane request.", content=json_content(ref("schemas", "AdminError"))
            ),
        },
    }


# ---- the document ----------------------------------------------------------------------------


def all_paths() -> Paths:
    paths: Paths = {}
    for group in PATH_GROUPS:
        for path, operations in group().items():
            if path in paths:
                raise ValueError(f"{path} is described by two path groups")
            paths[path] = operations
    return paths


def document(base_url: str) -> dict[str, Any]:
    """The OpenAPI document for a mock reached at `base_url`."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "mock-ims", "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": base_url}],
        "tags": [
            {"name": "sign-in", "description": "The browser's part: authorize, the login page, logout."},
            {"name": "tokens", "description": "The partner backend's part: token, revoke, validate."},
            {"name": "user", "description": "Who the token's user is."},
            {"name": "discovery", "description": "Discovery, keys, this document."},
            {"name": "admin", "description": "The control plane."},
        ],
        "paths": all_paths(),
        "components": components(),
    }


@functools.lru_cache(maxsize=16)
def _rendered(base_url: str) -> bytes:
    return bytes(JSONResponse(document(base_url)).body)


async def openapi(request: Request) -> Response:
    """This document, rendered once per base URL."""
    base = request.app.state.ims.base_url(request)
    return Response(_rendered(base), media_type=JSON)

"""The tables `/openapi.json` describes the IMS endpoints, the dashboard and the Lightroom stub
with (the control plane's are in `mock_ims.control.admin.routes`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Schema = dict[str, Any]
Fields = dict[str, tuple[Schema, str]]
Security = list[dict[str, list[str]]]

DESCRIPTION = """\
A strict mock of Adobe IMS (OAuth 2.0 / OpenID Connect) for testing Lightroom partner apps.
Never trust its tokens in production.

Conventions of every IMS endpoint:
- parameters come from the query string, a urlencoded body or a multipart body (as IMS takes
  them), so they are listed in both places and are optional in each; the endpoint's errors say
  which are required;
- a value longer than 8192 characters or with a control character, a parameter repeated, or
  one that differs between the query and the body, is refused (400); a body over 64 KiB: 413;
- request headers over 16 KiB in all, or more than 100 of them, are refused with 431
  (RFC 6585 §5) on every path, and are not listed;
- HEAD is served wherever GET is (RFC 9110 §9.3.2) and is not listed;
- any other path under /ims/ answers 404, any other method on a listed path 405 with `Allow`.
"""
# A parameter value as mock_ims.http.params accepts it: no control characters, at most 8192 long.
TEXT: Schema = {"type": "string", "maxLength": 8192, "pattern": "^[^\\u0000-\\u001f\\u007f]*$"}
STRING: Schema = {"type": "string"}
DIGITS: Schema = {"type": "string", "pattern": "^[0-9]{0,15}$"}


def text(**schema: Any) -> Schema:
    return {**TEXT, **schema}


def header(description: str, *, required: bool = True, **schema: Any) -> Schema:
    return {"description": description, "schema": {"type": "string", **schema}, "required": required}


def cookie(name: str, description: str) -> Schema:
    return {"name": name, "in": "cookie", "required": False, "description": description, "schema": STRING}


QUERIES: dict[str, Fields] = {
    "authorize": {
        "client_id": (text(examples=["mock-partner-app"]), "The client (API key). Unknown or missing: an HTML error page, never a redirect."),
        "redirect_uri": (text(maxLength=2048, examples=["http://localhost:8000/callback"]), "Where the answer goes; must fully match one of the client's redirect URI patterns (regular expressions). Missing or unregistered: the client's default redirect URI if it has one, else an HTML error page."),
        "scope": (text(examples=["openid,AdobeID,lr_partner_apis,offline_access"]), "Comma- or space-separated scopes, e.g. `openid,AdobeID,lr_partner_apis`."),
        "response_type": (TEXT, "`code` (default), or with the implicit grant `token`, `id_token`, `id_token token`, `code id_token`."),
        "response_mode": (TEXT, "`query` (default for `code`) or `fragment` (default otherwise)."),
        "state": (text(maxLength=4096), "Returned unchanged with the answer; at most 4096 characters."),
        "nonce": (TEXT, "Copied into the ID token (OIDC Core §3.1.2.1); required for `id_token` responses."),
        "code_challenge": (TEXT, "RFC 7636 §4.2; required for public clients."),
        "code_challenge_method": (TEXT, "`S256` or `plain` (the default when a challenge is sent)."),
        "prompt": (TEXT, "`none`, or any of `login`, `consent`, `select_account` (space-separated)."),
        "login_hint": (TEXT, "An email address: the login page preselects that user; SSO only answers for them."),
    },
    "login": {
        "rid": (TEXT, "The login request the page was rendered for (single use)."),
        "csrf": (TEXT, "Must equal the `mock_ims_csrf` cookie."),
        "user": (TEXT, "The email of a test user (the user buttons): sign in as that user and allow."),
        "email": (TEXT, "Email, with `password`, when no `user` is chosen."),
        "password": (TEXT, "The user's password."),
        "action": (TEXT, "`allow` (default) or `deny` (answers `error=access_denied`)."),
    },
    "token": {
        "grant_type": (text(examples=["client_credentials"]), "`authorization_code`, `refresh_token` or `client_credentials`."),
        "code": (TEXT, "The authorization code (authorization_code grant)."),
        "redirect_uri": (TEXT, "Must equal the authorize request's when given; omitting it is accepted and journalled (`redirect_uri_omitted`), as IMS does."),
        "code_verifier": (TEXT, "RFC 7636 §4.5; required when the authorize request sent a challenge."),
        "refresh_token": (TEXT, "The refresh token (refresh_token grant); single use, it rotates."),
        "scope": (TEXT, "A narrower scope (refresh_token), or the scopes wanted (client_credentials)."),
        "client_id": (TEXT, "The client, when it does not use HTTP Basic."),
        "client_secret": (TEXT, "The secret, when the client does not use HTTP Basic; in the query string it is accepted and journalled (`client_secret_in_query`)."),
    },
    "bearer": {
        "access_token": (TEXT, "The access token, when it is not sent as `Authorization: Bearer` (journalled: `access_token_in_query` / `access_token_in_body`)."),
        "client_id": (TEXT, "The calling client (IMS asks for it; a different one is journalled)."),
    },
    "revoke": {
        "token": (TEXT, "The access or refresh token to revoke; a refresh token takes its whole grant."),
        "token_type_hint": (TEXT, "`access_token` or `refresh_token` (RFC 7009 §2.1; not needed)."),
        "client_id": (TEXT, "The client, when it does not use HTTP Basic (a public client sends only this)."),
        "client_secret": (TEXT, "The secret, when the client does not use HTTP Basic."),
    },
    "logout": {
        "redirect_uri": (TEXT, "Front channel: where to go after signing out, if it matches the client's patterns."),
        "client_id": (TEXT, "The client whose patterns `redirect_uri` must match (else the token's client)."),
        "client_secret": (TEXT, "Back channel: with it (or HTTP Basic) the answer is JSON `{}`."),
        "access_token": (TEXT, "The token whose grant (access and refresh tokens) ends, with its session."),
    },
    "validate": {
        "token": (TEXT, "The token to check (or send it as `Authorization: Bearer`)."),
        "client_id": (TEXT, "The client the token must belong to (or the `X-IMS-ClientId` header)."),
        "type": (TEXT, "`access_token` (default), `refresh_token` or `authorization_code`."),
    },
    "journal": {
        "endpoint": (STRING, "Only this endpoint (`authorize`, `token`, `userinfo`, ...)."),
        "client_id": (STRING, "Only this client (alias: `client`)."),
        "client": (STRING, "Alias of `client_id`."),
        "user_id": (STRING, "Only this user (alias: `user`)."),
        "user": (STRING, "Alias of `user_id`."),
        "outcome": (STRING, "Only entries with this outcome: `ok`, `refused` or `fault`."),
        "since": ({"type": "string", "anyOf": [{"format": "date-time"}, {"maxLength": 0}]}, "Only entries at or after this ISO 8601 time (mock clock); empty: no filter."),
        "after": (DIGITS, "Only entries with a greater `seq`."),
        "limit": (DIGITS, "At most this many entries."),
    },
    "tokens": {
        "kind": ({"enum": ["authorization_code", "access_token", "refresh_token"]}, "Only this kind."),
        "client_id": (STRING, "Only tokens of this client."),
        "user": (STRING, "Only tokens of this user (id or email; alias: `user_id`)."),
        "user_id": (STRING, "Alias of `user`."),
        "live": ({"enum": ["true", "false"]}, "Only unexpired, unused, unrevoked ones (or only the others)."),
    },
    "dashboard": {
        "endpoint": (STRING, "Only this endpoint's journal entries."),
        "client": (STRING, "Only this client's."),
        "user": (STRING, "Only this user's."),
        "outcome": (STRING, "Only `ok`, `refused` or `fault` entries."),
        "refresh": (STRING, "Reload every N seconds (1 to 3600); anything else: never."),
    },
    "ui_clock": {
        "csrf": (TEXT, "Must equal the `mock_ims_dashboard_csrf` cookie."),
        "seconds": (TEXT, "A number of seconds."),
        "return_to": (TEXT, "The dashboard view to go back to (its filters); nothing else is kept."),
    },
    "ui_clear": {
        "csrf": (TEXT, "Must equal the `mock_ims_dashboard_csrf` cookie."),
        "return_to": (TEXT, "The dashboard view to go back to (its filters); nothing else is kept."),
    },
}  # fmt: skip

NO_STORE = {"Cache-Control": header("`no-store` (RFC 6749 §5.1)."), "Pragma": header("`no-cache`.")}
CACHE = {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}
SET_COOKIE = {"Set-Cookie": {"$ref": "#/components/headers/SetCookie"}}
PAGE_HEADERS = {
    **CACHE,
    "X-Frame-Options": header("`DENY`: the page cannot be framed."),
    "Content-Security-Policy": header("No scripts, no framing."),
}
OAUTH = "OAuthError"
ERROR_PAGE = {"text/html": {"schema": {"type": "string", "description": "An HTML error page."}}}


def html(description: str) -> Schema:
    return {"text/html": {"schema": {"type": "string", "description": description}}}


def www_authenticate(description: str) -> Schema:
    return {"WWW-Authenticate": header(description)}


COMPONENT_RESPONSES: dict[str, Any] = {
    "OAuthError": ("Refused: the OAuth error and why (RFC 6749 §5.2). IMS answers client authentication failures with 400 too.", OAUTH, NO_STORE),
    "TooLarge": ("The body is larger than 64 KiB.", OAUTH, NO_STORE),
    "MethodNotAllowed": ("This endpoint takes POST (RFC 9110 §15.5.6).", OAUTH, {"Allow": header("The methods served."), **NO_STORE}),
    "InvalidToken": ("The bearer token is missing, malformed, expired or revoked (RFC 6750 §3.1).", OAUTH, {**www_authenticate('`Bearer realm="ims"`, with `error` when a token was sent.'), **NO_STORE}),
    "InsufficientScope": ("The token lacks the `openid` scope (RFC 6750 §3.1).", OAUTH, {**www_authenticate('`Bearer realm="ims", error="insufficient_scope"`.'), **NO_STORE}),
    "LoginPage": ("The login page (test users, email and password, Allow and Deny), or it again with an error.", html("The login page."), {**PAGE_HEADERS, **SET_COOKIE}),
    "ErrorPage": ("An HTML error page: the client or redirect URI is unknown, or the request cannot be read. Never a redirect.", ERROR_PAGE, PAGE_HEADERS),
    "ErrorPageTooLarge": ("An HTML error page: the body is larger than 64 KiB.", ERROR_PAGE, PAGE_HEADERS),
    "RedirectToClient": ("Back to the client: `code`, tokens, or `error` with `state`, in the query or fragment.", None, {"Location": header("A registered redirect URI with the answer."), **CACHE, **SET_COOKIE}),
    "AdminUnauthorized": ("The mock runs with --admin-token and the request did not present it.", "AdminError", www_authenticate('`Bearer realm="mock-ims admin"`.')),
    "AdminError": ("A bad control-plane request.", "AdminError", None),
    "AdminNotFound": ("No such user, client, fault or scenario.", "AdminError", None),
    "AdminConflict": ("The id or email exists already.", "AdminError", None),
    "AdminTooLarge": ("The body is larger than 256 KiB.", "AdminError", None),
    "LeaseHeld": ("Someone else holds the lease: who, and for how long (never its id).", {"application/json": {"schema": {"anyOf": [{"$ref": "#/components/schemas/LeaseHeld"}, {"$ref": "#/components/schemas/AdminError"}]}}}, None),
    "LeaseGone": ("No lease is held under this id: it was released, it expired, or it never was.", "AdminError", None),
    "DashboardRefusal": ("A small HTML page saying why: a bad value (400), or the CSRF or same-origin check failed (403).", html("The refusal."), PAGE_HEADERS),
}  # fmt: skip

SECURITY_SCHEMES: dict[str, Schema] = {
    "basicAuth": {"type": "http", "scheme": "basic", "description": "client_id:client_secret (RFC 6749 §2.3.1)."},
    "adminToken": {"type": "http", "scheme": "bearer", "description": "The admin token, when the mock runs with --admin-token."},
    "adminBasic": {"type": "http", "scheme": "basic", "description": "The admin token as the password (any user name): how a browser sends it."},
    "lightroomApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The Lightroom stub's API key: a registered client id."},
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "An access token (RFC 6750)."},
}  # fmt: skip
TAGS = [
    {"name": "sign-in", "description": "The browser's part: authorize, the login page, logout."},
    {"name": "tokens", "description": "The partner backend's part: token, revoke, validate."},
    {"name": "user", "description": "Who the token's user is."},
    {"name": "discovery", "description": "Discovery, keys, this document."},
    {"name": "admin", "description": "The control plane and the dashboard."},
    {"name": "lightroom", "description": "The Lightroom Partner API stub (in place of lr.adobe.io)."},
]
BEARER_OR_PARAMETER: Security = [{"bearerAuth": []}, {}]  # RFC 6750 §2.1, or an access_token parameter
BASIC_OR_PARAMETERS: Security = [{"basicAuth": []}, {}]  # RFC 6749 §2.3.1, or client_id and client_secret
DASHBOARD_SECURITY: Security = [{"adminToken": []}, {"adminBasic": []}, {}]  # a browser sends HTTP Basic
SSO = cookie("mock_ims_sso", "The mock's sign-in session: with it, authorize answers at once (SSO).")
CSRF = cookie("mock_ims_csrf", "Set by the login page; the form's `csrf` field must equal it.")
UI_CSRF = cookie(
    "mock_ims_dashboard_csrf", "Set by the dashboard page; the form's `csrf` field must equal it."
)
BUTTON = (
    "A dashboard button. The `csrf` field must equal the `mock_ims_dashboard_csrf` cookie, and a cross-site "
    "`Origin` or `Sec-Fetch-Site` is refused (403)."
)
LIGHTROOM_403 = "No or an unknown `X-API-Key` (`403000`, `403003`)"


def _name(version: str) -> str:
    return version.replace("/", "_") or "_unversioned"


def _posted(spec: dict[str, Any], form: str, too_large: str = "TooLarge") -> dict[str, Any]:
    return {**spec, "form": form, "responses": {**spec["responses"], 413: too_large}}


def ims_operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for version in ("/v2", "/v1", ""):
        for method in ("get", "post"):
            spec: dict[str, Any] = {
                "id": f"authorize{_name(version)}_{method}", "tag": "sign-in", "fields": "authorize",
                "summary": "Start a sign-in (RFC 6749 §4.1.1, OIDC Core §3.1.2)",
                "description": "Shows the login page, or answers at once for a signed-in browser (SSO), `prompt=none`, or the `auto_login` setting. Errors before the client and redirect URI are known are an HTML page; later ones are redirected with `error` and `state` (RFC 6749 §4.1.2.1).",
                "required": ("client_id",) if method == "get" else (), "parameters": [SSO, CSRF],
                "responses": {200: "LoginPage", 302: "RedirectToClient", 400: "ErrorPage"},
            }  # fmt: skip
            yield (
                f"/ims/authorize{version}",
                method,
                spec
                if method == "get"
                else _posted(spec, "The authorize parameters as a form.", "ErrorPageTooLarge"),
            )
    yield "/ims/login", "post", {
        "id": "login_post", "tag": "sign-in", "summary": "The login page's form: allow as a user, or deny",
        "parameters": [CSRF, SSO], "fields": "login", "query_fields": False, "form": "The login form.",
        "responses": {200: "LoginPage", 302: "RedirectToClient", 400: "ErrorPage", 403: ("The CSRF check failed, or the form was posted from another site.", ERROR_PAGE, PAGE_HEADERS), 413: "ErrorPageTooLarge"},
    }  # fmt: skip
    for version, unit in (
        ("/v3", "seconds"),
        ("/v2", "milliseconds"),
        ("/v1", "milliseconds"),
        ("", "milliseconds"),
    ):
        success = "TokenResponseV1" if version in ("/v1", "") else "TokenResponse"
        common: dict[str, Any] = {"tag": "tokens", "security": BASIC_OR_PARAMETERS, "fields": "token"}
        yield f"/ims/token{version}", "post", {
            **common, "id": f"token{_name(version)}_post", "form": "The token request.",
            "summary": "Trade a grant for tokens (RFC 6749 §3.2, §4.1.3, §4.4, §6)", "description": f"`expires_in` is in {unit}.",
            "responses": {200: ("The tokens (RFC 6749 §5.1).", success, NO_STORE), 400: OAUTH, 413: "TooLarge"},
        }  # fmt: skip
        yield f"/ims/token{version}", "get", {
            **common, "id": f"token{_name(version)}_get", "summary": "Refused: the token endpoint takes POST",
            "responses": {400: OAUTH, 405: "MethodNotAllowed"},
        }  # fmt: skip
    user: dict[str, Any] = {"tag": "user", "security": BEARER_OR_PARAMETER, "fields": "bearer"}
    for version in ("/v2", "/v1", ""):
        for method in ("get", "post"):
            spec = {
                **user, "id": f"userinfo{_name(version)}_{method}", "summary": "The user's standard claims, by scope (OIDC Core §5.3)",
                "responses": {200: ("The user.", "UserInfo", CACHE), 400: OAUTH, 401: "InvalidToken", 403: "InsufficientScope"},
            }  # fmt: skip
            yield (
                f"/ims/userinfo{version}",
                method,
                spec if method == "get" else _posted(spec, "The parameters as a form."),
            )
    yield "/ims/profile/v1", "get", {
        **user, "id": "profile_v1_get", "summary": "The user's IMS profile (not an OIDC document)",
        "responses": {200: ("The user.", "Profile", CACHE), 400: OAUTH, 401: "InvalidToken"},
    }  # fmt: skip
    revoke: dict[str, Any] = {"tag": "tokens", "security": BASIC_OR_PARAMETERS, "fields": "revoke"}
    yield "/ims/revoke", "post", {
        **revoke, "id": "revoke_post", "summary": "Revoke a token (RFC 7009)", "form": "The revocation request.",
        "responses": {200: ("Revoked, or nothing to revoke (RFC 7009 §2.2): no body, as IMS answers.", None, None), 400: OAUTH, 413: "TooLarge"},
    }  # fmt: skip
    yield (
        "/ims/revoke",
        "get",
        {
            **revoke,
            "id": "revoke_get",
            "summary": "Refused: revocation takes POST",
            "responses": {400: OAUTH, 405: "MethodNotAllowed"},
        },
    )
    for method in ("get", "post"):
        spec = {
            "id": f"logout_v1_{method}", "tag": "sign-in", "summary": "Sign out: end the session and the token's grant",
            "description": "Front channel (a browser): clears the SSO session and redirects to `redirect_uri` when it matches the client's patterns, else shows a signed-out page. Back channel (client credentials given): answers `{}`.",
            "security": [{"basicAuth": []}, {"bearerAuth": []}, {}], "fields": "logout", "parameters": [SSO],
            "responses": {
                200: ("Signed out: a page (front channel) or `{}` (back channel).", {**html("The signed-out page."), "application/json": {"schema": {"type": "object", "maxProperties": 0}}}, {**CACHE, **SET_COOKIE}),
                302: "RedirectToClient", 400: OAUTH,
            },
        }  # fmt: skip
        yield (
            "/ims/logout/v1",
            method,
            spec if method == "get" else _posted(spec, "The logout parameters as a form."),
        )
    for method in ("get", "post"):
        spec = {
            "id": f"validate_token_v1_{method}", "tag": "tokens", "summary": "Is this token valid, and for this client?",
            "security": [{"bearerAuth": []}, {}], "fields": "validate",
            "parameters": [{"name": "X-IMS-ClientId", "in": "header", "required": False, "schema": TEXT, "description": "The client, instead of `client_id`."}],
            "responses": {200: ("The verdict.", "ValidateTokenResult", None), 400: OAUTH},
        }  # fmt: skip
        yield (
            "/ims/validate_token/v1",
            method,
            spec if method == "get" else _posted(spec, "The parameters as a form."),
        )
    for path, op_id in (
        ("/ims/.well-known/openid-configuration", "discovery_ims_get"),
        ("/.well-known/openid-configuration", "discovery_root_get"),
    ):
        yield path, "get", {
            "id": op_id, "tag": "discovery", "summary": "The OpenID Provider configuration (OIDC Discovery 1.0 §3)",
            "responses": {200: ("Every URL points at this server.", "OpenIDConfiguration", None), 400: OAUTH},
        }  # fmt: skip
    yield "/ims/keys", "get", {
        "id": "keys_get", "tag": "discovery", "summary": "The public keys of every token the mock signs (RFC 7517)",
        "responses": {200: ("A JWK set.", "JWKS", CACHE), 400: OAUTH},
    }  # fmt: skip
    yield "/", "get", {
        "id": "dashboard_get", "tag": "admin", "summary": "The dashboard: journal, tokens, users, clients, clock and faults (HTML)",
        "security": DASHBOARD_SECURITY, "fields": "dashboard",
        "responses": {200: ("The page.", html("The dashboard."), {**PAGE_HEADERS, **SET_COOKIE}), 401: "AdminUnauthorized"},
    }  # fmt: skip
    for path, op_id, summary, fields in (
        (
            "/__admin/ui/clock",
            "dashboard_clock_post",
            "Move the clock by `seconds` (negative goes back)",
            "ui_clock",
        ),
        ("/__admin/ui/clear-journal", "dashboard_clear_journal_post", "Clear the journal", "ui_clear"),
    ):
        back = {"Location": header("`/` and the view's filters.", pattern="^/"), **PAGE_HEADERS}
        yield path, "post", {
            "id": op_id, "tag": "admin", "summary": summary, "description": BUTTON, "security": DASHBOARD_SECURITY,
            "parameters": [UI_CSRF], "fields": fields, "query_fields": False, "form": "The button's form.",
            "responses": {303: ("Done: back to the dashboard, with the view's own filters only.", None, back), 400: "DashboardRefusal", 401: "AdminUnauthorized", 403: "DashboardRefusal"},
        }  # fmt: skip
    for path, op_id, summary, schema, user_needed in (
        ("/v2/health", "lightroom_health_get", "Lightroom's health check", "LightroomHealth", False),
        (
            "/v2/account",
            "lightroom_account_get",
            "The user's Lightroom account and entitlement",
            "LightroomAccount",
            True,
        ),
        (
            "/v2/catalog",
            "lightroom_catalog_get",
            "The user's catalog (subscriber and trial only)",
            "LightroomCatalog",
            True,
        ),
    ):
        forbidden = LIGHTROOM_403 + (
            ", an expired token or one not for Lightroom (`4300`), or an account not entitled (`4301`)."
            if user_needed
            else "."
        )
        responses: dict[int, Any] = {
            200: ("The answer, behind `while (1) {}` and a newline.", f"lightroom:{schema} {{...}}", None),
            400: ("The request cannot be read (a query string that is not UTF-8, malformed credentials).", 'lightroom:LightroomError {"code":400,"description":"Bad Request"}', None),
            403: (forbidden, 'lightroom:LightroomError {"code":"403000","description":"Api Key is required"}', None),
        }  # fmt: skip
        if user_needed:
            responses[401] = (
                "No bearer token, or a bad, revoked or unknown one.",
                'lightroom:LightroomError {"code":401,"description":"Unauthorized"}',
                www_authenticate('`Bearer realm="lightroom"`.'),
            )
        # Without the key the answer is 403 `403000`, without the token 401.
        security: Security = (
            [{"lightroomApiKey": [], "bearerAuth": []}] if user_needed else [{"lightroomApiKey": []}]
        )
        yield (
            path,
            "get",
            {
                "id": op_id,
                "tag": "lightroom",
                "summary": summary,
                "security": security,
                "responses": responses,
            },
        )
    yield "/openapi.json", "get", {
        "id": "openapi_get", "tag": "discovery", "summary": "This document",
        "responses": {200: ("The OpenAPI 3.1 document.", {"application/json": {"schema": {"type": "object", "required": ["openapi", "info", "paths"]}}}, None)},
    }  # fmt: skip

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

from mock_ims.config import MAX_LIFETIME_SECONDS
from mock_ims.protocol.bodies import MAX_ADVANCE_SECONDS
from mock_ims.protocol.bodies import CLOCK_RANGE
from mock_ims.state.faults import FAULT_RULE_FIELDS
from mock_ims.protocol.bodies import DEFAULT_TTL_SECONDS, MAX_HOLDER_LENGTH, MAX_TTL_SECONDS, MIN_TTL_SECONDS
from mock_ims.store import KINDS
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
- request headers over 16 KiB in all, or more than 100 of them, are refused with 431
  (RFC 6585 §5) on every path, and are not listed;
- HEAD is served wherever GET is (RFC 9110 §9.3.2) and is not listed;
- any other path under /ims/ answers 404, any other method on a listed path 405 with `Allow`.
"""

MAX_VALUE_LENGTH = 8192
# A parameter value as mock_ims.http.params accepts it: no control characters, at most 8192 long.
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
    "client_id": text(
        "The client (API key). Unknown or missing: an HTML error page, never a redirect.",
        examples=["mock-partner-app"],
    ),
    "redirect_uri": text(
        "Where the answer goes; must fully match one of the client's redirect URI patterns "
        "(regular expressions). Missing or unregistered: the client's default redirect URI if it "
        "has one, else an HTML error page.",
        maxLength=2048,
        examples=["http://localhost:8000/callback"],
    ),
    "scope": text(
        "Comma- or space-separated scopes, e.g. `openid,AdobeID,lr_partner_apis`.",
        examples=["openid,AdobeID,lr_partner_apis,offline_access"],
    ),
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
    "grant_type": text(
        "`authorization_code`, `refresh_token` or `client_credentials`.", examples=["client_credentials"]
    ),
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


# ---- the rest of the control plane ------------------------------------------------------------


def admin_operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    body: Schema | None = None,
    body_required: bool = True,
    parameters: list[Schema] | None = None,
    description: str | None = None,
) -> Operation:
    """An operation of the JSON control plane: its bearer token, and JSON errors."""
    operation: Operation = {
        "operationId": operation_id,
        "tags": ["admin"],
        "summary": summary,
        "security": ADMIN_SECURITY,
        "responses": {**responses, "401": ref("responses", "AdminUnauthorized")},
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        # The body is read as JSON whatever its Content-Type (an empty one is `{}`).
        operation["requestBody"] = {"required": body_required, "content": json_content(body)}
        operation["responses"].setdefault("400", ref("responses", "AdminError"))
        operation["responses"]["413"] = ref("responses", "AdminTooLarge")
    return operation


def path_parameter(name: str, description: str, **schema: Any) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def json_answer(description: str, schema: Schema) -> Schema:
    return response(description, content=json_content(schema))


def control_paths() -> Paths:
    """The clock, faults and scenarios, users and clients, tokens, reset."""
    clock = ref("schemas", "Clock")
    rules = {
        "type": "object",
        "properties": {"faults": {"type": "array", "items": ref("schemas", "FaultRule")}},
        "required": ["faults"],
        "additionalProperties": False,
    }
    user_ref = path_parameter("ref", "The user's id or email (case-insensitive).", minLength=1)
    client_id = path_parameter("client_id", "The client's id.", minLength=1)
    user_answers = {
        "404": ref("responses", "AdminNotFound"),
        "409": ref("responses", "AdminConflict"),
    }
    return {
        "/__admin/clock": {
            "get": admin_operation(
                "admin_clock_get", "The mock's time", {"200": json_answer("The time.", clock)}
            ),
            "post": admin_operation(
                "admin_clock_post",
                "Move the mock's time (every expiry decision uses it)",
                {"200": json_answer("The new time.", clock)},
                body=ref("schemas", "ClockChange"),
            ),
            "delete": admin_operation(
                "admin_clock_delete", "Back to real time", {"200": json_answer("The time.", clock)}
            ),
        },
        "/__admin/faults": {
            "get": admin_operation(
                "admin_faults_get", "The active fault rules", {"200": json_answer("The rules.", rules)}
            ),
            "post": admin_operation(
                "admin_faults_post",
                "Add a fault rule",
                {"201": json_answer("The rule, with its id.", ref("schemas", "FaultRule"))},
                body=ref("schemas", "FaultRequest"),
            ),
            "delete": admin_operation(
                "admin_faults_delete", "Remove every fault rule", {"200": json_answer("None left.", rules)}
            ),
        },
        "/__admin/faults/{fault_id}": {
            "delete": admin_operation(
                "admin_fault_delete",
                "Remove one fault rule",
                {"204": response("Removed."), "404": ref("responses", "AdminNotFound")},
                parameters=[path_parameter("fault_id", "The rule's id.")],
            )
        },
        "/__admin/scenarios": {
            "get": admin_operation(
                "admin_scenarios_get",
                "The named scenarios and their options",
                {"200": json_answer("The scenarios.", ref("schemas", "ScenarioList"))},
            )
        },
        "/__admin/scenarios/{name}": {
            "post": admin_operation(
                "admin_scenario_post",
                "Play a named scenario",
                {
                    "201": json_answer(
                        "The fault rules added, or the tokens revoked.", ref("schemas", "ScenarioResult")
                    ),
                    "404": ref("responses", "AdminNotFound"),
                },
                body=ref("schemas", "ScenarioOptions"),
                body_required=False,
                parameters=[path_parameter("name", "The scenario (see `GET /__admin/scenarios`).")],
                description="Each scenario takes only the options `GET /__admin/scenarios` lists for it.",
            )
        },
        "/__admin/users": {
            "get": admin_operation(
                "admin_users_get",
                "Every user",
                {"200": json_answer("The users.", list_of("users", ref("schemas", "User")))},
            ),
            "post": admin_operation(
                "admin_users_post",
                "Add a user",
                {"201": json_answer("The user.", ref("schemas", "User")), "409": user_answers["409"]},
                body=ref("schemas", "UserRequest"),
            ),
        },
        "/__admin/users/{ref}": {
            "get": admin_operation(
                "admin_user_get",
                "One user",
                {"200": json_answer("The user.", ref("schemas", "User")), "404": user_answers["404"]},
                parameters=[user_ref],
            ),
            "put": admin_operation(
                "admin_user_put",
                "Replace a user (the id cannot change)",
                {"200": json_answer("The user.", ref("schemas", "User")), **user_answers},
                body=ref("schemas", "UserRequest"),
                parameters=[user_ref],
            ),
            "patch": admin_operation(
                "admin_user_patch",
                "Change some of a user's fields (the id cannot change)",
                {"200": json_answer("The user.", ref("schemas", "User")), **user_answers},
                body=ref("schemas", "UserPatch"),
                body_required=False,
                parameters=[user_ref],
            ),
            "delete": admin_operation(
                "admin_user_delete",
                "Remove a user and revoke every token issued to it",
                {"204": response("Removed."), "404": user_answers["404"]},
                parameters=[user_ref],
            ),
        },
        "/__admin/clients": {
            "get": admin_operation(
                "admin_clients_get",
                "Every client",
                {"200": json_answer("The clients.", list_of("clients", ref("schemas", "Client")))},
            ),
            "post": admin_operation(
                "admin_clients_post",
                "Register a client",
                {"201": json_answer("The client.", ref("schemas", "Client")), "409": user_answers["409"]},
                body=ref("schemas", "ClientRequest"),
            ),
        },
        "/__admin/clients/{client_id}": {
            "get": admin_operation(
                "admin_client_get",
                "One client",
                {"200": json_answer("The client.", ref("schemas", "Client")), "404": user_answers["404"]},
                parameters=[client_id],
            ),
            "put": admin_operation(
                "admin_client_put",
                "Replace a client (the id cannot change)",
                {"200": json_answer("The client.", ref("schemas", "Client")), "404": user_answers["404"]},
                body=ref("schemas", "ClientReplacement"),
                parameters=[client_id],
            ),
            "patch": admin_operation(
                "admin_client_patch",
                "Change some of a client's fields (the id cannot change)",
                {"200": json_answer("The client.", ref("schemas", "Client")), "404": user_answers["404"]},
                body=ref("schemas", "ClientPatch"),
                body_required=False,
                parameters=[client_id],
            ),
            "delete": admin_operation(
                "admin_client_delete",
                "Remove a client and revoke every token issued to it",
                {"204": response("Removed."), "404": user_answers["404"]},
                parameters=[client_id],
            ),
        },
        "/__admin/tokens": {
            "get": admin_operation(
                "admin_tokens_get",
                "Every code and token issued, filtered",
                {
                    "200": json_answer("The tokens.", ref("schemas", "TokenList")),
                    "400": ref("responses", "AdminError"),
                },
                parameters=query_parameters(TOKEN_FILTERS),
            ),
            "post": admin_operation(
                "admin_tokens_post",
                "Mint a code or token as if the user had signed in, without a browser",
                {
                    "201": json_answer("The code or token.", ref("schemas", "Minted")),
                    "404": ref("responses", "AdminNotFound"),
                },
                body=ref("schemas", "MintRequest"),
            ),
        },
        "/__admin/tokens/revoke": {
            "post": admin_operation(
                "admin_tokens_revoke_post",
                "Revoke tokens by user, client, id or value (the fields combine)",
                {"200": json_answer("The ids revoked.", ref("schemas", "Revoked"))},
                body=ref("schemas", "RevokeRequest"),
            )
        },
        "/__admin/stats": {
            "get": admin_operation(
                "admin_stats_get",
                "How much state the mock holds: documents by kind, journal entries, memory",
                {"200": json_answer("The figures.", ref("schemas", "Stats"))},
            )
        },
        "/__admin/reset": {
            "post": admin_operation(
                "admin_reset_post",
                "Back to the configured state: journal, tokens, sessions, faults, clock, users, clients",
                {
                    "200": json_answer(
                        "Reset.",
                        {
                            "type": "object",
                            "properties": {"reset": {"const": True}},
                            "required": ["reset"],
                            "additionalProperties": False,
                        },
                    )
                },
            )
        },
    }


LEASE_DESCRIPTION = (
    "A cooperative, exclusive lease on the whole mock, for a tool that needs it to itself for a "
    "while (a conformance run moves the clock and reads the journal). One holder at a time: a "
    "second is refused (409) with who holds it and for how long. It expires on real time, never "
    "on the mock's clock, unless renewed; `POST /__admin/reset` keeps it, and it is not journalled. "
    "Cooperative: it refuses a second holder, it does not lock the mock."
)


def lease_paths() -> Paths:
    """`/__admin/lease`: take, show, renew and release the mock's lease."""
    lease_id = path_parameter("lease_id", "The id `POST /__admin/lease` answered.", minLength=1)
    held = response(
        "Someone else holds the lease: who, and for how long (never its id).",
        content=json_content({"anyOf": [ref("schemas", "LeaseHeld"), ref("schemas", "AdminError")]}),
    )
    gone = response(
        "No lease is held under this id: it was released, it expired, or it never was.",
        content=json_content(ref("schemas", "AdminError")),
    )
    granted = ref("schemas", "Lease")
    return {
        "/__admin/lease": {
            "get": admin_operation(
                "admin_lease_get",
                "Who holds the mock's lease, if anyone",
                {
                    "200": json_answer(
                        "The holder and its expiry, or `held: false`.", ref("schemas", "LeaseStatus")
                    )
                },
                description=LEASE_DESCRIPTION,
            ),
            "post": admin_operation(
                "admin_lease_post",
                "Take the mock's lease",
                {
                    "201": response(
                        "Yours: keep the `id`, the only proof it is yours; renew it before it expires.",
                        content=json_content(granted),
                        headers={
                            "Location": {
                                "description": "`/__admin/lease/{id}`: where to renew and release it.",
                                "schema": {"type": "string"},
                                "required": True,
                            }
                        },
                    ),
                    "409": held,
                },
                body=ref("schemas", "LeaseRequest"),
                description=LEASE_DESCRIPTION,
            ),
        },
        "/__admin/lease/{lease_id}": {
            "put": admin_operation(
                "admin_lease_put",
                "Renew the lease: it expires `ttl` seconds from now",
                {"200": json_answer("Renewed.", granted), "404": gone, "409": held},
                body=ref("schemas", "LeaseRenewal"),
                body_required=False,
                parameters=[lease_id],
            ),
            "delete": admin_operation(
                "admin_lease_delete",
                "Release the lease",
                {"204": response("Released: the next holder may take it."), "404": gone, "409": held},
                parameters=[lease_id],
                description="Not idempotent: releasing a lease no longer held (released, expired) is a 404.",
            ),
        },
    }


def list_of(name: str, item: Schema) -> Schema:
    return {
        "type": "object",
        "properties": {name: {"type": "array", "items": item}},
        "required": [name],
        "additionalProperties": False,
    }


TOKEN_FILTERS: dict[str, Schema] = {
    "kind": {
        "enum": ["authorization_code", "access_token", "refresh_token"],
        "description": "Only this kind.",
    },
    "client_id": {"type": "string", "description": "Only tokens of this client."},
    "user": {"type": "string", "description": "Only tokens of this user (id or email; alias: `user_id`)."},
    "user_id": {"type": "string", "description": "Alias of `user`."},
    "live": {
        "enum": ["true", "false"],
        "description": "Only unexpired, unused, unrevoked ones (or only the others).",
    },
}


# ---- the dashboard ----------------------------------------------------------------------------

DASHBOARD_CSRF_COOKIE: Schema = {
    "name": "mock_ims_dashboard_csrf",
    "in": "cookie",
    "required": False,
    "description": "Set by the dashboard page; the form's `csrf` field must equal it.",
    "schema": {"type": "string"},
}
DASHBOARD_FILTERS: dict[str, Schema] = {
    "endpoint": {"type": "string", "description": "Only this endpoint's journal entries."},
    "client": {"type": "string", "description": "Only this client's."},
    "user": {"type": "string", "description": "Only this user's."},
    "outcome": {"type": "string", "description": "Only `ok`, `refused` or `fault` entries."},
    "refresh": {"type": "string", "description": "Reload every N seconds (1 to 3600); anything else: never."},
}
# The dashboard asks a browser for the admin token with HTTP Basic (any user name).
DASHBOARD_SECURITY: Security = [{"adminToken": []}, {"adminBasic": []}, {}]


def dashboard_button(operation_id: str, summary: str, fields: dict[str, Schema]) -> Operation:
    return {
        "operationId": operation_id,
        "tags": ["admin"],
        "summary": summary,
        "description": (
            "A dashboard button. The `csrf` field must equal the `mock_ims_dashboard_csrf` cookie, and a "
            "cross-site `Origin` or `Sec-Fetch-Site` is refused (403)."
        ),
        "security": DASHBOARD_SECURITY,
        "parameters": [DASHBOARD_CSRF_COOKIE],
        "requestBody": form_body(fields, "The button's form."),
        "responses": {
            "303": response(
                "Done: back to the dashboard, with the view's own filters only.",
                headers={
                    "Location": {
                        "description": "`/` and the view's filters.",
                        "schema": {"type": "string", "pattern": "^/"},
                        "required": True,
                    },
                    **PAGE_HEADERS,
                },
            ),
            "400": ref("responses", "DashboardRefusal"),
            "401": ref("responses", "AdminUnauthorized"),
            "403": ref("responses", "DashboardRefusal"),
        },
    }


def dashboard_paths() -> Paths:
    return_to = text("The dashboard view to go back to (its filters); nothing else is kept.")
    csrf = text("Must equal the `mock_ims_dashboard_csrf` cookie.")
    return {
        "/": {
            "get": {
                "operationId": "dashboard_get",
                "tags": ["admin"],
                "summary": "The dashboard: journal, tokens, users, clients, clock and faults (HTML)",
                "security": DASHBOARD_SECURITY,
                "parameters": query_parameters(DASHBOARD_FILTERS),
                "responses": {
                    "200": response(
                        "The page.",
                        content=html_content("The dashboard."),
                        headers={**PAGE_HEADERS, "Set-Cookie": ref("headers", "SetCookie")},
                    ),
                    "401": ref("responses", "AdminUnauthorized"),
                },
            }
        },
        "/__admin/ui/clock": {
            "post": dashboard_button(
                "dashboard_clock_post",
                "Move the clock by `seconds` (negative goes back)",
                {"csrf": csrf, "seconds": text("A number of seconds."), "return_to": return_to},
            )
        },
        "/__admin/ui/clear-journal": {
            "post": dashboard_button(
                "dashboard_clear_journal_post",
                "Clear the journal",
                {"csrf": csrf, "return_to": return_to},
            )
        },
    }


# ---- the Lightroom stub -------------------------------------------------------------------------

LIGHTROOM_PREFIX = "while (1) {}\n"


def lightroom_content(schema_name: str, description: str) -> dict[str, Any]:
    """JSON behind Lightroom's `while (1) {}` prefix: not a JSON document as such, so the schema
    of what follows the prefix is given in `x-schema-after-prefix`, not as `schema`."""
    return {
        "application/json": {
            "x-json-prefix": LIGHTROOM_PREFIX,
            "x-schema-after-prefix": ref("schemas", schema_name),
            "example": f"{LIGHTROOM_PREFIX}{description}",
        }
    }


def lightroom_operation(operation_id: str, summary: str, schema_name: str, *, user: bool) -> Operation:
    responses: dict[str, Any] = {
        "200": response(
            "The answer, behind `while (1) {}` and a newline.",
            content=lightroom_content(schema_name, "{...}"),
        ),
        "400": response(
            "The request cannot be read (a query string that is not UTF-8, malformed credentials).",
            content=lightroom_content("LightroomError", '{"code":400,"description":"Bad Request"}'),
        ),
        "403": response(
            "No or an unknown `X-API-Key` (`403000`, `403003`)"
            + (
                ", an expired token or one not for Lightroom (`4300`), or an account not entitled (`4301`)."
                if user
                else "."
            ),
            content=lightroom_content(
                "LightroomError", '{"code":"403000","description":"Api Key is required"}'
            ),
        ),
    }
    if user:
        responses["401"] = response(
            "No bearer token, or a bad, revoked or unknown one.",
            content=lightroom_content("LightroomError", '{"code":401,"description":"Unauthorized"}'),
            headers={
                "WWW-Authenticate": {
                    "description": '`Bearer realm="lightroom"`.',
                    "schema": {"type": "string"},
                    "required": True,
                }
            },
        )
    operation: Operation = {
        "operationId": operation_id,
        "tags": ["lightroom"],
        "summary": summary,
        # Without the key the answer is 403 `403000`, without the token 401.
        "security": [{"lightroomApiKey": [], "bearerAuth": []}] if user else [{"lightroomApiKey": []}],
        "responses": responses,
    }
    return operation


def lightroom_paths() -> Paths:
    return {
        "/v2/health": {
            "get": lightroom_operation(
                "lightroom_health_get", "Lightroom's health check", "LightroomHealth", user=False
            )
        },
        "/v2/account": {
            "get": lightroom_operation(
                "lightroom_account_get",
                "The user's Lightroom account and entitlement",
                "LightroomAccount",
                user=True,
            )
        },
        "/v2/catalog": {
            "get": lightroom_operation(
                "lightroom_catalog_get",
                "The user's catalog (subscriber and trial only)",
                "LightroomCatalog",
                user=True,
            )
        },
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
    control_paths,
    lease_paths,
    dashboard_paths,
    lightroom_paths,
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
        **control_schemas(),
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


# A string as the configuration reads it: no control characters (mock_ims.config).
CONFIG_TEXT: Schema = {"type": "string", "pattern": "^[^\\u0000-\\u001f\\u007f]*$"}


def case_insensitive(word: str) -> str:
    """A regular expression for `word` in any case, without flags (ECMA-262 patterns have none)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


def optional(schema: Schema) -> Schema:
    """A field that may be null or left out (then its default applies)."""
    return {"anyOf": [schema, {"type": "null"}]}


def control_schemas() -> dict[str, Schema]:
    string: Schema = {"type": "string"}
    maybe: Schema = {"type": ["string", "null"]}
    strings: Schema = {"type": "array", "items": string}
    lifetime: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_LIFETIME_SECONDS}
    user_fields: dict[str, Schema] = {
        "email": {
            **CONFIG_TEXT,
            "pattern": "^[^\\s\\u0000-\\u001f\\u007f]*@[^\\s\\u0000-\\u001f\\u007f]*$",
            "maxLength": 254,
            "description": "Unique (case-insensitive).",
        },
        "password": {**CONFIG_TEXT, "minLength": 1},
        "first_name": optional(CONFIG_TEXT),
        "last_name": optional(CONFIG_TEXT),
        "user_id": optional({**CONFIG_TEXT, "description": "Default: derived from the email."}),
        "country_code": optional(CONFIG_TEXT),
        "account_type": optional({"enum": ["type1", "type2", "type3", ""]}),
        "preferred_languages": strings,
        "entitlement": optional(
            {"enum": ["created", "trial", "trial_expired", "subscriber", "subscriber_expired", ""]}
        ),
    }
    client_fields: dict[str, Schema] = {
        "client_id": {
            "type": "string",
            "pattern": "^[A-Za-z0-9._~-]{1,255}$",
            "description": "RFC 3986 unreserved characters only: it appears in URLs.",
        },
        "client_secret": optional(
            {**CONFIG_TEXT, "minLength": 1, "description": "Omit (or null) for a public client."}
        ),
        "name": optional(CONFIG_TEXT),
        "redirect_uris": {
            "type": "array",
            # Not `format: regex`: that is ECMA-262's syntax, and these are Python's `re` (a lone
            # "]" is a literal in Python, an error in ECMA-262 Unicode mode).
            "items": {"type": "string"},
            "description": (
                "Regular expressions in Python's `re` syntax, each matched against the whole "
                "redirect_uri; one that does not compile is refused with 400."
            ),
        },
        "default_redirect_uri": optional(CONFIG_TEXT),
        "scopes": {
            "anyOf": [
                {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[\\x21\\x23-\\x2b\\x2d-\\x5b\\x5d-\\x7e ]*$"},
                },
                {"type": "string", "pattern": "^[\\x21\\x23-\\x2b\\x2d-\\x5b\\x5d-\\x7e ]*$"},
            ],
            "description": "Scope names (RFC 6749 §3.3), at most 64.",
        },
        "grant_types": {
            "type": "array",
            "items": {"enum": ["authorization_code", "refresh_token", "client_credentials", "implicit"]},
        },
        "access_token_lifetime": lifetime,
        "refresh_token_lifetime": lifetime,
        "refresh_without_offline_access": {"type": "boolean"},
    }
    user: Schema = {
        "type": "object",
        "properties": {
            "email": string,
            "password": string,
            "first_name": string,
            "last_name": string,
            "user_id": string,
            "country_code": string,
            "account_type": {"enum": ["type1", "type2", "type3"]},
            "preferred_languages": strings,
            "entitlement": {
                "enum": ["created", "trial", "trial_expired", "subscriber", "subscriber_expired"]
            },
        },
        "required": list(user_fields),
        "additionalProperties": False,
    }
    client: Schema = {
        "type": "object",
        "properties": {
            "client_id": string,
            "client_secret": maybe,
            "name": string,
            "redirect_uris": strings,
            "default_redirect_uri": maybe,
            "scopes": strings,
            "grant_types": strings,
            "access_token_lifetime": {"type": "integer"},
            "refresh_token_lifetime": {"type": "integer"},
            "refresh_without_offline_access": {"type": "boolean"},
        },
        "required": list(client_fields),
        "additionalProperties": False,
    }
    fault_rule: Schema = {
        "type": "object",
        "properties": {
            "endpoint": string,
            "status": {"type": ["integer", "null"]},
            "body": {"description": "Any JSON value, or null for no body."},
            "headers": {"type": "object", "additionalProperties": string},
            "delay": {"type": "number"},
            "hang": {"type": "boolean"},
            "times": {"type": ["integer", "null"]},
            "client_id": maybe,
            "grant_type": maybe,
            "scenario": maybe,
            "id": string,
            "created": string,
        },
        "required": list(FAULT_RULE_FIELDS),
        "additionalProperties": False,
    }
    token_view: Schema = {
        "type": "object",
        "properties": {
            "id": string,
            "kind": {"enum": ["authorization_code", "access_token", "refresh_token"]},
            "raw": string,
            "header": {"type": "object"},
            "claims": {"type": "object"},
            "client_id": string,
            "user_id": string,
            "scope": string,
            "family": string,
            "parent": maybe,
            "created": string,
            "created_ms": {"type": "integer"},
            "expires": string,
            "expires_ms": {"type": "integer"},
            "expired": {"type": "boolean"},
            "used": {"type": "boolean"},
            "used_at": maybe,
            "revoked": {"type": "boolean"},
            "revoked_at": maybe,
            "revoked_reason": maybe,
            "redirect_uri": maybe,
            "minted_by": {"enum": ["flow", "admin"]},
        },
        "additionalProperties": False,
    }
    token_view["required"] = list(token_view["properties"])
    return {
        "Clock": {
            "type": "object",
            "properties": {
                "now": {**string, "description": "ISO 8601, UTC."},
                "now_ms": {"type": "integer", "description": "Epoch milliseconds."},
                "offset_seconds": {"type": "number", "description": "How far the mock is from real time."},
            },
            "required": ["now", "now_ms", "offset_seconds"],
            "additionalProperties": False,
        },
        "ClockChange": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "advance": {
                            "type": "number",
                            "minimum": -MAX_ADVANCE_SECONDS,
                            "maximum": MAX_ADVANCE_SECONDS,
                            "description": "Seconds forward (negative: back), at most 100 years.",
                        }
                    },
                    "required": ["advance"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {
                        "set": {
                            **string,
                            "format": "date-time",
                            "description": f"An ISO 8601 time between {CLOCK_RANGE[0]} and {CLOCK_RANGE[1]}.",
                        }
                    },
                    "required": ["set"],
                    "additionalProperties": False,
                },
            ],
            "description": (
                f"The clock stays between {CLOCK_RANGE[0]} and {CLOCK_RANGE[1]}: a change that would "
                "leave that range is refused (400)."
            ),
        },
        "FaultRequest": {
            "type": "object",
            "properties": {
                "endpoint": {
                    **string,
                    "minLength": 1,
                    "description": "An endpoint name (`token`, `authorize`, `lightroom.account`, ...), `*`, or a shell pattern.",
                },
                "status": {"type": ["integer", "null"], "minimum": 200, "maximum": 599},
                "body": {"description": "JSON (an object or array) or text to answer with."},
                "headers": {
                    "type": ["object", "null"],
                    "propertyNames": {
                        "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
                        "not": {
                            "pattern": f"^(?:{case_insensitive('content-length')}|{case_insensitive('transfer-encoding')})$"
                        },
                    },
                    "additionalProperties": {"type": "string", "pattern": "^[\\t\\x20-\\x7e\\x80-\\xff]*$"},
                    "description": (
                        "Header names are RFC 9110 tokens (not Content-Length or Transfer-Encoding, "
                        "which the mock sets); values visible ASCII, space or tab."
                    ),
                },
                "delay": {"type": ["number", "null"], "minimum": 0, "maximum": 600},
                "hang": {"type": "boolean"},
                "times": {"type": ["integer", "null"], "minimum": 1},
                "client_id": maybe,
                "grant_type": maybe,
            },
            "required": ["endpoint"],
            "additionalProperties": False,
            "description": "A rule needs an effect: a status, a delay or hang.",
        },
        "FaultRule": fault_rule,
        "ScenarioList": list_of(
            "scenarios",
            {
                "type": "object",
                "properties": {"name": string, "description": string, "options": strings},
                "required": ["name", "description", "options"],
                "additionalProperties": False,
            },
        ),
        "ScenarioOptions": {
            "type": "object",
            "properties": {
                "times": {"type": ["integer", "null"], "minimum": 1},
                "client_id": maybe,
                "grant_type": maybe,
                "user": {**string, "description": "A user's id or email (refresh-revoked)."},
                "delay": {"type": "number", "minimum": 0, "maximum": 600},
            },
            "additionalProperties": False,
        },
        "ScenarioResult": {
            "type": "object",
            "properties": {
                "scenario": string,
                "faults": {"type": "array", "items": ref("schemas", "FaultRule")},
                "revoked": strings,
            },
            "required": ["scenario"],
            "additionalProperties": False,
        },
        "User": user,
        "UserRequest": {
            "type": "object",
            "properties": user_fields,
            "required": ["email", "password"],
            "additionalProperties": False,
        },
        "UserPatch": {
            "type": "object",
            "properties": user_fields,
            "additionalProperties": False,
            "description": "The fields to change; the others keep their value.",
        },
        "Client": client,
        "ClientRequest": {
            "type": "object",
            "properties": client_fields,
            "required": ["client_id"],
            "additionalProperties": False,
        },
        "ClientReplacement": {
            "type": "object",
            "properties": client_fields,
            "additionalProperties": False,
            "description": "The whole client; `client_id`, if given, must be the path's.",
        },
        "ClientPatch": {
            "type": "object",
            "properties": client_fields,
            "additionalProperties": False,
            "description": "The fields to change; the others keep their value.",
        },
        "TokenView": token_view,
        "TokenList": {
            "type": "object",
            "properties": {
                "tokens": {"type": "array", "items": ref("schemas", "TokenView")},
                "count": {"type": "integer"},
            },
            "required": ["tokens", "count"],
            "additionalProperties": False,
        },
        "MintRequest": {
            "type": "object",
            "properties": {
                "kind": {"enum": ["authorization_code", "access_token", "refresh_token"]},
                "user": {
                    **maybe,
                    "description": "Email or id; required but for an access_token (then a technical account).",
                },
                "client_id": {**maybe, "description": "Default: the first configured client."},
                "scope": {"anyOf": [maybe, strings], "description": "Default: the client's scopes."},
                "redirect_uri": {
                    **maybe,
                    "description": "Required for a code; must match the client's patterns.",
                },
                "state": maybe,
                "nonce": maybe,
                "code_challenge": maybe,
                "code_challenge_method": {"enum": ["S256", "plain", None]},
                "lifetime": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIFETIME_SECONDS},
            },
            "required": ["kind"],
            "additionalProperties": False,
            "description": "A null field is as if it were left out.",
        },
        "Minted": {
            "type": "object",
            "properties": {
                "kind": string,
                "id": string,
                "token": string,
                "expires": string,
                "access_token": {
                    **string,
                    "description": "With a refresh token: the access token issued with it.",
                },
            },
            "required": ["kind", "id", "token", "expires"],
            "additionalProperties": False,
        },
        "RevokeRequest": {
            "type": "object",
            "properties": {
                "user": maybe,
                "client_id": maybe,
                "token_id": maybe,
                "token": {**maybe, "description": "A token's value (it must be one this mock signed)."},
                "kind": {"enum": ["authorization_code", "access_token", "refresh_token", None]},
            },
            # At least one selector that is not null: a null one selects nothing.
            "anyOf": [
                {"required": [name], "properties": {name: string}}
                for name in ("user", "client_id", "token_id", "token")
            ],
            "additionalProperties": False,
        },
        "Revoked": list_of("revoked", string),
        **lease_schemas(),
        "Stats": {
            "type": "object",
            "properties": {
                "documents": {
                    "type": "object",
                    "properties": {kind: {"type": "integer", "minimum": 0} for kind in KINDS},
                    "required": list(KINDS),
                    "additionalProperties": False,
                    "description": "Documents of each kind in the store (tokens includes codes).",
                },
                "journal_entries": {"type": "integer", "minimum": 0},
                "journal_limit": {"type": "integer", "minimum": 1},
                "process": {
                    "type": "object",
                    "properties": {
                        "pid": {"type": "integer"},
                        "rss_bytes": {
                            "type": ["integer", "null"],
                            "description": "Resident memory of the answering worker (null where unknown).",
                        },
                    },
                    "required": ["pid", "rss_bytes"],
                    "additionalProperties": False,
                },
            },
            "required": ["documents", "journal_entries", "journal_limit", "process"],
            "additionalProperties": False,
        },
        "LightroomError": {
            "type": "object",
            "properties": {"code": {"type": ["string", "integer"]}, "description": string},
            "required": ["code", "description"],
            "additionalProperties": False,
        },
        "LightroomHealth": {
            "type": "object",
            "properties": {"version": {**string, "pattern": "^[0-9a-f]+$"}},
            "required": ["version"],
            "additionalProperties": False,
        },
        "LightroomAccount": {
            "type": "object",
            "properties": {
                "base": string,
                "id": string,
                "type": {"const": "account"},
                "created": string,
                "updated": string,
                "email": string,
                "full_name": string,
                "first_name": string,
                "last_name": string,
                "wcd_guid": string,
                "country": string,
                "entitlement": {
                    "type": "object",
                    "properties": {
                        "status": {
                            "enum": ["created", "trial", "trial_expired", "subscriber", "subscriber_expired"]
                        },
                        "storage": {"type": "object", "additionalProperties": {"type": "integer"}},
                    },
                    "required": ["status", "storage"],
                },
            },
            "required": ["base", "id", "type", "email", "entitlement"],
        },
        "LightroomCatalog": {
            "type": "object",
            "properties": {
                "base": string,
                "id": string,
                "type": {"const": "catalog"},
                "subtype": string,
                "created": string,
                "updated": string,
                "payload": {"type": "object"},
                "links": {"type": "object"},
            },
            "required": ["base", "id", "type", "payload", "links"],
        },
    }


def lease_schemas() -> dict[str, Schema]:
    ttl: Schema = {
        "type": "number",
        "minimum": MIN_TTL_SECONDS,
        "maximum": MAX_TTL_SECONDS,
        "description": "Seconds of real time until it expires, unless renewed.",
    }
    shown: dict[str, Schema] = {
        "holder": {"type": "string", "description": "Who holds it, as they said when taking it."},
        "ttl": ttl,
        "expires_in": {"type": "number", "minimum": 0, "description": "Seconds of real time left."},
        "expires_at": {"type": "string", "description": "ISO 8601, UTC, real time (not the mock's clock)."},
        "acquired_at": {"type": "string", "description": "ISO 8601, UTC, real time."},
    }
    return {
        "LeaseRequest": {
            "type": "object",
            "properties": {
                "holder": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_HOLDER_LENGTH,
                    "description": "Who takes it, shown to whoever is refused: e.g. `ims-conformance on ci-7 pid 1234`.",
                },
                "ttl": {**ttl, "default": DEFAULT_TTL_SECONDS},
            },
            "required": ["holder"],
            "additionalProperties": False,
        },
        "LeaseRenewal": {
            "type": "object",
            "properties": {
                "ttl": {**ttl, "description": "Default: the ttl it was taken (or last renewed) for."}
            },
            "additionalProperties": False,
        },
        "Lease": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "description": "The lease's id: renew and release it with it."},
                **shown,
            },
            "required": ["id", *shown],
            "additionalProperties": False,
        },
        "LeaseStatus": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"held": {"const": False}},
                    "required": ["held"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {"held": {"const": True}, **shown},
                    "required": ["held", *shown],
                    "additionalProperties": False,
                },
            ]
        },
        "LeaseHeld": {
            "type": "object",
            "properties": {"error": {"const": "lease_held"}, "detail": {"type": "string"}, **shown},
            "required": ["error", "detail", *shown],
            "additionalProperties": False,
        },
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
            "adminBasic": {
                "type": "http",
                "scheme": "basic",
                "description": "The admin token as the password (any user name): how a browser sends it.",
            },
            "lightroomApiKey": {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "The Lightroom stub's API key: a registered client id.",
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
            "AdminNotFound": response(
                "No such user, client, fault or scenario.", content=json_content(ref("schemas", "AdminError"))
            ),
            "AdminConflict": response(
                "The id or email exists already.", content=json_content(ref("schemas", "AdminError"))
            ),
            "AdminTooLarge": response(
                "The body is larger than 256 KiB.", content=json_content(ref("schemas", "AdminError"))
            ),
            "DashboardRefusal": response(
                "A small HTML page saying why: a bad value (400), or the CSRF or same-origin check failed (403).",
                content=html_content("The refusal."),
                headers=PAGE_HEADERS,
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
            {"name": "admin", "description": "The control plane and the dashboard."},
            {"name": "lightroom", "description": "The Lightroom Partner API stub (in place of lr.adobe.io)."},
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

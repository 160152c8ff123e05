"""`/ims/authorize/v2` (and v1, unversioned) and the login page behind it.

RFC 6749 §4.1.1-4.1.2, RFC 7636 §4.3, OIDC Core §3.1.2; IMS behaviour from docs/ims-facts.md §2.
Errors before the redirect URI is known go to an HTML page, never to an unregistered URI
(RFC 6749 §4.1.2.1 ¶1); later errors go back to the client with `error` and `state`.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_ims.config import ClientConfig, UserConfig
from mock_ims.http import pages
from mock_ims.http.endpoint import ims_endpoint
from mock_ims.http.params import Params
from mock_ims.http.responses import redirect, with_params
from mock_ims.protocol import pkce, redirects
from mock_ims.protocol.errors import (
    AccessDeniedError,
    AuthorizationRedirect,
    ErrorPage,
    InvalidRequestError,
    InvalidScopeError,
    LoginRequiredError,
    OAuthError,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from mock_ims.protocol.scopes import ScopeError, has_duplicates, parse_scope
from mock_ims.state import sessions
from mock_ims.state.context import Context, context
from mock_ims.state.issuance import Grant, issue_code, issue_tokens
from mock_ims.state.journal import FAULT, Event

RESPONSE_TYPES = {
    frozenset({"code"}): "code",
    frozenset({"token"}): "token",
    frozenset({"id_token"}): "id_token",
    frozenset({"id_token", "token"}): "id_token token",
    frozenset({"code", "id_token"}): "code id_token",
}
RESPONSE_MODES = ("query", "fragment")
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_STATE_LENGTH = 4096  # IMS v2: "must not be longer than 4096 characters"
BROKEN_LINK = "Please report broken authorization link: "


@dataclass
class AuthorizationRequest:
    """A validated authorize request, kept while the user is on the login page."""

    client_id: str
    redirect_uri: str
    redirect_uri_sent: bool
    response_type: str
    response_mode: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: list[str]
    login_hint: str | None
    version: str

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> AuthorizationRequest:
        return cls(**{name: doc[name] for name in cls.__dataclass_fields__})


def _resolve_redirect_uri(client: ClientConfig, requested: str | None, event: Event) -> tuple[str, bool]:
    if requested is not None and redirects.matches(client, requested):
        return requested, True
    if client.default_redirect_uri:
        # IMS: a missing or non-matching redirect_uri sends the user to the default one.
        event.note("redirect_uri_missing" if requested is None else "redirect_uri_unregistered_used_default")
        return client.default_redirect_uri, False
    if requested is None:
        raise ErrorPage(
            f"{BROKEN_LINK}missing parameter redirect_uri",
            reason="redirect_uri missing and the client has no default redirect URI",
        )
    try:
        redirects.check_syntax(requested)
        why = "matches none of the client's redirect URI patterns"
    except redirects.RedirectURIError as exc:
        why = f"is malformed: {exc}"
    raise ErrorPage(f"{BROKEN_LINK}invalid value for parameter redirect_uri", reason=f"redirect_uri {why}")


def _validate(client: ClientConfig, params: Params, event: Event) -> AuthorizationRequest:
    """RFC 6749 §4.1.2.1 in order: the client, the redirect URI, then redirected errors."""
    redirect_uri, sent = _resolve_redirect_uri(client, params.get("redirect_uri"), event)
    state = params.get("state")
    raw_type = params.get("response_type") or "code"
    response_type = RESPONSE_TYPES.get(frozenset(raw_type.split()))
    default_mode = "query" if response_type in (None, "code") else "fragment"
    mode = params.get("response_mode") or default_mode

    def refuse(error: OAuthError) -> AuthorizationRedirect:
        safe_mode = mode if mode in RESPONSE_MODES else default_mode
        return AuthorizationRedirect(error, redirect_uri=redirect_uri, state=state, response_mode=safe_mode)

    if state is not None and len(state) > MAX_STATE_LENGTH:
        raise refuse(InvalidRequestError(f"state is longer than {MAX_STATE_LENGTH} characters"))
    if response_type is None:
        raise refuse(UnsupportedResponseTypeError(f"response_type {raw_type!r} is not supported"))
    if mode not in RESPONSE_MODES:
        raise refuse(InvalidRequestError(f"response_mode {mode!r} is not supported (query or fragment)"))
    # Hybrid and implicit responses hand tokens to the browser: they need the implicit grant.
    needed_grant = "authorization_code" if response_type == "code" else "implicit"
    if needed_grant not in client.grant_types:
        raise refuse(UnauthorizedClientError(f"this client may not use response_type={response_type}"))
    raw_scope = params.get("scope") or ""
    try:
        scopes = parse_scope(raw_scope)
    except ScopeError as exc:
        raise refuse(InvalidScopeError(f"malformed scope: {exc}")) from exc
    if not scopes:
        event.note("scope_omitted")
    if has_duplicates(raw_scope):
        event.note("scope_duplicated")
    not_allowed = [s for s in scopes if s not in client.scopes]
    if not_allowed:
        raise refuse(InvalidScopeError(f"scope {not_allowed[0]} is not allowed for this client"))
    if "id_token" in response_type and "openid" not in scopes:
        raise refuse(InvalidScopeError("response_type id_token needs the openid scope"))
    nonce = params.get("nonce")
    if "id_token" in response_type and not nonce:
        raise refuse(InvalidRequestError("missing required parameter: nonce (OIDC Core §3.2.2.1)"))
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None and method is not None:
        raise refuse(InvalidRequestError("code_challenge_method given without code_challenge"))
    if challenge is not None:
        method = method or "plain"  # RFC 7636 §4.3: plain is the default
        if method not in pkce.METHODS:
            raise refuse(InvalidRequestError("transform algorithm not supported (RFC 7636 §4.4.1)"))
        if not pkce.is_valid_challenge(challenge, method):
            raise refuse(InvalidRequestError(f"malformed code_challenge for method {method}"))
        if method == "plain":
            event.note("pkce_plain")
    elif not client.confidential and "code" in response_type:
        raise refuse(InvalidRequestError("missing required parameter: code_challenge (public client)"))
    prompt = (params.get("prompt") or "").split()
    unknown_prompts = [p for p in prompt if p not in PROMPTS]
    if unknown_prompts:
        raise refuse(InvalidRequestError(f"prompt value {unknown_prompts[0]!r} is not supported"))
    if "none" in prompt and len(prompt) > 1:
        raise refuse(InvalidRequestError("prompt=none cannot be combined with other values"))
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        redirect_uri_sent=sent,
        response_type=response_type,
        response_mode=mode,
        scopes=list(scopes),
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        code_challenge_method=method if challenge is not None else None,
        prompt=prompt,
        login_hint=params.get("login_hint"),
        version=event.version,
    )


async def _approve(
    ctx: Context,
    request: Request,
    auth: AuthorizationRequest,
    client: ClientConfig,
    user: UserConfig,
    signed_in: sessions.SignIn | None,
    now_ms: int,
    event: Event,
) -> Response:
    """The user is signed in and allowed: send the client what it asked for."""
    cookie = None
    if signed_in is None or signed_in.user.user_id != user.user_id:
        signed_in, cookie = await sessions.start_session(ctx, user, now_ms)
    sid = signed_in.sid
    event.user_id = user.user_id
    scopes = tuple(auth.scopes)
    answer: dict[str, str] = {}
    if "code" in auth.response_type:
        code = await issue_code(
            ctx,
            client=client,
            user=user,
            scopes=scopes,
            redirect_uri=auth.redirect_uri,
            redirect_uri_sent=auth.redirect_uri_sent,
            state=auth.state or "",
            nonce=auth.nonce,
            code_challenge=auth.code_challenge,
            code_challenge_method=auth.code_challenge_method,
            sid=sid,
            now_ms=now_ms,
        )
        answer["code"] = code.raw
        event.issued.append(code.id)
    if auth.response_type != "code":
        grant = Grant(
            client,
            user,
            scopes,
            ctx.base_url(request),
            now_ms,
            state=auth.state or "",
            sid=sid,
            nonce=auth.nonce,
        )
        issued = await issue_tokens(
            ctx, grant, with_refresh=False, with_id_token="id_token" in auth.response_type
        )
        if "token" in auth.response_type.split():
            lifetime_s = client.access_token_lifetime - 1
            answer["access_token"] = issued.access.raw
            answer["token_type"] = "bearer"
            # Legacy implicit answered in milliseconds (86399991), v2 in seconds (86399).
            answer["expires_in"] = str(lifetime_s * 1000 if auth.version in ("", "v1") else lifetime_s)
            event.issued.append(issued.access.id)
        if issued.id_token is not None:
            answer["id_token"] = issued.id_token
            if issued.tampered is not None:
                event.tampered(issued.tampered.fault, issued.tampered.how, issued.id_token)
    if auth.state is not None:
        answer["state"] = auth.state
    response = redirect(with_params(auth.redirect_uri, answer, auth.response_mode))
    if cookie is not None:
        sessions.set_session_cookie(
            response, cookie, ctx.config.session_lifetime, secure=request.url.scheme == "https"
        )
    return response


def _hint_matches(auth: AuthorizationRequest, user: UserConfig) -> bool:
    return not auth.login_hint or auth.login_hint.strip().lower() in (
        user.email.lower(),
        user.user_id.lower(),
    )


async def _login_page(
    ctx: Context, request: Request, auth: AuthorizationRequest, client: ClientConfig, now_ms: int
) -> Response:
    csrf, fresh = sessions.csrf_token(request)
    rid = await sessions.save_login_request(ctx, {**auth.to_doc(), "csrf": csrf}, now_ms)
    response = pages.login_page(
        request,
        rid=rid,
        csrf=csrf,
        client_name=client.name or client.client_id,
        scopes=auth.scopes,
        users=await ctx.registry.users(),
        login_hint=auth.login_hint,
    )
    if fresh:
        sessions.set_csrf_cookie(response, csrf, secure=request.url.scheme == "https")
    return response


@ims_endpoint("authorize", browser=True)
async def authorize(request: Request, params: Params, event: Event) -> Response:
    """Start a sign-in: validate, then show the login page or answer at once (SSO, prompt)."""
    ctx = context(request)
    client_id = params.get("client_id")
    if not client_id:
        raise ErrorPage(f"{BROKEN_LINK}missing parameter client_id", reason="client_id missing")
    client = await ctx.registry.client(client_id)
    if client is None:
        raise ErrorPage(f"{BROKEN_LINK}invalid value for parameter client_id", reason="unknown client_id")
    auth = _validate(client, params, event)
    now_ms = await ctx.now_ms()
    consent_fault = await ctx.faults.take("consent", client.client_id, None)
    if consent_fault is not None:
        event.outcome = FAULT
        event.fault = consent_fault.id
        raise AuthorizationRedirect(
            AccessDeniedError("the user denied the request", reason="consent-denied fault"),
            redirect_uri=auth.redirect_uri,
            state=auth.state,
            response_mode=auth.response_mode,
        )

    if ctx.config.auto_login:
        user = await ctx.registry.user_by_email(ctx.config.auto_login)
        if user is not None:
            event.note("auto_login")
            signed_in = await sessions.current_user(ctx, request, now_ms)
            return await _approve(ctx, request, auth, client, user, signed_in, now_ms, event)

    signed_in = await sessions.current_user(ctx, request, now_ms)
    reprompt = {"login", "consent", "select_account"} & set(auth.prompt)
    if signed_in and not reprompt and _hint_matches(auth, signed_in.user):
        event.note("sso_session")
        return await _approve(ctx, request, auth, client, signed_in.user, signed_in, now_ms, event)
    if "none" in auth.prompt:
        raise AuthorizationRedirect(
            LoginRequiredError("the user is not signed in (prompt=none)"),
            redirect_uri=auth.redirect_uri,
            state=auth.state,
            response_mode=auth.response_mode,
        )
    return await _login_page(ctx, request, auth, client, now_ms)


@ims_endpoint("login", browser=True)
async def login(request: Request, params: Params, event: Event) -> Response:
    """The login form's POST: Allow as a test user, Allow with email and password, or Deny."""
    ctx = context(request)
    now_ms = await ctx.now_ms()
    rid = params.get("rid") or ""
    doc = await ctx.store.get("requests", rid) if rid and len(rid) <= 64 else None
    if doc is None or now_ms >= int(doc["expires_ms"]) or doc.get("answered_ms") is not None:
        raise ErrorPage(
            "This sign-in page has expired or was already used. Start again from the application.",
            reason="unknown, expired or answered login request",
        )
    event.client_id = doc["client_id"]
    if not sessions.csrf_matches(request, params.get("csrf"), doc["csrf"]):
        raise ErrorPage(
            "The sign-in form did not come from this browser's sign-in page (CSRF check failed).",
            status_code=403,
            reason="CSRF token or cookie missing or wrong",
        )
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise ErrorPage("Cross-site sign-in refused.", status_code=403, reason=f"cross-site Origin {origin}")
    client = await ctx.registry.client(doc["client_id"])
    if client is None:
        raise ErrorPage(f"{BROKEN_LINK}invalid value for parameter client_id", reason="client removed")
    auth = AuthorizationRequest.from_doc(doc)
    event.version = auth.version

    if params.get("action") == "deny":
        if await ctx.store.claim("requests", rid, "answered_ms", now_ms) is None:
            raise ErrorPage("This sign-in page was already used.", reason="login request answered twice")
        raise AuthorizationRedirect(
            AccessDeniedError("the user denied the request"),
            redirect_uri=auth.redirect_uri,
            state=auth.state,
            response_mode=auth.response_mode,
        )

    user = await _user_from_form(ctx, params)
    if user is None:
        event.refuse(None, "wrong email or password")
        csrf = doc["csrf"]
        return pages.login_page(
            request,
            rid=rid,
            csrf=csrf,
            client_name=client.name or client.client_id,
            scopes=auth.scopes,
            users=await ctx.registry.users(),
            login_hint=auth.login_hint,
            error="Wrong email or password.",
            email=params.get("email") or params.get("user") or "",
        )
    if await ctx.store.claim("requests", rid, "answered_ms", now_ms) is None:
        raise ErrorPage("This sign-in page was already used.", reason="login request answered twice")
    signed_in = await sessions.current_user(ctx, request, now_ms)
    return await _approve(ctx, request, auth, client, user, signed_in, now_ms, event)


async def _user_from_form(ctx: Context, params: Params) -> UserConfig | None:
    chosen = params.get("user")
    if chosen:
        return await ctx.registry.user_by_email(chosen)
    user = await ctx.registry.user_by_email(params.get("email") or "")
    password = params.get("password") or ""
    if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
        return None
    return user

"""Creating codes and tokens: records in the ledger, signed values for the client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_ims.config import ClientConfig, UserConfig
from mock_ims.protocol import profiles
from mock_ims.protocol.scopes import format_scope
from mock_ims.protocol.tokens import TokenKind, TokenRecord, technical_account_id
from mock_ims.state.context import Context

ID_TOKEN_LIFETIME = 86_400


@dataclass(frozen=True)
class Tampered:
    """An ID token issued wrong on purpose: by which fault rule, and how."""

    fault: str
    how: str


@dataclass
class IssuedTokens:
    access: TokenRecord
    refresh: TokenRecord | None
    id_token: str | None
    tampered: Tampered | None = None

    @property
    def ids(self) -> list[str]:
        return [self.access.id] + ([self.refresh.id] if self.refresh else [])


async def issue_code(
    ctx: Context,
    *,
    client: ClientConfig,
    user: UserConfig,
    scopes: tuple[str, ...],
    redirect_uri: str,
    redirect_uri_sent: bool,
    state: str,
    nonce: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
    sid: str | None,
    now_ms: int,
    minted_by: str = "flow",
) -> TokenRecord:
    code_id = ctx.signer.new_id(now_ms)
    record = TokenRecord(
        id=code_id,
        kind=TokenKind.AUTHORIZATION_CODE.value,
        raw="",
        client_id=client.client_id,
        user_id=user.user_id,
        scope=format_scope(scopes),
        created_ms=now_ms,
        expires_ms=now_ms + ctx.config.code_lifetime * 1000,
        family=code_id,
        sid=sid,
        state=state,
        redirect_uri=redirect_uri,
        redirect_uri_sent=redirect_uri_sent,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        nonce=nonce,
        minted_by=minted_by,
    )
    record.raw = ctx.signer.sign(record)
    await ctx.ledger.add(record)
    return record


def wants_refresh_token(client: ClientConfig, scopes: tuple[str, ...]) -> bool:
    """IMS returns a refresh token only with `offline_access` (docs/ims-facts.md §3)."""
    if "refresh_token" not in client.grant_types:
        return False
    return "offline_access" in scopes or client.refresh_without_offline_access


@dataclass(frozen=True)
class Grant:
    """Who gets tokens, for which scopes, and what they descend from (a code or refresh token
    passes its family, session and state on to the tokens it is traded for)."""

    client: ClientConfig
    user: UserConfig | None  # None: a technical account (client_credentials)
    scopes: tuple[str, ...]
    issuer: str
    now_ms: int
    state: str = ""
    sid: str | None = None
    family: str | None = None
    parent: str | None = None
    nonce: str | None = None

    @classmethod
    def descending_from(
        cls,
        record: TokenRecord,
        *,
        client: ClientConfig,
        user: UserConfig,
        scopes: tuple[str, ...],
        issuer: str,
        now_ms: int,
    ) -> Grant:
        return cls(
            client,
            user,
            scopes,
            issuer,
            now_ms,
            state=record.state,
            sid=record.sid,
            family=record.family,
            parent=record.id,
            nonce=record.nonce,
        )


async def issue_tokens(
    ctx: Context,
    grant: Grant,
    *,
    with_refresh: bool,
    with_id_token: bool,
    refresh_expires_ms: int | None = None,
    minted_by: str = "flow",
) -> IssuedTokens:
    """An access token, and a refresh token and ID token when asked for; all recorded."""
    client, user, scopes, now_ms = grant.client, grant.user, grant.scopes, grant.now_ms
    user_id = user.user_id if user else technical_account_id(client.client_id)
    scope = format_scope(scopes)
    access_id = ctx.signer.new_id(now_ms)
    family = grant.family or access_id
    refresh: TokenRecord | None = None
    extra_claims: dict[str, Any] = {}
    if with_refresh:
        refresh_id = ctx.signer.new_id(now_ms)
        refresh_expiry = refresh_expires_ms or now_ms + client.refresh_token_lifetime * 1000
        refresh = TokenRecord(
            id=refresh_id,
            kind=TokenKind.REFRESH_TOKEN.value,
            raw="",
            client_id=client.client_id,
            user_id=user_id,
            scope=scope,
            created_ms=now_ms,
            expires_ms=refresh_expiry,
            family=family,
            parent=grant.parent,
            sid=grant.sid,
            state=grant.state,
            minted_by=minted_by,
        )
        refresh.raw = ctx.signer.sign(refresh)
        extra_claims = {"rtid": refresh_id, "rtea": str(refresh_expiry)}
    access = TokenRecord(
        id=access_id,
        kind=TokenKind.ACCESS_TOKEN.value,
        raw="",
        client_id=client.client_id,
        user_id=user_id,
        scope=scope,
        created_ms=now_ms,
        expires_ms=now_ms + client.access_token_lifetime * 1000,
        family=family,
        parent=grant.parent,
        sid=grant.sid,
        state=grant.state,
        minted_by=minted_by,
    )
    access.raw = ctx.signer.sign(access, technical=user is None, extra_claims=extra_claims)
    await ctx.ledger.add(access, *([refresh] if refresh is not None else []))
    id_token = tampered = None
    if with_id_token and user is not None:
        rule = await ctx.faults.take("id_token", client.client_id, None)
        if rule is not None and rule.id_token is not None:
            tampered = Tampered(rule.id, rule.id_token)
        id_token = ctx.signer.id_token(
            issuer=grant.issuer,
            client_id=client.client_id,
            subject=user.user_id,
            now_ms=now_ms,
            lifetime_s=ID_TOKEN_LIFETIME,
            nonce=grant.nonce,
            access_token=access.raw,
            profile=profiles.id_token_claims(user, scopes),
            sid=grant.sid,
            tamper=tampered.how if tampered else None,
        )
    return IssuedTokens(access, refresh, id_token, tampered)


# Token endpoint versions whose `expires_in` is in milliseconds (docs/ims-facts.md §3: v3 answers in
# seconds, the legacy endpoints in milliseconds; v2 is undocumented and taken as legacy here).
MILLISECOND_VERSIONS = frozenset({"", "v1", "v2"})
# Versions that inline profile claims in the token response, as the legacy docs show.
PROFILE_INLINING_VERSIONS = frozenset({"", "v1"})


def token_response(
    issued: IssuedTokens, *, version: str, user: UserConfig | None, include_sub: bool
) -> dict[str, Any]:
    lifetime_s = (issued.access.expires_ms - issued.access.created_ms) // 1000
    body: dict[str, Any] = {"access_token": issued.access.raw}
    if issued.refresh is not None:
        body["refresh_token"] = issued.refresh.raw
    if user is not None and include_sub:
        body["sub"] = user.user_id
    if issued.id_token is not None:
        body["id_token"] = issued.id_token
    body["token_type"] = "bearer"
    # IMS reports one second less than the lifetime: 86399 (s) or 86399000 (ms) for a day.
    body["expires_in"] = (lifetime_s - 1) * 1000 if version in MILLISECOND_VERSIONS else lifetime_s - 1
    if user is not None and version in PROFILE_INLINING_VERSIONS:
        body.update(profiles.legacy_token_claims(user))
    return body

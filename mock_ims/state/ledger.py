"""The ledger: every code and token the mock issued, and what became of it.

Single use (codes, refresh tokens) and revocation are decided here, atomically, through the
store's `claim`. Records are kept `retention` past their expiry so the conformance suite can
still look for expired tokens in a partner's storage, then purged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mock_ims.protocol import jws
from mock_ims.protocol.tokens import TokenKind, TokenRecord, TokenSigner
from mock_ims.store import Store

DEFAULT_RETENTION_MS = 2 * 86_400_000


class TokenRejected(Exception):
    """A presented code or token cannot be used; `reason` says why in a few words."""

    def __init__(self, reason: str, record: TokenRecord | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record = record


@dataclass
class Ledger:
    store: Store
    signer: TokenSigner
    retention_ms: int = DEFAULT_RETENTION_MS

    async def add(self, *records: TokenRecord) -> None:
        """Record issued codes and tokens (several at once: one write)."""
        await self.store.put_many(
            "tokens", [(r.id, r.to_doc(), r.expires_ms + self.retention_ms) for r in records]
        )

    async def get(self, token_id: str) -> TokenRecord | None:
        doc = await self.store.get("tokens", token_id)
        return TokenRecord.from_doc(doc) if doc else None

    async def all(self) -> list[TokenRecord]:
        return [TokenRecord.from_doc(d) for d in await self.store.items("tokens")]

    async def check(self, raw: str, kind: TokenKind, now_ms: int, *, allow_used: bool = False) -> TokenRecord:
        """The record of a presented token that is genuine, of `kind`, unexpired and unrevoked."""
        if not raw:
            raise TokenRejected("empty")
        try:
            claims = self.signer.verify(raw)
        except jws.JWSError as exc:
            raise TokenRejected(f"malformed or not signed by this mock: {exc}") from exc
        token_id = claims.get("id")
        if claims.get("type") != kind.value or not isinstance(token_id, str):
            raise TokenRejected(f"not an {kind.value.replace('_', ' ')} (type {claims.get('type')!r})")
        record = await self.get(token_id)
        if record is None or record.raw != raw:
            raise TokenRejected("unknown to this mock (issued before a reset, or purged)")
        if record.revoked_ms is not None:
            raise TokenRejected(f"revoked ({record.revoked_reason or 'revoked'})", record)
        if now_ms >= record.expires_ms:
            raise TokenRejected("expired", record)
        # Issued after the mock's present (its clock was moved back): not valid yet, as a JWT
        # before its `nbf` (RFC 7519 §4.1.5). Accepting it would hide a partner's clock mistakes.
        if now_ms < record.created_ms:
            raise TokenRejected("not yet valid (issued after the mock's current time)", record)
        if record.used_ms is not None and not allow_used:
            raise TokenRejected("already used", record)
        return record

    async def use(self, record: TokenRecord, now_ms: int) -> bool:
        """Mark a single-use code or refresh token used; False when someone used it first."""
        return await self.store.claim("tokens", record.id, "used_ms", now_ms) is not None

    async def revoke(self, token_id: str, now_ms: int, reason: str) -> bool:
        also = {"revoked_reason": reason}
        return await self.store.claim("tokens", token_id, "revoked_ms", now_ms, also=also) is not None

    async def revoke_replayed(self, record: TokenRecord, now_ms: int, reason: str) -> list[str]:
        """A code or refresh token presented again: revoke it, then every token of its family.

        The presented record is revoked before the family is listed, so that a request which won
        the race for it and is still issuing tokens sees the replay afterwards (`sweep_if_replayed`).
        """
        revoked = [record.id] if await self.revoke(record.id, now_ms, reason) else []
        return revoked + await self.revoke_where(now_ms, reason, family=record.family)

    async def sweep_if_replayed(self, record: TokenRecord, now_ms: int, reason: str) -> list[str]:
        """After issuing tokens from `record`: if a replay revoked it meanwhile, revoke its family
        again, since the replay's sweep may have listed the family before these tokens were added."""
        current = await self.get(record.id)
        if current is None or current.revoked_ms is None:
            return []
        return await self.revoke_where(now_ms, reason, family=record.family)

    async def revoke_where(
        self,
        now_ms: int,
        reason: str,
        *,
        family: str | None = None,
        user_id: str | None = None,
        client_id: str | None = None,
        kinds: Iterable[str] | None = None,
    ) -> list[str]:
        """Revoke every matching live token; the ids revoked."""
        wanted_kinds = set(kinds) if kinds is not None else None
        revoked = []
        for record in await self.all():
            if record.revoked_ms is not None:
                continue
            if family is not None and record.family != family:
                continue
            if user_id is not None and record.user_id != user_id:
                continue
            if client_id is not None and record.client_id != client_id:
                continue
            if wanted_kinds is not None and record.kind not in wanted_kinds:
                continue
            if await self.revoke(record.id, now_ms, reason):
                revoked.append(record.id)
        return revoked

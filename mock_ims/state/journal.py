"""The journal: one entry for every request the mock answered, and why it answered so.

Secrets are masked but the journal keeps which parameters carried them; codes and tokens are
replaced by their ids, so the conformance suite can follow a token without the journal ever
holding one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_ims.protocol import jws
from mock_ims.state.clock import real_ms, to_iso
from mock_ims.store import Doc, Store

SECRET_PARAMS = frozenset({"client_secret", "password", "code_verifier"})
TOKEN_PARAMS = frozenset({"code", "access_token", "refresh_token", "token", "id_token_hint", "id_token"})
HEADERS_KEPT = (
    "origin",
    "referer",
    "sec-fetch-site",
    "sec-fetch-mode",
    "sec-fetch-dest",
    "user-agent",
    "content-type",
    "x-api-key",
)

# This process's id, for the journal's `pid` (read once: a syscall per request otherwise).
_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))

# Outcomes: "ok" (answered as asked), "refused" (an OAuth or HTTP error), "fault" (an
# injected fault answered instead).
OK = "ok"
REFUSED = "refused"
FAULT = "fault"


def mask_token(value: str) -> str:
    """`<token id>` for a token this mock signed, else `<masked, N chars>`."""
    try:
        _, claims = jws.unverified(value)
        token_id = claims.get("id")
        if isinstance(token_id, str):
            return f"<{claims.get('type', 'token')} {token_id}>"
    except jws.JWSError:
        pass
    return f"<masked, {len(value)} chars>"


def mask_params(values: dict[str, str]) -> dict[str, str]:
    masked = {}
    for name, value in values.items():
        if name in SECRET_PARAMS:
            masked[name] = "***" if value else ""
        elif name in TOKEN_PARAMS:
            masked[name] = mask_token(value) if value else ""
        else:
            masked[name] = value
    return masked


def _mask_referer(value: str) -> str:
    # A referer may carry ?code=... from a callback page: keep only scheme, host and path.
    return value.split("?", 1)[0].split("#", 1)[0]


@dataclass
class Event:
    """What one request did; filled in by the endpoint, recorded by `journalled`."""

    endpoint: str
    method: str
    path: str
    version: str = ""
    client_id: str | None = None
    user_id: str | None = None
    grant_type: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    param_sources: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    auth: str | None = None  # how the client authenticated: "basic", "body", "query", "none"
    outcome: str = OK
    status: int = 200
    error: str | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)  # leniencies: "redirect_uri_omitted", ...
    issued: list[str] = field(default_factory=list)  # ids of codes and tokens issued
    consumed: str | None = None  # id of the code or token redeemed or presented
    revoked: list[str] = field(default_factory=list)
    location: str | None = None  # a redirect's target, masked
    fault: str | None = None
    # An ID token issued wrong on purpose: how, and its header and claims (the journal keeps no
    # token, but this one's claims are the evidence a judge shows).
    tampered_id_token: dict[str, Any] | None = None

    def refuse(self, error: str | None, reason: str) -> None:
        if self.outcome != FAULT:  # an injected refusal stays a fault
            self.outcome = REFUSED
        self.error = error
        self.reason = reason

    def tampered(self, fault: str, how: str, id_token: str) -> None:
        header, claims = jws.unverified(id_token)
        self.fault = fault
        self.tampered_id_token = {"how": how, "header": header, "claims": claims}

    def note(self, leniency: str) -> None:
        if leniency not in self.notes:
            self.notes.append(leniency)

    def to_doc(self, now_ms: int) -> Doc:
        return {
            "time": to_iso(now_ms),
            "time_ms": now_ms,
            "real_time": to_iso(real_ms()),
            "endpoint": self.endpoint,
            "version": self.version,
            "method": self.method,
            "path": self.path,
            "client_id": self.client_id,
            "user_id": self.user_id,
            "grant_type": self.grant_type,
            "params": mask_params(self.params),
            "param_sources": self.param_sources,
            "headers": self.headers,
            "auth": self.auth,
            "outcome": self.outcome,
            "status": self.status,
            "error": self.error,
            "reason": self.reason,
            "notes": self.notes,
            "issued": self.issued,
            "consumed": self.consumed,
            "revoked": self.revoked,
            "location": self.location,
            "fault": self.fault,
            "tampered_id_token": self.tampered_id_token,
            "pid": _PID[0],
        }


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {}
    for name in HEADERS_KEPT:
        value = headers.get(name)
        if value is not None:
            kept[name] = _mask_referer(value) if name == "referer" else value[:512]
    authorization = headers.get("authorization")
    if authorization:
        kept["authorization"] = authorization.strip().split(" ", 1)[0][:32]  # the scheme only
    return kept


@dataclass
class JournalFilter:
    endpoint: str | None = None
    client_id: str | None = None
    user_id: str | None = None
    outcome: str | None = None
    since_ms: int | None = None
    after: int = 0
    limit: int | None = None

    def accepts(self, entry: Doc) -> bool:
        return (
            (self.endpoint is None or entry.get("endpoint") == self.endpoint)
            and (self.client_id is None or entry.get("client_id") == self.client_id)
            and (self.user_id is None or entry.get("user_id") == self.user_id)
            and (self.outcome is None or entry.get("outcome") == self.outcome)
            and (self.since_ms is None or int(entry.get("time_ms", 0)) >= self.since_ms)
        )


class Journal:
    def __init__(self, store: Store, limit: int) -> None:
        self._store = store
        self.limit = limit

    async def record(self, event: Event, now_ms: int) -> int:
        return await self._store.append_journal(event.to_doc(now_ms), limit=self.limit)

    async def entries(self, query: JournalFilter | None = None) -> list[Doc]:
        query = query or JournalFilter()
        entries = [e for e in await self._store.journal(after=query.after) if query.accepts(e)]
        return entries[: query.limit] if query.limit is not None else entries

    async def clear(self) -> None:
        await self._store.clear_journal()

"""Fault injection: rules that make the next N (or all) calls to an endpoint fail, slow or hang.

A rule matches an endpoint by name (`token`, `authorize`, `userinfo`, ...; `*` for every IMS
endpoint; shell-style patterns such as `lightroom.*`), and optionally a client id and a grant
type. Rules live in the store, so every worker sees them and counts them down together.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.protocol.bodies import BodyError, FaultRequest, parse
from mock_ims.state.cached import StoreView
from mock_ims.state.clock import real_ms, to_iso
from mock_ims.store import Store

MAX_HANG_SECONDS = 600.0  # a hang ends when the client gives up, or after this, whichever first
ENDPOINTS = (
    "authorize",
    "login",
    "consent",
    "token",
    "userinfo",
    "profile",
    "revoke",
    "logout",
    "validate_token",
    "keys",
    "discovery",
    "lightroom.health",
    "lightroom.account",
    "lightroom.catalog",
)
# Not endpoints but steps inside one, which "*" does not reach: the consent an authorize request
# asks for, and the ID token a token answer carries.
PSEUDO_ENDPOINTS = ("consent", "id_token")


class FaultError(ValueError):
    """A fault rule that does not make sense; the message names the field."""


@dataclass
class FaultRule:
    endpoint: str
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False
    id_token: str | None = None  # for the `id_token` pseudo-endpoint: how the ID token is wrong
    times: int | None = None  # calls left; None: every call until removed
    client_id: str | None = None
    grant_type: str | None = None
    scenario: str | None = None
    id: str = ""
    created: str = ""

    def matches(self, endpoint: str, client_id: str | None, grant_type: str | None) -> bool:
        if self.endpoint == "*":
            if "." in endpoint or endpoint in PSEUDO_ENDPOINTS:
                return False  # "*" is every IMS endpoint, not Lightroom or pseudo-endpoints
        elif not fnmatch.fnmatchcase(endpoint, self.endpoint):
            return False
        if self.client_id is not None and self.client_id != client_id:
            return False
        return self.grant_type is None or self.grant_type == grant_type

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_request(cls, data: dict[str, Any]) -> FaultRule:
        """Validate an admin request body into a rule (errors name the field)."""
        try:
            body = parse(FaultRequest, data)
        except BodyError as exc:
            raise FaultError(str(exc)) from exc
        return cls(**body.model_dump(exclude_none=True))


# Every field of a rule as the admin API answers it (`asdict`), in declaration order.
FAULT_RULE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(FaultRule))


class Faults:
    def __init__(self, store: Store) -> None:
        self._store = store
        # Every request asks for its fault; without rules (the usual case) that is one lookup.
        self._rules = StoreView(store, self._load)

    async def _load(self) -> tuple[FaultRule, ...]:
        return tuple(FaultRule(**doc) for doc in await self._store.items("faults"))

    async def add(self, rule: FaultRule) -> FaultRule:
        rule.id = rule.id or uuid.uuid4().hex[:12]
        rule.created = to_iso(real_ms())
        await self._store.put("faults", rule.id, rule.to_doc())
        return rule

    async def list(self) -> list[FaultRule]:
        return [replace(rule) for rule in await self._rules.get()]

    async def remove(self, rule_id: str) -> bool:
        return await self._store.delete("faults", rule_id)

    async def clear(self) -> None:
        await self._store.clear("faults")

    async def take(self, endpoint: str, client_id: str | None, grant_type: str | None) -> FaultRule | None:
        """The first rule matching this call, counted down atomically (exhausted rules removed)."""
        for rule in await self._rules.get():
            if not rule.matches(endpoint, client_id, grant_type):
                continue
            if rule.times is None:
                return rule
            left = await self._store.decrement("faults", rule.id, "times")
            if left is None:
                continue  # another call took the last one
            if left == 0:
                await self._store.delete("faults", rule.id)
            return rule
        return None


async def _wait_for_disconnect(request: Request, limit: float) -> None:
    async def disconnected() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), timeout=limit)


async def apply(rule: FaultRule, request: Request) -> Response | None:
    """Play the rule: wait, hang, and/or answer. None means: now answer normally (a pure delay)."""
    if rule.delay:
        await asyncio.sleep(rule.delay)
    if rule.hang:
        await _wait_for_disconnect(request, MAX_HANG_SECONDS)
        return Response(status_code=504, content=b"", headers={"Connection": "close"})
    if rule.status is None:
        return None
    headers = dict(rule.headers)
    if isinstance(rule.body, dict | list):
        return JSONResponse(rule.body, status_code=rule.status, headers=headers)
    if rule.body is None:
        return Response(status_code=rule.status, headers=headers)
    text = rule.body if isinstance(rule.body, str) else json.dumps(rule.body)
    media = (
        headers.pop("Content-Type", None) or headers.pop("content-type", None) or "text/plain; charset=utf-8"
    )
    return Response(text, status_code=rule.status, headers=headers, media_type=media)

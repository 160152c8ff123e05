"""The lease: a cooperative, exclusive hold on the whole mock, for a tool that needs the mock to
itself for a while. A conformance run moves the clock and reads the journal; a second run on
the same mock would see both move under it, so each run holds the lease while it runs.

Cooperative: the lease refuses a second holder, it does not lock the mock; a tool that never
asks for it is not stopped. The lease is kept in the store (kind `leases`), so every worker and
every host sharing the store sees one lease, and it passes from one holder to the next only by
`Store.swap`: of two tools racing for it through two workers, one gets it.

Its deadline is on real time, never the mock's clock, which the holder moves by days. A mock
whose state no other process sees (the memory store) counts on the monotonic clock; with a
shared store, on the wall clock, the one clock all its workers and hosts read alike.

Neither `POST /__admin/reset` nor the journal touches it: the holder resets the mock between
its steps, and reads a journal with no entries of its own making.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from mock_ims.state.clock import real_ms, to_iso
from mock_ims.store import Doc, Store

KIND = "leases"
KEY = "lease"
# A swap fails only when another worker changed the lease in between; each try re-reads it.
_TRIES = 16


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


@dataclass(frozen=True)
class Lease:
    id: str
    holder: str
    ttl: float
    deadline_ms: int  # on the lease's own clock (see the module's docstring)
    acquired: str  # ISO 8601, real time

    @classmethod
    def from_doc(cls, doc: Doc) -> Lease:
        return cls(
            id=str(doc["id"]),
            holder=str(doc["holder"]),
            ttl=float(doc["ttl"]),
            deadline_ms=int(doc["deadline_ms"]),
            acquired=str(doc["acquired"]),
        )

    def to_doc(self) -> Doc:
        return asdict(self)

    def is_id(self, lease_id: str) -> bool:
        # The id is all a holder proves itself with: compared in constant time.
        return hmac.compare_digest(self.id.encode(), lease_id.encode())


class LeaseError(Exception):
    """A lease call refused; the message says why."""


class LeaseHeld(LeaseError):
    """Someone else holds the lease."""

    def __init__(self, lease: Lease, expires_in: float) -> None:
        super().__init__(
            f"the mock is leased to {lease.holder!r} for {expires_in:.0f} more seconds; "
            "wait until it is released or expires, or ask its holder"
        )
        self.lease = lease
        self.expires_in = expires_in


class LeaseNotFound(LeaseError):
    """No lease with that id is held: it was released, it expired, or it never was."""


class Leases:
    def __init__(self, store: Store, now_ms: Callable[[], int] | None = None) -> None:
        self._store = store
        self._now = now_ms or (real_ms if store.shared_across_processes else _monotonic_ms)

    def expires_in(self, lease: Lease) -> float:
        """Seconds until the lease expires (0 once it has)."""
        return max(0, lease.deadline_ms - self._now()) / 1000

    def describe(self, lease: Lease) -> dict[str, Any]:
        """A lease as the admin API shows it, without its id."""
        expires_in = self.expires_in(lease)
        return {
            "holder": lease.holder,
            "ttl": lease.ttl,
            "expires_in": expires_in,
            "expires_at": to_iso(real_ms() + round(expires_in * 1000)),
            "acquired_at": lease.acquired,
        }

    async def _read(self) -> tuple[Doc | None, Lease | None]:
        """The stored document (for `swap`) and the lease it holds, None once expired."""
        doc = await self._store.get(KIND, KEY)
        if doc is None:
            return None, None
        lease = Lease.from_doc(doc)
        return doc, lease if lease.deadline_ms > self._now() else None

    async def current(self) -> Lease | None:
        """The lease held now, or None."""
        return (await self._read())[1]

    async def acquire(self, holder: str, ttl: float) -> Lease:
        """A new lease for `holder`, for `ttl` seconds; LeaseHeld when someone holds it."""
        for _ in range(_TRIES):
            doc, held = await self._read()
            if held is not None:
                raise LeaseHeld(held, self.expires_in(held))
            lease = Lease(
                id=secrets.token_urlsafe(24),
                holder=holder,
                ttl=ttl,
                deadline_ms=self._now() + round(ttl * 1000),
                acquired=to_iso(real_ms()),
            )
            if await self._store.swap(KIND, KEY, doc, lease.to_doc()):
                return lease
        raise LeaseError("the lease changed hands too often while acquiring it; try again")

    async def _held_as(self, lease_id: str) -> tuple[Doc, Lease]:
        """The document and lease held under `lease_id`; LeaseHeld or LeaseNotFound if none."""
        doc, held = await self._read()
        if held is not None and held.is_id(lease_id):
            assert doc is not None  # a lease is only read from a document
            return doc, held
        if held is not None:
            raise LeaseHeld(held, self.expires_in(held))
        if doc is not None and Lease.from_doc(doc).is_id(lease_id):
            raise LeaseNotFound("this lease expired; acquire a new one (renew it well within its ttl)")
        raise LeaseNotFound("no such lease: it was released or expired, or never was")

    async def renew(self, lease_id: str, ttl: float | None = None) -> Lease:
        """Extend the lease to `ttl` seconds from now (by default, the ttl it was taken for)."""
        for _ in range(_TRIES):
            doc, held = await self._held_as(lease_id)
            seconds = held.ttl if ttl is None else ttl
            renewed = replace(held, ttl=seconds, deadline_ms=self._now() + round(seconds * 1000))
            if await self._store.swap(KIND, KEY, doc, renewed.to_doc()):
                return renewed
        raise LeaseError("the lease changed too often while renewing it; try again")

    async def release(self, lease_id: str) -> None:
        """Give the lease up; LeaseNotFound if it is not held under `lease_id` any more."""
        for _ in range(_TRIES):
            doc, _held = await self._held_as(lease_id)
            if await self._store.swap(KIND, KEY, doc, None):
                return
        raise LeaseError("the lease changed too often while releasing it; try again")

"""The one small interface behind which all mutable state lives.

State is kept as JSON-able documents grouped by kind (`tokens`, `clients`, `users`, `sessions`,
`requests`, `faults`, `meta`, `leases`) plus an append-only journal. Everything that must be
single-use goes through `claim`, which is atomic in every store, across processes for SQLite and
across hosts for Redis, so a code or refresh token is redeemed once however many workers race for
it; `swap` (compare-and-set of a whole document) is as atomic, for state such as the lease that
passes from one holder to the next.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlsplit

Doc = dict[str, Any]

KINDS = ("tokens", "clients", "users", "sessions", "requests", "faults", "meta", "leases")
# The kinds every worker keeps a parsed copy of; a write to one of them changes `revision()`.
WATCHED_KINDS = frozenset({"clients", "users", "faults", "meta"})

T = TypeVar("T")
_NESTED = (dict, list, tuple)


def copy_doc(value: T) -> T:
    """A copy of a JSON-like value (dicts, lists, tuples of scalars), sharing nothing mutable.

    Much cheaper than `copy.deepcopy`, which pays for memoising cycles JSON cannot have.
    """
    copied: Any
    if isinstance(value, dict):
        copied = {key: copy_doc(item) if isinstance(item, _NESTED) else item for key, item in value.items()}
    elif isinstance(value, list):
        copied = [copy_doc(item) if isinstance(item, _NESTED) else item for item in value]
    elif isinstance(value, tuple):
        copied = tuple(copy_doc(item) for item in value)
    else:
        copied = value
    return cast(T, copied)


def same_json(one: object, other: object) -> bool:
    """Whether two JSON-like values are the same JSON (`True` is not `1`, unlike `==`)."""
    return json.dumps(one, sort_keys=True) == json.dumps(other, sort_keys=True)


class StoreError(RuntimeError):
    """The store cannot be opened or used (bad URL, unreadable file, ...)."""


def redacted_url(url: str) -> str:
    """A store URL fit to print: any password replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


class Store(Protocol):
    """State shared by every worker of one mock IMS."""

    url: str
    shared_across_processes: bool

    async def get(self, kind: str, key: str) -> Doc | None:
        """The document, or None."""

    async def put(self, kind: str, key: str, doc: Doc, *, expires_ms: int | None = None) -> None:
        """Create or replace a document; `expires_ms` (mock-clock time) allows `purge` to drop it."""

    async def put_many(self, kind: str, docs: list[tuple[str, Doc, int | None]]) -> None:
        """`put` of several `(key, doc, expires_ms)` at once: all or none (one transaction)."""

    async def insert(self, kind: str, key: str, doc: Doc) -> bool:
        """Create a document only if the key is free; False when it exists."""

    async def delete(self, kind: str, key: str) -> bool:
        """Remove a document; False when there was none."""

    async def items(self, kind: str) -> list[Doc]:
        """Every document of a kind, oldest first."""

    async def clear(self, kind: str) -> None:
        """Remove every document of a kind."""

    async def claim(
        self, kind: str, key: str, field: str, value: Any, *, also: Doc | None = None
    ) -> Doc | None:
        """Atomically set `field` (and the fields in `also`) when `field` is unset.

        Returns the updated document when this call set it; None when the document does not
        exist or the field was already set (someone else claimed it first).
        """

    async def swap(self, kind: str, key: str, expected: Doc | None, new: Doc | None) -> bool:
        """Atomically replace the document with `new` (None: remove it) if it is still
        `expected` (None: there is none), as `get` returned it; False, changing nothing, if not.

        A document written so never expires (`purge` leaves it alone).
        """

    async def decrement(self, kind: str, key: str, field: str) -> int | None:
        """Atomically lower a positive integer field by one; the new value, or None if it was
        missing, not an integer, or already zero."""

    async def append_journal(self, entry: Doc, *, limit: int) -> int:
        """Append an entry, keep at most `limit` of the newest; returns the entry's sequence."""

    async def journal(self, *, after: int = 0, limit: int | None = None) -> list[Doc]:
        """Entries with a sequence number greater than `after`, oldest first."""

    async def clear_journal(self) -> None: ...

    async def revision(self) -> int:
        """A number that changes whenever a document of a WATCHED_KINDS kind is created,
        changed or removed, by this process or any other sharing the store.

        Workers keep parsed copies of clients, users, faults and the clock, and read this
        (one cheap lookup) to know when to reload them; it never goes back to a value it had.
        """

    async def purge(self, now_ms: int) -> int:
        """Drop documents whose `expires_ms` has passed; how many were dropped."""

    async def close(self) -> None: ...

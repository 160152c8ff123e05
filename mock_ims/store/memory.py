"""The in-memory store: the default, fastest, and private to one process."""

from __future__ import annotations

from collections import deque
from typing import Any

from mock_ims.store.base import WATCHED_KINDS, Doc, copy_doc, same_json


class MemoryStore:
    """Plain dictionaries. Operations never await, so each is atomic on the event loop.

    Documents are copied in and out, so no caller can change what another one reads.
    """

    shared_across_processes = False

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._docs: dict[str, dict[str, Doc]] = {}
        self._expiry: dict[tuple[str, str], int] = {}
        self._journal: deque[Doc] = deque()
        self._seq = 0
        self._revision = 0

    def _kind(self, kind: str) -> dict[str, Doc]:
        return self._docs.setdefault(kind, {})

    def _changed(self, kind: str) -> None:
        if kind in WATCHED_KINDS:
            self._revision += 1

    async def get(self, kind: str, key: str) -> Doc | None:
        doc = self._kind(kind).get(key)
        return copy_doc(doc) if doc is not None else None

    async def put(self, kind: str, key: str, doc: Doc, *, expires_ms: int | None = None) -> None:
        self._kind(kind)[key] = copy_doc(doc)
        if expires_ms is None:
            self._expiry.pop((kind, key), None)
        else:
            self._expiry[(kind, key)] = expires_ms
        self._changed(kind)

    async def put_many(self, kind: str, docs: list[tuple[str, Doc, int | None]]) -> None:
        for key, doc, expires_ms in docs:
            await self.put(kind, key, doc, expires_ms=expires_ms)

    async def insert(self, kind: str, key: str, doc: Doc) -> bool:
        docs = self._kind(kind)
        if key in docs:
            return False
        docs[key] = copy_doc(doc)
        self._changed(kind)
        return True

    async def delete(self, kind: str, key: str) -> bool:
        self._expiry.pop((kind, key), None)
        if self._kind(kind).pop(key, None) is None:
            return False
        self._changed(kind)
        return True

    async def items(self, kind: str) -> list[Doc]:
        return [copy_doc(doc) for doc in self._kind(kind).values()]

    async def clear(self, kind: str) -> None:
        self._docs.pop(kind, None)
        for expiring in [k for k in self._expiry if k[0] == kind]:
            del self._expiry[expiring]
        self._changed(kind)

    async def claim(
        self, kind: str, key: str, field: str, value: Any, *, also: Doc | None = None
    ) -> Doc | None:
        doc = self._kind(kind).get(key)
        if doc is None or doc.get(field) is not None:
            return None
        doc[field] = copy_doc(value)
        if also:
            doc.update(copy_doc(also))
        self._changed(kind)
        return copy_doc(doc)

    async def swap(self, kind: str, key: str, expected: Doc | None, new: Doc | None) -> bool:
        docs = self._kind(kind)
        current = docs.get(key)
        if (current is None) != (expected is None) or not same_json(current, expected):
            return False
        if current is None and new is None:
            return True
        self._expiry.pop((kind, key), None)
        if new is None:
            del docs[key]
        else:
            docs[key] = copy_doc(new)
        self._changed(kind)
        return True

    async def decrement(self, kind: str, key: str, field: str) -> int | None:
        doc = self._kind(kind).get(key)
        if doc is None:
            return None
        current = doc.get(field)
        if isinstance(current, bool) or not isinstance(current, int) or current <= 0:
            return None
        doc[field] = current - 1
        self._changed(kind)
        return current - 1

    async def append_journal(self, entry: Doc, *, limit: int) -> int:
        self._seq += 1
        self._journal.append({**entry, "seq": self._seq})  # entries are fresh documents, never changed
        while len(self._journal) > limit:
            self._journal.popleft()
        return self._seq

    async def journal(self, *, after: int = 0, limit: int | None = None) -> list[Doc]:
        entries = [copy_doc(e) for e in self._journal if e["seq"] > after]
        return entries[:limit] if limit is not None else entries

    async def clear_journal(self) -> None:
        self._journal.clear()

    async def revision(self) -> int:
        return self._revision

    async def purge(self, now_ms: int) -> int:
        expired = [key for key, at in self._expiry.items() if at <= now_ms]
        for kind, key in expired:
            self._kind(kind).pop(key, None)
            del self._expiry[(kind, key)]
            self._changed(kind)
        return len(expired)

    async def close(self) -> None:
        return None

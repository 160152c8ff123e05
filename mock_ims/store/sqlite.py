"""The SQLite store: state that survives a restart and is shared by the workers of one machine.

Every operation is one short transaction in WAL mode; single use relies on a conditional UPDATE,
which SQLite serialises across processes. Writers also take a lock file first: when two
workers write at once, SQLite's own busy handler sleeps 1, 2, 5, 10... ms between tries, while
a blocking `flock` wakes the waiter the moment the other writer commits.

The write-ahead log is copied into the database by a background thread rather than by the
commit that happens to cross SQLite's threshold: that checkpoint's fsyncs ran inside a
request, holding the writers' lock, and every other worker's writes waited on them.

Writes made in one turn of the event loop share one transaction (group commit): each is in a
savepoint of its own, so it succeeds or fails alone, and each caller resumes only once the
transaction committed, so nothing is answered before it is on disk. Under load a worker has
several requests in flight and a commit, with the page writes and locks around it, costs far
more than a statement; sharing it is most of what makes two workers on SQLite fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from mock_ims.store.base import WATCHED_KINDS, Doc, StoreError, same_json

T = TypeVar("T")

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's own busy handler alone
    fcntl = None  # type: ignore[assignment]

_WATCHED = ", ".join(f"'{kind}'" for kind in sorted(WATCHED_KINDS))
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    expires_ms INTEGER,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS docs_expiry ON docs (expires_ms) WHERE expires_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revision (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    n INTEGER NOT NULL
);
INSERT OR IGNORE INTO revision (id, n) VALUES (0, 0);
-- Triggers run inside the writing statement's transaction: no worker can see a changed
-- client, user, fault or clock without also seeing the new revision.
CREATE TRIGGER IF NOT EXISTS docs_revision_insert AFTER INSERT ON docs
    WHEN NEW.kind IN ({_WATCHED}) BEGIN UPDATE revision SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS docs_revision_update AFTER UPDATE ON docs
    WHEN NEW.kind IN ({_WATCHED}) OR OLD.kind IN ({_WATCHED}) BEGIN UPDATE revision SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS docs_revision_delete AFTER DELETE ON docs
    WHEN OLD.kind IN ({_WATCHED}) BEGIN UPDATE revision SET n = n + 1; END;
"""  # noqa: S608 - the kind names are constants


_PUT = (
    "INSERT INTO docs (kind, key, doc, expires_ms) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET doc=excluded.doc, expires_ms=excluded.expires_ms"
)


CHECKPOINT_SECONDS = 0.5


def _checkpoint(path: Path, stopped: threading.Event) -> None:
    """Copy the WAL into the database every CHECKPOINT_SECONDS until `stopped` (a thread)."""
    try:
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:  # pragma: no cover - the store itself just opened it
        return
    try:
        while not stopped.wait(CHECKPOINT_SECONDS):
            # PASSIVE: copies what no reader still needs, never blocks writers.
            with contextlib.suppress(sqlite3.Error):  # busy or gone: the next turn tries again
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        db.close()


def _dump(doc: Doc) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


Work = Callable[[sqlite3.Connection], T]


class SQLiteStore:
    """One connection per process; callers on the event loop block for microseconds at most."""

    shared_across_processes = True

    def __init__(self, path: str | Path, url: str | None = None) -> None:
        self.path = Path(path)
        self.url = url or f"sqlite:///{self.path}"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # Each statement commits on its own (isolation_level=None) before the mock answers. In
            # WAL mode with synchronous=NORMAL a commit is in the WAL file, in the OS page cache,
            # when the statement returns: a killed process (kill -9) loses nothing it answered.
            # Only an OS crash or power cut can lose the last commits, and never corrupts the file;
            # FULL would fsync every commit to cover that too, at a cost a test mock need not pay.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.execute("PRAGMA wal_autocheckpoint=0")  # see the module's docstring
            self._db.executescript(_SCHEMA)
            self._lock = os.open(
                self.path.with_name(f"{self.path.name}-writer.lock"), os.O_RDWR | os.O_CREAT, 0o600
            )
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the SQLite store at {self.path}: {exc}") from exc
        self._checkpoints_stopped = threading.Event()
        threading.Thread(
            target=_checkpoint,
            args=(self.path, self._checkpoints_stopped),
            name="mock-ims-sqlite-checkpoint",
            daemon=True,
        ).start()
        # A store dropped without close() stops its thread too.
        weakref.finalize(self, self._checkpoints_stopped.set)
        self._pending: dict[asyncio.AbstractEventLoop, list[tuple[Work[Any], asyncio.Future[Any]]]] = {}
        self._serial = threading.Lock()  # one transaction at a time on this connection

    def _one(self, sql: str, args: tuple[Any, ...]) -> Doc | None:
        row = self._db.execute(sql, args).fetchone()
        return json.loads(row[0]) if row else None

    async def get(self, kind: str, key: str) -> Doc | None:
        return self._one("SELECT doc FROM docs WHERE kind=? AND key=?", (kind, key))

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the writers' lock (see the module's docstring) around one write."""
        if fcntl is None:  # pragma: no cover
            yield
            return
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)

    async def _commit(self, work: Work[T]) -> T:
        """Run `work` in the transaction of this event-loop turn; its result once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        pending = self._pending.setdefault(loop, [])
        pending.append((work, future))
        if len(pending) == 1:
            loop.call_soon(self._flush, loop)
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._pending.pop(loop, [])
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            with self._serial, self._writing():
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for work, future in batch:
                        self._db.execute("SAVEPOINT one_write")
                        try:
                            outcomes.append((future, work(self._db), None))
                        except Exception as exc:
                            self._db.execute("ROLLBACK TO one_write")
                            outcomes.append((future, None, exc))
                        self._db.execute("RELEASE one_write")
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
        except Exception as exc:  # nothing was written
            outcomes = [(future, None, exc) for _, future in batch]
        for future, result, error in outcomes:
            if future.done():  # the caller was cancelled
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def put(self, kind: str, key: str, doc: Doc, *, expires_ms: int | None = None) -> None:
        args = (kind, key, _dump(doc), expires_ms)
        await self._commit(lambda db: db.execute(_PUT, args))

    async def put_many(self, kind: str, docs: list[tuple[str, Doc, int | None]]) -> None:
        rows = [(kind, key, _dump(doc), expires) for key, doc, expires in docs]
        await self._commit(lambda db: db.executemany(_PUT, rows))

    async def insert(self, kind: str, key: str, doc: Doc) -> bool:
        args = (kind, key, _dump(doc))
        return await self._commit(
            lambda db: (
                db.execute("INSERT OR IGNORE INTO docs (kind, key, doc) VALUES (?, ?, ?)", args).rowcount == 1
            )
        )

    async def delete(self, kind: str, key: str) -> bool:
        return await self._commit(
            lambda db: db.execute("DELETE FROM docs WHERE kind=? AND key=?", (kind, key)).rowcount == 1
        )

    async def items(self, kind: str) -> list[Doc]:
        rows = self._db.execute("SELECT doc FROM docs WHERE kind=? ORDER BY rowid", (kind,))
        return [json.loads(row[0]) for row in rows]

    async def clear(self, kind: str) -> None:
        await self._commit(lambda db: db.execute("DELETE FROM docs WHERE kind=?", (kind,)))

    async def claim(
        self, kind: str, key: str, field: str, value: Any, *, also: Doc | None = None
    ) -> Doc | None:
        path = f"$.{field}"
        updates = {field: value, **(also or {})}
        setters = ", ".join("?, json(?)" for _ in updates)
        args: list[Any] = []
        for name, new_value in updates.items():
            args += [f"$.{name}", json.dumps(new_value)]
        sql = (
            f"UPDATE docs SET doc=json_set(doc, {setters}) "  # noqa: S608 - only placeholders
            "WHERE kind=? AND key=? AND json_extract(doc, ?) IS NULL RETURNING doc"
        )
        row = await self._commit(lambda db: db.execute(sql, (*args, kind, key, path)).fetchone())
        return json.loads(row[0]) if row else None

    async def swap(self, kind: str, key: str, expected: Doc | None, new: Doc | None) -> bool:
        new_text = None if new is None else _dump(new)

        def swap(db: sqlite3.Connection) -> bool:
            # Read and write in one transaction, which holds SQLite's write lock from its BEGIN
            # IMMEDIATE: no other process can write in between.
            row = db.execute("SELECT doc FROM docs WHERE kind=? AND key=?", (kind, key)).fetchone()
            current = json.loads(row[0]) if row else None
            if (current is None) != (expected is None) or not same_json(current, expected):
                return False
            if new_text is None:
                db.execute("DELETE FROM docs WHERE kind=? AND key=?", (kind, key))
            else:
                db.execute(_PUT, (kind, key, new_text, None))
            return True

        return await self._commit(swap)

    async def decrement(self, kind: str, key: str, field: str) -> int | None:
        path = f"$.{field}"
        row = await self._commit(
            lambda db: db.execute(
                "UPDATE docs SET doc=json_set(doc, ?, json_extract(doc, ?) - 1) "
                "WHERE kind=? AND key=? AND json_type(doc, ?)='integer' AND json_extract(doc, ?) > 0 "
                "RETURNING json_extract(doc, ?)",
                (path, path, kind, key, path, path, path),
            ).fetchone()
        )
        return int(row[0]) if row else None

    async def append_journal(self, entry: Doc, *, limit: int) -> int:
        text = _dump(entry)

        def append(db: sqlite3.Connection) -> int:
            seq = db.execute("INSERT INTO journal (doc) VALUES (?)", (text,)).lastrowid
            if seq is None:  # pragma: no cover - sqlite always sets it after an INSERT
                raise StoreError("the journal insert returned no sequence number")
            # A range delete on the primary key: an index probe when there is nothing to drop.
            db.execute("DELETE FROM journal WHERE seq <= ?", (seq - limit,))
            return seq

        return await self._commit(append)

    async def journal(self, *, after: int = 0, limit: int | None = None) -> list[Doc]:
        rows = self._db.execute(
            "SELECT seq, doc FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, -1 if limit is None else limit),
        )
        return [{**json.loads(doc), "seq": seq} for seq, doc in rows]

    async def clear_journal(self) -> None:
        await self._commit(lambda db: db.execute("DELETE FROM journal"))

    async def revision(self) -> int:
        row = self._db.execute("SELECT n FROM revision").fetchone()
        return int(row[0])

    async def purge(self, now_ms: int) -> int:
        return await self._commit(
            lambda db: (
                db.execute(
                    "DELETE FROM docs WHERE expires_ms IS NOT NULL AND expires_ms <= ?", (now_ms,)
                ).rowcount
            )
        )

    async def close(self) -> None:
        for loop in list(self._pending):  # writes still waiting for their turn's commit
            self._flush(loop)
        self._checkpoints_stopped.set()
        self._db.close()
        os.close(self._lock)

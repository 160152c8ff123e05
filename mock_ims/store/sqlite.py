"""The SQLite store: state that survives a restart and is shared by the workers of one machine.

Every operation is one short transaction in WAL mode; single use relies on a conditional UPDATE,
which SQLite serialises across processes. Writers also take a lock file first: when two
workers write at once, SQLite's own busy handler sleeps 1, 2, 5, 10... ms between tries, while
a blocking `flock` wakes the waiter the moment the other writer commits.

The write-ahead log is copied into the database by a background thread rather than by the
commit that happens to cross SQLite's threshold: that checkpoint's fsyncs ran inside a
request, holding the writers' lock, and every other worker's writes waited on them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mock_ims.store.base import WATCHED_KINDS, Doc, StoreError

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

    def _write(self, sql: str, args: tuple[Any, ...]) -> sqlite3.Cursor:
        """One statement, one transaction."""
        with self._writing():
            return self._db.execute(sql, args)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """Several statements, one commit: a commit costs more than a short statement."""
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    async def put(self, kind: str, key: str, doc: Doc, *, expires_ms: int | None = None) -> None:
        self._write(_PUT, (kind, key, _dump(doc), expires_ms))

    async def put_many(self, kind: str, docs: list[tuple[str, Doc, int | None]]) -> None:
        with self._transaction():
            self._db.executemany(_PUT, [(kind, key, _dump(doc), expires) for key, doc, expires in docs])

    async def insert(self, kind: str, key: str, doc: Doc) -> bool:
        cursor = self._write(
            "INSERT OR IGNORE INTO docs (kind, key, doc) VALUES (?, ?, ?)", (kind, key, _dump(doc))
        )
        return cursor.rowcount == 1

    async def delete(self, kind: str, key: str) -> bool:
        cursor = self._write("DELETE FROM docs WHERE kind=? AND key=?", (kind, key))
        return cursor.rowcount == 1

    async def items(self, kind: str) -> list[Doc]:
        rows = self._db.execute("SELECT doc FROM docs WHERE kind=? ORDER BY rowid", (kind,))
        return [json.loads(row[0]) for row in rows]

    async def clear(self, kind: str) -> None:
        self._write("DELETE FROM docs WHERE kind=?", (kind,))

    async def claim(
        self, kind: str, key: str, field: str, value: Any, *, also: Doc | None = None
    ) -> Doc | None:
        path = f"$.{field}"
        updates = {field: value, **(also or {})}
        setters = ", ".join("?, json(?)" for _ in updates)
        args: list[Any] = []
        for name, new_value in updates.items():
            args += [f"$.{name}", json.dumps(new_value)]
        with self._writing():
            return self._one(
                f"UPDATE docs SET doc=json_set(doc, {setters}) "  # noqa: S608 - only placeholders
                "WHERE kind=? AND key=? AND json_extract(doc, ?) IS NULL RETURNING doc",
                (*args, kind, key, path),
            )

    async def decrement(self, kind: str, key: str, field: str) -> int | None:
        path = f"$.{field}"
        with self._writing():
            row = self._db.execute(
                "UPDATE docs SET doc=json_set(doc, ?, json_extract(doc, ?) - 1) "
                "WHERE kind=? AND key=? AND json_type(doc, ?)='integer' AND json_extract(doc, ?) > 0 "
                "RETURNING json_extract(doc, ?)",
                (path, path, kind, key, path, path, path),
            ).fetchone()
        return int(row[0]) if row else None

    async def append_journal(self, entry: Doc, *, limit: int) -> int:
        with self._transaction():
            cursor = self._db.execute("INSERT INTO journal (doc) VALUES (?)", (_dump(entry),))
            seq = cursor.lastrowid
            if seq is None:  # pragma: no cover - sqlite always sets it after an INSERT
                raise StoreError("the journal insert returned no sequence number")
            # A range delete on the primary key: an index probe when there is nothing to drop.
            self._db.execute("DELETE FROM journal WHERE seq <= ?", (seq - limit,))
        return seq

    async def journal(self, *, after: int = 0, limit: int | None = None) -> list[Doc]:
        rows = self._db.execute(
            "SELECT seq, doc FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, -1 if limit is None else limit),
        )
        return [{**json.loads(doc), "seq": seq} for seq, doc in rows]

    async def clear_journal(self) -> None:
        self._write("DELETE FROM journal", ())

    async def revision(self) -> int:
        row = self._db.execute("SELECT n FROM revision").fetchone()
        return int(row[0])

    async def purge(self, now_ms: int) -> int:
        cursor = self._write("DELETE FROM docs WHERE expires_ms IS NOT NULL AND expires_ms <= ?", (now_ms,))
        return cursor.rowcount

    async def close(self) -> None:
        self._checkpoints_stopped.set()
        self._db.close()
        os.close(self._lock)

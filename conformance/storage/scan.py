"""The partner's storage at rest: what it declared, what changed, and which tokens are in it.

A partner declares where it keeps state (`[storage]` in its description file): files and
globs, SQLite databases, Redis URLs, and a shell command that dumps anything else. `snapshot`
fingerprints all of it so the suite can tell whether login wrote anything (`changed`), and
`scan` searches all of it for the tokens the mock issued, naming the file and offset, the
table, row and column, or the Redis key and field where one is found.

Nothing declared is required to exist: a missing path, an unreachable Redis or a failing
command is a note in the result, never an exception, so one bad entry cannot hide the others.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import selectors
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.storage.leaks import Finding, Needle, StreamScanner, scan_bytes

COMMAND_TIMEOUT_S = 30.0
MAX_FILE_BYTES = 256 * 1024 * 1024  # more than any partner's storage; guards against /dev/zero-like files
MAX_FILES = 10_000  # files read per scan or snapshot ([storage] max_files)
MAX_BYTES = (
    1024 * 1024 * 1024
)  # bytes read per scan or snapshot, files and command output ([storage] max_bytes)
# Directory entries listed per scan, matched or not: `/**/*.db` must end on a large disk too.
MAX_ENTRIES = 1_000_000
# Kernel views, not storage: /proc/kmsg blocks, /dev/zero never ends, /proc/self/root loops.
VIRTUAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
SQLITE_SIBLINGS = ("-wal", "-journal")  # where SQLite keeps pages not yet in the main file
REDIS_TIMEOUT_S = 5.0
SQLITE_BUSY_S = 1.0  # how long to wait for a writer's lock before reading a copy instead
NOTE_TAIL_CHARS = 300
READ_BYTES = 1024 * 1024  # one read() of a file or of the command's pipes
DRAIN_S = 1.0  # after a timeout, how long to keep reading what the killed command left in its pipes
_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True)
class StorageSpec:
    """Where a partner keeps state at rest; every path is relative to `root` unless absolute."""

    files: tuple[str, ...] = ()  # globs (`**` allowed); a directory means everything under it
    sqlite: tuple[str, ...] = ()  # SQLite database paths or globs
    redis: tuple[str, ...] = ()  # redis:// (or rediss://, unix://) URLs
    command: str | None = None  # a shell command whose stdout is a dump of the storage
    root: Path = Path(".")
    command_timeout: float = COMMAND_TIMEOUT_S
    max_files: int = MAX_FILES
    max_bytes: int = MAX_BYTES

    @property
    def declared(self) -> bool:
        return bool(self.files or self.sqlite or self.redis or self.command)


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    detail: str  # for people: "1234 bytes", "3 rows", "hash, 2 fields"


@dataclass(frozen=True)
class Snapshot:
    """A comparable fingerprint of everything declared, by item ("file var/app.log", ...)."""

    items: Mapping[str, Fingerprint]
    notes: tuple[str, ...] = ()
    unscanned: tuple[str, ...] = ()  # what a limit or a rule kept out of the fingerprint


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)  # what was looked at, for the report
    notes: list[str] = field(default_factory=list)  # what could not be looked at, and why
    # What was deliberately left out: a limit reached (max_files, max_bytes, the timeout) or a
    # place never scanned (/proc). Unlike a note, this makes "no token found" inconclusive.
    unscanned: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unscanned


@dataclass
class _Budget:
    """What one scan or snapshot may still read, and what it has left out so far."""

    max_files: int
    max_bytes: int
    notes: list[str]
    unscanned: list[str]
    files: int = 0
    bytes: int = 0
    entries: int = 0

    @classmethod
    def of(cls, spec: StorageSpec, notes: list[str], unscanned: list[str]) -> _Budget:
        return cls(spec.max_files, spec.max_bytes, notes, unscanned)

    @property
    def bytes_left(self) -> int:
        return max(self.max_bytes - self.bytes, 0)

    @property
    def spent(self) -> str | None:
        """The limit reached, if any."""
        if self.files >= self.max_files:
            return f"max_files = {self.max_files}"
        if self.bytes >= self.max_bytes:
            return f"max_bytes = {self.max_bytes}"
        if self.entries >= MAX_ENTRIES:
            return f"{MAX_ENTRIES} directory entries listed"
        return None


def snapshot(spec: StorageSpec) -> Snapshot:
    items: dict[str, Fingerprint] = {}
    notes: list[str] = []
    unscanned: list[str] = []
    budget = _Budget.of(spec, notes, unscanned)
    for path in _budgeted(_file_sources(spec, budget), budget):
        shown = _shown(path, spec.root)
        fingerprint = _fingerprint(path, f"file {shown}", budget)
        if fingerprint is not None:
            items[f"file {shown}"] = fingerprint
    for path in _declared_sqlite(spec, budget):
        shown = _shown(path, spec.root)
        for table, rows in _sqlite_tables(path, shown, notes):
            digest = hashlib.sha256()
            count = 0
            for rowid, cells in rows:
                count += 1
                digest.update(repr((rowid, cells)).encode())
            items[f"sqlite {shown} table {table}"] = Fingerprint(digest.hexdigest(), f"{count} rows")
    for url in spec.redis:
        for key, kind, fields in _redis_entries(url, notes):
            digest = hashlib.sha256(kind.encode())
            for name, value in fields:
                digest.update(repr((name, value)).encode())
            items[f"redis {_shown_url(url)} key {_shown_key(key)}"] = Fingerprint(
                digest.hexdigest(), f"{kind}, {len(fields)} values"
            )
    if spec.command:
        digest = hashlib.sha256()
        size = _run(spec.command, spec, budget, digest.update, lambda _: None)
        if size is not None:
            items["command output"] = Fingerprint(digest.hexdigest(), f"{size} bytes")
    return Snapshot(items, tuple(notes), tuple(unscanned))


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs between two snapshots, one line per item, in item order."""
    lines = []
    for item in sorted(before.items.keys() | after.items.keys()):
        old, new = before.items.get(item), after.items.get(item)
        if old is None and new is not None:
            lines.append(f"{item}: new ({new.detail})")
        elif new is None:
            lines.append(f"{item}: removed")
        elif old is not None and old.digest != new.digest:
            detail = new.detail if old.detail == new.detail else f"{old.detail} → {new.detail}"
            lines.append(f"{item}: changed ({detail})")
    return lines


def scan(spec: StorageSpec, needles: Sequence[Needle], *, extra_files: Sequence[Path] = ()) -> ScanResult:
    """Search everything declared, and `extra_files` (the partner's own logs), for `needles`."""
    result = ScanResult()
    budget = _Budget.of(spec, result.notes, result.unscanned)
    databases: list[Path] = []
    sources = [
        *_file_sources(spec, budget),
        *((f"sqlite {p!r}", _sqlite_files(p, spec.root, budget, databases)) for p in spec.sqlite),
        *((f"file {_shown(p, spec.root)}", _extra_file(p, spec.root, budget)) for p in extra_files),
    ]
    for path in _budgeted(sources, budget):
        where = f"file {_shown(path, spec.root)}"
        data = _read(path, where, budget)
        if data is not None:
            result.scanned.append(f"{where} ({len(data)} bytes)")
            result.findings += scan_bytes(data, needles, where)
    for path in databases:
        _scan_sqlite(path, spec.root, needles, result)
    for url in spec.redis:
        _scan_redis(url, needles, result)
    if spec.command:
        _scan_command(spec.command, spec, needles, result, budget)
    return result


# Files ----------------------------------------------------------------------------------------

_Source = tuple[str, Iterator[Path]]  # what a report calls it ("files 'var/**'"), and its files


def _file_sources(spec: StorageSpec, budget: _Budget) -> list[_Source]:
    return [
        (f"files {pattern!r}", _files(pattern, spec.root, budget, "files", directories=True))
        for pattern in spec.files
    ]


def _declared_sqlite(spec: StorageSpec, budget: _Budget) -> list[Path]:
    found: list[Path] = []
    for pattern in spec.sqlite:
        found += _files(pattern, spec.root, budget, "sqlite", directories=False)
    return found


def _sqlite_files(pattern: str, root: Path, budget: _Budget, databases: list[Path]) -> Iterator[Path]:
    """The databases `pattern` selects (added to `databases`), each with its WAL and rollback
    journal: read raw too, since deleted or superseded rows stay in free pages and in the WAL
    until they are overwritten."""
    for path in _files(pattern, root, budget, "sqlite", directories=False):
        databases.append(path)
        yield path
        yield from (p for p in (path.with_name(path.name + s) for s in SQLITE_SIBLINGS) if p.is_file())


def _extra_file(path: Path, root: Path, budget: _Budget) -> Iterator[Path]:
    if path.is_file():
        yield path
    else:
        budget.notes.append(f"file {_shown(path, root)}: declared but not found")


def _budgeted(sources: Iterable[_Source], budget: _Budget) -> Iterator[Path]:
    """Each source's files in turn, each once, while the budget lasts; where it ran out, the
    source cut short and every source after it are recorded as not scanned."""
    seen: set[Path] = set()
    cut: str | None = None
    for label, paths in sources:
        if cut is not None:
            budget.unscanned.append(f"{label}: not scanned ({cut} reached)")
            continue
        count = 0
        for path in paths:
            if path.resolve() in seen:
                continue
            cut = budget.spent
            if cut is not None:
                # The walk stops here, so how many more files match is not known.
                budget.unscanned.append(
                    f"{label}: stopped after {count} file(s) ({cut} reached); at least one more "
                    "matched, how many more was not counted"
                )
                break
            seen.add(path.resolve())
            budget.files += 1
            count += 1
            yield path
        cut = cut or budget.spent


def _files(pattern: str, root: Path, budget: _Budget, kind: str, *, directories: bool) -> Iterator[Path]:
    """Every regular file `pattern` selects, in name order, with a note when there is none.

    Like a recursive glob that includes hidden files, except that `**` and a matched directory
    (with `directories`, everything under it) never follow a symlink to a directory: a link
    within the tree is reached anyway (and may loop), a link out of it is recorded as not
    scanned. A named path and a single `*` do follow links.
    """
    base = Path(pattern) if Path(pattern).is_absolute() else root / pattern
    start, parts = _split(base)
    label = f"{kind} {pattern!r}"
    real = Path(os.path.realpath(start))
    virtual = _virtual(real)
    if virtual is not None:
        budget.unscanned.append(
            f"{label}: not scanned, {virtual} is the kernel's view of the system, not storage"
        )
        return
    walk = _Walk(label, root, budget)
    found = False
    for match, match_real in walk.expand(start, real, parts):
        for path in walk.under(match, match_real) if directories else [match]:
            if walk.regular(path):
                found = True
                yield path
    if not found and not budget.spent:
        budget.notes.append(f"{label}: declared but not found under {root}")


def _split(path: Path) -> tuple[Path, tuple[str, ...]]:
    """The longest leading part of `path` without wildcards, and the parts after it."""
    parts = path.parts
    literal = next((i for i, part in enumerate(parts) if _MAGIC.search(part)), len(parts))
    rest: list[str] = []
    for part in parts[literal:]:
        if not (part == "**" and rest and rest[-1] == "**"):  # `**/**` is `**`
            rest.append(part)
    return Path(*parts[:literal]), tuple(rest)


def _virtual(real: Path) -> Path | None:
    """The kernel view (/proc, /sys, /dev) that `real`, a path without links, lies in, if any."""
    return next((v for v in VIRTUAL_ROOTS if real == v or v in real.parents), None)


_Listing = list[os.DirEntry[str]]


class _Walk:
    """One declared pattern's walk. Paths go in pairs: as the pattern names them (for the
    report) and with links resolved (`real`, to know where a walk has got to)."""

    def __init__(self, label: str, root: Path, budget: _Budget) -> None:
        self.label = label
        self.root = root
        self.budget = budget

    def expand(
        self, path: Path, real: Path, parts: tuple[str, ...], listing: _Listing | None = None
    ) -> Iterator[tuple[Path, Path]]:
        """The paths under `path` that match `parts`; `listing` is its entries, if listed already."""
        if not parts:
            if os.path.lexists(path):
                yield path, real
            return
        head, rest = parts[0], parts[1:]
        if head == "**" and not rest:
            yield path, real  # a directory stands for everything under it
        elif head == "**":
            for directory, directory_real, entries in self.directories(path, real, real):
                yield from self.expand(directory, directory_real, rest, entries)
        else:
            yield from self.step(path, real, head, rest, listing)

    def step(
        self, path: Path, real: Path, head: str, rest: tuple[str, ...], listing: _Listing | None
    ) -> Iterator[tuple[Path, Path]]:
        """Match one part without `**` (a name, or a wildcard over the entries of `path`)."""
        if not _MAGIC.search(head):
            children = [path / head] if os.path.lexists(path / head) else []
        else:
            entries = self.entries(path) if listing is None else listing
            children = [Path(e.path) for e in entries if fnmatch.fnmatchcase(e.name, head)]
        for child in children:
            child_real = Path(os.path.realpath(child)) if child.is_symlink() else real / child.name
            if not rest or (child.is_dir() and _virtual(child_real) is None):
                yield from self.expand(child, child_real, rest)

    def directories(self, path: Path, real: Path, top: Path) -> Iterator[tuple[Path, Path, _Listing]]:
        """`path` and every directory under it, with its entries, not following links."""
        entries = self.entries(path)
        yield path, real, entries
        for entry in entries:
            child_real = real / entry.name
            if entry.is_dir(follow_symlinks=False) and _virtual(child_real) is None:
                yield from self.directories(Path(entry.path), child_real, top)
            elif entry.is_symlink():
                self.link(entry, top)

    def under(self, path: Path, real: Path, top: Path | None = None) -> Iterator[Path]:
        """`path` itself, or, for a directory, every file under it, not following links."""
        if not path.is_dir():
            yield path
            return
        for entry in self.entries(path):
            child_real = real / entry.name
            if entry.is_dir(follow_symlinks=False):
                if _virtual(child_real) is None:
                    yield from self.under(Path(entry.path), child_real, top or real)
            elif not entry.is_symlink() or not self.link(entry, top or real):
                yield Path(entry.path)

    def link(self, entry: os.DirEntry[str], top: Path) -> bool:
        """Whether `entry`, a symlink, is one to a directory (so not followed); one that leads
        out of the tree being walked (`top`) is recorded as not scanned."""
        if not entry.is_dir():
            return False
        target = Path(os.path.realpath(entry.path))
        if target != top and top not in target.parents:
            shown = _shown(Path(entry.path), self.root)
            self.budget.unscanned.append(
                f"{self.label}: {shown} links to the directory {target}; not followed"
            )
        return True

    def entries(self, directory: Path) -> _Listing:
        """The entries of `directory` in name order, within the count of entries listed."""
        entries: _Listing = []
        try:
            with os.scandir(directory) as listing:
                for entry in listing:
                    if self.budget.entries >= MAX_ENTRIES:
                        self.budget.unscanned.append(
                            f"{self.label}: stopped listing in {directory} after {MAX_ENTRIES} "
                            "directory entries; the rest of the tree was not looked at"
                        )
                        break
                    self.budget.entries += 1
                    entries.append(entry)
        except OSError as exc:
            self.budget.notes.append(
                f"{self.label}: directory {_shown(directory, self.root)} could not be listed "
                f"({exc.strerror or exc})"
            )
        return sorted(entries, key=lambda e: e.name)

    def regular(self, path: Path) -> bool:
        """Whether `path` is a file to read: a regular file, or a link to one outside the kernel's views."""
        if not path.is_file():  # a FIFO or a device would block or never end
            return False
        if path.is_symlink():
            virtual = _virtual(Path(os.path.realpath(path)))
            if virtual is not None:
                shown = _shown(path, self.root)
                self.budget.unscanned.append(f"{self.label}: {shown} links into {virtual}; not read")
                return False
        return True


def _read_into(
    path: Path, shown: str, budget: _Budget, sink: Callable[[bytes], object], piece: int
) -> int | None:
    """Feed the file to `sink`, `piece` bytes at a time, up to MAX_FILE_BYTES and the budget;
    the number of bytes read, or None (and a note) when it could not be read. What is left
    unread is recorded as not scanned."""
    limit = min(MAX_FILE_BYTES, budget.bytes_left)
    read = 0
    try:
        with path.open("rb") as handle:
            while read < limit:
                data = handle.read(min(piece, limit - read))
                if not data:
                    break
                read += len(data)
                budget.bytes += len(data)
                sink(data)
            more = read == limit and bool(handle.read(1))
    except OSError as exc:
        budget.notes.append(f"{shown}: could not be read ({exc.strerror or exc})")
        return None
    if more:
        why = (
            f"larger than {MAX_FILE_BYTES} bytes"
            if limit == MAX_FILE_BYTES
            else f"max_bytes = {budget.max_bytes} reached"
        )
        budget.unscanned.append(f"{shown}: only its first {read} bytes were read ({why})")
    return read


def _read(path: Path, shown: str, budget: _Budget) -> bytes | None:
    pieces: list[bytes] = []
    # One read of the whole file, so it is held once, not once in pieces and once joined.
    if _read_into(path, shown, budget, pieces.append, MAX_FILE_BYTES) is None:
        return None
    return b"".join(pieces)


def _fingerprint(path: Path, shown: str, budget: _Budget) -> Fingerprint | None:
    digest = hashlib.sha256()
    size = _read_into(path, shown, budget, digest.update, READ_BYTES)
    return None if size is None else Fingerprint(digest.hexdigest(), f"{size} bytes")


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# SQLite ---------------------------------------------------------------------------------------

_Rows = Iterator[tuple[int, list[tuple[str, Any]]]]


def _scan_sqlite(path: Path, root: Path, needles: Sequence[Needle], result: ScanResult) -> None:
    shown = _shown(path, root)
    tables = rows_seen = 0
    for table, rows in _sqlite_tables(path, shown, result.notes):
        tables += 1
        for rowid, cells in rows:
            rows_seen += 1
            for column, value in cells:
                if isinstance(value, bytes):
                    where = f"sqlite {shown} table {table} row {rowid} column {column}"
                    result.findings += scan_bytes(value, needles, where, offsets=False)
    result.scanned.append(f"sqlite {shown} ({tables} tables, {rows_seen} rows, every text and blob column)")


def _sqlite_tables(path: Path, shown: str, notes: list[str]) -> Iterator[tuple[str, _Rows]]:
    """Each table of the database and its rows as (rowid, [(column, value)]); TEXT comes as bytes."""
    try:
        with _open_sqlite(path) as connection:
            names = [
                r[0].decode()
                for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for name in names:
                yield name, _rows(connection, name, shown, notes)
    except sqlite3.DatabaseError as exc:
        notes.append(f"sqlite {shown}: could not be read ({exc})")


@contextmanager
def _open_sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    """Open read-only, so the scan never changes what it judges; if the database is locked or
    its directory is not writable (WAL needs a -shm file), read a copy instead."""
    connection = _connect_read_only(path)
    if connection is not None:
        with closing(connection):
            yield connection
        return
    with tempfile.TemporaryDirectory(prefix="ims-conformance-sqlite-") as scratch:
        copy = Path(scratch) / path.name
        # With its journal, the copy opens in the last committed state (a hot journal is
        # rolled back, a WAL replayed).
        for suffix in ("", *SQLITE_SIBLINGS):
            source = path.with_name(path.name + suffix)
            if source.exists():
                shutil.copyfile(source, copy.with_name(copy.name + suffix))
        with closing(sqlite3.connect(copy)) as connection:
            connection.text_factory = bytes
            yield connection


def _connect_read_only(path: Path) -> sqlite3.Connection | None:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=SQLITE_BUSY_S)
    except sqlite3.OperationalError:
        return None
    try:
        connection.text_factory = bytes
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        connection.close()
        return None
    except sqlite3.DatabaseError:
        connection.close()
        raise
    return connection


def _rows(connection: sqlite3.Connection, table: str, shown: str, notes: list[str]) -> _Rows:
    quoted = '"' + table.replace('"', '""') + '"'
    try:
        cursor = connection.execute(f"SELECT rowid, * FROM {quoted}")  # noqa: S608 (a quoted identifier)
        with_rowid = True
    except sqlite3.OperationalError:
        try:  # a WITHOUT ROWID table: number the rows instead
            cursor = connection.execute(f"SELECT * FROM {quoted}")  # noqa: S608
            with_rowid = False
        except sqlite3.OperationalError as exc:  # a virtual table whose module is not loaded, ...
            notes.append(f"sqlite {shown} table {table}: could not be read ({exc})")
            return
    columns = [d[0] for d in cursor.description][1 if with_rowid else 0 :]
    try:
        for number, row in enumerate(cursor, start=1):
            values = row[1:] if with_rowid else row
            yield (row[0] if with_rowid else number), list(zip(columns, values, strict=True))
    except sqlite3.DatabaseError as exc:  # a damaged page: report it, keep what was read
        notes.append(f"sqlite {shown} table {table}: reading stopped ({exc})")


# Redis ----------------------------------------------------------------------------------------


def _scan_redis(url: str, needles: Sequence[Needle], result: ScanResult) -> None:
    shown = _shown_url(url)
    keys = 0
    for key, _, fields in _redis_entries(url, result.notes):
        keys += 1
        where = f"redis {shown} key {_shown_key(key)}"
        result.findings += scan_bytes(key, needles, f"{where} (the key name)", offsets=False)
        for name, value in fields:
            result.findings += scan_bytes(value, needles, f"{where}{name}", offsets=False)
    result.scanned.append(f"redis {shown} ({keys} keys)")


def _redis_entries(url: str, notes: list[str]) -> Iterator[tuple[bytes, str, list[tuple[str, bytes]]]]:
    """Every key of the database `url` names: (key, type, [(" field f", value)])."""
    try:
        import redis
    except ImportError:
        notes.append(
            f"redis {_shown_url(url)}: not scanned, the `redis` package is not installed "
            "(pip install 'mock-ims[conformance]')"
        )
        return
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
    except ValueError as exc:
        notes.append(f"redis {_shown_url(url)}: not a Redis URL ({exc})")
        return
    try:
        with client:
            for key in client.scan_iter(count=1000):
                kind = _shown_key(client.type(key))
                yield key, kind, _redis_values(client, key, kind)
    except redis.RedisError as exc:
        notes.append(f"redis {_shown_url(url)}: could not be read ({exc})")


def _redis_values(client: Any, key: bytes, kind: str) -> list[tuple[str, bytes]]:
    if kind == "string":
        return [("", client.get(key))]
    if kind == "hash":
        pairs = sorted(client.hgetall(key).items())
        return [(f" field {_shown_key(f)} (the field name)", f) for f, _ in pairs] + [
            (f" field {_shown_key(f)}", v) for f, v in pairs
        ]
    if kind == "list":
        return [(f" item {i}", v) for i, v in enumerate(client.lrange(key, 0, -1))]
    if kind == "set":
        return [(" member", m) for m in sorted(client.smembers(key))]
    if kind == "zset":
        return [(" member", m) for m in client.zrange(key, 0, -1)]
    if kind == "stream":
        return [
            (f" entry {entry_id.decode()} field {_shown_key(f)}", v)
            for entry_id, entry in client.xrange(key)
            for f, v in sorted(entry.items())
        ]
    # Modules' types (JSON, ...): their serialized form still holds strings as they are.
    dumped = client.dump(key)
    return [(f" (serialized {kind})", dumped)] if dumped else []


def _shown_url(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    host = parts.hostname or ""
    netloc = f"{user}{host}:{parts.port}" if parts.port else f"{user}{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _shown_key(key: bytes | str) -> str:
    return key.decode("utf-8", "backslashreplace") if isinstance(key, bytes) else key


# Command --------------------------------------------------------------------------------------


def _scan_command(
    command: str, spec: StorageSpec, needles: Sequence[Needle], result: ScanResult, budget: _Budget
) -> None:
    stdout = StreamScanner(needles, "command output")
    stderr = StreamScanner(needles, "command stderr")
    size = _run(command, spec, budget, stdout.feed, stderr.feed)
    if size is None:
        return
    result.scanned.append(f"command {command!r}: stdout ({size} bytes) and stderr ({stderr.size} bytes)")
    result.findings += stdout.close()
    result.findings += stderr.close()


def _run(
    command: str,
    spec: StorageSpec,
    budget: _Budget,
    on_stdout: Callable[[bytes], object],
    on_stderr: Callable[[bytes], object],
) -> int | None:
    """Run the partner's dump command in `root`, handing its output over as it comes; the
    number of stdout bytes read, or None when it did not run. Its failure is a note, and its
    output is still read; at the timeout or the budget's end it is stopped, with its children."""
    if budget.bytes_left == 0:
        budget.unscanned.append(f"command {command!r}: not run (max_bytes = {budget.max_bytes} reached)")
        return None
    try:
        # The partner's own command line, from its description file: a shell is what it expects.
        process = subprocess.Popen(  # noqa: S602
            command,
            shell=True,
            cwd=spec.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so stopping it ends its children too
        )
    except OSError as exc:
        budget.notes.append(f"command {command!r}: could not be started ({exc})")
        return None
    assert process.stdout is not None and process.stderr is not None
    pipes = _Pipes(process, budget, on_stdout, on_stderr)
    with process.stdout, process.stderr, closing(pipes):
        stopped = pipes.pump(time.monotonic() + spec.command_timeout)
        if stopped is None:
            stopped = _wait(process, time.monotonic() + spec.command_timeout)
        if stopped is not None:
            _stop(process)
        if stopped == "timeout":
            pipes.pump(time.monotonic() + DRAIN_S)  # what it wrote before the end is still read
            _stop(process)
    if stopped == "timeout":
        budget.unscanned.append(
            f"command {command!r}: timed out after {spec.command_timeout:g} s; its partial output was read"
        )
    elif stopped == "budget":
        budget.unscanned.append(
            f"command {command!r}: stopped after {pipes.stdout_size} bytes of output "
            f"(max_bytes = {budget.max_bytes} reached); the rest was not read"
        )
    elif process.returncode != 0:
        tail = pipes.stderr_tail.decode("utf-8", "replace").strip()[-NOTE_TAIL_CHARS:]
        budget.notes.append(
            f"command {command!r}: exited with status {process.returncode}" + (f": {tail}" if tail else "")
        )
    return pipes.stdout_size


class _Pipes:
    """The command's stdout and stderr, read together as they fill (so neither blocks it) and
    passed on; only the end of stderr is kept, for a note."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        budget: _Budget,
        on_stdout: Callable[[bytes], object],
        on_stderr: Callable[[bytes], object],
    ) -> None:
        assert process.stdout is not None and process.stderr is not None
        self.budget = budget
        self.stdout_size = 0
        self.stderr_tail = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(process.stdout.fileno(), selectors.EVENT_READ, on_stdout)
        self.selector.register(process.stderr.fileno(), selectors.EVENT_READ, self._stderr(on_stderr))
        self.stdout_fd = process.stdout.fileno()

    def _stderr(self, on_stderr: Callable[[bytes], object]) -> Callable[[bytes], object]:
        def keep(data: bytes) -> None:
            self.stderr_tail = (self.stderr_tail + data)[-NOTE_TAIL_CHARS * 4 :]
            on_stderr(data)

        return keep

    def close(self) -> None:
        self.selector.close()

    def pump(self, deadline: float) -> str | None:
        """Read until both pipes are closed; "timeout" or "budget" when that ended it first."""
        while self.selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            for key, _ in self.selector.select(left):
                data = os.read(key.fd, READ_BYTES)
                if not data:
                    self.selector.unregister(key.fd)
                    continue
                allowed = data[: self.budget.bytes_left]
                self.budget.bytes += len(allowed)
                if key.fd == self.stdout_fd:
                    self.stdout_size += len(allowed)
                key.data(allowed)
                if len(allowed) < len(data):
                    return "budget"
        return None


def _wait(process: subprocess.Popen[bytes], deadline: float) -> str | None:
    """Wait for a command that closed its output but may still be running."""
    try:
        process.wait(timeout=max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        return "timeout"
    return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()

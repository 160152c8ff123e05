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

import glob
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.leaks import Finding, Needle, scan_bytes

COMMAND_TIMEOUT_S = 30.0
MAX_FILE_BYTES = 256 * 1024 * 1024  # more than any partner's storage; guards against /dev/zero-like files
SQLITE_SIBLINGS = ("-wal", "-journal")  # where SQLite keeps pages not yet in the main file
REDIS_TIMEOUT_S = 5.0
SQLITE_BUSY_S = 1.0  # how long to wait for a writer's lock before reading a copy instead
NOTE_TAIL_CHARS = 300


@dataclass(frozen=True)
class StorageSpec:
    """Where a partner keeps state at rest; every path is relative to `root` unless absolute."""

    files: tuple[str, ...] = ()  # globs (`**` allowed); a directory means everything under it
    sqlite: tuple[str, ...] = ()  # SQLite database paths or globs
    redis: tuple[str, ...] = ()  # redis:// (or rediss://, unix://) URLs
    command: str | None = None  # a shell command whose stdout is a dump of the storage
    root: Path = Path(".")
    command_timeout: float = COMMAND_TIMEOUT_S

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


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)  # what was looked at, for the report
    notes: list[str] = field(default_factory=list)  # what could not be looked at, and why


def snapshot(spec: StorageSpec) -> Snapshot:
    items: dict[str, Fingerprint] = {}
    notes: list[str] = []
    for path in _declared_files(spec, notes):
        shown = _shown(path, spec.root)
        data = _read(path, shown, notes)
        if data is not None:
            items[f"file {shown}"] = Fingerprint(_digest(data), f"{len(data)} bytes")
    for path in _declared_sqlite(spec, notes):
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
        output = _run(spec.command, spec, notes)
        if output is not None:
            items["command output"] = Fingerprint(_digest(output.stdout), f"{len(output.stdout)} bytes")
    return Snapshot(items, tuple(notes))


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
    files = _declared_files(spec, result.notes)
    sqlite_paths = _declared_sqlite(spec, result.notes)
    # A database's own file, WAL and rollback journal are read raw too: deleted or superseded
    # rows stay in free pages and in the WAL until they are overwritten.
    for path in sqlite_paths:
        files += [p for p in (path, *(path.with_name(path.name + s) for s in SQLITE_SIBLINGS)) if p.is_file()]
    for path in extra_files:
        if path.is_file():
            files.append(path)
        else:
            result.notes.append(f"file {_shown(path, spec.root)}: declared but not found")
    seen: set[Path] = set()
    for path in files:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        where = f"file {_shown(path, spec.root)}"
        data = _read(path, where, result.notes)
        if data is not None:
            result.scanned.append(f"{where} ({len(data)} bytes)")
            result.findings += scan_bytes(data, needles, where)
    for path in sqlite_paths:
        _scan_sqlite(path, spec.root, needles, result)
    for url in spec.redis:
        _scan_redis(url, needles, result)
    if spec.command:
        _scan_command(spec.command, spec, needles, result)
    return result


# Files ----------------------------------------------------------------------------------------


def _declared_files(spec: StorageSpec, notes: list[str]) -> list[Path]:
    found: list[Path] = []
    for pattern in spec.files:
        matches = _glob(pattern, spec.root)
        if not matches:
            notes.append(f"files {pattern!r}: declared but not found under {spec.root}")
        for match in matches:
            if match.is_dir():
                found += sorted(p for p in _walk(match) if p.is_file())
            elif match.is_file():
                found.append(match)
    return found


def _declared_sqlite(spec: StorageSpec, notes: list[str]) -> list[Path]:
    found: list[Path] = []
    for pattern in spec.sqlite:
        matches = [m for m in _glob(pattern, spec.root) if m.is_file()]
        if not matches:
            notes.append(f"sqlite {pattern!r}: declared but not found under {spec.root}")
        found += matches
    return found


def _glob(pattern: str, root: Path) -> list[Path]:
    base = Path(pattern) if Path(pattern).is_absolute() else root / pattern
    # `glob` answers "dir/" for "dir/**" even when dir does not exist: keep what does.
    matches = glob.glob(str(base), recursive=True, include_hidden=True)
    return sorted(Path(p) for p in matches if os.path.lexists(p))


def _walk(directory: Path) -> Iterator[Path]:
    for parent, _, names in os.walk(directory):  # symlinked directories are not followed
        for name in sorted(names):
            yield Path(parent) / name


def _read(path: Path, shown: str, notes: list[str]) -> bytes | None:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        notes.append(f"{shown}: could not be read ({exc.strerror or exc})")
        return None
    if len(data) > MAX_FILE_BYTES:
        notes.append(f"{shown}: larger than {MAX_FILE_BYTES} bytes; only the start was read")
        return data[:MAX_FILE_BYTES]
    return data


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


@dataclass(frozen=True)
class _Output:
    stdout: bytes
    stderr: bytes


def _scan_command(command: str, spec: StorageSpec, needles: Sequence[Needle], result: ScanResult) -> None:
    output = _run(command, spec, result.notes)
    if output is None:
        return
    result.scanned.append(f"command {command!r}: stdout ({len(output.stdout)} bytes) and stderr")
    result.findings += scan_bytes(output.stdout, needles, "command output")
    result.findings += scan_bytes(output.stderr, needles, "command stderr")


def _run(command: str, spec: StorageSpec, notes: list[str]) -> _Output | None:
    """Run the partner's dump command in `root`; its failure is a note, its output still read."""
    try:
        # The partner's own command line, from its description file: a shell is what it expects.
        process = subprocess.Popen(  # noqa: S602
            command,
            shell=True,
            cwd=spec.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout ends its children too
        )
    except OSError as exc:
        notes.append(f"command {command!r}: could not be started ({exc})")
        return None
    try:
        stdout, stderr = process.communicate(timeout=spec.command_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        notes.append(
            f"command {command!r}: timed out after {spec.command_timeout:g} s; its partial output was read"
        )
        return _Output(stdout, stderr)
    if process.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip()[-NOTE_TAIL_CHARS:]
        notes.append(
            f"command {command!r}: exited with status {process.returncode}" + (f": {tail}" if tail else "")
        )
    return _Output(stdout, stderr)

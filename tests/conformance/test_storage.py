"""Scanning a partner's storage at rest: files, SQLite, Redis and a dump command."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conformance.storage.leaks import Finding, Secret, needles_for
from conformance.storage.scan import ScanResult, StorageSpec, changed, scan, snapshot
from tests.helpers import issued

if TYPE_CHECKING:
    import redis  # the test extra installs it; the tests that need it skip without it

ACCESS = issued.secret("access_token")
REFRESH = issued.secret("refresh_token")
NEEDLES = needles_for(issued.secrets())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "var").mkdir()
    return tmp_path


def found(result: ScanResult) -> list[tuple[str, str, str]]:
    return [(f.secret_label, f.encoding, f.location) for f in result.findings]


def in_columns(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.location.startswith("sqlite ")]


def sealed(value: str) -> bytes:
    """What a partner that follows the rule stores: AES-GCM with a key kept elsewhere."""
    nonce = os.urandom(12)
    return nonce + AESGCM(AESGCM.generate_key(bit_length=256)).encrypt(nonce, value.encode(), b"tokens")


def make_db(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        for sql, params in statements:
            db.execute(sql, params)


# Files ----------------------------------------------------------------------------------------


def test_a_token_in_the_middle_of_a_log_line_is_found_with_its_line(root: Path) -> None:
    log = root / "var" / "app.log"
    text = f"boot\n2026-01-01 12:00:00 INFO exchanged code, access_token={ACCESS.value} user=alice\n"
    log.write_text(text)
    result = scan(StorageSpec(files=("var/*.log",), root=root), NEEDLES)
    offset = text.index(ACCESS.value)
    assert found(result) == [("access_token", "raw", f"file var/app.log at byte {offset} (line 2)")]
    assert result.scanned == [f"file var/app.log ({log.stat().st_size} bytes)"]
    assert result.notes == []


def test_a_token_base64_encoded_in_a_file_is_found(root: Path) -> None:
    (root / "var" / "token.txt").write_bytes(base64.b64encode(REFRESH.value.encode()))
    result = scan(StorageSpec(files=("var/token.txt",), root=root), NEEDLES)
    assert found(result) == [("refresh_token", "base64", "file var/token.txt at byte 0 (line 1)")]


def test_a_declared_directory_is_searched_all_the_way_down(root: Path) -> None:
    deep = root / "var" / "cache" / "users" / "alice"
    deep.mkdir(parents=True)
    (deep / ".session.json").write_text(json.dumps({"rt": REFRESH.value}))
    (root / "var" / "unrelated.txt").write_text("nothing here")
    result = scan(StorageSpec(files=("var",), root=root), NEEDLES)
    assert found(result) == [
        ("refresh_token", "raw", "file var/cache/users/alice/.session.json at byte 8 (line 1)")
    ]
    assert len(result.scanned) == 2


def test_a_recursive_glob_selects_only_what_it_matches(root: Path) -> None:
    (root / "var" / "logs").mkdir()
    (root / "var" / "logs" / "app.log").write_text(ACCESS.value)
    (root / "var" / "state.json").write_text(ACCESS.value)
    result = scan(StorageSpec(files=("var/**/*.log",), root=root), NEEDLES)
    assert [f.location for f in result.findings] == ["file var/logs/app.log at byte 0 (line 1)"]


def test_a_declared_path_that_does_not_exist_is_a_note_not_an_error(root: Path) -> None:
    spec = StorageSpec(files=("var/missing.log", "nowhere/**"), sqlite=("var/none.db",), root=root)
    result = scan(spec, NEEDLES, extra_files=[root / "partner.log"])
    assert result.findings == [] and result.scanned == []
    assert result.notes == [
        f"files 'var/missing.log': declared but not found under {root}",
        f"files 'nowhere/**': declared but not found under {root}",
        f"sqlite 'var/none.db': declared but not found under {root}",
        "file partner.log: declared but not found",
    ]


def test_the_partners_own_logs_are_searched_too(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("captured") / "partner.stdout"
    text = f"DEBUG token response: {json.dumps({'access_token': ACCESS.value})}\n"
    outside.write_text(text)
    result = scan(StorageSpec(root=root), NEEDLES, extra_files=[outside])
    offset = text.index(ACCESS.value)
    assert found(result) == [("access_token", "raw", f"file {outside} at byte {offset} (line 1)")]


# SQLite ---------------------------------------------------------------------------------------


def test_a_plaintext_token_column_is_found_by_table_row_and_column(root: Path) -> None:
    db = root / "var" / "tokens.db"
    make_db(
        db,
        ("CREATE TABLE tokens (id INTEGER PRIMARY KEY, user TEXT, access_token TEXT, expires INTEGER)", ()),
        ("INSERT INTO tokens VALUES (7, 'bob', 'not-a-token', 1)", ()),
        ("INSERT INTO tokens VALUES (8, 'alice', ?, 2)", (ACCESS.value,)),
    )
    result = scan(StorageSpec(sqlite=("var/tokens.db",), root=root), NEEDLES)
    assert [(f.encoding, f.location) for f in in_columns(result)] == [
        ("raw", "sqlite var/tokens.db table tokens row 8 column access_token")
    ]
    # The database file is read raw as well: a plaintext token sits in its pages.
    assert any(f.location.startswith("file var/tokens.db at byte") for f in result.findings)
    assert "sqlite var/tokens.db (1 tables, 2 rows, every text and blob column)" in result.scanned


def test_base64_json_and_blob_columns_are_found(root: Path) -> None:
    db = root / "var" / "app.sqlite3"
    make_db(
        db,
        ("CREATE TABLE sessions (sid TEXT, data TEXT, rt_b64 TEXT, raw BLOB)", ()),
        (
            "INSERT INTO sessions VALUES (?, ?, ?, ?)",
            (
                "s1",
                json.dumps({"user": "alice", "tokens": {"access_token": ACCESS.value}}),
                base64.b64encode(REFRESH.value.encode()).decode(),
                b"\x00\x01" + REFRESH.value.encode() + b"\xff",
            ),
        ),
    )
    result = scan(StorageSpec(sqlite=("var/*.sqlite3",), root=root), NEEDLES)
    assert sorted((f.secret_label, f.encoding, f.location) for f in in_columns(result)) == [
        ("access_token", "raw", "sqlite var/app.sqlite3 table sessions row 1 column data"),
        ("refresh_token", "base64", "sqlite var/app.sqlite3 table sessions row 1 column rt_b64"),
        ("refresh_token", "raw", "sqlite var/app.sqlite3 table sessions row 1 column raw"),
    ]


def test_aes_gcm_encrypted_tokens_are_not_found_anywhere(root: Path) -> None:
    make_db(
        root / "var" / "tokens.db",
        ("CREATE TABLE tokens (user TEXT, access BLOB, refresh TEXT)", ()),
        (
            "INSERT INTO tokens VALUES ('alice', ?, ?)",
            (sealed(ACCESS.value), base64.b64encode(sealed(REFRESH.value)).decode()),
        ),
    )
    result = scan(StorageSpec(files=("var/**",), sqlite=("var/tokens.db",), root=root), NEEDLES)
    assert result.findings == []
    assert result.notes == []


def test_a_without_rowid_table_numbers_its_rows(root: Path) -> None:
    make_db(
        root / "var" / "kv.db",
        ("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID", ()),
        ("INSERT INTO kv VALUES ('a', 'x'), ('b', ?)", (ACCESS.value,)),
    )
    result = scan(StorageSpec(sqlite=("var/kv.db",), root=root), NEEDLES)
    assert [f.location for f in in_columns(result)] == ["sqlite var/kv.db table kv row 2 column v"]


def test_a_token_still_in_the_write_ahead_log_is_found(root: Path) -> None:
    db = root / "var" / "wal.db"
    with closing(sqlite3.connect(db)) as writer:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE t (v TEXT)")
        writer.execute("INSERT INTO t VALUES (?)", (ACCESS.value,))
        writer.commit()
        result = scan(StorageSpec(sqlite=("var/wal.db",), root=root), NEEDLES)
    locations = [f.location for f in result.findings]
    assert "sqlite var/wal.db table t row 1 column v" in locations
    assert any(loc.startswith("file var/wal.db-wal at byte") for loc in locations)
    assert not any(loc.startswith("file var/wal.db at byte") for loc in locations)  # not checkpointed yet


def test_a_deleted_token_left_in_free_pages_is_found_in_the_file_only(root: Path) -> None:
    db = root / "var" / "tokens.db"
    make_db(
        db,
        ("PRAGMA secure_delete = OFF", ()),  # SQLite's compile-time default; Debian turns it on
        ("CREATE TABLE tokens (v TEXT)", ()),
        ("INSERT INTO tokens VALUES (?)", (ACCESS.value,)),
        ("DELETE FROM tokens", ()),
    )
    result = scan(StorageSpec(sqlite=("var/tokens.db",), root=root), NEEDLES)
    assert in_columns(result) == []
    assert [f.location.split(" at ")[0] for f in result.findings] == ["file var/tokens.db"]


def test_scanning_a_database_does_not_change_it(root: Path) -> None:
    db = root / "var" / "tokens.db"
    make_db(db, ("CREATE TABLE t (v TEXT)", ()), ("INSERT INTO t VALUES (?)", (ACCESS.value,)))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    scan(StorageSpec(sqlite=("var/tokens.db",), root=root), NEEDLES)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["tokens.db"]


def test_a_locked_database_is_read_from_a_copy(root: Path) -> None:
    db = root / "var" / "tokens.db"
    make_db(db, ("CREATE TABLE t (v TEXT)", ()), ("INSERT INTO t VALUES (?)", (ACCESS.value,)))
    with closing(sqlite3.connect(db, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        result = scan(StorageSpec(sqlite=("var/tokens.db",), root=root), NEEDLES)
        holder.execute("ROLLBACK")
    assert [f.location for f in in_columns(result)] == ["sqlite var/tokens.db table t row 1 column v"]


def test_a_file_that_is_not_a_database_is_a_note_and_still_read_raw(root: Path) -> None:
    (root / "var" / "tokens.db").write_text(f"not sqlite at all: {ACCESS.value}")
    result = scan(StorageSpec(sqlite=("var/tokens.db",), root=root), NEEDLES)
    assert [f.location for f in result.findings] == ["file var/tokens.db at byte 19 (line 1)"]
    assert result.notes == ["sqlite var/tokens.db: could not be read (file is not a database)"]


# Command --------------------------------------------------------------------------------------


def test_the_dump_commands_output_is_searched(root: Path) -> None:
    spec = StorageSpec(command=f"echo user=alice; echo 'rt={REFRESH.value}'", root=root)
    result = scan(spec, NEEDLES)
    assert found(result) == [("refresh_token", "raw", "command output at byte 14 (line 2)")]


def test_the_dump_command_runs_in_the_root(root: Path) -> None:
    (root / "var" / "dump.txt").write_text(ACCESS.value)
    result = scan(StorageSpec(command="cat var/dump.txt", root=root), NEEDLES)
    assert [f.location for f in result.findings] == ["command output at byte 0 (line 1)"]


def test_a_failing_command_is_a_note_and_its_output_still_searched(root: Path) -> None:
    spec = StorageSpec(
        command=f"echo {ACCESS.value}; echo 'redis: connection refused' >&2; exit 3", root=root
    )
    result = scan(spec, NEEDLES)
    assert [f.location for f in result.findings] == ["command output at byte 0 (line 1)"]
    assert result.notes == [f"command {spec.command!r}: exited with status 3: redis: connection refused"]


def test_a_command_that_cannot_run_is_a_note(root: Path) -> None:
    result = scan(StorageSpec(command="no-such-dump-tool --all", root=root), NEEDLES)
    assert result.findings == []
    assert result.notes[0].startswith("command 'no-such-dump-tool --all': exited with status 127")


def test_a_command_that_hangs_is_ended_with_its_children_after_the_timeout(root: Path) -> None:
    spec = StorageSpec(command=f"echo {ACCESS.value}; sleep 600 & sleep 600", root=root, command_timeout=0.5)
    result = scan(spec, NEEDLES)
    assert result.unscanned == [
        f"command {spec.command!r}: timed out after 0.5 s; its partial output was read"
    ]
    assert result.notes == []
    assert [f.location for f in result.findings] == ["command output at byte 0 (line 1)"]


# Redis ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (scripts/install-system-deps installs it)")
    redis = pytest.importorskip("redis", reason="the redis package is in the test extra")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path_factory.mktemp("redis"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}")
            try:
                with redis.Redis.from_url(url) as client:
                    client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    import redis

    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
        yield client


def test_every_redis_type_is_searched_and_named_by_key_and_field(
    redis_url: str, redis_client: redis.Redis
) -> None:
    redis_client.set("sess:ab12", json.dumps({"user": "alice", "access_token": ACCESS.value}))
    redis_client.hset("user:alice", mapping={"name": "Alice", "rt": base64.b64encode(REFRESH.value.encode())})
    redis_client.rpush("queue", "job-1", ACCESS.value)
    redis_client.sadd("issued", REFRESH.value)
    redis_client.zadd("recent", {ACCESS.value: 1.0})
    stream_id = redis_client.xadd("events", {"kind": "login", "token": REFRESH.value}).decode()
    redis_client.set(f"by-token:{ACCESS.value}", "alice")
    redis_client.set("unrelated", "nothing to see")
    result = scan(StorageSpec(redis=(redis_url,)), NEEDLES)
    at = f"redis {redis_url} key"
    assert sorted((f.secret_label, f.encoding, f.location) for f in result.findings) == sorted(
        [
            ("access_token", "raw", f"{at} sess:ab12"),
            ("refresh_token", "base64", f"{at} user:alice field rt"),
            ("access_token", "raw", f"{at} queue item 1"),
            ("refresh_token", "raw", f"{at} issued member"),
            ("access_token", "raw", f"{at} recent member"),
            ("refresh_token", "raw", f"{at} events entry {stream_id} field token"),
            ("access_token", "raw", f"{at} by-token:{ACCESS.value} (the key name)"),
        ]
    )
    assert result.scanned == [f"redis {redis_url} (8 keys)"]
    assert result.notes == []


def test_a_redis_that_does_not_answer_is_a_note(root: Path) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    result = scan(StorageSpec(redis=(url,), root=root), NEEDLES)
    assert result.findings == []
    assert len(result.notes) == 1
    assert result.notes[0].startswith(f"redis redis://:***@127.0.0.1:{url.split(':')[-1]}: could not be read")
    assert "hunter2" not in result.notes[0]


def test_without_the_redis_package_redis_is_skipped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # makes `import redis` raise ImportError
    result = scan(StorageSpec(redis=("redis://127.0.0.1:6379/0",)), NEEDLES)
    assert result.notes == [
        "redis redis://127.0.0.1:6379/0: not scanned, the `redis` package is not installed "
        "(pip install 'mock-ims[conformance]')"
    ]


# Snapshots ------------------------------------------------------------------------------------


def test_changed_names_what_login_wrote(root: Path, redis_url: str, redis_client: redis.Redis) -> None:
    db = root / "var" / "tokens.db"
    make_db(db, ("CREATE TABLE tokens (v TEXT)", ()))
    (root / "var" / "keep.txt").write_text("same")
    spec = StorageSpec(
        files=("var/*.log", "var/keep.txt"),
        sqlite=("var/tokens.db",),
        redis=(redis_url,),
        command="ls var",
        root=root,
    )
    before = snapshot(spec)
    assert before.notes == (f"files 'var/*.log': declared but not found under {root}",)
    # What a partner's login does:
    (root / "var" / "app.log").write_text("logged in\n")
    make_db(db, ("INSERT INTO tokens VALUES ('sealed')", ()))
    redis_client.set("sess:1", "x")
    after = snapshot(spec)
    assert changed(before, after) == [
        "command output: changed (19 bytes → 27 bytes)",
        "file var/app.log: new (10 bytes)",
        "redis " + redis_url + " key sess:1: new (string, 1 values)",
        "sqlite var/tokens.db table tokens: changed (0 rows → 1 rows)",
    ]


def test_nothing_changed_is_an_empty_list(root: Path) -> None:
    (root / "var" / "a").write_text("a")
    make_db(root / "var" / "b.db", ("CREATE TABLE t (v)", ()), ("INSERT INTO t VALUES (1)", ()))
    spec = StorageSpec(files=("var",), sqlite=("var/b.db",), root=root)
    assert changed(snapshot(spec), snapshot(spec)) == []


def test_a_changed_file_of_the_same_size_and_a_removed_one_are_reported(root: Path) -> None:
    (root / "var" / "a").write_text("aaaa")
    (root / "var" / "b").write_text("b")
    spec = StorageSpec(files=("var",), root=root)
    before = snapshot(spec)
    (root / "var" / "a").write_text("zzzz")
    (root / "var" / "b").unlink()
    assert changed(before, snapshot(spec)) == ["file var/a: changed (4 bytes)", "file var/b: removed"]


def test_a_storage_spec_knows_whether_anything_was_declared() -> None:
    assert not StorageSpec().declared
    assert StorageSpec(command="true").declared


def test_an_opaque_token_that_is_not_a_jwt_is_found_too(root: Path) -> None:
    (root / "var" / "x").write_text("opaque-refresh-0123456789")
    result = scan(
        StorageSpec(files=("var/x",), root=root), needles_for([Secret("rt 1", "opaque-refresh-0123456789")])
    )
    assert found(result) == [("rt 1", "raw", "file var/x at byte 0 (line 1)")]

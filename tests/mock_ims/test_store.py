"""The store contract, held by every store: `MemoryStore`, `SQLiteStore` and `RedisStore`.

The Redis cases run against a private redis-server (see tests/helpers/redis_server.py) and skip,
saying why, when it is not installed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from mock_ims.store import MemoryStore, SQLiteStore, Store, StoreError, open_store

pytestmark = pytest.mark.anyio


def fresh_prefix(redis_url: str) -> str:
    """The shared test Redis, under a key prefix no other test uses."""
    return f"{redis_url}?prefix=test-{uuid.uuid4().hex}:"


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "sqlite":
        opened = SQLiteStore(tmp_path / "state.db")
    else:
        opened = open_store(fresh_prefix(request.getfixturevalue("redis_url")))
    yield opened
    await opened.close()


async def test_put_get_and_delete(store: Store) -> None:
    assert await store.get("tokens", "a") is None
    await store.put("tokens", "a", {"n": 1, "nested": {"list": [1, "x"]}})
    assert await store.get("tokens", "a") == {"n": 1, "nested": {"list": [1, "x"]}}
    await store.put("tokens", "a", {"n": 2})
    assert await store.get("tokens", "a") == {"n": 2}
    assert await store.delete("tokens", "a")
    assert not await store.delete("tokens", "a")
    assert await store.get("tokens", "a") is None


async def test_documents_round_trip_exactly(store: Store) -> None:
    doc = {
        "empty_list": [],
        "empty_object": {},
        "big": 2**62,
        "negative": -5,
        "real": 0.1,
        "null": None,
        "flag": False,
        "text": 'é ✓ "quoted"\nline',
        "nested": [{"a": []}, [1, [2]]],
        'a "quoted", key:with:colons': 1,
        "ключ ✓": 2,
        "": 3,
    }
    await store.put("tokens", "t", doc)
    assert await store.get("tokens", "t") == doc
    claimed = await store.claim("tokens", "t", "used_ms", 1)
    assert claimed == {**doc, "used_ms": 1}
    assert await store.items("tokens") == [{**doc, "used_ms": 1}]


async def test_a_returned_document_is_a_copy(store: Store) -> None:
    await store.put("users", "u", {"tags": ["a"]})
    doc = await store.get("users", "u")
    assert doc is not None
    doc["tags"].append("b")
    assert await store.get("users", "u") == {"tags": ["a"]}


async def test_put_many_writes_every_document_with_its_expiry(store: Store) -> None:
    await store.put("tokens", "b", {"old": True})
    await store.put_many("tokens", [("a", {"n": 1}, 1000), ("b", {"n": 2}, None), ("c", {"n": 3}, 5000)])
    assert [await store.get("tokens", key) for key in "abc"] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert await store.purge(2000) == 1
    assert await store.get("tokens", "a") is None
    assert await store.get("tokens", "b") == {"n": 2}


async def test_insert_only_creates(store: Store) -> None:
    assert await store.insert("clients", "c", {"v": 1})
    assert not await store.insert("clients", "c", {"v": 2})
    assert await store.get("clients", "c") == {"v": 1}


async def test_kinds_are_separate_and_items_keep_insertion_order(store: Store) -> None:
    for key in ("b", "a", "c"):
        await store.put("sessions", key, {"key": key})
    await store.put("requests", "a", {"other": True})
    assert [d["key"] for d in await store.items("sessions")] == ["b", "a", "c"]
    await store.clear("sessions")
    assert await store.items("sessions") == []
    assert await store.get("requests", "a") == {"other": True}


async def test_claim_is_single_use(store: Store) -> None:
    await store.put("tokens", "code", {"used_ms": None, "id": "code"})
    first = await store.claim("tokens", "code", "used_ms", 1000, also={"by": "first"})
    assert first == {"used_ms": 1000, "id": "code", "by": "first"}
    assert await store.claim("tokens", "code", "used_ms", 2000) is None
    assert await store.get("tokens", "code") == {"used_ms": 1000, "id": "code", "by": "first"}


async def test_claim_of_a_missing_document_or_field(store: Store) -> None:
    assert await store.claim("tokens", "absent", "used_ms", 1) is None
    await store.put("tokens", "t", {})
    assert await store.claim("tokens", "t", "revoked_ms", 5) == {"revoked_ms": 5}


async def test_decrement_stops_at_zero(store: Store) -> None:
    await store.put("faults", "f", {"remaining": 2, "name": "x"})
    assert await store.decrement("faults", "f", "remaining") == 1
    assert await store.decrement("faults", "f", "remaining") == 0
    assert await store.decrement("faults", "f", "remaining") is None
    assert await store.get("faults", "f") == {"remaining": 0, "name": "x"}


async def test_decrement_refuses_what_is_not_a_positive_integer(store: Store) -> None:
    await store.put("faults", "f", {"text": "3", "flag": True, "real": 1.5})
    for field in ("text", "flag", "real", "absent"):
        assert await store.decrement("faults", "f", field) is None, field
    assert await store.decrement("faults", "absent", "n") is None


async def test_swap_creates_only_what_is_absent(store: Store) -> None:
    assert await store.swap("leases", "l", None, {"id": "a"})
    assert not await store.swap("leases", "l", None, {"id": "b"})
    assert await store.get("leases", "l") == {"id": "a"}


async def test_swap_replaces_or_removes_only_the_document_expected(store: Store) -> None:
    await store.put("leases", "l", {"id": "a", "deadline_ms": 5, "nested": {"x": [1, "é"]}})
    current = await store.get("leases", "l")
    assert not await store.swap("leases", "l", {"id": "a", "deadline_ms": 6, "nested": {"x": [1, "é"]}}, {})
    assert not await store.swap("leases", "l", {"id": "a", "deadline_ms": 5}, {})  # a field missing
    assert not await store.swap("leases", "l", None, {})
    assert await store.swap("leases", "l", current, {"id": "b", "deadline_ms": 9})
    assert await store.get("leases", "l") == {"id": "b", "deadline_ms": 9}
    assert not await store.swap("leases", "l", current, None)  # no longer what it was
    assert await store.swap("leases", "l", {"id": "b", "deadline_ms": 9}, None)
    assert await store.get("leases", "l") is None
    assert await store.items("leases") == []
    assert not await store.swap("leases", "l", {"id": "b", "deadline_ms": 9}, None)
    assert await store.swap("leases", "l", None, None)  # nothing expected, nothing left


async def test_swap_tells_true_from_one(store: Store) -> None:
    await store.put("leases", "l", {"flag": True})
    assert not await store.swap("leases", "l", {"flag": 1}, None)
    assert await store.swap("leases", "l", {"flag": True}, None)


async def test_a_swapped_document_no_longer_expires(store: Store) -> None:
    await store.put("leases", "l", {"v": 1}, expires_ms=1000)
    assert await store.swap("leases", "l", {"v": 1}, {"v": 2})
    assert await store.purge(2000) == 0
    assert await store.get("leases", "l") == {"v": 2}


async def test_the_journal_appends_in_order_and_reads_after_a_sequence(store: Store) -> None:
    seqs = [await store.append_journal({"n": n}, limit=100) for n in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    entries = await store.journal()
    assert [e["n"] for e in entries] == [0, 1, 2, 3, 4]
    assert [e["seq"] for e in entries] == seqs
    assert [e["n"] for e in await store.journal(after=seqs[2])] == [3, 4]
    assert [e["n"] for e in await store.journal(limit=2)] == [0, 1]
    await store.clear_journal()
    assert await store.journal() == []


async def test_the_journal_keeps_at_most_its_limit_of_newest_entries(store: Store) -> None:
    for n in range(300):
        await store.append_journal({"n": n}, limit=10)
        assert len(await store.journal()) == min(n + 1, 10)
    assert [e["n"] for e in await store.journal()] == list(range(290, 300))


async def test_purge_drops_expired_documents_only(store: Store) -> None:
    await store.put("tokens", "old", {"v": 1}, expires_ms=1000)
    await store.put("tokens", "new", {"v": 2}, expires_ms=3000)
    await store.put("tokens", "forever", {"v": 3})
    assert await store.purge(2000) == 1
    assert await store.get("tokens", "old") is None
    assert await store.get("tokens", "new") == {"v": 2}
    await store.put("tokens", "new", {"v": 2})  # put without expiry: kept for good
    assert await store.purge(10_000) == 0
    assert {d["v"] for d in await store.items("tokens")} == {2, 3}


async def test_the_revision_changes_with_every_change_to_a_watched_kind(store: Store) -> None:
    seen = [await store.revision()]

    async def changed() -> None:
        revision = await store.revision()
        assert revision not in seen, "the revision did not change (or went back to an old value)"
        seen.append(revision)

    await store.put("clients", "c", {"v": 1})
    await changed()
    await store.insert("users", "u", {"v": 1})
    await changed()
    await store.put("faults", "f", {"times": 2, "used": None})
    await changed()
    await store.decrement("faults", "f", "times")
    await changed()
    await store.claim("faults", "f", "used", 1)
    await changed()
    await store.delete("faults", "f")
    await changed()
    await store.put("meta", "clock", {"offset_ms": 5}, expires_ms=10)
    await changed()
    await store.purge(20)
    await changed()
    await store.clear("users")
    await changed()
    await store.swap("meta", "lease", None, {"id": "a"})
    await changed()
    await store.swap("meta", "lease", {"id": "a"}, None)
    await changed()


async def test_the_revision_ignores_tokens_sessions_and_the_journal(store: Store) -> None:
    before = await store.revision()
    await store.put("tokens", "t", {"used_ms": None})
    await store.claim("tokens", "t", "used_ms", 1)
    await store.put("sessions", "s", {})
    await store.insert("requests", "r", {})
    await store.append_journal({"n": 1}, limit=10)
    await store.delete("tokens", "t")
    await store.swap("leases", "l", None, {"id": "a"})
    await store.swap("leases", "l", {"id": "a"}, {"id": "b"})
    assert await store.revision() == before


async def test_a_failed_write_leaves_the_revision_alone(store: Store) -> None:
    await store.put("clients", "c", {"v": 1})
    before = await store.revision()
    assert not await store.insert("clients", "c", {"v": 2})
    assert not await store.delete("clients", "absent")
    assert await store.claim("clients", "absent", "x", 1) is None
    assert await store.decrement("clients", "c", "v") == 0
    changed = await store.revision()
    assert changed != before
    assert await store.decrement("clients", "c", "v") is None
    assert not await store.swap("clients", "c", {"v": 5}, None)
    assert not await store.swap("clients", "c", None, {"v": 5})
    assert await store.swap("clients", "absent", None, None)
    assert await store.revision() == changed


async def test_sqlite_revision_is_shared_by_every_connection(tmp_path: Path) -> None:
    one, other = SQLiteStore(tmp_path / "state.db"), SQLiteStore(tmp_path / "state.db")
    before = await other.revision()
    await one.put("clients", "c", {"v": 1})
    assert await other.revision() != before
    await one.close()
    await other.close()


async def test_sqlite_state_survives_reopening(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "state.db")
    await first.put("tokens", "t", {"v": 1})
    await first.append_journal({"n": 1}, limit=10)
    await first.close()
    second = SQLiteStore(tmp_path / "state.db")
    assert await second.get("tokens", "t") == {"v": 1}
    assert [e["n"] for e in await second.journal()] == [1]
    await second.close()


def test_open_store_reads_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    sqlite = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(sqlite, SQLiteStore)
    assert sqlite.shared_across_processes


@pytest.mark.parametrize(
    ("url", "message"), [("redis2://x", "unknown store"), ("sqlite://", "expected sqlite:///PATH")]
)
def test_open_store_refuses_unknown_urls(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_an_unopenable_sqlite_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot open the SQLite store"):
        SQLiteStore(tmp_path / "file" / "state.db")


def test_sqlite_writers_in_several_threads_lose_nothing(tmp_path: Path) -> None:
    """Each thread has its own connection, as each worker process does; they take turns on
    the writers' lock and every write lands."""

    def writer(name: str) -> list[int]:
        async def write() -> list[int]:
            store = SQLiteStore(tmp_path / "state.db")
            seqs = []
            for n in range(100):
                await store.put_many(
                    "tokens", [(f"{name}-{n}-a", {"n": n}, None), (f"{name}-{n}-b", {"n": n}, None)]
                )
                seqs.append(await store.append_journal({"writer": name, "n": n}, limit=10_000))
            await store.close()
            return seqs

        return asyncio.run(write())

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        seqs = [seq for result in pool.map(writer, "xyz") for seq in result]
    assert len(set(seqs)) == 300

    async def count() -> tuple[int, int]:
        store = SQLiteStore(tmp_path / "state.db")
        counted = len(await store.items("tokens")), len(await store.journal())
        await store.close()
        return counted

    assert asyncio.run(count()) == (600, 300)


def _checkpointed(path: Path, key: str) -> bool:
    """Whether the database file itself holds the document (immutable=1 ignores the WAL)."""
    db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return db.execute("SELECT 1 FROM docs WHERE key=?", (key,)).fetchone() is not None
    except sqlite3.OperationalError:  # not even the table has been copied yet
        return False
    finally:
        db.close()


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_sqlite_copies_the_wal_into_the_database_in_the_background(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    asyncio.run(store.put("tokens", "written", {"v": 1}))
    assert not _checkpointed(tmp_path / "state.db", "written")  # the commit did not copy it
    assert _within(30, lambda: _checkpointed(tmp_path / "state.db", "written"))
    asyncio.run(store.close())


def test_closing_a_sqlite_store_stops_its_checkpoint_thread(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    store = SQLiteStore(tmp_path / "state.db")
    started = [t for t in threading.enumerate() if t not in before and t.name == "mock-ims-sqlite-checkpoint"]
    assert len(started) == 1
    asyncio.run(store.close())
    started[0].join(30)
    assert not started[0].is_alive()


async def test_sqlite_writes_made_together_each_get_their_own_answer(tmp_path: Path) -> None:
    """Writes of one event-loop turn share a transaction (group commit), yet each caller gets
    its own result, a single use is claimed once, and a failing write fails alone."""
    store = SQLiteStore(tmp_path / "state.db")
    await store.put("tokens", "code", {"used_ms": None})
    claims = await asyncio.gather(*(store.claim("tokens", "code", "used_ms", n) for n in range(20)))
    assert [c for c in claims if c is not None] == [{"used_ms": 0}]
    results = await asyncio.gather(
        store.put("tokens", "before", {"v": 1}),
        store.put("tokens", None, {"v": 2}),  # type: ignore[arg-type]  # NOT NULL: refused
        store.insert("tokens", "after", {"v": 3}),
        store.append_journal({"n": 1}, limit=10),
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert results[2] is True
    assert isinstance(results[3], int)
    assert await store.get("tokens", "before") == {"v": 1}
    assert await store.get("tokens", "after") == {"v": 3}
    await store.close()


def test_sqlite_swaps_raced_from_several_threads_let_exactly_one_through(tmp_path: Path) -> None:
    """Each thread has its own connection, as each worker process does: of every round's racers
    all expecting the same document, one replaces it."""
    racers = 8
    started = threading.Barrier(racers)

    def racer(n: int) -> list[bool]:
        async def race() -> list[bool]:
            store = SQLiteStore(tmp_path / "state.db")
            won = []
            for round_ in range(20):
                started.wait()
                expected = None if round_ == 0 else {"round": round_ - 1}
                won.append(await store.swap("leases", "lease", expected, {"round": round_, "by": n}))
                started.wait()
                if won[-1]:  # the winner leaves what the next round expects
                    await store.put("leases", "lease", {"round": round_})
                started.wait()
            await store.close()
            return won

        return asyncio.run(race())

    with concurrent.futures.ThreadPoolExecutor(racers) as pool:
        results = list(pool.map(racer, range(racers)))
    assert [sum(result[round_] for result in results) for round_ in range(20)] == [1] * 20

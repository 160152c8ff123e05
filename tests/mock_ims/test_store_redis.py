"""The Redis store beyond the common contract: shared by several clients, kept apart by prefix,
atomic under races between clients, and clear about what is wrong when it cannot be used."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import pytest

from mock_ims.store import Store, StoreError, check_store, open_store
from tests.helpers.redis_server import free_port

pytestmark = pytest.mark.anyio

ROUNDS = 20
RACERS = 40


def prefixed(redis_url: str, prefix: str | None = None) -> str:
    return f"{redis_url}?prefix={prefix or f'test-{uuid.uuid4().hex}:'}"


@pytest.fixture
async def two_hosts(redis_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores with one URL and prefix: what two mocks on two hosts hold."""
    url = prefixed(redis_url)
    first, second = open_store(url), open_store(url)
    yield first, second
    await first.close()
    await second.close()


async def test_stores_with_the_same_url_and_prefix_share_every_kind_of_state(
    two_hosts: tuple[Store, Store],
) -> None:
    first, second = two_hosts
    await first.put("tokens", "code", {"used_ms": None}, expires_ms=1000)
    await first.append_journal({"n": 1}, limit=10)
    assert await second.get("tokens", "code") == {"used_ms": None}
    assert [e["n"] for e in await second.journal()] == [1]
    assert await second.claim("tokens", "code", "used_ms", 5) == {"used_ms": 5}
    assert await first.claim("tokens", "code", "used_ms", 6) is None
    assert await second.purge(2000) == 1
    assert await first.get("tokens", "code") is None


async def test_prefixes_keep_mocks_on_one_redis_apart(redis_url: str) -> None:
    import redis

    blue_prefix, green_prefix = f"blue-{uuid.uuid4().hex}:", f"green-{uuid.uuid4().hex}:"
    blue, green = open_store(prefixed(redis_url, blue_prefix)), open_store(prefixed(redis_url, green_prefix))
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        before = set(client.keys("*"))
        try:
            await blue.put("tokens", "t", {"owner": "blue"}, expires_ms=1)
            await green.put("tokens", "t", {"owner": "green"}, expires_ms=1)
            await blue.append_journal({"owner": "blue"}, limit=10)
            assert await green.journal() == []
            assert await green.purge(10) == 1
            assert await blue.get("tokens", "t") == {"owner": "blue"}
        finally:
            await blue.close()
            await green.close()
        written = set(client.keys("*")) - before
    assert written
    assert all(key.startswith((blue_prefix, green_prefix)) for key in written), written


async def test_a_code_raced_for_by_two_hosts_is_claimed_exactly_once_every_round(
    two_hosts: tuple[Store, Store],
) -> None:
    first, second = two_hosts
    for round_ in range(ROUNDS):
        key = f"code-{round_}"
        await first.put("tokens", key, {"used_ms": None})
        claims = [
            (first if n % 2 else second).claim("tokens", key, "used_ms", n, also={"by": n})
            for n in range(RACERS)
        ]
        winners = [doc for doc in await asyncio.gather(*claims) if doc is not None]
        assert len(winners) == 1, f"round {round_}: {len(winners)} claims won"
        assert await first.get("tokens", key) == winners[0]


async def test_a_fault_counter_decremented_by_two_hosts_runs_out_exactly(
    two_hosts: tuple[Store, Store],
) -> None:
    first, second = two_hosts
    await first.put("faults", "f", {"remaining": 10})
    calls = [(first if n % 2 else second).decrement("faults", "f", "remaining") for n in range(RACERS)]
    left = [n for n in await asyncio.gather(*calls) if n is not None]
    assert sorted(left) == list(range(10))
    assert await second.get("faults", "f") == {"remaining": 0}


async def test_journal_entries_from_two_hosts_get_one_increasing_sequence_and_one_cap(
    two_hosts: tuple[Store, Store],
) -> None:
    first, second = two_hosts
    appends = [(first if n % 2 else second).append_journal({"n": n}, limit=50) for n in range(200)]
    seqs = await asyncio.gather(*appends)
    assert len(set(seqs)) == 200
    entries = await first.journal()
    assert [e["seq"] for e in entries] == sorted(seqs)[-50:]
    assert all(isinstance(e["n"], int) for e in entries)


def test_a_prefix_must_be_given_once_and_not_empty(redis_url: str) -> None:
    with pytest.raises(StoreError, match="prefix must not be empty"):
        open_store(f"{redis_url}?prefix=")
    with pytest.raises(StoreError, match="prefix is given 2 times"):
        open_store(f"{redis_url}?prefix=a:&prefix=b:")


def test_the_prefix_defaults_to_mock_ims_and_rediss_is_accepted() -> None:
    pytest.importorskip("redis", reason="the redis package is in the test extra")
    from mock_ims.store.redis import RedisStore

    plain = open_store("redis://127.0.0.1:6379/2")
    tls = open_store("rediss://127.0.0.1:6380/0?prefix=staging:")
    assert isinstance(plain, RedisStore) and isinstance(tls, RedisStore)
    assert (plain.prefix, tls.prefix) == ("mock-ims:", "staging:")
    assert plain.shared_across_processes


def test_without_the_redis_package_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # makes `import redis` raise ImportError
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    monkeypatch.delitem(sys.modules, "mock_ims.store.redis", raising=False)
    with pytest.raises(StoreError, match=r"pip install 'mock-ims\[redis\]'"):
        open_store("redis://127.0.0.1:6379/0")


def test_an_unreachable_redis_is_a_store_error_without_its_password() -> None:
    pytest.importorskip("redis", reason="the redis package is in the test extra")
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    with pytest.raises(StoreError, match=re.escape("cannot use the store redis://:***@127.0.0.1")) as caught:
        check_store(url)
    assert "hunter2" not in str(caught.value)


def test_serve_refuses_to_start_on_a_redis_it_cannot_reach() -> None:
    pytest.importorskip("redis", reason="the redis package is in the test extra")
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [sys.executable, "-m", "mock_ims", "serve", "--port", "0", "--store", url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "mock-ims: error: cannot use the store redis://:***@127.0.0.1" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


async def test_a_document_swapped_by_two_hosts_is_replaced_exactly_once_every_round(
    two_hosts: tuple[Store, Store],
) -> None:
    first, second = two_hosts
    current = None
    for round_ in range(ROUNDS):
        swaps = [
            (first if n % 2 else second).swap("leases", "lease", current, {"round": round_, "by": n})
            for n in range(RACERS)
        ]
        won = [n for n, swapped in enumerate(await asyncio.gather(*swaps)) if swapped]
        assert len(won) == 1, f"round {round_}: {len(won)} swaps won"
        current = {"round": round_, "by": won[0]}
        assert await first.get("leases", "lease") == current

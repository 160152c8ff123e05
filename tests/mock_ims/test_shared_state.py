"""Each worker keeps clients, users, faults and the clock parsed in memory; a change made
through any worker (or host) sharing the store shows on every worker's very next request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mock_ims.config import ClientConfig, UserConfig, default_config
from mock_ims.state.cached import one_revision
from mock_ims.state.context import Context, Settings
from mock_ims.state.faults import FaultRule

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "redis"])
async def workers(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Context, Context]]:
    """Two contexts over one SQLite file (what two `--workers` processes hold), or over one
    Redis (two mocks on two hosts)."""
    if request.param == "sqlite":
        store_url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        store_url = f"{request.getfixturevalue('redis_url')}?prefix=test-{uuid.uuid4().hex}:"
    settings = Settings(default_config(), store_url=store_url)
    one, other = Context(settings), Context(settings)
    await one.startup()
    await other.startup()
    yield one, other
    await one.store.close()
    await other.store.close()


async def test_a_client_added_on_one_worker_is_known_to_the_other(workers: tuple[Context, Context]) -> None:
    one, other = workers
    assert await other.registry.client("late-client") is None
    await one.registry.add_client(ClientConfig("late-client", "s3cret"))
    client = await other.registry.client("late-client")
    assert client is not None and client.client_secret == "s3cret"


async def test_a_changed_client_secret_takes_effect_on_the_other_worker(
    workers: tuple[Context, Context],
) -> None:
    one, other = workers
    client = await other.registry.client("mock-partner-app")
    assert client is not None
    await one.registry.put_client(ClientConfig(**{**client.__dict__, "client_secret": "rotated"}))
    changed = await other.registry.client("mock-partner-app")
    assert changed is not None and changed.client_secret == "rotated"


async def test_a_removed_user_is_gone_on_the_other_worker(workers: tuple[Context, Context]) -> None:
    one, other = workers
    alice = await other.registry.user_by_email("ALICE@example.com")
    assert alice is not None
    await one.registry.remove_user(alice.user_id)
    assert await other.registry.user(alice.user_id) is None
    assert await other.registry.user_by_email("alice@example.com") is None
    await one.registry.add_user(UserConfig("dora@example.com", "pw"))
    assert await other.registry.find_user("dora@example.com") is not None


async def test_the_clock_moved_on_one_worker_has_moved_on_the_other(workers: tuple[Context, Context]) -> None:
    one, other = workers
    before = await other.now_ms()
    await one.clock.advance(3600)
    assert await other.now_ms() >= before + 3_600_000
    await one.clock.reset()
    assert await other.now_ms() < before + 3_600_000


async def test_a_fault_added_on_one_worker_is_played_and_counted_down_on_the_other(
    workers: tuple[Context, Context],
) -> None:
    one, other = workers
    assert await other.faults.take("token", None, None) is None
    await one.faults.add(FaultRule(endpoint="token", status=503, times=2))
    assert await other.faults.take("token", None, None) is not None
    assert await one.faults.take("token", None, None) is not None
    assert await other.faults.take("token", None, None) is None
    assert await one.faults.list() == []


async def test_a_request_reads_the_revision_once_and_the_next_request_sees_the_change(
    workers: tuple[Context, Context],
) -> None:
    one, other = workers
    async with one_revision(other.store):
        assert await other.registry.client("mid-request") is None
        await one.registry.add_client(ClientConfig("mid-request", "s"))
        # Answered as of the request's start: one revision lookup per request, not per view.
        assert await other.registry.client("mid-request") is None
    assert await other.registry.client("mid-request") is not None


async def test_pinning_one_store_leaves_the_views_of_another_alone(workers: tuple[Context, Context]) -> None:
    one, other = workers
    async with one_revision(one.store):
        await one.registry.add_client(ClientConfig("seen-by-the-other", "s"))
        assert await other.registry.client("seen-by-the-other") is not None

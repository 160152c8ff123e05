"""`/__admin/lease` and `ims.lease`: one holder of the mock at a time, on real time, shared by
every worker, whatever the mock's clock does."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_ims import AdminAPIError, ImsClient, KeptLease, Lease, LeaseHeld, MockIMS
from mock_ims.state.context import Context
from mock_ims.state.lease import Leases
from tests.helpers.cluster import mocks_sharing_store, redis_store_url
from tests.helpers.processes import mock_ims_process

LEASE = "/__admin/lease"


def within(seconds: float, condition: Callable[[], bool]) -> bool:
    """Poll `condition` until it holds or `seconds` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class FakeTime:
    """The lease's real-time clock, moved by hand."""

    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms

    def pass_seconds(self, seconds: float) -> None:
        self.ms += round(seconds * 1000)


@pytest.fixture
def lease_time(ims_context: Context) -> FakeTime:
    fake = FakeTime()
    ims_context.leases = Leases(ims_context.store, now_ms=fake)
    return fake


async def take(ims: httpx.AsyncClient, holder: str = "run one", ttl: float = 60) -> dict[str, Any]:
    answer = await ims.post(LEASE, json={"holder": holder, "ttl": ttl})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


# ---- the admin API ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_first_holder_gets_the_lease_and_the_next_is_told_who_has_it_but_not_its_id(
    ims: httpx.AsyncClient,
) -> None:
    granted = await take(ims, "ims-conformance on ci-7 pid 1234", ttl=30)
    assert granted["holder"] == "ims-conformance on ci-7 pid 1234"
    assert granted["ttl"] == 30
    assert 29 < granted["expires_in"] <= 30
    assert granted["expires_at"].endswith("Z") and len(granted["id"]) >= 32
    refused = await ims.post(LEASE, json={"holder": "ims-conformance on ci-8 pid 99", "ttl": 30})
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "lease_held"
    assert body["holder"] == "ims-conformance on ci-7 pid 1234"
    assert 0 < body["expires_in"] <= 30
    assert "ims-conformance on ci-7 pid 1234" in body["detail"] and "seconds" in body["detail"]
    assert granted["id"] not in refused.text


@pytest.mark.anyio
async def test_get_shows_who_holds_the_lease_but_never_its_id(ims: httpx.AsyncClient) -> None:
    assert (await ims.get(LEASE)).json() == {"held": False}
    granted = await take(ims, "run one", ttl=60)
    shown = await ims.get(LEASE)
    assert shown.status_code == 200
    assert {k: shown.json()[k] for k in ("held", "holder", "ttl")} == {
        "held": True,
        "holder": "run one",
        "ttl": 60,
    }
    assert 0 < shown.json()["expires_in"] <= 60
    assert granted["id"] not in shown.text


@pytest.mark.anyio
async def test_a_lease_taken_without_a_ttl_lasts_a_minute(ims: httpx.AsyncClient) -> None:
    answer = await ims.post(LEASE, json={"holder": "run one"})
    assert answer.status_code == 201
    assert answer.json()["ttl"] == 60
    assert answer.headers["location"] == f"{LEASE}/{answer.json()['id']}"


@pytest.mark.anyio
async def test_renewing_extends_the_lease_from_now_and_may_change_its_ttl(
    ims: httpx.AsyncClient, lease_time: FakeTime
) -> None:
    granted = await take(ims, ttl=10)
    lease_time.pass_seconds(8)
    renewed = await ims.put(f"{LEASE}/{granted['id']}")
    assert renewed.status_code == 200
    assert renewed.json()["id"] == granted["id"]
    assert renewed.json()["expires_in"] == 10
    lease_time.pass_seconds(8)  # 16 s after it was taken: alive thanks to the renewal
    longer = await ims.put(f"{LEASE}/{granted['id']}", json={"ttl": 120})
    assert (longer.status_code, longer.json()["ttl"], longer.json()["expires_in"]) == (200, 120, 120)
    lease_time.pass_seconds(100)
    assert (await ims.get(LEASE)).json()["expires_in"] == 20


@pytest.mark.anyio
async def test_a_released_lease_is_free_and_its_id_is_gone(ims: httpx.AsyncClient) -> None:
    granted = await take(ims)
    released = await ims.delete(f"{LEASE}/{granted['id']}")
    assert (released.status_code, released.content) == (204, b"")
    assert (await ims.get(LEASE)).json() == {"held": False}
    for method in ("PUT", "DELETE"):
        again = await ims.request(method, f"{LEASE}/{granted['id']}")
        assert again.status_code == 404
        assert again.json()["detail"] == "no such lease: it was released or expired, or never was"
    await take(ims, "run two")


@pytest.mark.anyio
async def test_an_expired_lease_goes_to_the_next_holder_and_its_old_id_is_refused(
    ims: httpx.AsyncClient, lease_time: FakeTime
) -> None:
    first = await take(ims, "run one", ttl=5)
    lease_time.pass_seconds(5)
    assert (await ims.get(LEASE)).json() == {"held": False}
    expired = await ims.put(f"{LEASE}/{first['id']}")
    assert expired.status_code == 404
    assert "expired" in expired.json()["detail"]
    assert (await ims.delete(f"{LEASE}/{first['id']}")).status_code == 404
    second = await take(ims, "run two", ttl=5)
    assert second["id"] != first["id"]
    for method in ("PUT", "DELETE"):
        late = await ims.request(method, f"{LEASE}/{first['id']}")
        assert late.status_code == 409
        assert late.json()["holder"] == "run two"
        assert second["id"] not in late.text
    assert (await ims.get(LEASE)).json()["holder"] == "run two"


@pytest.mark.anyio
async def test_only_the_holder_renews_or_releases(ims: httpx.AsyncClient) -> None:
    granted = await take(ims, "run one")
    for method in ("PUT", "DELETE"):
        guessed = await ims.request(method, f"{LEASE}/{granted['id'][:-1]}x")
        assert guessed.status_code == 409
        assert guessed.json()["holder"] == "run one"
        assert granted["id"] not in guessed.text
    assert (await ims.get(LEASE)).json()["holder"] == "run one"


@pytest.mark.anyio
async def test_moving_the_mock_clock_by_days_does_not_expire_the_lease(ims: httpx.AsyncClient) -> None:
    granted = await take(ims, ttl=30)
    assert (await ims.post("/__admin/clock", json={"advance": 10 * 86_400})).status_code == 200
    assert (await ims.post("/__admin/clock", json={"set": "2999-12-31T00:00:00Z"})).status_code == 200
    shown = (await ims.get(LEASE)).json()
    assert shown["held"] and 29 < shown["expires_in"] <= 30
    assert (await ims.post(LEASE, json={"holder": "run two"})).status_code == 409
    assert (await ims.put(f"{LEASE}/{granted['id']}")).status_code == 200
    assert (await ims.post("/__admin/clock", json={"advance": -20 * 86_400})).status_code == 200
    assert (await ims.get(LEASE)).json()["held"]


@pytest.mark.anyio
async def test_reset_keeps_the_lease(ims: httpx.AsyncClient) -> None:
    granted = await take(ims, "run one")
    assert (await ims.post("/__admin/reset")).status_code == 200
    assert (await ims.get(LEASE)).json()["holder"] == "run one"
    assert (await ims.delete(f"{LEASE}/{granted['id']}")).status_code == 204


@pytest.mark.anyio
async def test_lease_calls_leave_the_journal_alone(ims: httpx.AsyncClient) -> None:
    granted = await take(ims)
    await ims.get(LEASE)
    await ims.post(LEASE, json={"holder": "run two"})
    await ims.put(f"{LEASE}/{granted['id']}")
    await ims.delete(f"{LEASE}/{granted['id']}")
    assert (await ims.get("/__admin/journal")).json()["entries"] == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (None, "a JSON object body is required"),
        ([], "the body must be a JSON object"),
        ({}, "holder: is required"),
        ({"holder": "   "}, "holder: required"),
        ({"holder": 7}, "holder: required"),
        ({"holder": "x" * 201}, "holder: at most 200 characters"),
        ({"holder": "run\none"}, "holder: must be printable text"),
        ({"holder": "run", "ttl": True}, "ttl: must be a number of seconds"),
        ({"holder": "run", "ttl": "60"}, "ttl: must be a number of seconds"),
        ({"holder": "run", "ttl": None}, "ttl: must be a number of seconds"),
        ({"holder": "run", "ttl": 0}, "ttl: must be from 1 to 3600 seconds"),
        ({"holder": "run", "ttl": 0.5}, "ttl: must be from 1 to 3600 seconds"),
        ({"holder": "run", "ttl": 3601}, "ttl: must be from 1 to 3600 seconds"),
        ({"holder": "run", "ttl": -5}, "ttl: must be from 1 to 3600 seconds"),
        ({"holder": "run", "id": "mine"}, "unknown field 'id'; fields: holder, ttl"),
    ],
)
async def test_a_bad_request_for_the_lease_is_a_clear_400(
    ims: httpx.AsyncClient, body: object, detail: str
) -> None:
    answer = await ims.post(LEASE, json=body)
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(detail)
    assert (await ims.get(LEASE)).json() == {"held": False}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[1]", "the body must be a JSON object"),
        (b"{", "the body is not valid JSON"),
        (b'{"ttl": false}', "ttl: must be a number of seconds"),
        (b'{"ttl": null}', "ttl: must be a number of seconds"),
        (b'{"ttl": 1e400}', "ttl: must be a number of seconds"),
        (b'{"ttl": 5000}', "ttl: must be from 1 to 3600 seconds"),
        (b'{"holder": "someone else"}', "unknown field 'holder'; fields: ttl"),
    ],
)
async def test_a_bad_renewal_is_a_clear_400_and_leaves_the_lease_as_it_was(
    ims: httpx.AsyncClient, body: bytes, detail: str
) -> None:
    granted = await take(ims, "run one", ttl=60)
    answer = await ims.put(f"{LEASE}/{granted['id']}", content=body)
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(detail)
    assert (await ims.get(LEASE)).json()["ttl"] == 60


# ---- on real time, through the Python client ---------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[MockIMS]:
    with MockIMS.running() as ims:
        yield ims


@pytest.fixture
def ims_client(server: MockIMS) -> Iterator[ImsClient]:
    """A second client of the same mock: another tool wanting the lease."""
    assert server.lease.current() is None, "a test left the lease taken"
    with ImsClient(server.url) as client:
        yield client


def test_the_client_takes_renews_and_releases_the_lease(server: MockIMS, ims_client: ImsClient) -> None:
    lease = server.lease.acquire("run one", ttl=30)
    assert isinstance(lease, Lease)
    assert (lease.holder, lease.ttl) == ("run one", 30)
    assert 29 < lease.expires_in <= 30
    current = ims_client.lease.current()
    assert current is not None and current["holder"] == "run one" and "id" not in current
    renewed = server.lease.renew(lease, ttl=90)
    assert (renewed.id, renewed.ttl) == (lease.id, 90)
    server.lease.release(renewed)
    assert ims_client.lease.current() is None
    with pytest.raises(AdminAPIError) as gone:
        server.lease.release(lease.id)
    assert gone.value.status == 404
    assert not isinstance(gone.value, LeaseHeld)


def test_a_taken_lease_raises_lease_held_naming_its_holder(server: MockIMS, ims_client: ImsClient) -> None:
    lease = server.lease.acquire("run one", ttl=30)
    try:
        with pytest.raises(LeaseHeld) as held:
            ims_client.lease.acquire("run two")
        assert held.value.status == 409
        assert held.value.holder == "run one"
        assert 0 < held.value.expires_in <= 30
        assert "'run one'" in str(held.value)
        with pytest.raises(LeaseHeld):
            ims_client.lease.renew("not-the-id")
    finally:
        server.lease.release(lease)


def test_a_lease_expires_on_real_time(server: MockIMS, ims_client: ImsClient) -> None:
    started = time.monotonic()
    lease = server.lease.acquire("run one", ttl=1)
    assert within(5, lambda: ims_client.lease.current() is None)
    assert time.monotonic() - started >= 0.9
    with pytest.raises(AdminAPIError) as expired:
        server.lease.renew(lease)
    assert expired.value.status == 404
    assert "expired" in expired.value.detail
    ims_client.lease.release(ims_client.lease.acquire("run two", ttl=30))


def test_acquire_waits_for_the_holder_to_let_go(server: MockIMS, ims_client: ImsClient) -> None:
    lease = server.lease.acquire("run one", ttl=30)
    releaser = threading.Timer(0.8, server.lease.release, args=(lease,))
    releaser.start()
    started = time.monotonic()
    try:
        mine = ims_client.lease.acquire("run two", ttl=30, wait=20)
    finally:
        releaser.join()
    assert 0.7 < time.monotonic() - started < 10
    assert mine.holder == "run two"
    ims_client.lease.release(mine)


def test_acquire_gives_up_once_it_waited_as_long_as_it_was_told(
    server: MockIMS, ims_client: ImsClient
) -> None:
    lease = server.lease.acquire("run one", ttl=30)
    started = time.monotonic()
    try:
        with pytest.raises(LeaseHeld) as held:
            ims_client.lease.acquire("run two", wait=1.2)
    finally:
        server.lease.release(lease)
    assert 1.2 <= time.monotonic() - started < 5
    assert held.value.holder == "run one"


def test_held_keeps_the_lease_past_its_ttl_and_releases_it_on_the_way_out(
    server: MockIMS, ims_client: ImsClient
) -> None:
    with server.lease.held("run one", ttl=1) as kept:
        assert isinstance(kept, KeptLease)
        first_id = kept.id
        deadline = time.monotonic() + 2.5  # two and a half ttls: only renewals keep it
        while time.monotonic() < deadline:
            current = ims_client.lease.current()
            assert current is not None and current["holder"] == "run one"
            time.sleep(0.1)
        assert kept.lost is None
        assert kept.id == first_id
        kept.check()
    assert ims_client.lease.current() is None
    assert kept.lost is None


def test_held_waits_for_the_lease_when_told_to(server: MockIMS, ims_client: ImsClient) -> None:
    lease = ims_client.lease.acquire("run one", ttl=30)
    releaser = threading.Timer(0.6, ims_client.lease.release, args=(lease,))
    releaser.start()
    try:
        with server.lease.held("run two", ttl=30, wait=20) as kept:
            assert kept.holder == "run two"
    finally:
        releaser.join()
    assert ims_client.lease.current() is None


def test_held_tells_the_holder_that_its_lease_was_lost(server: MockIMS, ims_client: ImsClient) -> None:
    with server.lease.held("run one", ttl=1.5) as kept:
        ims_client.lease.release(kept.id)  # as if it had expired
        taker = ims_client.lease.acquire("run two", ttl=30)
        assert within(5, lambda: kept.lost is not None)
        assert kept.lost is not None and kept.lost.status in (404, 409)  # gone, or taken when renewed
        with pytest.raises(AdminAPIError):
            kept.check()
    assert ims_client.lease.current() is not None  # not released by the one who lost it
    ims_client.lease.release(taker)


def test_held_releases_the_lease_when_the_block_raises(server: MockIMS, ims_client: ImsClient) -> None:
    with pytest.raises(RuntimeError, match="the run failed"), server.lease.held("run one", ttl=30):
        raise RuntimeError("the run failed")
    assert ims_client.lease.current() is None


# ---- one lease across workers and hosts ----------------------------------------------------------

RACERS = 16
ROUNDS = 5


def race_for_the_lease(urls: list[str]) -> list[httpx.Response]:
    """RACERS tools asking at once, each on a fresh connection, spread over `urls`."""
    ready = threading.Barrier(RACERS)

    def ask(n: int) -> httpx.Response:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=urls[n % len(urls)], limits=limits) as http:
            ready.wait()
            return http.post(LEASE, json={"holder": f"racer {n}", "ttl": 60})

    with concurrent.futures.ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(ask, range(RACERS)))


def one_winner_every_round(urls: list[str]) -> None:
    for round_ in range(ROUNDS):
        answers = race_for_the_lease(urls)
        won = [a for a in answers if a.status_code == 201]
        assert len(won) == 1, f"round {round_}: {[a.status_code for a in answers]}"
        holder = won[0].json()["holder"]
        assert all(a.status_code == 409 and a.json()["holder"] == holder for a in answers if a not in won)
        for url in urls:
            assert httpx.get(f"{url}{LEASE}").json()["holder"] == holder
        assert httpx.delete(f"{urls[-1]}{LEASE}/{won[0].json()['id']}").status_code == 204


def test_of_tools_racing_through_two_sqlite_workers_exactly_one_gets_the_lease(tmp_path: Path) -> None:
    with mock_ims_process("--workers", "2", "--store", "sqlite", data_dir=tmp_path) as server:
        one_winner_every_round([server.url])


def test_of_tools_racing_through_two_mocks_on_one_redis_exactly_one_gets_the_lease(
    redis_url: str, tmp_path: Path
) -> None:
    with mocks_sharing_store(redis_store_url(redis_url), tmp_path) as mocks:
        one_winner_every_round([mock.url for mock in mocks])

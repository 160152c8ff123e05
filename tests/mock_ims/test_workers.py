"""`mock-ims serve --workers 2 --store sqlite`: several processes behave as one server."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_ims import ImsClient
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, VERIFIER, authorize_params, form_field, query_of
from tests.helpers.processes import RunningProcess, mock_ims_process

AUTH = (CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
def admin(two_workers: RunningProcess) -> Iterator[ImsClient]:
    with ImsClient(two_workers.url) as client:
        client.reset()
        yield client


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    data_dir = Path(tmp_path_factory.mktemp("workers"))
    with mock_ims_process("--workers", "2", "--store", "sqlite", data_dir=data_dir) as server:
        yield server


def fresh_connection() -> httpx.Client:
    # No keep-alive: every request is a new connection, so the kernel spreads them over workers.
    return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


def test_codes_issued_by_one_worker_are_redeemed_by_another(
    two_workers: RunningProcess, admin: ImsClient
) -> None:
    """Sign in and redeem over fresh connections until a code crossed workers (bounded)."""
    crossed = 0
    with fresh_connection() as http:
        for _ in range(200):
            http.cookies.clear()  # no SSO session: every round signs in afresh
            page = http.get(f"{two_workers.url}/ims/authorize/v2", params=authorize_params())
            form = {
                "rid": form_field(page.text, "rid"),
                "csrf": form_field(page.text, "csrf"),
                "user": "alice@example.com",
            }
            signed_in = http.post(f"{two_workers.url}/ims/login", data=form)
            code = query_of(signed_in.headers["location"])["code"]
            redeemed = http.post(
                f"{two_workers.url}/ims/token/v3",
                data={"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER},
                auth=AUTH,
            )
            assert redeemed.status_code == 200, redeemed.text
            replay = http.post(
                f"{two_workers.url}/ims/token/v3",
                data={"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER},
                auth=AUTH,
            )
            assert replay.status_code == 400
            logins = admin.journal.entries("login")
            tokens = admin.journal.entries("token")
            if logins[-1]["pid"] != tokens[-2]["pid"]:
                crossed += 1
            if crossed >= 3:
                break
    assert crossed >= 3, "no code was redeemed by another worker than the one that issued it"
    outcomes = [e["outcome"] for e in admin.journal.entries("token")]
    assert outcomes == ["ok", "refused"] * (len(outcomes) // 2)


def test_the_clock_and_faults_are_shared_by_all_workers(
    two_workers: RunningProcess, admin: ImsClient
) -> None:
    admin.clock.advance(7200)
    admin.faults.add("keys", status=503, times=10)
    with fresh_connection() as http:
        statuses = [http.get(f"{two_workers.url}/ims/keys").status_code for _ in range(12)]
        offsets = {
            round(http.get(f"{two_workers.url}/__admin/clock").json()["offset_seconds"]) for _ in range(10)
        }
    assert statuses == [503] * 10 + [200] * 2
    assert offsets == {7200}


def _listening_sockets(port: int) -> set[str]:
    """Inodes of the TCP sockets listening on `port` (state 0A in /proc/net/tcp)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                    inodes.add(fields[9])
    return inodes


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
def test_each_worker_listens_on_its_own_socket(two_workers: RunningProcess) -> None:
    """One accept queue per worker (SO_REUSEPORT): the kernel, not the fastest waker, decides
    which worker a new connection goes to."""
    port = int(two_workers.url.rsplit(":", 1)[1])
    assert len(_listening_sockets(port)) == 2


def test_a_burst_of_keep_alive_connections_is_spread_over_both_workers(
    two_workers: RunningProcess, admin: ImsClient
) -> None:
    """16 connections opened at once, as a load test does, then one request on each: with one
    shared socket a burst could all land on one worker and stay there for the whole run."""
    connections = [httpx.Client(base_url=two_workers.url) for _ in range(16)]
    try:
        with concurrent.futures.ThreadPoolExecutor(len(connections)) as pool:
            statuses = list(pool.map(lambda http: http.get("/ims/keys").status_code, connections))
    finally:
        for http in connections:
            http.close()
    assert statuses == [200] * 16
    pids = {entry["pid"] for entry in admin.journal.entries("keys")}
    assert len(pids) == 2  # the chance of all 16 hashing to one worker is 2 in 65,536

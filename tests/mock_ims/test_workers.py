"""`mock-ims serve --workers 2 --store sqlite`: several processes behave as one server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_ims import ImsClient
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
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


def test_codes_minted_on_one_worker_are_redeemed_on_another(
    two_workers: RunningProcess, admin: ImsClient
) -> None:
    with fresh_connection() as http:
        for _ in range(40):
            code = admin.mint_code(user="alice@example.com", redirect_uri=REDIRECT_URI)
            response = http.post(
                f"{two_workers.url}/ims/token/v3",
                data={"grant_type": "authorization_code", "code": code},
                auth=AUTH,
            )
            assert response.status_code == 200, response.text
            replay = http.post(
                f"{two_workers.url}/ims/token/v3",
                data={"grant_type": "authorization_code", "code": code},
                auth=AUTH,
            )
            assert replay.status_code == 400
    entries = admin.journal.entries(endpoint="token")
    assert [e["outcome"] for e in entries] == ["ok", "refused"] * 40
    assert len({e["pid"] for e in entries}) == 2, "both workers should have answered token requests"


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

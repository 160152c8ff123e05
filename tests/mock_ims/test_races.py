"""Single use under races: many clients present one code, or one refresh token, at the same
moment, each on a connection of its own; exactly one of them gets tokens, every round, and the
replays revoke what that one got (RFC 6749 §4.1.2, RFC 9700 §4.14.2), however the requests
interleaved.

Run against every way the mock shares state: one process with the memory store, two uvicorn
workers on one SQLite file, and two mock processes on one Redis.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers.cluster import mocks_sharing_store, redis_store_url
from tests.helpers.flows import CLIENT_ID, VERIFIER
from tests.helpers.processes import mock_ims_process
from tests.helpers.races import fresh_connections, mint, mint_code, race, tally

pytestmark = pytest.mark.anyio

# Shortened for CI; e.g. MOCK_IMS_RACE_ROUNDS=500 MOCK_IMS_RACERS=50 for a long run.
ROUNDS = int(os.environ.get("MOCK_IMS_RACE_ROUNDS", "20"))
RACERS = int(os.environ.get("MOCK_IMS_RACERS", "20"))


@dataclass
class Deployment:
    name: str
    urls: list[str]  # where clients are sent, round-robin
    processes: int  # how many processes answer them

    @property
    def admin(self) -> str:
        return self.urls[0]


@pytest.fixture(scope="module", params=["memory", "sqlite-2-workers", "redis-2-processes"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    data_dir = Path(tmp_path_factory.mktemp(request.param))
    if request.param == "memory":
        with mock_ims_process(data_dir=data_dir) as server:
            yield Deployment(request.param, [server.url], 1)
    elif request.param == "sqlite-2-workers":
        with mock_ims_process("--workers", "2", "--store", "sqlite", data_dir=data_dir) as server:
            yield Deployment(request.param, [server.url], 2)
    else:
        store = redis_store_url(request.getfixturevalue("redis_url"))
        with mocks_sharing_store(store, data_dir) as servers:
            yield Deployment(request.param, [server.url for server in servers], 2)


@pytest.fixture
async def http(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with fresh_connections(RACERS) as client:
        (await client.post(f"{deployment.admin}/__admin/reset")).raise_for_status()
        yield client


async def token_journal(http: httpx.AsyncClient, deployment: Deployment) -> list[dict[str, object]]:
    response = await http.get(f"{deployment.admin}/__admin/journal", params={"endpoint": "token"})
    response.raise_for_status()
    entries: list[dict[str, object]] = response.json()["entries"]
    return entries


async def validity(http: httpx.AsyncClient, deployment: Deployment, token: str, kind: str) -> str:
    """ "valid", or why not (e.g. "revoked (authorization code replayed)")."""
    form = {"token": token, "client_id": CLIENT_ID, "type": kind}
    response = await http.post(f"{deployment.urls[-1]}/ims/validate_token/v1", data=form)
    response.raise_for_status()
    return str(response.json().get("reason", "valid"))


def winner(responses: list[httpx.Response]) -> dict[str, str]:
    (body,) = [r.json() for r in responses if r.status_code == 200]
    return {name: value for name, value in body.items() if isinstance(value, str)}


async def test_one_code_redeemed_by_many_clients_at_once_gives_tokens_exactly_once(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    for round_ in range(ROUNDS):
        code = await mint_code(http, deployment.admin)
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
        answers = await race(http, deployment.urls, form, RACERS)
        assert tally(answers) == {"ok": 1, "invalid_grant": RACERS - 1}, f"{deployment.name} round {round_}"
        tokens = winner(answers)
        for kind in ("access_token", "refresh_token"):
            state = await validity(http, deployment, tokens[kind], kind)
            assert state.startswith("revoked"), (
                f"{deployment.name} round {round_}: the winner's {kind} is {state}"
            )
    entries = await token_journal(http, deployment)
    assert len(entries) == ROUNDS * RACERS
    assert sum(e["outcome"] == "ok" for e in entries) == ROUNDS
    assert len({e["pid"] for e in entries}) == deployment.processes, "the race did not reach every process"


async def test_one_refresh_token_presented_by_many_clients_at_once_is_honoured_exactly_once(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    for round_ in range(ROUNDS):
        refresh_token = await mint(http, deployment.admin, "refresh_token")
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        answers = await race(http, deployment.urls, form, RACERS)
        assert tally(answers) == {"ok": 1, "invalid_grant": RACERS - 1}, f"{deployment.name} round {round_}"
        tokens = winner(answers)
        for kind in ("access_token", "refresh_token"):
            state = await validity(http, deployment, tokens[kind], kind)
            assert state.startswith("revoked"), (
                f"{deployment.name} round {round_}: the winner's {kind} is {state}"
            )
    entries = await token_journal(http, deployment)
    assert sum(e["outcome"] == "ok" for e in entries) == ROUNDS
    assert len({e["pid"] for e in entries}) == deployment.processes, "the race did not reach every process"

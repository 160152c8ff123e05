"""Two `mock-ims serve` processes on their own ports sharing one Redis, as two hosts behind a
load balancer: one mock to every client, whichever host answers.

What they must have in common besides the store: the data dir's signing keys (the same
`--data-dir`, or a copy of its `keys/`), the configuration, and a fixed `issuer`, so discovery
and the tokens name one public URL. Single use under a race between the two hosts is in
test_races.py (the `redis-2-processes` cases send every other racer to each host).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_ims.protocol import jws
from tests.helpers.cluster import mocks_sharing_store, redis_store_url
from tests.helpers.flows import (
    CLIENT_ID,
    CLIENT_SECRET,
    authorize_params,
    form_field,
    query_of,
    redeem,
    sign_in,
)
from tests.helpers.processes import mock_ims_process

pytestmark = pytest.mark.anyio

ISSUER = "https://ims.example.test"
AUTH = (CLIENT_ID, CLIENT_SECRET)


@dataclass
class Hosts:
    store: str
    config: Path
    urls: list[str]


@pytest.fixture(scope="module")
def hosts(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    work = Path(tmp_path_factory.mktemp("hosts"))
    default = resources.files("mock_ims").joinpath("default_config.toml").read_text("utf-8")
    config = work / "behind-a-balancer.toml"
    config.write_text(f'issuer = "{ISSUER}"\n\n{default}')
    store = redis_store_url(redis_url)
    with mocks_sharing_store(store, work / "data", "--config", str(config)) as servers:
        yield Hosts(store, config, [server.url for server in servers])


@pytest.fixture
async def first(hosts: Hosts) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hosts.urls[0], timeout=30) as client:
        (await client.post("/__admin/reset")).raise_for_status()
        yield client


@pytest.fixture
async def second(hosts: Hosts, first: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hosts.urls[1], timeout=30) as client:
        yield client


async def validity(client: httpx.AsyncClient, token: str, kind: str = "access_token") -> str:
    form = {"token": token, "client_id": CLIENT_ID, "type": kind}
    answer: dict[str, Any] = (await client.post("/ims/validate_token/v1", data=form)).json()
    return "valid" if answer["valid"] else str(answer["reason"])


async def test_a_code_from_a_sign_in_on_one_host_is_redeemed_on_the_other_once(
    first: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    callback = await sign_in(first)
    redeemed = await redeem(second, callback.code)
    assert redeemed.status_code == 200, redeemed.text
    replayed = await redeem(first, callback.code)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"


async def test_a_login_page_from_one_host_is_submitted_to_the_other_and_its_session_is_shared(
    hosts: Hosts, first: httpx.AsyncClient
) -> None:
    """What a balancer that does not stick sessions does to a browser: every request may land
    on the other host. Cookies do not depend on the port, so one client plays one browser."""
    one, other = hosts.urls
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(f"{one}/ims/authorize/v2", params=authorize_params())
        form = {
            "rid": form_field(page.text, "rid"),
            "csrf": form_field(page.text, "csrf"),
            "user": "bob@example.com",
        }
        signed_in = await browser.post(f"{other}/ims/login", data=form)
        assert signed_in.status_code == 302, signed_in.text
        again = await browser.get(f"{one}/ims/authorize/v2", params=authorize_params(state="second"))
        assert again.status_code == 302, "the SSO session made on one host is unknown to the other"
        codes = [query_of(signed_in.headers["location"])["code"], query_of(again.headers["location"])["code"]]
    for code in codes:
        redeemed = await redeem(first, code)
        assert redeemed.status_code == 200, redeemed.text


async def test_tokens_from_one_host_are_honoured_by_the_other(
    first: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    tokens = (await redeem(second, (await sign_in(first)).code)).json()
    assert await validity(first, tokens["access_token"]) == "valid"
    userinfo = await second.get(
        "/ims/userinfo/v2", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status_code == 200 and userinfo.json()["email"] == "alice@example.com"
    refreshed = await first.post(
        "/ims/token/v3",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=AUTH,
    )
    assert refreshed.status_code == 200, refreshed.text


async def test_revocation_on_one_host_holds_on_the_other(
    first: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    tokens = (await redeem(first, (await sign_in(first)).code)).json()
    revoked = await second.post(
        "/ims/revoke", data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}, auth=AUTH
    )
    assert revoked.status_code == 200, revoked.text
    assert (await validity(first, tokens["refresh_token"], "refresh_token")).startswith("revoked")
    refreshed = await first.post(
        "/ims/token/v3",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=AUTH,
    )
    assert refreshed.status_code == 400


async def test_the_clock_is_shared_so_a_code_expires_on_both_hosts_at_once(
    first: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    code = (await sign_in(first)).code
    (await first.post("/__admin/clock", json={"advance": 601})).raise_for_status()  # codes live 600 s
    assert (await second.get("/__admin/clock")).json()["offset_seconds"] >= 601
    expired = await redeem(second, code)
    assert expired.status_code == 400
    journal = (await first.get("/__admin/journal", params={"endpoint": "token"})).json()["entries"]
    assert journal[-1]["reason"] == "code expired"


async def test_a_fault_added_on_one_host_is_played_its_number_of_times_across_both(
    first: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    (
        await first.post("/__admin/faults", json={"endpoint": "keys", "status": 503, "times": 3})
    ).raise_for_status()
    statuses = [(await (first, second)[n % 2].get("/ims/keys")).status_code for n in range(6)]
    assert sorted(statuses) == [200, 200, 200, 503, 503, 503]


async def test_both_hosts_write_one_journal_in_one_order(
    first: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    for n in range(6):
        await (first, second)[n % 2].get("/ims/keys")
    entries = (await second.get("/__admin/journal", params={"endpoint": "keys"})).json()["entries"]
    seqs = [entry["seq"] for entry in entries]
    assert len(entries) == 6 and seqs == sorted(set(seqs))
    assert len({entry["pid"] for entry in entries}) == 2


async def test_with_a_fixed_issuer_both_hosts_publish_the_same_discovery_and_keys(
    first: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    path = "/ims/.well-known/openid-configuration"
    assert (await first.get(path)).json() == (await second.get(path)).json()
    assert (await first.get(path)).json()["issuer"] == ISSUER
    assert (await first.get("/ims/keys")).json() == (await second.get("/ims/keys")).json()
    tokens = (await redeem(second, (await sign_in(first)).code)).json()
    _, claims = jws.unverified(tokens["id_token"])
    assert claims["iss"] == ISSUER


def test_a_host_with_other_signing_keys_refuses_the_tokens_of_the_others(
    hosts: Hosts, tmp_path: Path
) -> None:
    """Why the hosts need one data dir: a mock on the same store with keys of its own sees the
    codes and tokens in the store but cannot verify a single one."""
    with httpx.Client(base_url=hosts.urls[0]) as http:
        token = http.post("/__admin/tokens", json={"kind": "access_token"}).json()["token"]
    with mock_ims_process(
        "--store", hosts.store, "--config", str(hosts.config), data_dir=tmp_path
    ) as stranger:
        answer = httpx.post(
            f"{stranger.url}/ims/validate_token/v1", data={"token": token, "client_id": CLIENT_ID}
        ).json()
    assert answer == {"valid": False, "reason": "malformed or not signed by this mock"}

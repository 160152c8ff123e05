"""Sustained load: many full login flows at once on a real `mock-ims serve`, with nothing lost,
nothing redeemed twice, and state that stays bounded.

Each flow is what a browser and a partner backend do: open the login page, click a test user,
redeem the code, read userinfo. The mock runs with lifetimes of a few seconds and a purge every
second, so in a run several times that long, expired codes, tokens, sessions and login requests
must be dropped while the load goes on, and all of them once it stops; the journal stays under
its cap. Resident memory before, at the peak and after is printed (not asserted).

CI runs a short form (10 flows at a time for 12 s); the full run is
`MOCK_IMS_LOAD_SECONDS=60 MOCK_IMS_LOAD_CONCURRENCY=100 pytest tests/mock_ims/test_load.py`
(or `nox -s load`).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from mock_ims.protocol.pkce import s256
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SCOPE, VERIFIER, form_field, query_of
from tests.helpers.processes import RunningProcess, mock_ims_process

pytestmark = pytest.mark.anyio

SECONDS = float(os.environ.get("MOCK_IMS_LOAD_SECONDS", "12"))
CONCURRENCY = int(os.environ.get("MOCK_IMS_LOAD_CONCURRENCY", "10"))
# Many times the gap between two requests of a flow under this load (a fraction of a second),
# and a fraction of the run, so that records expire and are purged while it goes on.
LIFETIME = 3 if CONCURRENCY <= 20 else 15
RETENTION = 1
PURGE_INTERVAL = 1
# Reached in the full run (about 200 entries a second), so the journal's memory levels off too;
# the test reads the journal four times a second, far faster than that wraps it.
JOURNAL_LIMIT = 5_000
EXPIRING_KINDS = ("tokens", "sessions", "requests")

CONFIG = f"""
code_lifetime = {LIFETIME}
session_lifetime = {LIFETIME}
login_request_lifetime = {LIFETIME}
retention_seconds = {RETENTION}
purge_interval_seconds = {PURGE_INTERVAL}
journal_limit = {JOURNAL_LIMIT}

[[clients]]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
redirect_uris = ['http://localhost(:\\d+)?(/.*)?']
scopes = ["openid", "AdobeID", "lr_partner_apis", "offline_access", "email", "profile"]
access_token_lifetime = {LIFETIME}
refresh_token_lifetime = {LIFETIME}

[[users]]
email = "alice@example.com"
password = "alice-pass"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    directory = tmp_path_factory.mktemp("load")
    config = directory / "config.toml"
    config.write_text(CONFIG)
    with mock_ims_process("--config", str(config), data_dir=Path(directory)) as running:
        yield running


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


@dataclass
class Run:
    flows: int = 0
    errors: list[str] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, int]] = field(default_factory=list)  # document counts during the load
    journal_sizes: list[int] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # the server's resident memory, as sampled


async def one_flow(browser: httpx.AsyncClient, run: Run) -> None:
    """A whole sign-in, as a fresh browser, then the backend's redemption and userinfo."""
    browser.cookies.clear()
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "response_type": "code",
        "state": "load",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    page = await browser.get("/ims/authorize/v2", params=params)
    if page.status_code != 200:
        run.errors.append(f"authorize {page.status_code}: {page.text[:200]}")
        return
    form = {
        "rid": form_field(page.text, "rid"),
        "csrf": form_field(page.text, "csrf"),
        "user": "alice@example.com",
    }
    signed_in = await browser.post("/ims/login", data=form)
    if signed_in.status_code != 302:
        run.errors.append(f"login {signed_in.status_code}: {signed_in.text[:200]}")
        return
    code = query_of(signed_in.headers["location"]).get("code", "")
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
    tokens = await browser.post("/ims/token/v3", data=data, auth=(CLIENT_ID, CLIENT_SECRET))
    if tokens.status_code != 200:
        run.errors.append(f"token {tokens.status_code}: {tokens.text[:200]}")
        return
    bearer = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    userinfo = await browser.get("/ims/userinfo/v2", headers=bearer)
    if userinfo.status_code != 200:
        run.errors.append(f"userinfo {userinfo.status_code}: {userinfo.text[:200]}")
        return
    run.flows += 1


async def stats(admin: httpx.AsyncClient) -> dict[str, Any]:
    answer = await admin.get("/__admin/stats")
    assert answer.status_code == 200, answer.text
    figures: dict[str, Any] = answer.json()
    return figures


async def follow_journal(admin: httpx.AsyncClient, run: Run, pid: int) -> None:
    """Read new journal entries (and document counts, and memory) until cancelled."""
    while True:
        await read_journal(admin, run)
        figures = await stats(admin)
        run.samples.append({kind: figures["documents"][kind] for kind in EXPIRING_KINDS})
        run.journal_sizes.append(figures["journal_entries"])
        run.rss.append(rss_bytes(pid))
        await anyio.sleep(0.25)


async def read_journal(admin: httpx.AsyncClient, run: Run) -> None:
    after = run.journal[-1]["seq"] if run.journal else 0
    entries = (await admin.get("/__admin/journal", params={"after": str(after)})).json()["entries"]
    if entries and run.journal:
        assert entries[0]["seq"] == after + 1, "the journal was trimmed between two reads"
    run.journal.extend(entries)


async def test_sustained_login_flows_lose_nothing_redeem_each_code_once_and_stay_bounded(
    server: RunningProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = server.process.pid
    run = Run()
    # A connection per request: with 100 flows in this one process, a client can sit longer than
    # uvicorn's 5 s keep-alive between two requests, and reuse a connection as the server closes it.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as admin:
        await admin.delete("/__admin/journal")
        baseline = await stats(admin)
        rss_before = rss_bytes(pid)
        started = time.monotonic()

        async def worker() -> None:
            async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as browser:
                while time.monotonic() - started < SECONDS:
                    await one_flow(browser, run)

        async with anyio.create_task_group() as load:
            load.start_soon(follow_journal, admin, run, pid)
            async with anyio.create_task_group() as workers:
                for _ in range(CONCURRENCY):
                    workers.start_soon(worker)
            load.cancel_scope.cancel()
        elapsed = time.monotonic() - started
        rss_peak = rss_bytes(pid)
        await read_journal(admin, run)
        at_the_end = await stats(admin)

        # Once every lifetime and the retention have passed, the purge has dropped it all.
        deadline = time.monotonic() + LIFETIME + RETENTION + 5 * PURGE_INTERVAL + 10
        drained = at_the_end
        while any(drained["documents"][kind] for kind in EXPIRING_KINDS) and time.monotonic() < deadline:
            await anyio.sleep(0.2)
            drained = await stats(admin)
        rss_after = rss_bytes(pid)

    issued_codes = [i for e in run.journal if e["endpoint"] == "login" for i in e["issued"]]
    issued_tokens = [i for e in run.journal if e["endpoint"] in ("login", "token") for i in e["issued"]]
    redeemed = Counter(
        e["consumed"]
        for e in run.journal
        if e["endpoint"] == "token" and e["grant_type"] == "authorization_code" and e["outcome"] == "ok"
    )
    refused = [e for e in run.journal if e["outcome"] != "ok"]
    peak = {kind: max(sample[kind] for sample in run.samples) for kind in EXPIRING_KINDS}
    quarters = [run.rss[min(len(run.rss) - 1, len(run.rss) * q // 4)] / 2**20 for q in (1, 2, 3, 4)]
    with capsys.disabled():
        print(
            f"\nload: {run.flows} login flows in {elapsed:.1f}s by {CONCURRENCY} at a time "
            f"({run.flows / elapsed:.0f}/s), {len(run.errors)} errors, {len(run.journal)} journal entries\n"
            f"load: documents before {baseline['documents']}, peak {peak}, "
            f"at the end {at_the_end['documents']}, after the purge {drained['documents']}\n"
            f"load: {len(issued_tokens)} codes and tokens issued in all; journal held at most "
            f"{max(run.journal_sizes)} entries (limit {JOURNAL_LIMIT})\n"
            f"load: server RSS before {rss_before / 2**20:.1f} MiB; after each quarter of the load "
            f"{', '.join(f'{q:.1f}' for q in quarters)} MiB; at its end {rss_peak / 2**20:.1f} MiB, "
            f"after the purge {rss_after / 2**20:.1f} MiB"
        )

    assert run.errors == []
    assert run.flows > 0
    assert refused == []
    # Every code issued was redeemed, exactly once, and nothing else was.
    assert len(issued_codes) == run.flows
    assert set(redeemed) == set(issued_codes)
    assert set(redeemed.values()) == {1}
    # Purged while the load went on: fewer records held than were ever issued...
    assert at_the_end["documents"]["tokens"] < len(issued_tokens)
    assert peak["tokens"] < len(issued_tokens)
    # ... and none left once they have all expired; the journal stays under its cap.
    assert {kind: drained["documents"][kind] for kind in EXPIRING_KINDS} == dict.fromkeys(EXPIRING_KINDS, 0)
    assert max(run.journal_sizes) <= JOURNAL_LIMIT

"""Crash recovery with the SQLite store: `kill -9` in the middle of a load run costs nothing.

A background thread runs concurrent sign-ins, code redemptions and client_credentials grants
against `mock-ims serve --store sqlite`; once it has received enough answers the server gets
SIGKILL while requests are in flight, and a new server starts on the same store and data dir.
What the load generator was answered before the kill is the record of what the mock promised:

- every access and refresh token it received still validates;
- no code is redeemed twice across the restart: codes redeemed before are refused, codes it
  held back are redeemed once, and a code whose redemption was cut off is redeemed at most once,
  and not at all if the store says it was used;
- the journal holds no torn entry (every row parses and has its fields, the sequence strictly
  increases across the restart) and misses no answered request.

This holds because every store write is a committed SQLite transaction before the mock answers;
see the note on `synchronous` in mock_ims/store/sqlite.py for why a process kill loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from mock_ims.protocol import jws
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, VERIFIER, sign_in
from tests.helpers.processes import RunningProcess, mock_ims_process

AUTH = (CLIENT_ID, CLIENT_SECRET)
CONCURRENCY = 6
TOKENS_BEFORE_THE_KILL = 150
JOURNAL_FIELDS = ("seq", "time_ms", "endpoint", "method", "path", "outcome", "status", "pid", "issued")


@dataclass
class Answers:
    """What the load generator was answered before the server died."""

    tokens: dict[str, str] = field(default_factory=dict)  # raw token -> kind
    redeemed: list[str] = field(default_factory=list)  # codes whose redemption answered 200
    held_back: list[str] = field(default_factory=list)  # codes issued, deliberately not redeemed
    cut_off: list[str] = field(default_factory=list)  # codes whose redemption got no answer
    unexpected: list[str] = field(default_factory=list)  # any other answer: must stay empty


class LoadRun(threading.Thread):
    """Concurrent flows until the server stops answering; `enough` is set once
    TOKENS_BEFORE_THE_KILL tokens were received."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.answers = Answers()
        self.enough = threading.Event()

    def run(self) -> None:
        asyncio.run(self.flows())

    async def flows(self) -> None:
        await asyncio.gather(*(self.worker() for _ in range(CONCURRENCY)))

    def keep(self, body: dict[str, object]) -> None:
        for kind in ("access_token", "refresh_token"):
            raw = body.get(kind)
            if isinstance(raw, str):
                self.answers.tokens[raw] = kind
        if len(self.answers.tokens) >= TOKENS_BEFORE_THE_KILL:
            self.enough.set()

    async def worker(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            for round_ in range(10_000):
                try:
                    await self.one_round(http, round_)
                except httpx.TransportError:
                    return  # the server is gone

    async def one_round(self, http: httpx.AsyncClient, round_: int) -> None:
        granted = await http.post("/ims/token/v3", data={"grant_type": "client_credentials"}, auth=AUTH)
        self.check(granted, "client_credentials")
        self.keep(granted.json())
        http.cookies.clear()  # no SSO session: every round signs in afresh
        code = (await sign_in(http)).code
        if round_ % 3 == 2:
            self.answers.held_back.append(code)
            return
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
        try:
            redeemed = await http.post("/ims/token/v3", data=form, auth=AUTH)
        except httpx.TransportError:
            self.answers.cut_off.append(code)
            raise
        self.check(redeemed, "authorization_code")
        self.answers.redeemed.append(code)
        self.keep(redeemed.json())

    def check(self, response: httpx.Response, what: str) -> None:
        if response.status_code != 200:
            self.answers.unexpected.append(f"{what}: {response.status_code} {response.text[:200]}")


@dataclass
class Crash:
    answers: Answers
    database: Path
    data_dir: Path
    first_pid: int


@pytest.fixture(scope="module")
def crash(tmp_path_factory: pytest.TempPathFactory) -> Crash:
    data_dir = Path(tmp_path_factory.mktemp("crash"))
    with mock_ims_process("--store", "sqlite", data_dir=data_dir) as server:
        load = LoadRun(server.url)
        load.start()
        reached = load.enough.wait(60)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        load.join(60)
    assert reached, f"the load run never received {TOKENS_BEFORE_THE_KILL} tokens: {load.answers.unexpected}"
    assert not load.is_alive()
    assert server.process.returncode == -signal.SIGKILL
    return Crash(load.answers, data_dir / "state.db", data_dir, server.process.pid)


@pytest.fixture(scope="module")
def restarted(crash: Crash) -> Iterator[RunningProcess]:
    with mock_ims_process("--store", "sqlite", data_dir=crash.data_dir) as server:
        yield server


def redeem(http: httpx.Client, code: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
    return http.post("/ims/token/v3", data=form, auth=AUTH)


def test_the_load_run_was_answered_without_errors_until_the_kill(crash: Crash) -> None:
    answers = crash.answers
    assert answers.unexpected == []
    assert len(answers.tokens) >= TOKENS_BEFORE_THE_KILL
    assert answers.redeemed and answers.held_back


def test_the_database_the_kill_left_is_intact_and_its_journal_has_no_torn_entry(crash: Crash) -> None:
    with sqlite3.connect(crash.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = db.execute("SELECT seq, doc FROM journal ORDER BY rowid").fetchall()
    db.close()
    seqs = [seq for seq, _ in rows]
    assert seqs == sorted(set(seqs))
    for seq, doc in rows:
        entry = {**json.loads(doc), "seq": seq}
        missing = [name for name in JOURNAL_FIELDS if name not in entry]
        assert not missing, f"journal entry {seq} lacks {missing}"
        assert entry["pid"] == crash.first_pid


@pytest.fixture(scope="module")
def lost_tokens(crash: Crash, restarted: RunningProcess) -> dict[str, str]:
    """Every token answered before the kill, validated after the restart: the ids of those that
    are not valid, with why. Checked before any code is replayed (a replay revokes what it produced)."""
    lost = {}
    with httpx.Client(base_url=restarted.url) as http:
        for raw, kind in crash.answers.tokens.items():
            form = {"token": raw, "client_id": CLIENT_ID, "type": kind}
            answer = http.post("/ims/validate_token/v1", data=form).json()
            if not answer["valid"]:
                lost[jws.unverified(raw)[1]["id"]] = f"{kind}: {answer['reason']}"
    return lost


def test_every_token_answered_before_the_kill_still_validates(
    crash: Crash, lost_tokens: dict[str, str]
) -> None:
    assert lost_tokens == {}, f"{len(lost_tokens)} of {len(crash.answers.tokens)} tokens lost"


def test_the_journal_continues_after_the_restart_and_misses_no_answered_request(
    crash: Crash, restarted: RunningProcess
) -> None:
    with httpx.Client(base_url=restarted.url) as http:
        http.get("/ims/keys")
        entries = http.get("/__admin/journal").json()["entries"]
    seqs = [entry["seq"] for entry in entries]
    assert seqs == sorted(set(seqs))
    pids = [entry["pid"] for entry in entries]
    assert pids[0] == crash.first_pid and pids[-1] != crash.first_pid
    assert pids == sorted(pids, key=lambda pid: pid != crash.first_pid), "entries of both runs interleave"
    journalled = {token_id for entry in entries for token_id in entry["issued"]}
    answered = {jws.unverified(raw)[1]["id"] for raw in crash.answers.tokens}
    assert answered <= journalled


def test_no_code_is_redeemed_twice_across_the_restart(
    crash: Crash, restarted: RunningProcess, lost_tokens: dict[str, str]
) -> None:
    answers = crash.answers
    with httpx.Client(base_url=restarted.url) as http:
        used = {
            view["raw"]: view["used"]
            for view in http.get("/__admin/tokens", params={"kind": "authorization_code"}).json()["tokens"]
        }
        for code in answers.redeemed:
            assert redeem(http, code).status_code == 400, "a code redeemed before the kill was redeemed again"
        for code in answers.held_back:
            assert not used[code]
            assert redeem(http, code).status_code == 200, "a code issued before the kill was lost"
            assert redeem(http, code).status_code == 400
        for code in answers.cut_off:
            successes = [redeem(http, code).status_code for _ in range(2)].count(200)
            assert successes == (0 if used[code] else 1), f"used={used[code]}, redeemed {successes} times"

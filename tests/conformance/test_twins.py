"""The suite proves itself (issue 5 item 7; docs/design-notes.md §4): every evil twin of the reference
client fails the check it was built to break, and passes every other check.

Each twin (tests/conformance/twins) is described to `ims-conformance run` exactly as the
reference client is (examples/reference-client.toml), except for the command that starts it.
The runs are independent processes, so they run side by side; each test waits for its own.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.checks import REGISTRY
from conformance.model import Severity
from tests.conformance.twins import TWINS
from tests.helpers.conformance_runs import SuiteRun, run_conformance

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "examples" / "reference-client.toml"
REFERENCE_COMMAND = 'command = "{python} -m reference_client --port {port} --log-level warning"'

ID_TOKEN_CHECKS = (
    "idtoken.signature",
    "idtoken.audience",
    "idtoken.issuer",
    "idtoken.expiry",
    "idtoken.nonce",
)
# twin -> every verdict that is not PASS, exactly. One entry per twin unless a comment says why.
EXPECTED: dict[str, dict[str, str]] = {
    "scope-missing": {"scope.required": "FAIL"},
    "scope-duplicated": {"scope.format": "FAIL"},
    "redirect-uri-omitted": {"authorize.code-flow": "FAIL"},
    "pkce-absent": {"pkce.s256": "WARN"},
    # Without a state there is nothing to be unpredictable, to verify, to demand, or to bind to
    # the browser: the callback can only trust whatever code arrives.
    "state-absent": {
        "state.present": "FAIL",
        "state.unpredictable": "FAIL",
        "state.verified": "FAIL",
        "state.missing-rejected": "FAIL",
        "state.bound-to-session": "FAIL",
    },
    "state-predictable": {"state.unpredictable": "FAIL"},
    "state-unchecked": {"state.verified": "FAIL"},
    "state-missing-accepted": {"state.missing-rejected": "FAIL"},
    "state-unbound": {"state.bound-to-session": "FAIL"},
    # It keeps the session that started the login signed in, so a replayed callback still comes
    # from the state's own session: that is session fixation too (as journal-wiper, built on it).
    "state-reusable": {"state.single-use": "FAIL", "session.fixation": "FAIL"},
    "code-with-browser-headers": {"code.exchange": "FAIL"},
    "secret-in-page": {"secret.not-in-browser": "FAIL"},
    "secret-in-query": {"secret.not-in-url": "WARN"},
    # A page that never shows the user cannot tell the suite who is signed in: the checks that
    # need to know say so (SKIP) instead of guessing.
    "profile-hidden": {
        "profile.shown": "FAIL",
        **{check: "SKIP" for check in ID_TOKEN_CHECKS},
        "session.fixation": "SKIP",
        "session.cookie-flags": "SKIP",
        "logout.csrf": "SKIP",
        "refresh.concurrent": "SKIP",
    },
    "profile-token-in-query": {"profile.bearer": "FAIL"},
    "id-token-unsigned": {"idtoken.signature": "WARN"},
    "id-token-any-audience": {"idtoken.audience": "WARN"},
    "id-token-any-issuer": {"idtoken.issuer": "WARN"},
    "id-token-expired-accepted": {"idtoken.expiry": "WARN"},
    "id-token-nonce-ignored": {"idtoken.nonce": "WARN"},
    "access-denied-crash": {"error.access-denied": "FAIL"},
    "token-endpoint-crash": {"error.token-endpoint": "FAIL"},
    # A partner that never refreshes has no refresh to rotate, count, or see refused: SKIP, not
    # a second failure.
    "refresh-never": {
        "refresh.on-expiry": "FAIL",
        "refresh.rotation": "SKIP",
        "refresh.no-storm": "SKIP",
        "refresh.revoked": "SKIP",
        "refresh.concurrent": "SKIP",
        "lightroom.expired": "SKIP",
    },
    "refresh-token-reused": {"refresh.rotation": "FAIL"},
    # It refreshes before every call, so Lightroom never sees an expired token to answer 4300.
    "refresh-storm": {"refresh.no-storm": "FAIL", "lightroom.expired": "SKIP"},
    "refresh-race": {"refresh.concurrent": "FAIL"},
    "refresh-revoked-crash": {"refresh.revoked": "FAIL"},
    "refresh-revoked-stale": {"refresh.revoked": "FAIL"},
    # Without a key Lightroom refuses (403000) before it looks at the token: no 4300 to judge.
    "lightroom-no-api-key": {"lightroom.api-key": "FAIL", "lightroom.expired": "SKIP"},
    "lightroom-expired-given-up": {"lightroom.expired": "FAIL"},
    "logout-no-revoke": {"logout.revokes": "WARN"},
    "session-fixed": {"session.fixation": "FAIL"},
    "logout-by-get": {"logout.csrf": "WARN"},
    "session-cookie-script-readable": {"session.cookie-flags": "WARN"},
    # Nothing written where the app said it keeps tokens: nothing there to find encrypted or not.
    "storage-in-memory": {"storage.written": "WARN", "storage.encrypted": "SKIP"},
    "tokens-plaintext-sqlite": {"storage.encrypted": "FAIL"},
    "tokens-base64-file": {"storage.encrypted": "FAIL"},
    "tokens-in-log": {"storage.encrypted": "FAIL"},
    "tokens-in-starlette-session": {"browser.no-tokens": "FAIL"},
    "tokens-in-local-storage": {"browser.no-tokens": "FAIL"},
    "token-in-redirect-url": {"browser.no-tokens": "FAIL"},
    "token-in-referer": {"browser.no-tokens": "FAIL"},
    "token-in-page": {"browser.no-tokens": "FAIL"},
    "token-in-indexeddb": {"browser.no-tokens": "FAIL"},
    "token-in-cache-storage": {"browser.no-tokens": "FAIL"},
    "tokens-split-cookies": {"browser.no-tokens": "FAIL"},
    "secret-in-response-header": {"secret.not-in-browser": "FAIL"},
    "tokens-in-gzip-log": {"storage.encrypted": "FAIL"},
    "redirect-uri-not-repeated": {"code.redirect-uri": "WARN"},
    "journal-wiper": {"state.single-use": "FAIL", "session.fixation": "FAIL"},
    # No refresh token ever issued: every refresh check says so, none passes or fails.
    "offline-access-absent": {
        "refresh.on-expiry": "SKIP",
        "refresh.rotation": "SKIP",
        "refresh.no-storm": "SKIP",
        "refresh.revoked": "SKIP",
        "refresh.concurrent": "SKIP",
        "lightroom.expired": "SKIP",
    },
}

# twin -> a place its leak must be named by, in the failing check's evidence (not only found).
EVIDENCE_NAMES: dict[str, str] = {
    "token-in-redirect-url": "the query string of GET http",
    "token-in-referer": "request header referer of GET http://localhost",
    "token-in-page": "the HTML of http",
    "token-in-indexeddb": "IndexedDB key 'lightroom/auth/session'",
    "token-in-cache-storage": "Cache Storage key 'api http",
    "tokens-split-cookies": "cookies lr_at.0+lr_at.1+lr_at.2",
    "secret-in-response-header": "response header x-debug-ims-client",
    "tokens-in-gzip-log": "gzip-compressed",
}


def description(name: str) -> str:
    """The reference client's partner description, with the twin's command instead."""
    text = REFERENCE.read_text("utf-8")
    if REFERENCE_COMMAND not in text:
        raise AssertionError(f"{REFERENCE} no longer has the line {REFERENCE_COMMAND!r}")
    twin_command = f'command = "{{python}} -m tests.conformance.twins {name} --port {{port}}"'
    return text.replace(REFERENCE_COMMAND, f"{twin_command}\ncwd = {json.dumps(str(ROOT))}")


@dataclass
class TwinRun:
    name: str
    run: SuiteRun

    @property
    def verdicts(self) -> dict[str, str]:
        return self.run.verdicts

    @property
    def process(self) -> subprocess.CompletedProcess[str]:
        return self.run.process

    def explain(self) -> str:
        return f"{self.name}: exit {self.process.returncode}\n{self.process.stderr[-6000:]}"


def run_suite(name: str, work: Path) -> TwinRun:
    work.mkdir(parents=True)
    config = work / "partner.toml"
    config.write_text(description(name), "utf-8")
    return TwinRun(name, run_conformance(config, work / "report"))


@pytest.fixture(scope="module")
def twin_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[TwinRun]]]:
    """One suite run per twin this session selected, all started at once, a few at a time."""
    selected = [
        str(item.callspec.params["name"])
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.module is request.module
        and hasattr(item, "callspec")
        and "name" in item.callspec.params
    ]
    wanted = list(dict.fromkeys(selected))  # a twin with an evidence test is selected twice
    base = tmp_path_factory.mktemp("twins")
    workers = max(2, min(len(wanted), os.cpu_count() or 2))
    with ThreadPoolExecutor(workers, thread_name_prefix="twin") as pool:
        runs = {name: pool.submit(run_suite, name, base / name) for name in wanted}
        yield runs
        for future in runs.values():
            future.cancel()


def test_every_check_has_a_twin_and_every_twin_a_row_in_the_table() -> None:
    assert {twin.breaks for twin in TWINS.values() if twin.breaks} == set(REGISTRY)
    assert set(EXPECTED) == set(TWINS)
    for name, twin in TWINS.items():
        if twin.breaks is None:
            assert set(EXPECTED[name].values()) == {"SKIP"}, name
            continue
        broken = REGISTRY[twin.breaks]
        missed = "FAIL" if broken.severity is Severity.REQUIRED else "WARN"
        assert EXPECTED[name].get(twin.breaks) == missed, name


@pytest.mark.parametrize("name", sorted(TWINS))
def test_the_twin_fails_its_check_and_passes_every_other(
    name: str, twin_runs: dict[str, Future[TwinRun]]
) -> None:
    run = twin_runs[name].result()
    assert set(run.verdicts) == set(REGISTRY), run.explain()
    not_passed = {check: verdict for check, verdict in run.verdicts.items() if verdict != "PASS"}
    assert not_passed == EXPECTED[name], run.explain()
    blocking = any(verdict in ("FAIL", "ERROR") for verdict in not_passed.values())
    assert run.process.returncode == (1 if blocking else 0), run.explain()


@pytest.mark.parametrize("name", sorted(EVIDENCE_NAMES))
def test_the_evidence_names_the_place_of_the_leak(name: str, twin_runs: dict[str, Future[TwinRun]]) -> None:
    run = twin_runs[name].result()
    broken = TWINS[name].breaks
    result = next(r for r in run.run.results["results"] if r["id"] == broken)
    places = [
        str(item.get("location", ""))
        for evidence in result["evidence"]
        if evidence["kind"] == "storage"
        for item in evidence["data"]
    ]
    assert any(EVIDENCE_NAMES[name] in place for place in places), places

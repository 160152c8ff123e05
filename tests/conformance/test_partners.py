"""The judge on apps it did not grow up with: three partner apps written apart from the suite,
from the README alone, by engineers who never read its code (tests/conformance/partners).

- `flask_careful`: Flask, done right (Fernet-encrypted tokens in SQLite, PKCE, refresh on 401,
  revoke on sign-out): every check must PASS.
- `express_hurried`: Express with four mistakes partners make (no offline_access, the access
  token in a cookie-session cookie, no revoke at sign-out, tokens in a gzip-compressed log) and
  no PKCE: each mistake caught on its own check, the refresh checks SKIP, nothing else.
- `starlette_leaky`: plain Starlette, careful but for three leaks (the access token in an inline
  script, in the post-login URL and so in a Referer to another origin, and in a sessions file as
  JWT segments with the signature in hex): caught on browser.no-tokens and storage.encrypted.

Each app is described to `ims-conformance run` by its own partner.toml, as its author wrote it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from conformance.checks import REGISTRY
from tests.helpers.conformance_runs import (
    ID_TOKEN_IGNORED,
    LIGHTROOM_NEVER_EXPIRED,
    SuiteRun,
    run_conformance,
)

pytestmark = pytest.mark.browser
PARTNERS = Path(__file__).parent / "partners"

# None of these apps validates the ID token (ID_TOKEN_IGNORED).
# app -> every verdict that is not PASS, exactly.
EXPECTED: dict[str, dict[str, str]] = {
    "flask_careful": {**ID_TOKEN_IGNORED, **LIGHTROOM_NEVER_EXPIRED},
    "express_hurried": {
        "pkce.s256": "WARN",
        **ID_TOKEN_IGNORED,
        "refresh.on-expiry": "SKIP",
        "refresh.rotation": "SKIP",
        "refresh.no-storm": "SKIP",
        "refresh.revoked": "SKIP",
        "refresh.concurrent": "SKIP",
        **LIGHTROOM_NEVER_EXPIRED,
        "logout.revokes": "WARN",
        "storage.encrypted": "FAIL",
        "browser.no-tokens": "FAIL",
    },
    "starlette_leaky": {
        **ID_TOKEN_IGNORED,
        **LIGHTROOM_NEVER_EXPIRED,
        "storage.encrypted": "FAIL",
        "browser.no-tokens": "FAIL",
    },
}

# app -> (check, a place its evidence must name): each flaw caught where it is, not by accident.
FLAWS: list[tuple[str, str, str]] = [
    ("express_hurried", "storage.encrypted", "access.log.gz at byte 0 (line 1), gzip-compressed"),
    ("express_hurried", "browser.no-tokens", "Express cookie-session (base64 JSON), decoded"),
    ("starlette_leaky", "browser.no-tokens", "the HTML of http://127.0.0.1:"),
    ("starlette_leaky", "browser.no-tokens", "the query string of GET http://127.0.0.1:"),
    ("starlette_leaky", "browser.no-tokens", "request header referer of GET http://localhost:"),
    ("starlette_leaky", "storage.encrypted", "sessions.json"),
]
SIGNATURE_AS_HEX = ("starlette_leaky", "storage.encrypted", "jwt-signature as hex")


def run_partner(name: str, work: Path) -> SuiteRun:
    if name == "express_hurried" and not (PARTNERS / name / "node_modules").is_dir():
        pytest.skip(f"npm packages of {name} not installed: run scripts/install-system-deps")
    return run_conformance(PARTNERS / name / "partner.toml", work / "report", cwd=PARTNERS / name)


@pytest.fixture(scope="module")
def partner_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[SuiteRun]]]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    base = tmp_path_factory.mktemp("partners")
    with ThreadPoolExecutor(2, thread_name_prefix="partner") as pool:
        runs = {name: pool.submit(run_partner, name, base / name) for name in EXPECTED}
        yield runs
        for future in runs.values():
            future.cancel()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_partner_app_gets_exactly_its_verdicts(
    name: str, partner_runs: dict[str, Future[SuiteRun]]
) -> None:
    run = partner_runs[name].result()
    verdicts = run.verdicts
    assert set(verdicts) == set(REGISTRY), run.output()[-4000:]
    assert {c: v for c, v in verdicts.items() if v != "PASS"} == EXPECTED[name], run.output()[-4000:]
    blocking = any(v in ("FAIL", "ERROR") for v in EXPECTED[name].values())
    assert run.process.returncode == (1 if blocking else 0), run.output()[-4000:]


def _places(run: SuiteRun, check_id: str) -> list[str]:
    result = next(r for r in run.results["results"] if r["id"] == check_id)
    return [
        f"{item.get('encoding', '')}: {item.get('location', '')}"
        for evidence in result["evidence"]
        if evidence["kind"] == "storage"
        for item in evidence["data"]
    ]


@pytest.mark.parametrize(("name", "check_id", "place"), [*FLAWS, SIGNATURE_AS_HEX])
def test_each_flaw_is_named_where_it_is(
    name: str, check_id: str, place: str, partner_runs: dict[str, Future[SuiteRun]]
) -> None:
    places = _places(partner_runs[name].result(), check_id)
    assert any(place in p for p in places), places

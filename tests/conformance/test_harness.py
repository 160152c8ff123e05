"""What the suite sets up around a partner: its registration at the mock, and the mock's time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from conformance.config import load
from conformance.journeys.probes import real_time_afterwards
from conformance.stage import harness as harness_module
from conformance.stage.harness import Harness, _mock_config, _partner_client, prepare
from mock_ims import MockIMS


def test_the_partner_is_registered_with_its_redirect_uri_as_the_default(tmp_path: Path) -> None:
    # The Developer Console requires a default redirect URI; IMS falls back to it when an
    # authorize request has none, and authorize.code-flow is the check that says so.
    path = tmp_path / "partner.toml"
    path.write_text('[partner]\nbase_url = "http://127.0.0.1:8000"\ncallback = "/auth/done"\n')
    client = _partner_client(load(path))
    assert client.default_redirect_uri == "http://127.0.0.1:8000/auth/done"


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockIMS]:
    with MockIMS.running(port=0, data_dir=tmp_path_factory.mktemp("harness-data")) as ims:
        yield ims


def harness_of(mock: MockIMS) -> Harness:
    return cast(Harness, SimpleNamespace(ims=mock))


def test_probes_put_the_mock_clock_back_even_when_they_fail(mock: MockIMS) -> None:
    # Left ahead, the clock would date every later login's ID token in the partner's future.
    mock.clock.reset()
    with real_time_afterwards(harness_of(mock)):
        mock.clock.advance(2 * 86_520)
    assert mock.clock.now()["offset_seconds"] == 0
    with pytest.raises(RuntimeError), real_time_afterwards(harness_of(mock)):
        mock.clock.advance(60)
        raise RuntimeError("the partner did not answer")
    assert mock.clock.now()["offset_seconds"] == 0


def test_a_shared_mocks_clock_gets_its_own_offset_back(mock: MockIMS) -> None:
    # Someone else's test had moved the clock of a mock the suite only borrows ([ims] url).
    mock.clock.reset()
    mock.clock.advance(3600)
    with real_time_afterwards(harness_of(mock)):
        mock.clock.advance(2 * 86_520)
    assert mock.clock.now()["offset_seconds"] == 3600
    mock.clock.reset()


def describe(tmp_path: Path, extra: str = "") -> Path:
    """A partner the suite does not start (no command): only the mock and the registration."""
    path = tmp_path / "partner.toml"
    path.write_text(f'[partner]\nbase_url = "http://127.0.0.1:9"\nready_path = "/"\n{extra}')
    return path


def test_the_app_cannot_touch_the_evidence_in_the_suites_own_mock(tmp_path: Path) -> None:
    # The app knows the mock's URL; what it may not do is erase the journal it is judged on.
    owned = MockIMS(_mock_config(load(describe(tmp_path))), admin_token="only-the-suite-knows").start()
    try:
        httpx.get(f"{owned.url}/ims/.well-known/openid-configuration", timeout=5).raise_for_status()
        as_the_app = httpx.delete(f"{owned.url}/__admin/journal", timeout=5)
        assert as_the_app.status_code == 401
        assert [e["endpoint"] for e in owned.journal.entries()] == ["discovery"]  # the suite still reads it
    finally:
        owned.stop()


def test_the_suites_own_mock_gets_a_fresh_admin_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens: list[str | None] = []

    class Recording(MockIMS):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            tokens.append(kwargs.get("admin_token"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(harness_module, "MockIMS", Recording)
    monkeypatch.setattr(harness_module, "wait_until_answering", lambda url, timeout, **_: None)
    for run in ("first", "second"):
        harness = prepare(load(describe(tmp_path)), tmp_path / run)
        assert harness.warnings == []
        harness.close()
    assert all(tokens) and len(set(tokens)) == 2


def test_a_shared_mock_without_an_admin_token_is_a_warning_in_the_report(
    tmp_path: Path, mock: MockIMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness_module, "wait_until_answering", lambda url, timeout, **_: None)
    shared = f'[ims]\nurl = "{mock.url}"\nclient_id = "{mock.default_client.client_id}"\n'
    harness = prepare(load(describe(tmp_path, shared)), tmp_path / "report")
    try:
        assert len(harness.warnings) == 1
        assert "no admin token" in harness.warnings[0] and mock.url in harness.warnings[0]
    finally:
        harness.close()

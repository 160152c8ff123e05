"""What the suite sets up around a partner: its registration at the mock, and the mock's time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from conformance.config import load
from conformance.harness import Harness, _partner_client
from conformance.probes import real_time_afterwards
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

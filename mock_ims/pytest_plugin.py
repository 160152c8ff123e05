"""The pytest plugin (entry point `pytest11`): a mock IMS for a partner's own test suite.

    def test_login(mock_ims):               # a server for the session, reset for each test
        mock_ims.clock.advance(86_400)       # same calls as the admin API
        assert mock_ims.journal.entries(endpoint="token") == []

Override `mock_ims_config` (session scope) in a conftest.py to use your own clients and users.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_ims.config import MockConfig
from mock_ims.running import MockIMS


@pytest.fixture(scope="session")
def mock_ims_config() -> MockConfig | str | Path | None:
    """The configuration the session's mock starts with: a MockConfig, a TOML path, or None
    for the built-in one. Override it in your conftest.py."""
    return None


@pytest.fixture(scope="session")
def mock_ims_server(mock_ims_config: MockConfig | str | Path | None) -> Iterator[MockIMS]:
    """One mock IMS on a free loopback port for the whole session."""
    with MockIMS.running(config=mock_ims_config) as ims:
        yield ims


@pytest.fixture
def mock_ims(mock_ims_server: MockIMS) -> MockIMS:
    """The session's mock IMS, reset to its configured state before the test."""
    mock_ims_server.reset()
    return mock_ims_server


@pytest.fixture
def mock_ims_url(mock_ims: MockIMS) -> str:
    """The base URL of the (reset) mock IMS: what your app uses instead of IMS's."""
    return mock_ims.url

"""Fixtures shared by every test: in-process apps, real servers, and a real Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from conformance.browser.chromium import launch_args
from mock_ims import MockIMS
from mock_ims.config import MockConfig, default_config
from mock_ims.serving.app import create_app
from mock_ims.state.context import Context, Settings
from mock_ims.tls.interception import Interception
from tests.helpers.redis_server import redis_server

BASE = "http://127.0.0.1:8765"


BROWSER_FIXTURES = frozenset({"page", "context", "browser", "playwright", "new_context"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last.

    pytest-playwright's sync API keeps an event loop running in the main thread for the rest of
    the session once a browser test starts, and asyncio tests cannot run after that. Tests that
    use a browser fixture are marked `browser` here in case their module forgot.
    """
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def config() -> MockConfig:
    return default_config()


@pytest.fixture
def ims_context(config: MockConfig) -> Context:
    return Context(Settings(config))


@pytest.fixture
async def ims(ims_context: Context) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to an in-process mock (no sockets), at a loopback base URL."""
    app = create_app(ims_context.settings, context=ims_context)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server on loopback for the session; tests keep apart by key prefix. Skips when
    redis-server is not installed."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright: launch the Chromium this machine has (see conformance.browser.chromium)."""
    return {**browser_type_launch_args, **launch_args()}


@pytest.fixture(scope="module")
def proxied_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockIMS]:
    """A mock on a free port with its intercepting proxy: IMS's and Lightroom's real hostnames."""
    with MockIMS.running(data_dir=tmp_path_factory.mktemp("proxied-mock-data")) as ims:
        ims.intercept()
        yield ims


@pytest.fixture
def interception(proxied_mock: MockIMS) -> Interception:
    """The proxy of `proxied_mock`, with the journal cleared for this test."""
    proxied_mock.journal.clear()
    assert proxied_mock.interception is not None
    return proxied_mock.interception

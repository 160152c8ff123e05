"""Fixtures of the reference client's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mock_ims.state.context import Context
from tests.reference_client.harness import InProcess, in_process


@pytest.fixture
async def rc(ims_context: Context, tmp_path: Path) -> AsyncIterator[InProcess]:
    """The reference client and the mock IMS in this process, talking through ASGI."""
    running = await in_process(ims_context, tmp_path / "data")
    try:
        yield running
    finally:
        await running.aclose()

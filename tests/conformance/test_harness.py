"""What the suite sets up around a partner: its registration at the mock, and the mock's time."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from conformance.config import load
from conformance.harness import Harness, _partner_client
from conformance.probes import real_time_afterwards


def test_the_partner_is_registered_with_its_redirect_uri_as_the_default(tmp_path: Path) -> None:
    # The Developer Console requires a default redirect URI; IMS falls back to it when an
    # authorize request has none, and authorize.code-flow is the check that says so.
    path = tmp_path / "partner.toml"
    path.write_text('[partner]\nbase_url = "http://127.0.0.1:8000"\ncallback = "/auth/done"\n')
    client = _partner_client(load(path))
    assert client.default_redirect_uri == "http://127.0.0.1:8000/auth/done"


class FakeClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> dict[str, Any]:
        self.offset += seconds
        return {"offset_seconds": self.offset}

    def reset(self) -> dict[str, Any]:
        self.offset = 0.0
        return {"offset_seconds": 0}


def test_probes_put_the_mock_clock_back_even_when_they_fail() -> None:
    # Left ahead, the clock would date every later login's ID token in the partner's future.
    clock = FakeClock()
    harness = cast(Harness, SimpleNamespace(ims=SimpleNamespace(clock=clock)))
    with real_time_afterwards(harness):
        clock.advance(2 * 86_520)
    assert clock.offset == 0
    with pytest.raises(RuntimeError), real_time_afterwards(harness):
        clock.advance(60)
        raise RuntimeError("the partner did not answer")
    assert clock.offset == 0

"""What the suite sets up around a partner: its registration at the mock."""

from __future__ import annotations

from pathlib import Path

from conformance.config import load
from conformance.harness import _partner_client


def test_the_partner_is_registered_with_its_redirect_uri_as_the_default(tmp_path: Path) -> None:
    # The Developer Console requires a default redirect URI; IMS falls back to it when an
    # authorize request has none, and authorize.code-flow is the check that says so.
    path = tmp_path / "partner.toml"
    path.write_text('[partner]\nbase_url = "http://127.0.0.1:8000"\ncallback = "/auth/done"\n')
    client = _partner_client(load(path))
    assert client.default_redirect_uri == "http://127.0.0.1:8000/auth/done"

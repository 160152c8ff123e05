"""The conformance suite judges an app that calls IMS's real hostnames (`real_hostnames = true`)
exactly as it judges the same app pointed at the mock's base URL: same checks, same verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.conformance_runs import ID_TOKEN_IGNORED, run_conformance

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "unchanged"
DESCRIPTION = EXAMPLES / "python-app.toml"
BASE_URL_ENV = 'env = { IMS_BASE_URL = "{ims_url}", LIGHTROOM_BASE_URL = "{lightroom_url}", '


def run_suite(config: Path, report: Path) -> dict[str, Any]:
    return run_conformance(config, report, cwd=EXAMPLES).results


def verdicts(results: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in results["results"]}


def test_the_python_app_gets_the_same_verdicts_through_the_proxy_as_at_the_base_url(tmp_path: Path) -> None:
    proxy_mode = tmp_path / "real-hostnames.toml"
    proxy_mode.write_text(DESCRIPTION.read_text().replace("[partner]\n", f'[partner]\ncwd = "{EXAMPLES}"\n'))
    base_mode = tmp_path / "base-url.toml"
    base_mode.write_text(
        proxy_mode.read_text()
        .replace("real_hostnames = true", "real_hostnames = false")
        .replace("env = { ", BASE_URL_ENV)
    )
    assert base_mode.read_text() != proxy_mode.read_text()

    through_proxy = run_suite(proxy_mode, tmp_path / "proxy-report")
    at_base_url = run_suite(base_mode, tmp_path / "base-report")

    assert verdicts(through_proxy) == verdicts(at_base_url)
    assert len(verdicts(through_proxy)) >= 25
    # It takes the user from the profile and never validates the ID token (ID_TOKEN_IGNORED).
    not_passed = {k: v for k, v in verdicts(through_proxy).items() if v not in ("PASS", "SKIP")}
    assert not_passed == {k: v for k, v in ID_TOKEN_IGNORED.items() if v == "WARN"}, verdicts(through_proxy)
    # The app really talked to the real hostnames, the browser included.
    assert through_proxy["mock_url"] == "https://ims-na1.adobelogin.com"
    log = (tmp_path / "proxy-report" / "partner.log").read_text()
    assert "IMS https://ims-na1.adobelogin.com, Lightroom https://lr.adobe.io" in log
    assert at_base_url["mock_url"].startswith("http://127.0.0.1:")

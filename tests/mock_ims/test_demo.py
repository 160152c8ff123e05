"""The README's first command: `mock-ims demo` (what ./scripts/serve runs), used as a new user would."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.helpers.processes import wait_until_ready

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = Path(tmp_path_factory.mktemp("demo"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_ims",
            "demo",
            "--port",
            "0",
            "--client-port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    found = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Open http" in line:
                found.set()
        found.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert found.wait(30), "".join(lines)
        match = re.search(r"Open (http://\S+?)/? and sign in", "".join(lines))
        assert match, "".join(lines)
        url = match.group(1)
        wait_until_ready(url, process=process)
        yield url
    finally:
        process.terminate()
        process.wait(15)
        if process.stdout is not None:
            process.stdout.close()
    assert (data_dir / "reference-client" / "tokens.db").exists()


def test_a_new_user_opens_the_url_signs_in_and_sees_the_profile(page: Page, demo: str) -> None:
    page.goto(demo)
    page.click("#sign-in")
    page.click('button[data-user="alice@example.com"]')
    page.wait_for_url(f"{demo}/profile")
    assert page.inner_text("#display-name") == "Alice Example"
    assert page.inner_text("#email") == "alice@example.com"
    assert "subscriber" in page.inner_text("body")

"""Finding a Chromium for Playwright to drive.

Order of choice (docs/design-notes.md §5): `MOCK_IMS_CHROMIUM` if set, then a Playwright-managed browser
if one is installed, then a system Chromium. Playwright cannot download its own browser on a
closed network, so the system one is the usual answer here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ENV_VAR = "MOCK_IMS_CHROMIUM"
SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium reaches for Google services at start; on a closed network that only slows it down.
QUIET_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
)


class BrowserNotFound(RuntimeError):
    """No Chromium could be found; the message names the fix."""


def _playwright_managed() -> str | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:  # Playwright raises its own error types when no browser is installed
        return None
    return path if path and Path(path).exists() else None


def find_chromium() -> str | None:
    """The Chromium executable to use, or None for Playwright's own (when it is installed)."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        if not Path(explicit).exists():
            raise BrowserNotFound(f"{ENV_VAR}={explicit} does not exist")
        return explicit
    if _playwright_managed():
        return None
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserNotFound(
        "no Chromium found: install one (Debian: apt-get install -y chromium), run "
        f"'playwright install chromium' where that works, or set {ENV_VAR} to a Chromium executable"
    )


def launch_args() -> dict[str, object]:
    """Keyword arguments for Playwright's `chromium.launch`."""
    args: dict[str, object] = {"args": list(QUIET_ARGS)}
    executable = find_chromium()
    if executable:
        args["executable_path"] = executable
    return args

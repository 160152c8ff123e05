"""Installing the Node peers with npm into a temporary folder (reused while the lock file is
unchanged, so a second run does not wait for npm)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

PEERS = Path(__file__).with_name("peers")
FILES = ("package.json", "package-lock.json", "oidc_provider.mjs", "oauth2_mock_server.mjs")


class NpmError(RuntimeError):
    """npm or node is missing, or `npm ci` failed."""


def missing_tools() -> list[str]:
    return [tool for tool in ("node", "npm") if shutil.which(tool) is None]


def install(*, fresh: bool = False, timeout: float = 300.0) -> Path:
    """A folder holding the peers' scripts and their node_modules; returns its path."""
    missing = missing_tools()
    if missing:
        raise NpmError(f"{' and '.join(missing)} not installed; the peers need Node.js 20.19+ and npm")
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((PEERS / name).read_bytes())
    folder = Path(tempfile.gettempdir()) / f"mock-ims-bench-peers-{digest.hexdigest()[:12]}"
    if fresh and folder.exists():
        shutil.rmtree(folder)
    if (folder / "node_modules" / ".package-lock.json").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(PEERS / name, folder / name)
    try:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.CalledProcessError as exc:
        raise NpmError(f"npm ci in {folder} failed:\n{exc.stdout}\n{exc.stderr}") from exc
    except subprocess.TimeoutExpired as exc:
        raise NpmError(f"npm ci in {folder} took more than {timeout:g}s") from exc
    return folder

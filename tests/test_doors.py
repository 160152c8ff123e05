"""The doors between the rooms hold: `nox -s lint` runs import-linter with the contracts in
pyproject.toml, and a forbidden import breaks it. Each case copies the three packages, adds one
import a contract forbids, and sees `lint-imports` name the contract it broke."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("mock_ims", "reference_client", "conformance")


def copy_of_the_house(target: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "node_modules")
        )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def lint_imports(house: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=house,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(house), "PATH": "/usr/bin:/bin"},
    )


def test_the_house_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    result = lint_imports(copy_of_the_house(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        (
            "mock_ims/protocol/errors.py",
            "from mock_ims.serving import app",
            "mock_ims: each room imports only the rooms below it",
        ),
        (
            "mock_ims/state/clock.py",
            "import mock_ims.http.params",
            "mock_ims: each room imports only the rooms below it",
        ),
        (
            "conformance/checks/state.py",
            "from conformance.run import plugin",
            "conformance: each room imports only the rooms below it",
        ),
        (
            "conformance/reports/html.py",
            "from conformance.checks import base",
            "conformance: each room imports only the rooms below it",
        ),
        (
            "conformance/stage/harness.py",
            "from conformance.journeys import probes",
            "conformance: each room imports only the rooms below it",
        ),
        (
            "conformance/storage/leaks.py",
            "import conformance.browser.cookies",
            "conformance: each room imports only the rooms below it",
        ),
        ("mock_ims/serving/limits.py", "import reference_client.app", "mock_ims imports neither"),
        ("reference_client/config.py", "import mock_ims", "reference_client imports neither"),
        (
            "conformance/checks/authorize.py",
            "from mock_ims.protocol import scopes",
            "conformance imports mock_ims, not its rooms",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, forbidden: str, contract: str
) -> None:
    house = copy_of_the_house(tmp_path)
    path = house / module
    path.write_text(path.read_text("utf-8") + f"\n{forbidden}  # noqa\n", "utf-8")

    result = lint_imports(house)

    assert result.returncode != 0
    summary = " ".join(result.stdout.split())  # import-linter wraps long contract names
    verdict = re.search(re.escape(contract) + r".*? (KEPT|BROKEN)\b", summary)
    assert verdict and verdict.group(1) == "BROKEN", result.stdout

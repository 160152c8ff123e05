"""The package's public names, and its independence from the mock."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import reference_client

PACKAGE = Path(reference_client.__file__).parent


def test_all_names_exactly_the_public_names_imported_at_the_top() -> None:
    public = {
        name
        for name, value in vars(reference_client).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(reference_client.__all__) == public | {"__version__"}
    assert reference_client.__all__ == sorted(reference_client.__all__)


def test_the_reference_client_imports_nothing_from_the_mock() -> None:
    """It must work against the real IMS unchanged: it knows IMS only over HTTP."""
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] in ("mock_ims", "conformance", "tests") for name in names), path

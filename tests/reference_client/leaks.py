"""Finding the reference client's tokens at rest, with the judge's own scanner
(`conformance.storage.leaks`: every encoding, JWT segment and compressed form
`storage.encrypted` looks for), so the reference client's tests and the conformance suite can
never disagree on a leak."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from conformance.storage.leaks import Finding, Secret, needles_for, scan_bytes


def find_leaks(tokens: Iterable[str], files: Iterable[Path]) -> list[Finding]:
    needles = needles_for(Secret.labelled("token", token) for token in tokens)
    return [
        finding
        for path in files
        if path.is_file()
        for finding in scan_bytes(path.read_bytes(), needles, f"file {path}")
    ]


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())

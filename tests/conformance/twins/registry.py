"""What an evil twin is: the reference client broken on purpose in one way, built in code.

Each twin names the check it is built to break and says, in one line, what it does wrong; its
`build` turns the reference client's settings into the broken app. The reference client itself
has no switch for any of this: every twin replaces a collaborator (`Components`) or wraps a
route, here in the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp

from reference_client.config import Settings

Build = Callable[[Settings], ASGIApp]


@dataclass(frozen=True)
class Twin:
    name: str
    breaks: str | None  # the check id it is built to fail; None: it proves a SKIP, not a failure
    flaw: str  # what it does wrong, in one line
    build: Build


TWINS: dict[str, Twin] = {}


def twin(name: str, *, breaks: str | None, flaw: str) -> Callable[[Build], Build]:
    """Register `build` as the twin `name`."""

    def register(build: Build) -> Build:
        if name in TWINS:
            raise ValueError(f"twin {name} registered twice")
        TWINS[name] = Twin(name, breaks, flaw, build)
        return build

    return register

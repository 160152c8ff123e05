"""Sessions: `tests` (the whole suite), `lint` (ruff, import-linter), `typecheck` (mypy), `fuzz` (Schemathesis),
`load` (the full load run; the suite runs a short one); and, only when asked for, `bench`
(mock-ims against its peers: `nox -s bench`, or `nox -s bench -- --quick`)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

# Pinned so a new release cannot fail CI on a change nobody made.
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"
IMPORT_LINTER = "import-linter==2.17"


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Run the whole test suite (unit, end-to-end in Chromium, interop)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """Ruff (lint and format check) and import-linter (the doors between the rooms, pyproject.toml)."""
    session.install(RUFF, IMPORT_LINTER)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """Mypy, strict, on the packages."""
    session.install("-e", ".[test]", MYPY)
    session.run("mypy")


@nox.session(python="3.11")
def fuzz(session: nox.Session) -> None:
    """Schemathesis against a real mock's /openapi.json: the bounded run CI does (~2 minutes, a
    fixed seed; `-- --random` for a new one); `nox -s fuzz -- --full` for the long one (~20 minutes)."""
    session.install("-e", ".[fuzz]")
    session.run("python", "scripts/fuzz.py", *session.posargs)


@nox.session(python="3.11")
def load(session: nox.Session) -> None:
    """100 login flows at a time for 60 s on a real mock (tests/mock_ims/test_load.py)."""
    session.install("-e", ".[test]")
    env = {"MOCK_IMS_LOAD_SECONDS": "60", "MOCK_IMS_LOAD_CONCURRENCY": "100"}
    session.run("pytest", "tests/mock_ims/test_load.py", *session.posargs, env=env)


@nox.session(python="3.11", default=False)
def bench(session: nox.Session) -> None:
    """Benchmark mock-ims against oidc-provider and oauth2-mock-server (needs node and npm);
    arguments go to `python -m benchmarks` (see benchmarks/README.md). wrk and Chromium (for the
    conformance suite's wall time) come from Debian, as for the tests."""
    session.run("bash", "scripts/install-system-deps", external=True)
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks", *session.posargs)

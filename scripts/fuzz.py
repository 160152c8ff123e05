"""Fuzz a real `mock-ims serve` with Schemathesis, driven by its own /openapi.json.

    python scripts/fuzz.py [--full] [--seed N | --random]

The short run (CI's) uses a fixed seed; `--full` and `--random` take a new one each time.

Two mocks are started on free loopback ports, because the control plane changes what the IMS
endpoints answer (a fault rule makes them answer anything; a reset or a removed client changes
who they know):

- the IMS endpoints, discovery, the Lightroom stub and /openapi.json are fuzzed on one, with the
  default client's credentials and a live access token (scripts/schemathesis.toml);
- the control plane (/__admin/...) and the dashboard are fuzzed on the other.

Every check runs but positive_data_acceptance, kept only where any well-formed request must
succeed (see scripts/schemathesis.toml). After each run the server must still be up and its log
must hold no traceback. Exit status 0 only when both runs pass.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "scripts" / "schemathesis.toml"
sys.path.insert(0, str(ROOT))  # the tests' process helpers start the mocks, as they do in the tests
from tests.helpers.processes import RunningProcess, mock_ims_process  # noqa: E402

CI_SEED = 224687296303525538545427269262413033028
CLIENT_ID = "mock-partner-app"
CLIENT_SECRET = "mock-partner-secret"


def live_access_token(url: str) -> str:
    """An access token of the default user, minted through the admin API before fuzzing."""
    answer = httpx.post(
        f"{url}/__admin/tokens",
        json={"kind": "access_token", "user": "alice@example.com", "lifetime": 86_400 * 365},
    )
    answer.raise_for_status()
    token: str = answer.json()["token"]
    return token


@dataclass
class Outcome:
    name: str
    status: int
    test_cases: int
    server_ok: bool


def run_schemathesis(
    name: str, server: RunningProcess, filters: list[str], args: argparse.Namespace, env: dict[str, str]
) -> Outcome:
    command = [
        "schemathesis",
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/openapi.json",
        *filters,
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(args.max_time),
        "--request-timeout",
        "10",
        # One worker: Hypothesis in several threads of Python 3.11 trips over ast.parse.
        "--workers",
        "1",
        "--report",
        "junit",
        "--report-dir",
        str(args.report_dir / name),
        "--no-color",
    ]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    print(f"\n=== fuzz {name}: {' '.join(command)}", flush=True)
    result = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    print(result.stdout[-20_000:], result.stderr[-5_000:], sep="\n", flush=True)
    generated = re.search(r"(\d+) generated", result.stdout)
    alive = server.process.poll() is None
    log = server.text()
    clean = "Traceback" not in log and "unexpected error" not in log
    if not alive:
        print(f"fuzz {name}: the server died:\n{log[-5000:]}", flush=True)
    elif not clean:
        print(f"fuzz {name}: the server logged an error:\n{log[-5000:]}", flush=True)
    return Outcome(name, result.returncode, int(generated.group(1)) if generated else 0, alive and clean)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="the long run (about 20 minutes), not CI's 2")
    parser.add_argument("--max-examples", type=int, default=None, help="test cases per operation and phase")
    parser.add_argument("--max-time", type=int, default=None, help="seconds each of the two runs may take")
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run")
    parser.add_argument(
        "--random",
        action="store_true",
        help="a new seed for the short run too (the full run always takes one)",
    )
    parser.add_argument("--report-dir", type=Path, default=ROOT / "fuzz-report")
    args = parser.parse_args(argv)
    args.max_examples = args.max_examples or (200 if args.full else 25)
    args.max_time = args.max_time or (600 if args.full else 60)
    if args.seed is None and not (args.full or args.random):
        # CI's short run explores the same cases every time (up to its time bound), so a
        # submission fails for what it changed, not for where a new seed happened to look.
        args.seed = CI_SEED

    outcomes = []
    with tempfile.TemporaryDirectory(prefix="mock-ims-fuzz-") as tmp:
        with mock_ims_process(data_dir=Path(tmp) / "ims", timeout=30) as ims:
            env = {
                "MOCK_IMS_FUZZ_CLIENT_ID": CLIENT_ID,
                "MOCK_IMS_FUZZ_CLIENT_SECRET": CLIENT_SECRET,
                "MOCK_IMS_FUZZ_ACCESS_TOKEN": live_access_token(ims.url),
            }
            outcomes.append(
                run_schemathesis("ims", ims, ["--exclude-path-regex", "^/(__admin/.*)?$"], args, env)
            )
        with mock_ims_process(data_dir=Path(tmp) / "admin", timeout=30) as admin:
            outcomes.append(
                run_schemathesis("admin", admin, ["--include-path-regex", "^/(__admin/.*)?$"], args, env)
            )

    print("\n=== fuzz summary")
    for outcome in outcomes:
        verdict = "passed" if outcome.status == 0 and outcome.server_ok else "FAILED"
        print(f"  {outcome.name}: {outcome.test_cases} requests generated, {verdict}")
    print(f"  total: {sum(o.test_cases for o in outcomes)} requests generated")
    failed = [o for o in outcomes if o.status != 0 or not o.server_ok]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m benchmarks` (what `nox -s bench` runs): one bounded run, loopback only.

1. the RS256 signing ceiling of this machine;
2. `mock-ims serve` time to first answer;
3. mock-ims (1 worker, memory store), mock-ims (2 workers, SQLite store), oidc-provider and
   oauth2-mock-server started side by side, each warmed up, then each scenario driven at each
   server in turn with wrk: client_credentials, refresh_token, authorization_code;
4. the conformance suite's wall time against the reference client, when its example exists;
5. the table, printed and written as JSON and Markdown under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import ceiling, npm, procs, startup, suite
from benchmarks.httpclient import Connection
from benchmarks.load import Load, LoadError, LoadResult, combine, result_of, run_wrk, wrk_path
from benchmarks.report import Report
from benchmarks.servers import (
    CLIENT_CREDENTIALS,
    SCENARIOS,
    Running,
    StartError,
    Target,
    first_token,
    mock_target,
    peer_targets,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_RATE = 5000.0  # req/s assumed when sizing a pool without a client_credentials result


@dataclass(frozen=True)
class Plan:
    seconds: int  # per scenario, server and round
    rounds: int  # every server in turn, this many times; the table shows the median round
    warmup: int
    connections: int
    threads: int
    ceiling_seconds: float
    ready_starts: int
    pool_margin: float  # pools hold this many times the tokens the server's cc rate would use
    suite: bool
    deadline: float  # the whole run, seconds
    quick: bool = False


FULL = Plan(
    seconds=5,
    rounds=3,
    warmup=2,
    connections=20,
    threads=2,
    ceiling_seconds=2.0,
    ready_starts=5,
    pool_margin=1.5,
    suite=True,
    deadline=900.0,
)
QUICK = Plan(
    seconds=1,
    rounds=1,
    warmup=0,
    connections=8,
    threads=2,
    ceiling_seconds=0.2,
    ready_starts=1,
    pool_margin=1.5,
    suite=False,
    deadline=180.0,
    quick=True,
)


_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"bench: [{time.monotonic() - _STARTED:5.1f}s] {message}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (1 s per scenario, no suite)")
    parser.add_argument("--seconds", type=int, help="seconds of load per scenario, server and round")
    parser.add_argument("--rounds", type=int, help="rounds over every server (the table shows medians)")
    parser.add_argument("--connections", type=int, help="wrk connections (default 20)")
    parser.add_argument(
        "--servers", help="comma-separated subset: mock-ims, mock-ims-2w, oidc-provider, oauth2-mock-server"
    )
    parser.add_argument("--scenarios", help=f"comma-separated subset of {', '.join(SCENARIOS)}")
    parser.add_argument("--no-peers", action="store_true", help="benchmark mock-ims alone (no npm)")
    parser.add_argument("--no-suite", action="store_true", help="skip the conformance suite timing")
    parser.add_argument("--fresh-npm", action="store_true", help="reinstall the peers from the registry")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON and Markdown go")
    return parser


def _version(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (
        (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _pool_size(report: Report, target: Target, plan: Plan) -> int:
    """Values one round consumes at most: the server's client_credentials rate (no grant is
    faster than that one) for the round's length, with a margin."""
    cc = report.result(target.key, CLIENT_CREDENTIALS)
    rate = cc.rps if cc is not None and cc.rps > 0 else DEFAULT_RATE
    return math.ceil(rate * plan.seconds * plan.pool_margin) + 4 * plan.connections


async def _preflight(target: Target, running: Running, body: str) -> None:
    """One request of the scenario, so a broken set-up fails loudly instead of as errors."""
    connection = Connection(running.url)
    try:
        answer = await connection.request(
            "POST",
            target.token_path,
            body=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": target.authorization,
            },
        )
    finally:
        await connection.close()
    if answer.status != 200 or b"access_token" not in answer.body:
        raise StartError(f"{target.label}: preflight answered {answer.status}: {answer.body[:400]!r}")


def _idle_rss(target: Target, running: Running) -> dict[str, object]:
    workers = [running.process.pid]
    if target.workers > 1:
        # The supervisor's children, less multiprocessing's resource tracker.
        workers = [pid for pid in procs.children(running.process.pid) if "spawn_main" in procs.cmdline(pid)]
    per_worker = [round(procs.rss_mb(pid), 1) for pid in workers]
    return {
        "idle_rss_mb": round(sum(procs.rss_mb(pid) for pid in running.pids), 1),
        "idle_rss_per_worker_mb": per_worker,
    }


def _measure(
    target: Target, running: Running, scenario: str, plan: Plan, pool: Path | None, size: int
) -> LoadResult:
    load = Load(
        url=running.url + target.token_path,
        authorization=target.authorization,
        threads=plan.threads,
        connections=plan.connections,
        seconds=plan.seconds,
        body=target.body(scenario) if pool is None else "",
        pool_file=pool,
    )
    pids = running.pids
    summary, usage, generator = run_wrk(load, pids)
    rss = sum(procs.rss_mb(pid) for pid in pids)
    result = result_of(
        target.key,
        scenario,
        summary,
        usage,
        generator,
        rss_mb=rss,
        signatures=target.signatures[scenario],
        pool_size=size,
    )
    say(
        f"  {target.key:<20} {scenario:<19} {result.rps:>8,.0f} req/s  p99 {result.p99_ms:6.1f} ms  "
        f"errors {result.errors}  cpu {result.server_cores:.2f}  wrk {result.generator_cores:.2f}  "
        f"load {result.load_average:.1f}"
    )
    return result


def run(plan: Plan, args: argparse.Namespace) -> Report:
    """Every measurement the plan asks for, all servers side by side, in one report."""
    started = time.monotonic()
    report = _new_report(plan)

    def over_time() -> bool:
        if time.monotonic() - started > plan.deadline:
            report.notes.append(f"stopped early: the run's {plan.deadline:g} s bound was reached")
            return True
        return False

    wanted_servers = set(args.servers.split(",")) if args.servers else None
    scenarios = [s for s in SCENARIOS if not args.scenarios or s in args.scenarios.split(",")]
    with tempfile.TemporaryDirectory(prefix="mock-ims-bench-") as tmp:
        workdir = Path(tmp)
        _ceiling_and_startup(report, plan, workdir, wanted_servers)
        targets = _targets(report, args, wanted_servers)
        running: dict[str, Running] = {}
        try:
            _start(targets, running, report, workdir)
            _warm_up(targets, running, plan)
            for scenario in scenarios:
                if over_time():
                    break
                _scenario(scenario, targets, running, report, plan, workdir)
        finally:
            for server in running.values():
                server.stop()
        if plan.suite and not args.no_suite and not over_time():
            say("conformance suite against the reference client")
            report.suite = suite.measure(ROOT, workdir / "suite")
    report.machine["load_end"] = [round(x, 2) for x in procs.load_average()]
    report.finished = datetime.now(UTC).isoformat(timespec="seconds")
    return report


def _new_report(plan: Plan) -> Report:
    return Report(
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        machine={
            "cores": os.cpu_count() or 1,
            "cpu": _cpu_model(),
            "python": platform.python_version(),
            "node": _version(["node", "--version"]) if shutil.which("node") else None,
            "load_start": [round(x, 2) for x in procs.load_average()],
        },
        settings={**asdict(plan), "wrk_version": _version(["wrk", "-v"]).split(" [")[0]},
    )


def _ceiling_and_startup(report: Report, plan: Plan, workdir: Path, wanted_servers: set[str] | None) -> None:
    cores = os.cpu_count() or 1
    say(f"signing ceiling ({plan.ceiling_seconds:g} s on 1 core, then on {cores})")
    report.ceiling = ceiling.measure(plan.ceiling_seconds, cores)
    if wanted_servers is None or wanted_servers & {"mock-ims", "mock-ims-2w"}:
        say("mock-ims serve: time to first answer")
        report.startup = startup.measure(workdir / "ready", plan.ready_starts)


def _targets(report: Report, args: argparse.Namespace, wanted_servers: set[str] | None) -> list[Target]:
    """The servers to measure: mock-ims (one process, memory; two workers, SQLite) and its peers."""
    targets = [mock_target(1, "memory"), mock_target(2, "sqlite")]
    if not args.no_peers:
        say("installing the peers with npm (a temporary folder, reused while the lock file is unchanged)")
        targets += peer_targets(npm.install(fresh=args.fresh_npm))
    else:
        report.notes.append("peers not run (--no-peers)")
    return [t for t in targets if wanted_servers is None or t.key in wanted_servers]


def _start(targets: list[Target], running: dict[str, Running], report: Report, workdir: Path) -> None:
    """Start each server, wait for its first token, note its idle memory."""
    for target in targets:
        say(f"starting {target.label}")
        running[target.key] = target.start(workdir / target.key)
        asyncio.run(first_token(target, running[target.key]))
        report.servers[target.key] = {
            "label": target.label,
            "is_mock": target.is_mock,
            "how": target.how,
            **_idle_rss(target, running[target.key]),
        }


def _warm_up(targets: list[Target], running: dict[str, Running], plan: Plan) -> None:
    if not plan.warmup:
        return
    say(f"warming up ({plan.warmup} s of client_credentials each)")
    warm = replace(plan, seconds=plan.warmup)
    for target in targets:
        run_wrk(
            Load(
                url=running[target.key].url + target.token_path,
                authorization=target.authorization,
                threads=warm.threads,
                connections=warm.connections,
                seconds=warm.seconds,
                body=target.body(CLIENT_CREDENTIALS),
            ),
            running[target.key].pids,
        )


def _pools(
    scenario: str,
    targets: list[Target],
    running: dict[str, Running],
    report: Report,
    plan: Plan,
    workdir: Path,
) -> tuple[dict[str, list[Path]], dict[str, int]]:
    """For grants that spend what they present (codes, refresh tokens): a file of fresh request
    bodies per server and round, minted before the clock starts."""
    pools: dict[str, list[Path]] = {}
    sizes: dict[str, int] = {}
    if scenario == CLIENT_CREDENTIALS:
        return pools, sizes
    for target in targets:
        size = sizes[target.key] = _pool_size(report, target, plan)
        say(f"minting {size * plan.rounds:,} {scenario} values for {target.key}")
        bodies = asyncio.run(target.bodies(running[target.key], scenario, size * plan.rounds + 1))
        asyncio.run(_preflight(target, running[target.key], bodies.pop()))
        pools[target.key] = []
        for index in range(plan.rounds):
            path = workdir / f"{target.key}-{scenario}-{index}.txt"
            path.write_text("\n".join(bodies[index * size : (index + 1) * size]) + "\n")
            pools[target.key].append(path)
    return pools, sizes


def _scenario(
    scenario: str,
    targets: list[Target],
    running: dict[str, Running],
    report: Report,
    plan: Plan,
    workdir: Path,
) -> None:
    pools, sizes = _pools(scenario, targets, running, report, plan, workdir)
    say(
        f"{scenario}: {plan.rounds} round(s) of {plan.seconds} s on each server, {plan.connections} connections"
    )
    rounds: dict[str, list[LoadResult]] = {t.key: [] for t in targets}
    for index in range(plan.rounds):
        # Each round starts with another server, so none is always measured first.
        for target in targets[index % len(targets) :] + targets[: index % len(targets)]:
            pool = pools[target.key][index] if target.key in pools else None
            rounds[target.key].append(
                _measure(target, running[target.key], scenario, plan, pool, sizes.get(target.key, 0))
            )
    for target in targets:
        report.rounds += rounds[target.key]
        report.results.append(combine(rounds[target.key]))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.seconds:
        plan = replace(plan, seconds=args.seconds)
    if args.connections:
        plan = replace(plan, connections=args.connections)
    if args.rounds:
        plan = replace(plan, rounds=args.rounds)
    if wrk_path() is None:
        print("bench: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if not args.no_peers and npm.missing_tools():
        print(
            f"bench: {' and '.join(npm.missing_tools())} not installed; install Node.js 20.19+ or pass --no-peers",
            file=sys.stderr,
        )
        return 2
    try:
        report = run(plan, args)
    except (StartError, LoadError, npm.NpmError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print(report.markdown())
    stem = "quick" if plan.quick else datetime.now(UTC).strftime("bench-%Y%m%dT%H%M%SZ")
    json_path, markdown_path = report.write(args.out, stem)
    if not plan.quick:
        report.write(args.out, "latest")
    say(f"wrote {json_path} and {markdown_path}")
    return 0

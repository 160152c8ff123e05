"""Driving load with wrk, and what one load run measured.

wrk (Debian's package) is the generator for every server: the same binary, threads,
connections and duration. It runs on the same machine, so it takes CPU from the server under
test; `generator_cores` says how much.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import procs

LUA = Path(__file__).with_name("lua")
MARKER = "BENCH_JSON "


class LoadError(RuntimeError):
    """wrk is missing, failed, or printed no result."""


def wrk_path() -> str | None:
    return shutil.which("wrk")


@dataclass
class LoadResult:
    """One scenario against one server."""

    server: str
    scenario: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # non-2xx answers, timeouts and socket errors
    error_detail: dict[str, int]
    server_cores: float  # CPU the server's processes used, in cores (CPU seconds per second)
    generator_cores: float
    rss_mb: float  # the server's resident memory at the end of the run (all its processes)
    signatures: int  # RS256 signatures one request costs this server
    pool_exhausted: bool = False
    pool_size: int = 0
    load_average: float = 0.0  # the machine's 1-minute load average when the run ended
    rounds: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def combine(rounds: list[LoadResult]) -> LoadResult:
    """Rounds of one scenario on one server, as one result: medians of the rates, latencies
    and CPU (a round slowed by something else on the machine does not decide the table),
    totals of requests and errors."""
    first, last = rounds[0], rounds[-1]
    detail: dict[str, int] = {}
    for result in rounds:
        for name, count in result.error_detail.items():
            detail[name] = detail.get(name, 0) + count
    return LoadResult(
        server=first.server,
        scenario=first.scenario,
        requests=sum(r.requests for r in rounds),
        seconds=round(sum(r.seconds for r in rounds), 3),
        rps=statistics.median(r.rps for r in rounds),
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p90_ms=statistics.median(r.p90_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        max_ms=max(r.max_ms for r in rounds),
        errors=sum(r.errors for r in rounds),
        error_detail=detail,
        server_cores=statistics.median(r.server_cores for r in rounds),
        generator_cores=statistics.median(r.generator_cores for r in rounds),
        rss_mb=last.rss_mb,
        signatures=first.signatures,
        pool_exhausted=any(r.pool_exhausted for r in rounds),
        pool_size=sum(r.pool_size for r in rounds),
        load_average=statistics.median(r.load_average for r in rounds),
        rounds=len(rounds),
    )


@dataclass(frozen=True)
class Load:
    url: str
    authorization: str
    threads: int
    connections: int
    seconds: float
    body: str = ""  # the same body on every request
    pool_file: Path | None = None  # or one body per request, from this file


def run_wrk(load: Load, server_pids: list[int]) -> tuple[dict[str, Any], procs.Usage, procs.Usage]:
    """Run wrk once; its summary, the server's CPU use and wrk's own over the run."""
    wrk = wrk_path()
    if wrk is None:
        raise LoadError("wrk is not installed (Debian: apt-get install wrk)")
    command = [
        wrk,
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{max(1, round(load.seconds))}s",
        "--timeout",
        "10s",
    ]
    if load.pool_file is not None:
        command += ["-s", str(LUA / "pool.lua"), load.url, "--", str(load.pool_file), load.authorization]
        command.append(str(load.threads))
    else:
        command += ["-s", str(LUA / "static.lua"), load.url, "--", load.body, load.authorization]
    cpu_before = procs.cpu_seconds(server_pids)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    server = procs.Usage(procs.cpu_seconds(server_pids) - cpu_before, wall)
    generator = procs.Usage(usage.ru_utime + usage.ru_stime, wall)
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    for line in out.splitlines():
        if line.startswith(MARKER):
            summary: dict[str, Any] = json.loads(line[len(MARKER) :])
            return summary, server, generator
    raise LoadError(f"wrk exited with {process.returncode} and no summary:\n{out}\n{err}")


def result_of(
    server: str,
    scenario: str,
    summary: dict[str, Any],
    usage: procs.Usage,
    generator: procs.Usage,
    *,
    rss_mb: float,
    signatures: int,
    pool_size: int = 0,
) -> LoadResult:
    # When a pool ran out, wrk's duration is the time until its last thread stopped.
    seconds = summary["duration_us"] / 1e6
    if summary.get("exhausted") and seconds > 0:
        usage = procs.Usage(usage.cpu_seconds, seconds)
        generator = procs.Usage(generator.cpu_seconds, seconds)
    errors: dict[str, int] = summary["errors"]
    latency = summary["latency_us"]
    return LoadResult(
        server=server,
        scenario=scenario,
        requests=summary["requests"],
        seconds=round(seconds, 3),
        # Answers that were not errors, per second: a fast 400 is not throughput.
        rps=round((summary["requests"] - errors["status"]) / seconds, 1) if seconds else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        errors=sum(errors.values()),
        error_detail={k: v for k, v in errors.items() if v},
        server_cores=round(usage.cores, 2),
        generator_cores=round(generator.cores, 2),
        rss_mb=round(rss_mb, 1),
        signatures=signatures,
        pool_exhausted=bool(summary.get("exhausted")),
        pool_size=pool_size,
        load_average=round(procs.load_average()[0], 2),
    )

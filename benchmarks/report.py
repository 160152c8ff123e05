"""The results of one run: the table, the ratios, the targets met or missed; JSON and Markdown."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.ceiling import Ceiling
from benchmarks.load import LoadResult
from benchmarks.servers import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN, SCENARIOS
from benchmarks.startup import Startup
from benchmarks.suite import SuiteTiming

OIDC_PROVIDER = "oidc-provider"
PEERS = ("oidc-provider", "oauth2-mock-server")


@dataclass
class Verdict:
    target: str
    met: bool | None  # None: not measured
    detail: str

    @property
    def word(self) -> str:
        return {True: "met", False: "MISSED", None: "not measured"}[self.met]


@dataclass
class Report:
    started: str
    machine: dict[str, Any]
    settings: dict[str, Any]
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> label, how, idle RSS
    ceiling: Ceiling | None = None
    startup: Startup | None = None
    results: list[LoadResult] = field(default_factory=list)  # one per server and scenario
    rounds: list[LoadResult] = field(default_factory=list)  # every wrk run they combine
    suite: SuiteTiming | None = None
    notes: list[str] = field(default_factory=list)
    finished: str = ""

    # ---- lookups ----------------------------------------------------------------------

    def result(self, server: str, scenario: str) -> LoadResult | None:
        for result in self.results:
            if result.server == server and result.scenario == scenario:
                return result
        return None

    def mocks(self) -> list[str]:
        return [key for key, info in self.servers.items() if info["is_mock"]]

    def ratio(self, mock: LoadResult, peer: str) -> float | None:
        other = self.result(peer, mock.scenario)
        if other is None or other.rps <= 0:
            return None
        return mock.rps / other.rps

    def efficiency(self, result: LoadResult) -> float | None:
        """Signatures per second over what the cores the server used could sign at most."""
        if self.ceiling is None or result.server_cores <= 0:
            return None
        return result.rps * result.signatures / (self.ceiling.per_core * result.server_cores)

    # ---- targets ----------------------------------------------------------------------

    def verdicts(self) -> list[Verdict]:
        verdicts: list[Verdict] = []
        for mock in self.mocks():
            label = self.servers[mock]["label"]
            cc = self.result(mock, CLIENT_CREDENTIALS)
            oidc = self.result(OIDC_PROVIDER, CLIENT_CREDENTIALS)
            if cc is None or oidc is None or oidc.rps <= 0:
                verdicts.append(
                    Verdict(f"{label}: client_credentials >= 1.5x oidc-provider", None, "no data")
                )
            else:
                ratio = cc.rps / oidc.rps
                verdicts.append(
                    Verdict(
                        f"{label}: client_credentials >= 1.5x oidc-provider, p99 no worse",
                        ratio >= 1.5 and cc.p99_ms <= oidc.p99_ms and cc.errors == 0,
                        f"{ratio:.2f}x ({cc.rps:.0f} vs {oidc.rps:.0f} req/s); "
                        f"p99 {cc.p99_ms:.1f} vs {oidc.p99_ms:.1f} ms; {cc.errors} errors",
                    )
                )
            for scenario in (REFRESH_TOKEN, AUTHORIZATION_CODE):
                mine = self.result(mock, scenario)
                peers = [r for p in PEERS if (r := self.result(p, scenario)) is not None and r.rps > 0]
                if mine is None or not peers:
                    verdicts.append(Verdict(f"{label}: {scenario} >= 1.2x the best peer", None, "no data"))
                    continue
                best = max(peers, key=lambda r: r.rps)
                ratio = mine.rps / best.rps
                valid = mine.errors == 0
                verdicts.append(
                    Verdict(
                        f"{label}: {scenario} >= 1.2x the best peer",
                        ratio >= 1.2 and valid,
                        f"{ratio:.2f}x {best.server} ({mine.rps:.0f} vs {best.rps:.0f} req/s)"
                        + ("" if valid else f"; {mine.errors} errors"),
                    )
                )
            if cc is not None:
                efficiency = self.efficiency(cc)
                verdicts.append(
                    Verdict(
                        f"{label}: client_credentials >= 60% of the signing ceiling for the cores it used",
                        None if efficiency is None else efficiency >= 0.6,
                        "no ceiling"
                        if efficiency is None or self.ceiling is None
                        else f"{efficiency:.0%} ({cc.rps:.0f} signatures/s on {cc.server_cores:.2f} cores; "
                        f"ceiling {self.ceiling.per_core:.0f}/s per core)",
                    )
                )
            idle = self.servers[mock].get("idle_rss_per_worker_mb") or []
            if idle:
                verdicts.append(
                    Verdict(
                        f"{label}: idle RSS <= 60 MB per worker",
                        max(idle) <= 60,
                        ", ".join(f"{mb:.1f} MB" for mb in idle),
                    )
                )
        if self.startup is not None:
            ready = self.startup.ready_median_s
            verdicts.append(
                Verdict(
                    "mock-ims serve: time to ready <= 0.5 s",
                    ready <= 0.5,
                    f"median {ready:.3f} s of {self.startup.ready_s} (keys on disk); "
                    f"first start, keys generated: {self.startup.first_start_s:.3f} s",
                )
            )
        if self.suite is not None:
            if self.suite.seconds is None:
                verdicts.append(Verdict("conformance suite <= 30 s", None, self.suite.skipped or "not run"))
            else:
                verdicts.append(
                    Verdict(
                        "conformance suite <= 30 s",
                        self.suite.seconds <= 30 and self.suite.exit_code == 0,
                        f"{self.suite.seconds:.1f} s, exit {self.suite.exit_code}, verdicts {self.suite.verdicts}",
                    )
                )
        return verdicts

    # ---- output -----------------------------------------------------------------------

    def table(self) -> str:
        peers = [p for p in PEERS if p in self.servers]
        head = [
            "scenario",
            "server",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "CPU (cores)",
            "RSS MB",
            "sig/req",
            "sign eff.",
            *[f"x {p}" for p in peers],
        ]
        rows = [head, ["---"] * len(head)]
        for scenario in SCENARIOS:
            for key in self.servers:
                result = self.result(key, scenario)
                if result is None:
                    continue
                efficiency = self.efficiency(result)
                errors = str(result.errors) + (
                    " (pool ran out, rate over the shorter time)" if result.pool_exhausted else ""
                )
                row = [
                    scenario,
                    key,
                    f"{result.rps:,.0f}",
                    f"{result.p50_ms:.1f}",
                    f"{result.p99_ms:.1f}",
                    errors,
                    f"{result.server_cores:.2f}",
                    f"{result.rss_mb:.0f}",
                    str(result.signatures),
                    "-" if efficiency is None else f"{efficiency:.0%}",
                ]
                for peer in peers:
                    ratio = self.ratio(result, peer) if self.servers[key]["is_mock"] else None
                    row.append("-" if ratio is None else f"{ratio:.2f}")
                rows.append(row)
        return "\n".join("| " + " | ".join(row) + " |" for row in rows)

    def markdown(self) -> str:
        lines = [f"# mock-ims benchmark, {self.started}", ""]
        settings = self.settings
        lines.append(
            f"Generator: {settings['wrk_version']}, {settings['threads']} threads, "
            f"{settings['connections']} connections, {settings['rounds']} round(s) of {settings['seconds']:g} s "
            "per scenario and server (the table shows the median round), on the same "
            f"{self.machine['cores']}-core machine as the servers (it takes CPU from them)."
            + (" Quick run: numbers are indicative only." if settings.get("quick") else "")
        )
        lines.append(
            f"Load average at start {self.machine['load_start']}, at end {self.machine.get('load_end')}."
        )
        lines += ["", self.table(), ""]
        generator = [r for r in self.results if r.generator_cores]
        if generator:
            lines.append(
                "wrk itself used "
                + f"{min(r.generator_cores for r in generator):.2f}-{max(r.generator_cores for r in generator):.2f}"
                + " cores during the runs."
            )
        if self.ceiling is not None:
            lines.append(
                f"RS256 signing ceiling (Python `cryptography`, 2048-bit key): {self.ceiling.per_core:,.0f} "
                f"signatures/s on one core, {self.ceiling.all_cores:,.0f}/s on {self.ceiling.cores} cores at once."
            )
        lines += ["", "## Targets", ""]
        lines += [f"- **{v.word}**: {v.target}: {v.detail}" for v in self.verdicts()]
        lines += ["", "## Servers", ""]
        for key, info in self.servers.items():
            idle = info.get("idle_rss_per_worker_mb")
            lines.append(
                f"- `{key}`: {info['label']}"
                + (f"; idle RSS {info['idle_rss_mb']:.1f} MB" if "idle_rss_mb" in info else "")
                + (
                    f" (per worker: {', '.join(f'{mb:.1f}' for mb in idle)} MB)"
                    if idle and len(idle) > 1
                    else ""
                )
            )
            for scenario, how in info["how"].items():
                lines.append(f"  - {scenario}: {how}")
        if self.startup is not None:
            lines += [
                "",
                f"`mock-ims serve` time to first answer: {self.startup.ready_s} s with keys on disk "
                f"(median {self.startup.ready_median_s:.3f} s); first start, generating keys: "
                f"{self.startup.first_start_s:.3f} s; RSS then {self.startup.idle_rss_mb:.1f} MB.",
            ]
        if self.suite is not None:
            lines += [
                "",
                "Conformance suite against the reference client: "
                + (
                    f"{self.suite.seconds:.1f} s wall time, exit {self.suite.exit_code}, {self.suite.verdicts}"
                    if self.suite.seconds is not None
                    else f"not measured: {self.suite.skipped}"
                ),
            ]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "finished": self.finished,
            "machine": self.machine,
            "settings": self.settings,
            "servers": self.servers,
            "ceiling": self.ceiling.to_dict() if self.ceiling else None,
            "startup": self.startup.to_dict() if self.startup else None,
            "results": [
                {**r.to_dict(), "signing_efficiency": self.efficiency(r)}
                | {
                    f"ratio_vs_{p}": self.ratio(r, p)
                    for p in PEERS
                    if self.servers.get(r.server, {}).get("is_mock") and p in self.servers
                }
                for r in self.results
            ],
            "rounds": [r.to_dict() for r in self.rounds],
            "suite": self.suite.to_dict() if self.suite else None,
            "targets": [asdict(v) | {"word": v.word} for v in self.verdicts()],
            "notes": self.notes,
        }

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        json_path = directory / f"{stem}.json"
        markdown_path = directory / f"{stem}.md"
        json_path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        markdown_path.write_text(self.markdown())
        return json_path, markdown_path

"""Wall time of the full conformance suite against the reference client.

It needs `examples/reference-client.toml`, which arrives with the reference client (issue 4);
without it the measurement is skipped and the report says why.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REFERENCE_CONFIG = Path("examples") / "reference-client.toml"


@dataclass
class SuiteTiming:
    seconds: float | None = None
    exit_code: int | None = None
    verdicts: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(root: Path, report_dir: Path, timeout: float = 600.0) -> SuiteTiming:
    config = root / REFERENCE_CONFIG
    if not config.is_file():
        return SuiteTiming(
            skipped=f"{REFERENCE_CONFIG} is not in this checkout (it comes with the reference client, issue 4)"
        )
    script = Path(sys.executable).with_name("ims-conformance")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "conformance"]
    command = [*base, "run", "--config", str(config), "--report-dir", str(report_dir)]
    started = time.monotonic()
    try:
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return SuiteTiming(skipped=f"the suite did not finish within {timeout:g}s")
    timing = SuiteTiming(seconds=round(time.monotonic() - started, 2), exit_code=result.returncode)
    results = report_dir / "results.json"
    if results.is_file():
        entries = json.loads(results.read_text()).get("results", [])
        timing.verdicts = dict(Counter(str(entry.get("verdict")) for entry in entries))
    return timing

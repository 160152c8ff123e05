"""The RS256 signing ceiling of this machine: how many signatures per second one core (one
process) can make, and all cores together, with the same library and key size as mock-ims.

Run as `python -m benchmarks.ceiling SECONDS`: prints one process's signatures per second.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

# A signing input as long as a mock-ims access token's header and claims (about 560 bytes).
SIGNING_INPUT = b"eyJhbGciOiJSUzI1NiIsIng1dSI6ImltcyJ9." + b"e" * 520


def signatures_per_second(seconds: float) -> float:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pad, sha256 = padding.PKCS1v15(), hashes.SHA256()
    key.sign(SIGNING_INPUT, pad, sha256)
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(20):
            key.sign(SIGNING_INPUT, pad, sha256)
        count += 20
    return count / (time.perf_counter() - started)


@dataclass
class Ceiling:
    per_core: float  # one process alone
    all_cores: float  # one process per core, at the same time
    cores: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parallel(processes: int, seconds: float) -> float:
    command = [sys.executable, "-m", "benchmarks.ceiling", str(seconds)]
    running = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    total = 0.0
    for process in running:
        out, _ = process.communicate(timeout=seconds + 30)
        total += float(out.strip())
    return total


def measure(seconds: float, cores: int) -> Ceiling:
    return Ceiling(
        per_core=round(_parallel(1, seconds), 1), all_cores=round(_parallel(cores, seconds), 1), cores=cores
    )


if __name__ == "__main__":
    print(f"{signatures_per_second(float(sys.argv[1])):.1f}")

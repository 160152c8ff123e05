"""Scans that end: links that loop, kernel file systems, a budget of files and bytes, and a dump
command whose output is read as a stream in bounded memory."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conformance.storage.leaks import STREAM_CHUNK, Secret, StreamScanner, needles_for, scan_bytes
from conformance.storage.scan import ScanResult, StorageSpec, scan, snapshot
from tests.helpers import issued

ACCESS = issued.secret("access_token")
NEEDLES = needles_for(issued.secrets())
SECRETS = [[s.label, s.value] for s in issued.secrets()]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "var").mkdir()
    return tmp_path


def locations(result: ScanResult) -> list[str]:
    return [f.location for f in result.findings]


def in_a_child(code: str, *, timeout: float) -> dict[str, Any]:
    """Run `code` (which prints one JSON object) in a fresh interpreter, so that a scan that
    never ends fails the test after `timeout` instead of hanging it, and so that its memory is
    measured apart from the test run's."""
    prelude = textwrap.dedent(
        """
        import json, resource, sys, time
        from pathlib import Path
        from conformance.storage.scan import StorageSpec, scan
        from conformance.storage.leaks import Secret, needles_for
        NEEDLES = needles_for(Secret(label, value) for label, value in json.loads(sys.argv[1]))
        def resident_mb(field):  # VmRSS (now) or VmHWM (the peak since the last reset), Linux only
            status = Path("/proc/self/status")
            if not status.exists():
                return None
            line = next(l for l in status.read_text().splitlines() if l.startswith(field + ":"))
            return int(line.split()[1]) / 1024
        def reset_peak():
            try:
                Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
                return True
            except OSError:
                return False
        """
    )
    done = subprocess.run(
        # The parent's tokens: tests.helpers.issued signs with keys made afresh in each process.
        [sys.executable, "-c", prelude + textwrap.dedent(code), json.dumps(SECRETS)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer


# Links and kernel file systems ----------------------------------------------------------------


def test_a_directory_that_links_to_itself_is_scanned_once_in_bounded_time(root: Path) -> None:
    # glob.glob("var/**", recursive=True) follows var/loop -> var forever (issue 16: 659 MB).
    (root / "var" / "sessions").mkdir()
    (root / "var" / "sessions" / "alice.json").write_text(json.dumps({"access_token": ACCESS.value}))
    (root / "var" / "loop").symlink_to(root / "var")
    (root / "var" / "sessions" / "up").symlink_to("..")
    answer = in_a_child(
        f"""
        started = time.monotonic()
        results = [scan(StorageSpec(files=(f,), root=Path({str(root)!r})), NEEDLES) for f in ("var/**", "var")]
        print(json.dumps({{
            "seconds": time.monotonic() - started,
            "found": [[f.location for f in r.findings] for r in results],
            "scanned": [r.scanned for r in results],
            "unscanned": [r.unscanned for r in results],
        }}))
        """,
        timeout=60,
    )
    where = "file var/sessions/alice.json at byte 18 (line 1)"
    assert answer["found"] == [[where], [where]]
    assert (
        answer["scanned"]
        == [[f"file var/sessions/alice.json ({len(json.dumps({'access_token': ACCESS.value}))} bytes)"]] * 2
    )
    assert answer["unscanned"] == [[], []]  # links within the tree are reached anyway: nothing missed
    assert answer["seconds"] < 5, answer
    print(f"self-linking tree: {answer['seconds']:.3f} s for two scans")


def test_a_link_out_of_the_declared_tree_is_named_and_not_followed(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "tokens.txt").write_text(ACCESS.value)
    (root / "var" / "shared").symlink_to(elsewhere)
    result = scan(StorageSpec(files=("var/**",), root=root), NEEDLES)
    assert result.findings == []
    assert result.unscanned == [
        f"files 'var/**': var/shared links to the directory {elsewhere}; not followed"
    ]
    assert not result.complete


def test_a_named_link_to_a_directory_is_followed(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The partner named it: that is where it says its state is (a release directory, say).
    elsewhere = tmp_path_factory.mktemp("release")
    (elsewhere / "tokens.txt").write_text(ACCESS.value)
    (root / "current").symlink_to(elsewhere)
    result = scan(StorageSpec(files=("current/**",), root=root), NEEDLES)
    assert locations(result) == ["file current/tokens.txt at byte 0 (line 1)"]
    assert result.complete


def test_proc_declared_is_not_scanned_and_says_why() -> None:
    answer = in_a_child(
        """
        started = time.monotonic()
        result = scan(StorageSpec(files=("/proc/**", "/sys", "/dev/zero")), NEEDLES)
        print(json.dumps({"seconds": time.monotonic() - started, "scanned": result.scanned,
                          "unscanned": result.unscanned, "notes": result.notes}))
        """,
        timeout=60,
    )
    assert answer["scanned"] == [] and answer["notes"] == []
    assert answer["unscanned"] == [
        "files '/proc/**': not scanned, /proc is the kernel's view of the system, not storage",
        "files '/sys': not scanned, /sys is the kernel's view of the system, not storage",
        "files '/dev/zero': not scanned, /dev is the kernel's view of the system, not storage",
    ]
    assert answer["seconds"] < 2


def test_a_link_into_proc_and_a_fifo_are_not_read(root: Path) -> None:
    (root / "var" / "environ").symlink_to("/proc/self/environ")
    os.mkfifo(root / "var" / "pipe")  # opening it would wait for a writer forever
    (root / "var" / "app.log").write_text(ACCESS.value)
    result = scan(StorageSpec(files=("var",), root=root), NEEDLES)
    assert locations(result) == ["file var/app.log at byte 0 (line 1)"]
    assert result.unscanned == ["files 'var': var/environ links into /proc; not read"]


# The budget -----------------------------------------------------------------------------------


def many_files(directory: Path, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (directory / f"{n:03}.json").write_text('{"session": "sealed"}')


def test_max_files_stops_the_walk_and_names_what_was_not_scanned(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    many_files(root / "var" / "a-sessions", 30)
    # Listed after a-sessions: a walk that went on enumerating would record this link.
    (root / "var" / "z-link").symlink_to(tmp_path_factory.mktemp("elsewhere"))
    (root / "logs").mkdir()
    (root / "logs" / "app.log").write_text(ACCESS.value)
    result = scan(StorageSpec(files=("var/**", "logs/*"), root=root, max_files=10), NEEDLES)
    assert len(result.scanned) == 10
    assert result.unscanned == [
        "files 'var/**': stopped after 10 file(s) (max_files = 10 reached); "
        "at least one more matched, how many more was not counted",
        "files 'logs/*': not scanned (max_files = 10 reached)",
    ]
    assert result.findings == []  # the token is in logs/app.log, which the budget left out


def test_max_bytes_cuts_a_file_and_leaves_the_rest_out(root: Path) -> None:
    (root / "var" / "a.log").write_bytes(b"x" * 3000)
    (root / "var" / "b.log").write_text(ACCESS.value)
    result = scan(StorageSpec(files=("var/*.log",), root=root, max_bytes=1000), NEEDLES)
    assert result.scanned == ["file var/a.log (1000 bytes)"]
    assert result.unscanned == [
        "file var/a.log: only its first 1000 bytes were read (max_bytes = 1000 reached)",
        "files 'var/*.log': stopped after 1 file(s) (max_bytes = 1000 reached); "
        "at least one more matched, how many more was not counted",
    ]


def test_a_snapshot_keeps_to_the_budget_too(root: Path) -> None:
    many_files(root / "var", 5)
    taken = snapshot(StorageSpec(files=("var",), root=root, max_files=2))
    assert sorted(taken.items) == ["file var/000.json", "file var/001.json"]
    assert taken.unscanned == (
        "files 'var': stopped after 2 file(s) (max_files = 2 reached); "
        "at least one more matched, how many more was not counted",
    )


def test_within_the_budget_the_scan_is_complete(root: Path) -> None:
    many_files(root / "var", 5)
    result = scan(StorageSpec(files=("var",), root=root, max_files=5), NEEDLES)
    assert len(result.scanned) == 5 and result.complete


# The dump command, as a stream ----------------------------------------------------------------


def test_a_200_mb_dump_is_read_as_a_stream_and_a_token_across_chunks_is_found(root: Path) -> None:
    # The token starts 100 bytes before the first chunk boundary: no chunk holds it whole.
    before = STREAM_CHUNK - 100
    total = 200 * 1024 * 1024
    after = total - before - len(ACCESS.value)
    filler = "yes 'INFO user=alice session sealed, nothing to see'"
    command = f"{{ {filler} | head -c {before}; printf %s '{ACCESS.value}'; {filler} | head -c {after}; }}"
    answer = in_a_child(
        f"""
        import tracemalloc
        scan(StorageSpec(command="echo warm"), NEEDLES)  # first-call costs are not the stream's
        rss_before = resident_mb("VmRSS") if reset_peak() else None
        tracemalloc.start()
        started = time.monotonic()
        result = scan(StorageSpec(command={command!r}, root=Path({str(root)!r})), NEEDLES)
        print(json.dumps({{
            "seconds": time.monotonic() - started,
            "allocated_mb": tracemalloc.get_traced_memory()[1] / 2**20,
            "rss_growth_mb": None if rss_before is None else resident_mb("VmHWM") - rss_before,
            "found": [[f.secret_label, f.encoding, f.location] for f in result.findings],
            "scanned": result.scanned, "unscanned": result.unscanned, "notes": result.notes,
        }}))
        """,
        timeout=300,
    )
    line = before // len("INFO user=alice session sealed, nothing to see\n") + 1
    assert answer["found"] == [["access_token", "raw", f"command output at byte {before} (line {line})"]]
    assert answer["scanned"] == [f"command {command!r}: stdout ({total} bytes) and stderr (0 bytes)"]
    assert answer["unscanned"] == [] and answer["notes"] == []
    assert answer["allocated_mb"] < 64, answer  # Python's own allocations at their peak
    if answer["rss_growth_mb"] is not None:  # the process's resident memory at its peak (Linux)
        assert answer["rss_growth_mb"] < 64, answer
    print(
        f"200 MB dump: {answer['seconds']:.1f} s, at most {answer['allocated_mb']:.1f} MB allocated, "
        f"resident memory grew {answer['rss_growth_mb']} MB"
    )


def test_a_dump_beyond_max_bytes_is_cut_and_its_command_stopped(root: Path) -> None:
    command = "yes 'INFO nothing to see' & yes 'and more' >&2; wait"  # never ends on its own
    result = scan(StorageSpec(command=command, root=root, max_bytes=1_000_000, command_timeout=60), NEEDLES)
    assert len(result.unscanned) == 1
    assert result.unscanned[0].startswith(f"command {command!r}: stopped after ")
    assert result.unscanned[0].endswith(
        "bytes of output (max_bytes = 1000000 reached); the rest was not read"
    )
    assert result.notes == []


def test_stderr_is_searched_as_a_stream_too(root: Path) -> None:
    result = scan(StorageSpec(command=f"echo starting; echo 'rt={ACCESS.value}' >&2", root=root), NEEDLES)
    assert locations(result) == ["command stderr at byte 3 (line 1)"]


def test_the_fingerprint_of_a_dump_is_the_sha256_of_its_output(root: Path) -> None:
    taken = snapshot(StorageSpec(command="seq 1 100000", root=root))
    expected = "".join(f"{n}\n" for n in range(1, 100001)).encode()
    assert taken.items["command output"].digest == hashlib.sha256(expected).hexdigest()
    assert taken.items["command output"].detail == f"{len(expected)} bytes"


def test_a_stream_finds_a_token_across_any_boundary_once_with_its_offset_and_line() -> None:
    token = "opaque-refresh-0123456789"
    needles = needles_for([Secret("rt 1", token)])
    for at in range(60, 110):
        data = (b"x\n" * 200)[:at] + token.encode() + b"\n" + b"y" * 300
        stream = StreamScanner(needles, "command output", chunk=100, overlap=30)
        for start in range(0, len(data), 7):  # pieces that never line up with the chunks
            stream.feed(data[start : start + 7])
        assert [(f.location, f.encoding) for f in stream.close()] == [
            (f.location, f.encoding) for f in scan_bytes(data, needles, "command output")
        ], at

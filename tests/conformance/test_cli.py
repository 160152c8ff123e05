"""`ims-conformance` on the command line: listing checks, and usage errors (exit status 2)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from conformance.checks import REGISTRY
from conformance.model import CheckResult, RunReport, Severity, Verdict
from conformance.reports import summary_table
from conformance.run.runner import read_baseline, select
from conformance.text import printable
from mock_ims import MockIMS


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_checks_lists_every_id_with_severity_and_requirement() -> None:
    result = cli("checks")
    assert result.returncode == 0
    for check in REGISTRY.values():
        line = next(line for line in result.stdout.splitlines() if line.startswith(check.id + " "))
        assert check.severity.value in line
        assert check.requirement in result.stdout


def test_run_help_names_every_option() -> None:
    result = cli("run", "--help")
    assert result.returncode == 0
    for option in (
        "--config",
        "--only",
        "--skip",
        "--baseline",
        "--report-dir",
        "--timeout",
        "--step-timeout",
        "--headed",
    ):
        assert option in result.stdout


def test_a_config_error_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "partner.toml"
    config.write_text('[partner]\nbase_url = "localhost:8000"\n')
    result = cli("run", "--config", str(config), "--report-dir", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "partner.base_url" in result.stderr


def test_a_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = cli("run", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_an_unknown_check_in_only_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "partner.toml"
    config.write_text('[partner]\nbase_url = "http://127.0.0.1:9"\n')
    result = cli("run", "--config", str(config), "--only", "state.presnet")
    assert result.returncode == 2
    assert "state.presnet" in result.stderr


def test_selection_keeps_the_run_order() -> None:
    assert select(["browser.no-tokens", "scope.required"], None) == ["scope.required", "browser.no-tokens"]
    assert "scope.required" not in select(None, ["scope.required"])
    assert len(select(None, None)) == len(REGISTRY)


def test_a_baseline_is_a_json_list_or_one_id_per_line(tmp_path: Path) -> None:
    lines = tmp_path / "baseline.txt"
    lines.write_text("# adopted gradually\nstate.present\n\nstorage.encrypted  # next sprint\n")
    assert read_baseline(lines) == {"state.present", "storage.encrypted"}
    as_json = tmp_path / "baseline.json"
    as_json.write_text('["pkce.s256"]')
    assert read_baseline(as_json) == {"pkce.s256"}


def test_a_baseline_with_an_unknown_id_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "partner.toml"
    config.write_text('[partner]\nbase_url = "http://127.0.0.1:9"\n')
    baseline = tmp_path / "baseline.txt"
    baseline.write_text("no.such-check\n")
    result = cli("run", "--config", str(config), "--baseline", str(baseline))
    assert result.returncode == 2
    assert "no.such-check" in result.stderr


def test_an_unreachable_partner_makes_every_check_an_error_with_the_reason(tmp_path: Path) -> None:
    config = tmp_path / "partner.toml"
    config.write_text('[partner]\nbase_url = "http://127.0.0.1:9"\ncommand = "exit 3"\n')
    result = cli(
        "run",
        "--config",
        str(config),
        "--report-dir",
        str(tmp_path / "report"),
        "--only",
        "state.present,scope.required",
    )
    assert result.returncode == 1
    assert "exited with status 3" in result.stderr
    import json

    verdicts = json.loads((tmp_path / "report" / "results.json").read_text())["results"]
    assert [(r["id"], r["verdict"]) for r in verdicts] == [
        ("scope.required", "ERROR"),
        ("state.present", "ERROR"),
    ]
    assert "set-up failed" in verdicts[0]["summary"]


def test_every_check_has_its_place_in_the_run_order_and_the_readme() -> None:
    from conformance.checks import ORDER

    assert set(ORDER) == set(REGISTRY)
    assert len(ORDER) == len(REGISTRY) == 37
    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    for check in REGISTRY.values():
        assert f"| `{check.id}` | {check.severity.value} |" in readme, check.id


def shared_mock_config(tmp_path: Path, url: str, admin_token: str | None = None) -> Path:
    config = tmp_path / "partner.toml"
    token = f'admin_token = "{admin_token}"\n' if admin_token else ""
    config.write_text(
        f'[partner]\nbase_url = "http://127.0.0.1:9"\n[ims]\nurl = "{url}"\nclient_id = "partner"\n{token}'
    )
    return config


def test_an_unreachable_ims_url_is_one_line_naming_the_key(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = cli(
        "run", "--config", str(shared_mock_config(tmp_path, url)), "--report-dir", str(tmp_path / "r")
    )

    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [
        f"ims-conformance: error: ims.url: no mock IMS answers at {url} (ConnectError: [Errno 111] Connection refused)"
    ]
    assert "Traceback" not in result.stderr
    assert (tmp_path / "r" / "results.json").is_file()  # a CI job that publishes it still finds it


def test_a_refused_admin_token_is_named(tmp_path: Path) -> None:
    ims = MockIMS(admin_token="the-right-one").start()
    try:
        config = shared_mock_config(tmp_path, ims.url, admin_token="a-wrong-one")
        result = cli("run", "--config", str(config), "--report-dir", str(tmp_path / "r"))
    finally:
        ims.stop()

    assert result.returncode == 2
    assert "ims.admin_token: the mock at" in result.stderr
    assert "refused it (401" in result.stderr or "refused it (403" in result.stderr
    assert "Traceback" not in result.stderr


def test_text_from_the_apps_side_cannot_draw_over_the_console() -> None:
    # A file name with a carriage return and colour codes, as a FAIL's summary would quote it.
    sneaky = "token found in var/\r\x1b[32mPASS\x1b[0m.log"
    result = CheckResult("storage.encrypted", Verdict.FAIL, sneaky, "r", Severity.REQUIRED, "d")
    table = summary_table(RunReport("http://127.0.0.1:1", "", "", "", [result], warnings=[sneaky]))

    assert "\r" not in table and "\x1b" not in table
    assert "var/\\r\\x1b[32mPASS\\x1b[0m.log" in table
    assert printable("two\nlines\tkept") == "two\nlines\tkept"
    assert printable("one\nline", multiline=False) == "one\\nline"

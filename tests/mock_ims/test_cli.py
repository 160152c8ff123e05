"""`mock-ims` on the command line: help, refusals, and a real server on a free port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers.processes import mock_ims_process


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_ims", *args], capture_output=True, text=True, timeout=30
    )


def test_help_explains_every_serve_option() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    for option in (
        "--host",
        "--port",
        "--config",
        "--store",
        "--data-dir",
        "--workers",
        "--allow-remote",
        "--admin-token",
    ):
        assert option in result.stdout


@pytest.mark.parametrize("command", ["serve", "demo", "ca"])
def test_help_gives_the_defaults_that_say_something(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "(default: None)" not in result.stdout
    assert "(default: False)" not in result.stdout
    if command == "serve":
        assert "(default: 8765)" in result.stdout


def test_top_level_help_names_the_serve_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout


def test_binding_a_public_interface_needs_allow_remote() -> None:
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr


def test_a_broken_config_file_is_reported_with_the_key_at_fault(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[clients]]\nclient_id = "x"\nredirect_uris = ["(unclosed"]\n')
    result = run_cli("serve", "--port", "0", "--config", str(bad))
    assert result.returncode == 2
    assert "clients[0].redirect_uris[0]" in result.stderr


def test_several_workers_need_a_shared_store() -> None:
    result = run_cli("serve", "--port", "0", "--workers", "2")
    assert result.returncode == 2
    assert "--store sqlite" in result.stderr


def test_serve_prints_its_url_client_and_users_and_answers(tmp_path: Path) -> None:
    with mock_ims_process(data_dir=tmp_path) as server:
        banner = server.text()
        assert "mock-partner-app" in banner and "mock-partner-secret" in banner
        assert "alice@example.com" in banner
        discovery = httpx.get(f"{server.url}/ims/.well-known/openid-configuration").json()
        assert discovery["issuer"] == server.url
        assert discovery["token_endpoint"] == f"{server.url}/ims/token/v3"
    assert (tmp_path / "keys" / "ims_na1-key-at-1.pem").exists()


def test_signing_keys_survive_a_restart(tmp_path: Path) -> None:
    with mock_ims_process(data_dir=tmp_path) as server:
        first = httpx.get(f"{server.url}/ims/keys").json()
    with mock_ims_process(data_dir=tmp_path) as server:
        second = httpx.get(f"{server.url}/ims/keys").json()
    assert first == second


def test_sqlite_state_survives_a_restart(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'state.db'}"
    auth = ("mock-partner-app", "mock-partner-secret")
    with mock_ims_process("--store", store, data_dir=tmp_path) as server:
        token = httpx.post(
            f"{server.url}/ims/token/v3", data={"grant_type": "client_credentials"}, auth=auth
        ).json()
    with mock_ims_process("--store", store, data_dir=tmp_path) as server:
        answer = httpx.post(
            f"{server.url}/ims/validate_token/v1",
            data={"type": "access_token", "client_id": "mock-partner-app", "token": token["access_token"]},
        ).json()
    assert answer["valid"] is True

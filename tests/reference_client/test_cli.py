"""`ims-reference-client` on the command line (configuration errors, keys, a real server), and
`reference_client.running` for launchers that serve it in a thread."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from mock_ims import MockIMS
from reference_client import Settings, running
from reference_client.config import VARIABLES, decode_key
from reference_client.keyring import generate_key, read_key_file
from tests.reference_client.processes import reference_client_process

CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in VARIABLES}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reference_client", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**CLEAN_ENV, **(env or {})},
    )


@pytest.fixture(scope="module")
def ims() -> Iterator[MockIMS]:
    with MockIMS.running(port=0) as running:
        yield running


def app_env(ims: MockIMS, data_dir: Path, **extra: str) -> dict[str, str]:
    client = ims.default_client
    return {
        **CLEAN_ENV,
        "IMS_BASE_URL": ims.url,
        "IMS_CLIENT_ID": client.client_id,
        "IMS_CLIENT_SECRET": client.client_secret or "",
        "LIGHTROOM_BASE_URL": ims.url,
        "DATA_DIR": str(data_dir),
        **extra,
    }


def test_help_lists_every_environment_variable() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for name in VARIABLES:
        assert name in result.stdout
    for command in ("serve", "rotate-key", "generate-key"):
        assert command in result.stdout


def test_a_missing_configuration_names_each_variable_and_exits_2() -> None:
    result = run_cli()
    assert result.returncode == 2
    for name in ("IMS_BASE_URL", "IMS_CLIENT_ID", "IMS_CLIENT_SECRET"):
        assert f"  {name}: missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_value_is_named_with_what_is_wrong() -> None:
    env = {
        "IMS_BASE_URL": "http://ims.example.com",
        "IMS_CLIENT_ID": "c",
        "IMS_CLIENT_SECRET": "s",
        "PORT": "x",
    }
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    assert "IMS_BASE_URL: 'http://ims.example.com' uses plain http on a non-loopback host" in result.stderr
    assert "PORT: 'x' is not a port number" in result.stderr


def test_generate_key_prints_a_fresh_32_byte_key() -> None:
    first, second = run_cli("generate-key").stdout.strip(), run_cli("generate-key").stdout.strip()
    assert len(decode_key(first)) == 32
    assert first != second


def test_the_console_script_is_installed() -> None:
    script = shutil.which("ims-reference-client", path=str(Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert result.stdout.startswith("ims-reference-client ")


def test_serve_on_port_0_prints_its_url_and_starts_a_login(ims: MockIMS, tmp_path: Path) -> None:
    with reference_client_process(app_env(ims, tmp_path)) as app:
        assert "redirect URI:  " + app.url + "/callback" in app.text()
        login = httpx.get(f"{app.url}/login")
        assert login.status_code == 302
        assert login.headers["location"].startswith(f"{ims.url}/ims/authorize/v2?")
        assert "HttpOnly" in login.headers["set-cookie"]
        key_file = tmp_path / "token-encryption.keys"
        assert key_file.stat().st_mode & 0o077 == 0
        assert f"generated a token encryption key in {key_file}" in app.text()


def test_serve_refuses_a_port_in_use(ims: MockIMS, tmp_path: Path) -> None:
    with reference_client_process(app_env(ims, tmp_path)) as app:
        port = app.url.rsplit(":", 1)[1]
        result = run_cli("--port", port, env=app_env(ims, tmp_path / "other"))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_rotate_key_replaces_the_key_file(ims: MockIMS, tmp_path: Path) -> None:
    env = app_env(ims, tmp_path)
    first = run_cli("rotate-key", env=env)
    assert first.returncode == 0, first.stderr
    before = read_key_file(tmp_path / "token-encryption.keys")
    second = run_cli("rotate-key", env=env)
    assert second.returncode == 0
    after = read_key_file(tmp_path / "token-encryption.keys")
    assert len(after) == 1 and after != before
    assert "re-encrypted:  0 token set(s)" in second.stdout


def test_rotate_key_with_environment_keys_explains_the_next_step(ims: MockIMS, tmp_path: Path) -> None:
    old, new = run_cli("generate-key").stdout.strip(), run_cli("generate-key").stdout.strip()
    env = app_env(ims, tmp_path, TOKEN_ENCRYPTION_KEY=new, TOKEN_ENCRYPTION_PREVIOUS_KEYS=old)
    result = run_cli("rotate-key", env=env)
    assert result.returncode == 0, result.stderr
    assert "remove TOKEN_ENCRYPTION_PREVIOUS_KEYS" in result.stdout
    assert not (tmp_path / "token-encryption.keys").exists()


def test_running_serves_the_app_in_a_thread_with_the_redirect_uri_bound_to_its_port(
    ims: MockIMS, tmp_path: Path
) -> None:
    client = ims.default_client
    settings = Settings(
        ims_base_url=ims.url,
        client_id=client.client_id,
        client_secret=client.client_secret or "",
        data_dir=tmp_path,
        encryption_key=generate_key(),
    )
    with running(settings) as (server, bound):
        assert bound.redirect_uri == f"{server.url}/callback"
        login = httpx.get(f"{server.url}/login")
        assert login.status_code == 302
        assert f"redirect_uri={quote(server.url + '/callback', safe='')}" in login.headers["location"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz")

"""The HTTP clients partners use reach the mock at IMS's and Lightroom's real hostnames through the
proxy, each with nothing but the environment `Interception` gives (JVM options for Java).

Each client redeems a code, reads the profile and calls Lightroom; the journal's User-Agent shows
which client the mock really heard from.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mock_ims import MockIMS
from mock_ims.tls.interception import Interception

HERE = Path(__file__).parent / "clients"
NODE_APP = Path(__file__).resolve().parents[2] / "examples" / "unchanged" / "node-app"
CLIENT_ID = "mock-partner-app"
CLIENT_SECRET = "mock-partner-secret"
REDIRECT_URI = "http://localhost:8000/callback"


def run_client(command: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    clean = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    result = subprocess.run(
        command, cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def assert_signed_in_as_alice(answer: dict[str, Any], proxied_mock: MockIMS, user_agent: str) -> None:
    assert answer == {"email": "alice@example.com", "lightroom_email": "alice@example.com"}
    calls = {e["endpoint"]: e for e in proxied_mock.journal.entries() if e["outcome"] == "ok"}
    assert set(calls) >= {"token", "profile", "lightroom.account"}, calls
    assert calls["token"]["headers"]["user-agent"].startswith(user_agent)


def code(proxied_mock: MockIMS) -> str:
    return proxied_mock.mint_code(user="alice@example.com", redirect_uri=REDIRECT_URI)


@pytest.mark.parametrize(
    ("library", "user_agent"),
    [("requests", "python-requests/"), ("httpx", "python-httpx/"), ("urllib", "Python-urllib/")],
)
def test_python_clients_use_the_proxy_and_trust_the_ca_from_the_environment(
    interception: Interception, proxied_mock: MockIMS, library: str, user_agent: str
) -> None:
    command = [
        sys.executable,
        "python_client.py",
        library,
        code(proxied_mock),
        CLIENT_ID,
        CLIENT_SECRET,
        REDIRECT_URI,
    ]
    answer = run_client(command, interception.environment(), HERE)
    assert_signed_in_as_alice(answer, proxied_mock, user_agent)


@pytest.mark.node
@pytest.mark.parametrize(("library", "user_agent"), [("fetch", "node"), ("axios", "axios/")])
def test_node_clients_use_the_proxy_and_trust_the_ca_from_the_environment(
    interception: Interception, proxied_mock: MockIMS, library: str, user_agent: str
) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_APP / "node_modules" / "axios").is_dir():
        pytest.fail(
            f"Node.js or the example's packages are missing: run scripts/install-system-deps ({NODE_APP})"
        )
    env = {**interception.environment(), "NODE_OPTIONS": f"--import={NODE_APP / 'use-env-proxy.mjs'}"}
    command = [node, "client.mjs", library, code(proxied_mock), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI]
    assert_signed_in_as_alice(run_client(command, env, NODE_APP), proxied_mock, user_agent)


def test_java_uses_the_proxy_and_a_truststore_with_the_ca(
    interception: Interception, proxied_mock: MockIMS, tmp_path: Path
) -> None:
    if shutil.which("java") is None or shutil.which("keytool") is None:
        pytest.skip("no JDK on this machine (java and keytool): the Java client is tried only where one is")
    truststore = tmp_path / "mock-ims-truststore.p12"
    subprocess.run(interception.keytool_command(truststore), check=True, capture_output=True, timeout=60)
    env = {"JAVA_TOOL_OPTIONS": interception.java_options(truststore)}
    command = ["java", "ImsClient.java", code(proxied_mock), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI]
    assert_signed_in_as_alice(run_client(command, env, HERE), proxied_mock, "Java-http-client/")


def test_curl_uses_the_proxy_and_the_ca_from_the_environment(interception: Interception) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    clean = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    result = subprocess.run(
        [curl, "-sS", "--fail", "https://ims-na1.adobelogin.com/ims/.well-known/openid-configuration"],
        env={**clean, **interception.environment()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["issuer"] == "https://ims-na1.adobelogin.com"

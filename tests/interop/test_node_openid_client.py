"""Node's openid-client (v6, the current major, on Node 20) discovers a real mock and runs the
code flow with PKCE, the ID token checks, userinfo and a refresh (node/code_flow.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.processes import RunningProcess
from tests.interop.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI

pytestmark = pytest.mark.node
NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("Node.js is not installed (scripts/install-system-deps installs the test set-up)")
    if not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        pytest.fail(f"openid-client is not installed: run scripts/install-system-deps (npm ci in {NODE_DIR})")
    return executable


def run_flow(node: str, server: RunningProcess, method: str) -> dict[str, Any]:
    result = subprocess.run(
        [
            node,
            "code_flow.mjs",
            server.url,
            CLIENT_ID,
            CLIENT_SECRET,
            REDIRECT_URI,
            "bob@example.com",
            method,
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@pytest.mark.parametrize("method", ["basic", "post"])
def test_openid_client_discovers_signs_in_with_pkce_and_reads_userinfo(
    node: str, ims_server: RunningProcess, method: str
) -> None:
    answer = run_flow(node, ims_server, method)
    assert answer["issuer"] == ims_server.url
    assert answer["authorization_url"].startswith(f"{ims_server.url}/ims/authorize/v2?")
    assert "code_challenge_method=S256" in answer["authorization_url"]
    assert answer["token_type"] == "bearer"
    assert answer["has_refresh_token"] is True
    claims = answer["claims"]  # verified by openid-client: signature, iss, aud, exp, nonce
    assert claims["aud"] == CLIENT_ID
    assert claims["email"] == "bob@example.com"
    assert answer["userinfo"]["sub"] == claims["sub"]
    assert answer["userinfo"]["given_name"] == "Bob"
    assert answer["refreshed"] == {"has_access_token": True, "rotated": True}


def test_openid_client_sends_the_strict_requests(node: str, ims_server: RunningProcess) -> None:
    run_flow(node, ims_server, "post")
    entries = httpx.get(f"{ims_server.url}/__admin/journal").json()["entries"]
    redeemed = next(e for e in reversed(entries) if e["grant_type"] == "authorization_code")
    assert (redeemed["outcome"], redeemed["auth"], redeemed["notes"]) == ("ok", "body", [])
    assert redeemed["params"]["redirect_uri"] == REDIRECT_URI
    assert redeemed["params"]["code_verifier"] == "***"
    assert [e["path"] for e in entries if e["method"] == "GET" and "openid-configuration" in e["path"]]

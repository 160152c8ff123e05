"""The servers under test: mock-ims in two set-ups and the two Node peers, started on loopback.

Each target knows how to start itself, the token request of every scenario, how to mint the
single-use values (refresh tokens, authorization codes) a scenario consumes, and how many RS256
signatures one request of each scenario costs it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from benchmarks import procs
from benchmarks.httpclient import Connection

CLIENT_CREDENTIALS = "client_credentials"
REFRESH_TOKEN = "refresh_token"
AUTHORIZATION_CODE = "authorization_code"
SCENARIOS = (CLIENT_CREDENTIALS, REFRESH_TOKEN, AUTHORIZATION_CODE)
REDIRECT_URI = "http://localhost:8000/callback"

MOCK_CLIENT = ("mock-partner-app", "mock-partner-secret")  # the built-in configuration's client
PEER_CLIENT = ("bench-client", "bench-secret")
MOCK_USER = "alice@example.com"
MOCK_SCOPE = "openid,AdobeID,lr_partner_apis,offline_access"
MINT_CONNECTIONS = 8

Minter = Callable[[str, int], Awaitable[list[str]]]


class StartError(RuntimeError):
    """A server did not start, or answered its first request wrongly."""


def basic(client: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()


def form(**values: str) -> str:
    return urlencode(values, quote_via=quote)


@dataclass
class Running:
    """A started server: its process, base URL and the output it printed."""

    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return procs.tree(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def launch(
    command: list[str], url_pattern: str, *, cwd: Path | None = None, timeout: float = 30.0
) -> Running:
    """Start `command`; return once it printed a URL matching `url_pattern` (group 1)."""
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    output: list[str] = []
    found: list[str] = []
    seen = threading.Event()
    pattern = re.compile(url_pattern)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = pattern.search(line)
            if match and not found:
                found.append(match.group(1))
                seen.set()
        seen.set()

    threading.Thread(target=pump, daemon=True).start()
    if not seen.wait(timeout) or not found:
        process.kill()
        process.wait()
        raise StartError(f"{' '.join(command)} printed no URL:\n{''.join(output)[-3000:]}")
    # Peers print `localhost`; the load goes to the address they bound.
    return Running(process, found[0].replace("//localhost:", "//127.0.0.1:"), output)


def mock_command(data_dir: Path, *extra: str) -> list[str]:
    script = Path(sys.executable).with_name("mock-ims")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "mock_ims"]
    return [*base, "serve", "--port", "0", "--data-dir", str(data_dir), *extra]


async def _spread(
    n: int, connections: int, one: Callable[[Connection], Awaitable[str]], url: str
) -> list[str]:
    """Run `one` n times over a few keep-alive connections."""
    results: list[str] = []
    remaining = [n]

    async def worker() -> None:
        connection = Connection(url)
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                results.append(await one(connection))
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(min(connections, max(n, 1)))))
    return results


@dataclass
class Target:
    """One server set-up the load is driven at."""

    key: str
    label: str
    is_mock: bool
    token_path: str
    client: tuple[str, str]
    cc_scope: str
    signatures: dict[str, int]
    how: dict[str, str]  # per scenario: what one request does there, said plainly
    start: Callable[[Path], Running]
    minter: Callable[[Running], Minter]
    workers: int = 1

    @property
    def authorization(self) -> str:
        return basic(self.client)

    def body(self, scenario: str, value: str = "") -> str:
        if scenario == CLIENT_CREDENTIALS:
            return form(grant_type=CLIENT_CREDENTIALS, scope=self.cc_scope)
        if scenario == REFRESH_TOKEN:
            return form(grant_type=REFRESH_TOKEN, refresh_token=value)
        return form(grant_type=AUTHORIZATION_CODE, code=value, redirect_uri=REDIRECT_URI)

    async def bodies(self, running: Running, scenario: str, n: int) -> list[str]:
        values = await self.minter(running)(scenario, n)
        return [self.body(scenario, value) for value in values]


# ---- mock-ims ---------------------------------------------------------------------------


def _mock_minter(running: Running) -> Minter:
    async def mint(scenario: str, n: int) -> list[str]:
        request: dict[str, str] = {"kind": scenario, "user": MOCK_USER, "scope": MOCK_SCOPE}
        if scenario == AUTHORIZATION_CODE:
            request["redirect_uri"] = REDIRECT_URI
        payload = json.dumps(request).encode()

        async def one(connection: Connection) -> str:
            answer = await connection.request(
                "POST", "/__admin/tokens", body=payload, headers={"Content-Type": "application/json"}
            )
            if answer.status != 201:
                raise StartError(
                    f"minting an {scenario} through the admin API: {answer.status} {answer.body!r}"
                )
            token: str = answer.json()["token"]
            return token

        return await _spread(n, MINT_CONNECTIONS, one, running.url)

    return mint


def _start_mock(workers: int, store: str) -> Callable[[Path], Running]:
    def start(data_dir: Path) -> Running:
        extra = ["--workers", str(workers)] if workers > 1 else []
        if store != "memory":
            extra += ["--store", store]
        return launch(mock_command(data_dir, *extra), r"base URL:\s+(http\S+)")

    return start


MOCK_HOW = {
    CLIENT_CREDENTIALS: "checks the client, signs 1 JWT (access), records it, journals the request",
    REFRESH_TOKEN: "verifies the JWT, single use (atomic claim), signs 2 JWTs (access, rotated refresh)",
    AUTHORIZATION_CODE: "verifies the code JWT, single use, signs 3 JWTs (access, refresh, ID token)",
}
MOCK_SIGNATURES = {CLIENT_CREDENTIALS: 1, REFRESH_TOKEN: 2, AUTHORIZATION_CODE: 3}


def mock_target(workers: int, store: str) -> Target:
    key = "mock-ims" if workers == 1 else f"mock-ims-{workers}w"
    return Target(
        key=key,
        label=f"mock-ims ({workers} worker{'s' if workers > 1 else ''}, {store} store)",
        is_mock=True,
        token_path="/ims/token/v3",
        client=MOCK_CLIENT,
        cc_scope="AdobeID,lr_partner_apis",
        signatures=MOCK_SIGNATURES,
        how=MOCK_HOW,
        start=_start_mock(workers, store),
        minter=_mock_minter,
        workers=workers,
    )


# ---- the Node peers ---------------------------------------------------------------------


def node_command(peers_dir: Path, script: str) -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise StartError("node is not installed")
    return [node, str(peers_dir / script)]


def _oidc_minter(running: Running) -> Minter:
    async def mint(scenario: str, n: int) -> list[str]:
        connection = Connection(running.url)
        values: list[str] = []
        try:
            while len(values) < n:
                batch = min(2000, n - len(values))
                answer = await connection.request("POST", f"/bench/mint?kind={scenario}&n={batch}")
                if answer.status != 200:
                    raise StartError(f"oidc-provider /bench/mint: {answer.status} {answer.body!r}")
                values += answer.json()["tokens"]
        finally:
            await connection.close()
        return values

    return mint


def _o2ms_minter(running: Running) -> Minter:
    async def mint(scenario: str, n: int) -> list[str]:
        if scenario == REFRESH_TOKEN:
            # It issues refresh tokens as random UUIDs and never looks them up again.
            return [str(uuid.uuid4()) for _ in range(n)]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": PEER_CLIENT[0],
                "redirect_uri": REDIRECT_URI,
                "scope": "openid",
            }
        )

        async def one(connection: Connection) -> str:
            answer = await connection.request("GET", f"/authorize?{query}")
            location = answer.headers.get("location", "")
            codes = parse_qs(urlsplit(location).query).get("code")
            if answer.status != 302 or not codes:
                raise StartError(f"oauth2-mock-server /authorize: {answer.status} {answer.body!r}")
            return codes[0]

        return await _spread(n, MINT_CONNECTIONS, one, running.url)

    return mint


def peer_targets(peers_dir: Path) -> list[Target]:
    return [
        Target(
            key="oidc-provider",
            label="oidc-provider 9.13.3 (Node)",
            is_mock=False,
            token_path="/token",
            client=PEER_CLIENT,
            cc_scope="api:read",
            signatures={CLIENT_CREDENTIALS: 1, REFRESH_TOKEN: 1, AUTHORIZATION_CODE: 2},
            how={
                CLIENT_CREDENTIALS: "checks the client, signs 1 JWT (access, for a resource indicator)",
                REFRESH_TOKEN: "looks up the opaque token, rotates it (opaque), signs 1 JWT (access; no openid scope)",
                AUTHORIZATION_CODE: "looks up the opaque code, single use, signs 2 JWTs (access, ID token), opaque refresh",
            },
            start=lambda _data: launch(node_command(peers_dir, "oidc_provider.mjs"), r"listening (http\S+)"),
            minter=_oidc_minter,
        ),
        Target(
            key="oauth2-mock-server",
            label="oauth2-mock-server 8.2.3 (Node)",
            is_mock=False,
            token_path="/token",
            client=PEER_CLIENT,
            cc_scope="api:read",
            signatures={CLIENT_CREDENTIALS: 1, REFRESH_TOKEN: 2, AUTHORIZATION_CODE: 2},
            how={
                CLIENT_CREDENTIALS: "no client check; signs 1 JWT (access)",
                REFRESH_TOKEN: "accepts any refresh token unchecked; signs 2 JWTs (access, ID token), UUID refresh",
                AUTHORIZATION_CODE: "accepts any code unchecked (codes minted by its /authorize); signs 2 JWTs",
            },
            start=lambda _data: launch(
                node_command(peers_dir, "oauth2_mock_server.mjs"), r"listening (http\S+)"
            ),
            minter=_o2ms_minter,
        ),
    ]


async def first_token(target: Target, running: Running, within: float = 20.0) -> float:
    """Ask for one client_credentials token until one comes back; seconds it took."""
    started = time.monotonic()
    body = target.body(CLIENT_CREDENTIALS).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": target.authorization}
    last = ""
    while time.monotonic() - started < within:
        connection = Connection(running.url)
        try:
            answer = await connection.request("POST", target.token_path, body=body, headers=headers)
            if answer.status == 200 and b"access_token" in answer.body:
                return time.monotonic() - started
            last = f"{answer.status} {answer.body[:300]!r}"
        except OSError as exc:
            last = str(exc)
        finally:
            await connection.close()
        await asyncio.sleep(0.05)
    raise StartError(f"{target.label}: no token from {running.url}{target.token_path}: {last}")

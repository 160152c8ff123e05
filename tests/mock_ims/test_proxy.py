"""The intercepting proxy: IMS's and Lightroom's real hostnames answered by the mock, every other
host refused and journalled, and no connection ever leaving loopback."""

from __future__ import annotations

import http.client
import ipaddress
import signal
import socket
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mock_ims import MockIMS
from mock_ims.tls import http1
from mock_ims.tls.interception import Interception
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, VERIFIER, sign_in
from tests.helpers.processes import PROXY_LINE, mock_ims_process

IMS = "https://ims-na1.adobelogin.com"
STAGE = "https://ims-na1-stg1.adobelogin.com"
LIGHTROOM = "https://lr.adobe.io"


@pytest.fixture
def trusting(interception: Interception) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(interception.ca_path))


@pytest.fixture
def through(interception: Interception, trusting: ssl.SSLContext) -> Iterator[httpx.Client]:
    """An HTTP client that goes through the proxy and trusts the local CA (and nothing else)."""
    with httpx.Client(proxy=interception.proxy_url, verify=trusting) as client:
        yield client


def raw_exchange(interception: Interception, request: bytes) -> tuple[int, bytes]:
    """Send bytes to the proxy; the status and body of its answer."""
    with socket.create_connection((interception.proxy_host, interception.proxy_port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def proxy_entries(proxied_mock: MockIMS) -> list[dict[str, Any]]:
    return proxied_mock.journal.entries(endpoint="proxy")


# ---- the real hostnames, answered by the mock --------------------------------------------------


def test_discovery_at_the_real_hostname_names_the_real_urls(through: httpx.Client) -> None:
    document = through.get(f"{IMS}/ims/.well-known/openid-configuration").json()
    assert document["issuer"] == IMS
    assert document["authorization_endpoint"] == f"{IMS}/ims/authorize/v2"
    assert document["token_endpoint"] == f"{IMS}/ims/token/v3"
    assert document["jwks_uri"] == f"{IMS}/ims/keys"


def test_the_stage_host_is_its_own_issuer(through: httpx.Client) -> None:
    assert through.get(f"{STAGE}/ims/.well-known/openid-configuration").json()["issuer"] == STAGE


def test_lightroom_answers_at_lr_adobe_io(through: httpx.Client) -> None:
    answer = through.get(f"{LIGHTROOM}/v2/health", headers={"X-API-Key": CLIENT_ID})
    assert answer.status_code == 200
    assert answer.text.startswith("while (1) {}")


@pytest.mark.anyio
async def test_a_whole_sign_in_token_profile_and_lightroom_call_go_through_the_proxy(
    interception: Interception, trusting: ssl.SSLContext, proxied_mock: MockIMS
) -> None:
    async with httpx.AsyncClient(proxy=interception.proxy_url, verify=trusting, base_url=IMS) as client:
        callback = await sign_in(client)
        token = await client.post(
            "/ims/token/v3",
            data={
                "grant_type": "authorization_code",
                "code": callback.code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": VERIFIER,
            },
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        profile = await client.get("/ims/profile/v1", headers=bearer)
        assert profile.json()["email"] == "alice@example.com"
        account = await client.get(f"{LIGHTROOM}/v2/account", headers={**bearer, "X-API-Key": CLIENT_ID})
        assert account.status_code == 200, account.text
    endpoints = [e["endpoint"] for e in proxied_mock.journal.entries()]
    assert endpoints[-3:] == ["token", "profile", "lightroom.account"]


def test_a_plain_request_in_absolute_form_is_served_as_the_https_host(interception: Interception) -> None:
    proxy = http.client.HTTPConnection(interception.proxy_host, interception.proxy_port, timeout=10)
    try:
        proxy.request("GET", f"{IMS}/ims/.well-known/openid-configuration")
        answer = proxy.getresponse()
        assert answer.status == 200
        assert httpx.Response(200, content=answer.read()).json()["issuer"] == IMS
    finally:
        proxy.close()


def test_a_token_request_in_absolute_form_reaches_the_token_endpoint(
    interception: Interception, proxied_mock: MockIMS
) -> None:
    # What axios and other clients that do not tunnel send to an http:// proxy.
    body = b"grant_type=authorization_code&code=not-a-code"
    request = (
        f"POST {IMS}/ims/token/v3 HTTP/1.1\r\nHost: ims-na1.adobelogin.com\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    status, answer = raw_exchange(interception, request)
    assert status in (400, 401)
    assert b'"error"' in answer
    assert [e["endpoint"] for e in proxied_mock.journal.entries()] == ["token"]


def test_one_tunnel_carries_several_requests(interception: Interception, trusting: ssl.SSLContext) -> None:
    connection = http.client.HTTPSConnection(
        interception.proxy_host, interception.proxy_port, context=trusting, timeout=10
    )
    connection.set_tunnel("ims-na1.adobelogin.com", 443)
    try:
        connection.request("GET", "/ims/keys")
        assert connection.getresponse().read()
        first = connection.sock
        connection.request("GET", "/ims/.well-known/openid-configuration")
        answer = connection.getresponse()
        assert answer.status == 200
        answer.read()
        assert connection.sock is first
    finally:
        connection.close()


def test_a_head_request_gets_headers_and_no_body(
    interception: Interception, trusting: ssl.SSLContext
) -> None:
    connection = http.client.HTTPSConnection(
        interception.proxy_host, interception.proxy_port, context=trusting, timeout=10
    )
    connection.set_tunnel("ims-na1.adobelogin.com", 443)
    try:
        connection.request("HEAD", "/ims/keys")
        answer = connection.getresponse()
        assert answer.read() == b""
        connection.request("GET", "/ims/keys")  # the connection is still in step
        assert connection.getresponse().status == 200
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (f"{LIGHTROOM}/ims/keys", "/ims/keys"),
        (f"{IMS}/v2/health", "/v2/health"),
        (f"{IMS}/__admin/journal", ""),
    ],
)
def test_each_host_serves_only_its_own_api(through: httpx.Client, url: str, path: str) -> None:
    answer = through.get(url, headers={"X-API-Key": CLIENT_ID})
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_a_client_without_the_ca_fails_and_the_journal_says_why(
    interception: Interception, proxied_mock: MockIMS
) -> None:
    with (
        httpx.Client(proxy=interception.proxy_url, verify=ssl.create_default_context()) as untrusting,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        untrusting.get(f"{IMS}/ims/keys")
    (entry,) = proxy_entries(proxied_mock)
    assert entry["error"] == "tls_handshake_failed"
    assert str(interception.ca_path) in entry["reason"]


def test_hosts_to_intercept_can_be_chosen(proxied_mock: MockIMS, tmp_path: Path) -> None:
    with MockIMS.running() as other:
        chosen = other.intercept(hosts={"ims.partner.test": "ims"}, data_dir=tmp_path)
        context = ssl.create_default_context(cafile=str(chosen.ca_path))
        with httpx.Client(proxy=chosen.proxy_url, verify=context) as client:
            document = client.get("https://ims.partner.test/ims/.well-known/openid-configuration").json()
            assert document["issuer"] == "https://ims.partner.test"
            with pytest.raises(httpx.ProxyError, match="403"):
                client.get(f"{IMS}/ims/keys")


# ---- everything else refused -----------------------------------------------------------------


def test_connect_to_another_host_is_refused_naming_the_hosts_served(
    interception: Interception, proxied_mock: MockIMS
) -> None:
    status, body = raw_exchange(
        interception, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
    )
    assert status == 403
    answer = httpx.Response(403, content=body).json()
    assert answer["error"] == "host_not_intercepted"
    assert answer["intercepted_hosts"] == sorted(interception.hosts)
    assert "never forwards" in answer["detail"]
    (entry,) = proxy_entries(proxied_mock)
    assert (entry["method"], entry["path"], entry["status"]) == ("CONNECT", "example.com:443", 403)
    assert entry["outcome"] == "refused"


def test_a_client_going_to_another_host_through_the_proxy_gets_a_clear_error(through: httpx.Client) -> None:
    with pytest.raises(httpx.ProxyError, match="403"):
        through.get("https://example.com/")


def test_a_plain_request_for_another_host_is_refused_and_journalled(
    interception: Interception, proxied_mock: MockIMS
) -> None:
    status, body = raw_exchange(
        interception, b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
    )
    assert status == 403
    assert b"host_not_intercepted" in body
    (entry,) = proxy_entries(proxied_mock)
    assert entry["path"] == "http://example.com/"


def test_a_reachable_loopback_server_is_not_forwarded_to(
    interception: Interception, proxied_mock: MockIMS
) -> None:
    # The mock itself listens there: a forwarding proxy would reach it.
    authority = urlsplit(proxied_mock.url).netloc
    status, _ = raw_exchange(
        interception, f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode()
    )
    assert status == 403
    assert [e["endpoint"] for e in proxied_mock.journal.entries()] == ["proxy"]


def test_an_intercepted_host_on_another_port_is_refused(interception: Interception) -> None:
    status, body = raw_exchange(
        interception, b"CONNECT lr.adobe.io:8443 HTTP/1.1\r\nHost: lr.adobe.io:8443\r\n\r\n"
    )
    assert status == 403
    assert b"port_not_intercepted" in body


def test_a_request_for_the_proxy_itself_is_explained(interception: Interception) -> None:
    status, body = raw_exchange(
        interception, b"GET /ims/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert status == 400
    assert b"absolute form" in body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (
            b"GET https://lr.adobe.io/ HTTP/1.1\r\nHost: lr.adobe.io\r\nX-Big: "
            + b"a" * 20_000
            + b"\r\n\r\n",
            431,
        ),
        (
            b"GET https://lr.adobe.io/ HTTP/1.1\r\nHost: lr.adobe.io\r\nX-Big: "
            + b"a" * 200_000
            + b"\r\n\r\n",
            431,
        ),
        (b"GET https://lr.adobe.io/v2/health HTTP/1.1\r\nHost: lr.adobe.io\r\nHost: other\r\n\r\n", 400),
    ],
)
def test_malformed_requests_get_a_clean_error(
    interception: Interception, request_bytes: bytes, status: int
) -> None:
    answered, body = raw_exchange(interception, request_bytes)
    assert answered == status
    assert b"bad_request" in body


def test_a_body_over_the_limit_is_refused(
    interception: Interception, through: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http1, "MAX_BODY", 100)
    answer = through.post(f"{IMS}/ims/token/v3", content=b"x" * 101)
    assert answer.status_code == 413


# ---- nothing leaves loopback ------------------------------------------------------------------

_observed: list[tuple[str, Any]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _observed is not None and event in ("socket.connect", "socket.getaddrinfo"):
        _observed.append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_audit)  # hooks cannot be removed; it records only while a test asks it to


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


def test_the_proxy_never_resolves_or_connects_beyond_loopback(
    interception: Interception, through: httpx.Client
) -> None:
    global _observed
    _observed = []
    try:
        assert through.get(f"{IMS}/ims/keys").status_code == 200
        assert through.get(f"{LIGHTROOM}/v2/health", headers={"X-API-Key": CLIENT_ID}).status_code == 200
        for url in ("https://example.com/", "https://lr.adobe.io:8443/", "https://203.0.113.7/"):
            with pytest.raises(httpx.ProxyError):
                through.get(url)
        raw_exchange(
            interception,
            b"GET http://example.org/ HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n",
        )
        seen = list(_observed)
    finally:
        _observed = None
    # Every socket this process opened (the test's own included) went to loopback, and no name
    # was looked up but loopback ones: the proxy refused without resolving or connecting.
    assert seen, "the audit hook saw nothing: it would not see a forward either"
    strays = [(event, target) for event, target in seen if not _is_loopback(target)]
    assert strays == []


# ---- the command line ------------------------------------------------------------------------


def test_serve_with_a_proxy_port_prints_the_proxy_and_the_environment(tmp_path: Path) -> None:
    with mock_ims_process("--proxy-port", "0", data_dir=tmp_path / "data") as server:
        text = server.text()
        match = PROXY_LINE.search(text)
        assert match is not None, text
        proxy_url = match.group(1)
        ca_path = tmp_path / "data" / "ca" / "ca.pem"
        for line in (
            f"export HTTPS_PROXY={proxy_url}",
            f"export SSL_CERT_FILE={ca_path}",
            f"export REQUESTS_CA_BUNDLE={ca_path}",
            f"export NODE_EXTRA_CA_CERTS={ca_path}",
            "--ignore-certificate-errors-spki-list=",
        ):
            assert line in text
        context = ssl.create_default_context(cafile=str(ca_path))
        with httpx.Client(proxy=proxy_url, verify=context) as client:
            assert client.get(f"{IMS}/ims/.well-known/openid-configuration").json()["issuer"] == IMS


def test_the_proxy_of_several_workers_serves_from_the_shared_store(tmp_path: Path) -> None:
    with mock_ims_process(
        "--proxy-port", "0", "--workers", "2", "--store", "sqlite", data_dir=tmp_path / "data"
    ) as server:
        match = PROXY_LINE.search(server.text())
        assert match is not None
        context = ssl.create_default_context(cafile=str(tmp_path / "data" / "ca" / "ca.pem"))
        with httpx.Client(proxy=match.group(1), verify=context) as client:
            assert client.get(f"{IMS}/ims/keys").status_code == 200
            with pytest.raises(httpx.ProxyError):
                client.get("https://example.com/")
        entries = httpx.get(f"{server.url}/__admin/journal", params={"endpoint": "proxy"}).json()["entries"]
        assert [e["path"] for e in entries] == ["example.com:443"]


def test_ctrl_c_stops_the_mock_and_its_proxy(tmp_path: Path) -> None:
    with mock_ims_process("--proxy-port", "0", data_dir=tmp_path / "data") as server:
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(15) == 0
    assert "mock-ims: stopped." in server.text()

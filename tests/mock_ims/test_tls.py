"""`mock-ims serve --tls`: HTTPS with a certificate that verifies against the exported local CA,
and every URL the mock emits uses https."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from mock_ims.cli.main import main
from mock_ims.tls.ca import LocalCA
from tests.helpers.processes import mock_ims_process


def exported_ca(data_dir: Path, target: Path) -> ssl.SSLContext:
    assert main(["ca", "--data-dir", str(data_dir), "--export", str(target)]) == 0
    return ssl.create_default_context(cafile=str(target))


def test_serve_tls_presents_a_certificate_that_verifies_against_the_exported_ca(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with mock_ims_process("--tls", data_dir=data_dir) as server:
        assert server.url.startswith("https://127.0.0.1:")
        context = exported_ca(data_dir, tmp_path / "ca.pem")
        port = urlsplit(server.url).port
        assert port is not None
        # The ssl module itself, hostname check included (127.0.0.1 is an IP SAN of the leaf).
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            issuer = dict(part[0] for part in tls.getpeercert()["issuer"])
            assert issuer["commonName"].startswith("mock-ims local test CA")
        answer = httpx.get(f"https://localhost:{port}/ims/keys", verify=context)
        assert answer.status_code == 200


def test_serve_tls_is_refused_by_a_client_that_does_not_trust_the_ca(tmp_path: Path) -> None:
    with mock_ims_process("--tls", data_dir=tmp_path / "data") as server:
        other = LocalCA.load_or_create(tmp_path / "other")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(
                f"{server.url}/ims/keys", verify=ssl.create_default_context(cafile=str(other.cert_path))
            )


def test_over_tls_the_discovery_document_and_redirects_use_https(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with mock_ims_process("--tls", data_dir=data_dir) as server:
        context = exported_ca(data_dir, tmp_path / "ca.pem")
        document = httpx.get(f"{server.url}/ims/.well-known/openid-configuration", verify=context).json()
        assert document["issuer"] == server.url
        urls = [value for key, value in document.items() if key.endswith(("_endpoint", "_uri"))]
        assert urls
        assert all(url.startswith(f"{server.url}/") for url in urls), urls


def test_serve_with_your_own_certificate_and_key(tmp_path: Path) -> None:
    own = LocalCA.load_or_create(tmp_path / "own-ca")
    files = own.leaf_files(("localhost", "127.0.0.1"))
    with mock_ims_process(
        "--cert", str(files.cert), "--key", str(files.key), data_dir=tmp_path / "data"
    ) as server:
        context = ssl.create_default_context(cafile=str(own.cert_path))
        assert httpx.get(f"{server.url}/ims/keys", verify=context).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cert", "cert.pem"], "--cert and --key go together"),
        (["--key", "key.pem"], "--cert and --key go together"),
        (["--cert", "missing.pem", "--key", "missing-key.pem"], "--cert: missing.pem is not a file"),
        (["--intercept", "lr.adobe.io"], "--intercept needs --proxy-port"),
        (["--proxy-port", "70000"], "--proxy-port must be between 0 and 65535"),
        (
            ["--proxy-port", "0", "--intercept", "lr.adobe.io=storage"],
            "the kind must be 'ims' or 'lightroom'",
        ),
        (["--proxy-port", "0", "--intercept", "https://lr.adobe.io"], "give a hostname"),
    ],
)
def test_bad_tls_and_proxy_flags_are_refused_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["serve", "--port", "0", "--data-dir", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err

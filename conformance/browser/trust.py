"""Trusting a partner app served over HTTPS with a certificate of its own (mkcert, self-signed).

Adobe wants https redirect URIs, so partners run their app on `https://localhost` with a
certificate no public CA issued. `[partner] ca_file` names that certificate, or the CA that
issued it. The suite's own HTTP calls to the app verify it against that file and nothing else,
and Chromium accepts a certificate only when its public key is one the suite vouches for: the
keys in `ca_file`, and the key of the certificate the app presents once Python has verified that
certificate against `ca_file` (a mkcert server sends its leaf without the CA). No blanket
"ignore certificate errors": every other origin is checked as usual.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

HANDSHAKE_TIMEOUT_S = 5.0


class CertificateError(ValueError):
    """`ca_file` cannot be used, or the app's certificate is not trusted; the message says why."""


def certificates(ca_file: Path) -> list[x509.Certificate]:
    """The certificates in a PEM (or DER) file; none is an error."""
    try:
        data = ca_file.read_bytes()
    except OSError as exc:
        raise CertificateError(f"{ca_file}: cannot read ({exc.strerror})") from exc
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise CertificateError(f"{ca_file}: no certificate in it (PEM or DER expected)") from exc


def spki_sha256(certificate: x509.Certificate) -> str:
    """base64 SHA-256 of the certificate's public key: what Chromium's SPKI list takes."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """An SSL context trusting `ca_file` only (or the system's CAs when there is none)."""
    if ca_file is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=str(ca_file))


def presented_certificate(url: str, context: ssl.SSLContext) -> x509.Certificate:
    """The certificate the server at `url` presents, verified with `context` (hostname included)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 443
    with (
        socket.create_connection((host, port), timeout=HANDSHAKE_TIMEOUT_S) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise CertificateError(f"{host}:{port} presented no certificate")
    return x509.load_der_x509_certificate(der)


def trusted_keys(url: str, ca_file: Path) -> list[str]:
    """The SPKI hashes Chromium may accept for the app at `url`: `ca_file`'s certificates and
    the one the app presents, verified against `ca_file` first."""
    keys = [spki_sha256(c) for c in certificates(ca_file)]
    try:
        presented = presented_certificate(url, client_context(ca_file))
    except ssl.SSLCertVerificationError as exc:
        raise CertificateError(untrusted(url, exc.verify_message or str(exc), ca_file)) from exc
    keys.append(spki_sha256(presented))
    return list(dict.fromkeys(keys))


def untrusted(url: str, why: str, ca_file: Path | None) -> str:
    """The configuration error for an app whose certificate the suite does not trust."""
    if ca_file is None:
        return (
            f"partner.ca_file: the app at {url} presented a certificate this machine does not trust "
            f"({why}); set [partner] ca_file to that certificate, or to the CA that issued it "
            '(for mkcert: "$(mkcert -CAROOT)/rootCA.pem")'
        )
    return f"partner.ca_file: the app at {url} presented a certificate {ca_file} does not vouch for ({why})"


def verification_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error behind `exc` (httpx wraps it), if that is what it is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None

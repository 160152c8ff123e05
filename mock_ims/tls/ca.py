"""The local certificate authority: made once in the data directory, it signs the mock's
certificates (`serve --tls`) and the leaf certificates the intercepting proxy shows for IMS's
and Lightroom's real hostnames.

A partner app trusts `ca.pem` (and nothing else changes). The CA key never leaves the data
directory and is readable by its owner only. Every leaf shares one key, so a browser can be told
to trust them all by one public-key hash (`spki_sha256`).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mock_ims.store import files

CA_DIR = "ca"
CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
LEAF_KEY = "leaf-key.pem"
LEAF_DIR = "leaves"
CA_NAME = "mock-ims local test CA"
CA_WARNING = "for testing only: never trust it outside tests"
CA_LIFETIME = datetime.timedelta(days=3650)
# Browsers refuse public leaf certificates valid for more than 398 days; stay under that.
LEAF_LIFETIME = datetime.timedelta(days=397)
CLOCK_SKEW = datetime.timedelta(days=1)
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


class CAError(RuntimeError):
    """The CA files cannot be read or written; the message names the file."""


@dataclass(frozen=True)
class LeafFiles:
    """A leaf certificate (with the CA after it) and its key, as files `ssl` can load."""

    cert: Path
    key: Path


@dataclass
class LocalCA:
    directory: Path
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    leaf_key: ec.EllipticCurvePrivateKey
    _leaves: dict[tuple[str, ...], LeafFiles] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cert_path(self) -> Path:
        return self.directory / CA_CERT

    @property
    def key_path(self) -> Path:
        return self.directory / CA_KEY

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def spki_sha256(self) -> str:
        """Base64 SHA-256 of the CA's public key, for Chromium's `--ignore-certificate-errors-spki-list`."""
        spki = self.certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(hashlib.sha256(spki).digest()).decode()

    def export(self, target: Path) -> None:
        """Copy the CA certificate (never its key) to `target`."""
        try:
            target.write_bytes(self.pem())
        except OSError as exc:
            raise CAError(f"cannot write {target}: {exc.strerror or exc}") from exc

    @classmethod
    def load_or_create(cls, data_dir: Path) -> LocalCA:
        """The CA in `data_dir/ca`, made on first use; racing processes end up with the same one."""
        directory = data_dir / CA_DIR
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise CAError(f"cannot create {directory}: {exc.strerror or exc}") from exc
        key_path, cert_path = directory / CA_KEY, directory / CA_CERT
        if not cert_path.exists():
            key = _load_key(key_path) if key_path.exists() else _new_key()
            _write_once(key_path, _key_pem(key), mode=0o600)
            key = _load_key(key_path)  # another process may have won the race: use its key
            _write_once(cert_path, _ca_certificate(key).public_bytes(serialization.Encoding.PEM), mode=0o644)
        leaf_key_path = directory / LEAF_KEY
        if not leaf_key_path.exists():
            _write_once(leaf_key_path, _key_pem(_new_key()), mode=0o600)
        key = _load_key(key_path)
        certificate = _load_certificate(cert_path)
        if certificate.public_key() != key.public_key():
            raise CAError(f"{cert_path} was not made with {key_path}: remove both to make a new CA")
        return cls(directory, certificate, key, _load_key(leaf_key_path))

    def issue(self, names: tuple[str, ...]) -> x509.Certificate:
        """A server certificate for `names` (DNS names or IP addresses), signed by this CA."""
        if not names:
            raise ValueError("names: a certificate needs at least one name")
        now = datetime.datetime.now(datetime.UTC)
        alt_names: list[x509.GeneralName] = []
        for name in names:
            try:
                alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt_names.append(x509.DNSName(name))
        public = self.leaf_key.public_key()
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + LEAF_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )

    def leaf_files(self, names: tuple[str, ...]) -> LeafFiles:
        """Files of a certificate for `names`, minted on first use and reused for this CA's life."""
        with self._lock:
            cached = self._leaves.get(names)
            if cached is not None:
                return cached
            leaf_dir = self.directory / LEAF_DIR
            leaf_dir.mkdir(exist_ok=True, mode=0o700)
            stem = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
            cert_path = leaf_dir / f"{stem}.pem"
            chain = self.issue(names).public_bytes(serialization.Encoding.PEM) + self.pem()
            _write_replacing(cert_path, chain, mode=0o644)
            files = LeafFiles(cert_path, self.directory / LEAF_KEY)
            self._leaves[names] = files
            return files


def local_names(host: str) -> tuple[str, ...]:
    """The names a loopback mock is reached by, with `host` first when it is another one."""
    extra = () if host in LOCAL_NAMES or host in ("0.0.0.0", "::") else (host.strip("[]"),)  # noqa: S104
    return extra + LOCAL_NAMES


def _new_key() -> ec.EllipticCurvePrivateKey:
    # P-256: every TLS stack accepts it, and it is generated in a millisecond.
    return ec.generate_private_key(ec.SECP256R1())


def _key_usage(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    # A distinct name per CA, so two machines' CAs are never confused in a trust store.
    tag = hashlib.sha256(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).hexdigest()[:8]
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mock-ims"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, CA_WARNING),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{CA_NAME} {tag}"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(digital_signature=True, cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise CAError(f"cannot load {path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CAError(f"{path}: not an EC private key (remove the CA directory to make a new one)")
    return key


def _load_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CAError(f"cannot load {path}: {exc}") from exc


def _write_once(path: Path, data: bytes, *, mode: int) -> None:
    try:
        files.write_once(path, data, mode=mode)
    except OSError as exc:
        raise CAError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write_replacing(path: Path, data: bytes, *, mode: int) -> None:
    try:
        files.write_replacing(path, data, mode=mode)
    except OSError as exc:
        raise CAError(f"cannot write {path}: {exc.strerror or exc}") from exc

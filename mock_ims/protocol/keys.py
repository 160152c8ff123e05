"""Signing keys: generated on first start, kept in the data directory, loaded once.

IMS signs access tokens with `ims_na1-key-at-1`, refresh tokens with `ims_na1-key-rt-1`, and
publishes `ims_na1-key-1` for ID tokens in `/ims/keys` (docs/ims-facts.md §4). The mock publishes all
three so partners can verify every token it issues.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mock_ims.protocol.jws import b64url_encode
from mock_ims.store import files

ACCESS_KID = "ims_na1-key-at-1"
REFRESH_KID = "ims_na1-key-rt-1"
ID_TOKEN_KID = "ims_na1-key-1"
KIDS = (ACCESS_KID, REFRESH_KID, ID_TOKEN_KID)
_PROBE = b"mock-ims key check"
_PADDING = padding.PKCS1v15()
_SHA256 = hashes.SHA256()

_ephemeral: KeySet | None = None
_ephemeral_lock = threading.Lock()


def _int_b64(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class KeySet:
    private: dict[str, rsa.RSAPrivateKey]
    directory: Path | None

    @property
    def public(self) -> dict[str, rsa.RSAPublicKey]:
        return {kid: key.public_key() for kid, key in self.private.items()}

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.private.items():
            numbers = key.public_key().public_numbers()
            keys.append(
                {
                    "kty": "RSA",
                    "kid": kid,
                    "use": "sig",
                    "alg": "RS256",
                    "n": _int_b64(numbers.n),
                    "e": _int_b64(numbers.e),
                }
            )
        return {"keys": keys}

    @classmethod
    def generate(cls) -> KeySet:
        return cls({kid: _new_key() for kid in KIDS}, None)

    @classmethod
    def ephemeral(cls) -> KeySet:
        """Keys shared by every in-process mock without a data directory (generated once)."""
        global _ephemeral
        with _ephemeral_lock:
            if _ephemeral is None:
                _ephemeral = cls.generate()
            return _ephemeral

    @classmethod
    def load_or_create(cls, directory: Path) -> KeySet:
        """Load `<kid>.pem` files from `directory/keys`, creating any that are missing."""
        key_dir = directory / "keys"
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys: dict[str, rsa.RSAPrivateKey] = {}
        for kid in KIDS:
            path = key_dir / f"{kid}.pem"
            if path.exists():
                keys[kid] = _load(path)
            else:
                key = _new_key()
                _write_private(path, key)
                keys[kid] = _load(path)  # another worker may have won the race: use the file
        return cls(keys, directory)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def foreign_key() -> rsa.RSAPrivateKey:
    """A key that no key set of this mock publishes: what a forged ID token is signed with
    (generated once per process, on first use: about 50 ms)."""
    return _new_key()


def _load(path: Path) -> rsa.RSAPrivateKey:
    # OpenSSL's RSA key check costs 36 ms a key, most of `mock-ims serve`'s start-up for three
    # keys; signing and verifying one message proves the key works at a hundredth of that.
    try:
        key = serialization.load_pem_private_key(
            path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"cannot load the signing key {path}: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RuntimeError(f"{path}: not an RSA private key")
    try:
        key.public_key().verify(key.sign(_PROBE, _PADDING, _SHA256), _PROBE, _PADDING, _SHA256)
    except (InvalidSignature, ValueError) as exc:
        raise RuntimeError(f"{path}: the RSA key does not sign and verify (damaged?)") from exc
    return key


def _write_private(path: Path, key: rsa.RSAPrivateKey) -> None:
    """Write atomically, so a racing reader never sees half a key and the first writer wins."""
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    files.write_once(path, pem, mode=0o600)

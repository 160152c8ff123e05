"""Signing keys: made once in the data directory, loaded fast, and a broken one refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mock_ims.protocol.keys import ACCESS_KID, KIDS, KeySet


def test_keys_made_on_first_start_are_the_ones_loaded_on_the_next(tmp_path: Path) -> None:
    first = KeySet.load_or_create(tmp_path)
    second = KeySet.load_or_create(tmp_path)
    assert set(second.private) == set(KIDS)
    assert second.jwks() == first.jwks()


def test_a_key_that_does_not_sign_and_verify_is_refused_naming_its_file(tmp_path: Path) -> None:
    KeySet.load_or_create(tmp_path)
    good = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
    # The private half of one key with another public exponent: loads, but signs nothing valid.
    broken = rsa.RSAPrivateNumbers(
        good.p,
        good.q,
        good.d,
        good.dmp1,
        good.dmq1,
        good.iqmp,
        rsa.RSAPublicNumbers(3, good.public_numbers.n),
    ).private_key(unsafe_skip_rsa_key_validation=True)
    path = tmp_path / "keys" / f"{ACCESS_KID}.pem"
    path.write_bytes(
        broken.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(RuntimeError, match=f"{ACCESS_KID}.pem: the RSA key does not sign and verify"):
        KeySet.load_or_create(tmp_path)


def test_a_file_that_is_not_a_key_is_refused_naming_its_file(tmp_path: Path) -> None:
    KeySet.load_or_create(tmp_path)
    (tmp_path / "keys" / f"{ACCESS_KID}.pem").write_text("not a key")
    with pytest.raises(RuntimeError, match=f"cannot load the signing key .*{ACCESS_KID}.pem"):
        KeySet.load_or_create(tmp_path)

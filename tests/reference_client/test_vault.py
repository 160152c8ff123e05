"""Tokens at rest: AES-256-GCM, bound to their user, with a key id so keys can rotate."""

from __future__ import annotations

import base64
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from reference_client.config import Settings
from reference_client.keyring import (
    FileKeyRing,
    KeyFileError,
    StaticKeyRing,
    encode_key,
    generate_key,
    key_id,
    open_keys,
    read_key_file,
    write_key_file,
)
from reference_client.tokens import TokenSet
from reference_client.vault import NONCE_BYTES, TokenVault, VaultError

TOKENS = TokenSet(
    access_token="eyJhbGciOiJSUzI1NiJ9.eyJhY2Nlc3MiOiJ0b2tlbiJ9.c2lnbmF0dXJl",
    refresh_token="eyJhbGciOiJSUzI1NiJ9.eyJyZWZyZXNoIjoidG9rZW4ifQ.c2lnbmF0dXJl",
    obtained_ms=1_700_000_000_000,
    expires_at_ms=1_700_086_400_000,
)
ALICE = "0123456789ABCDEF01234567@AdobeID"
BOB = "89ABCDEF0123456789ABCDEF@AdobeID"


@pytest.fixture
def vault() -> TokenVault:
    return TokenVault(StaticKeyRing([generate_key()]))


def flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


def test_sealed_tokens_open_for_their_user(vault: TokenVault) -> None:
    assert vault.open(ALICE, vault.seal(ALICE, TOKENS)) == TOKENS


def test_a_sealed_record_shows_no_token_in_any_encoding(vault: TokenVault) -> None:
    sealed = vault.seal(ALICE, TOKENS)
    stored = sealed.nonce + sealed.ciphertext + sealed.key_id.encode()
    for token in (TOKENS.access_token, TOKENS.refresh_token or ""):
        for segment in [token, *token.split(".")]:
            for encoded in (
                segment.encode(),
                base64.b64encode(segment.encode()),
                segment.encode().hex().encode(),
            ):
                assert encoded not in stored


def test_each_seal_uses_a_fresh_nonce(vault: TokenVault) -> None:
    first, second = vault.seal(ALICE, TOKENS), vault.seal(ALICE, TOKENS)
    assert len(first.nonce) == NONCE_BYTES
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


@pytest.mark.parametrize("part", ["ciphertext", "nonce", "tag"])
def test_a_tampered_record_does_not_open(vault: TokenVault, part: str) -> None:
    sealed = vault.seal(ALICE, TOKENS)
    if part == "ciphertext":
        sealed = replace(sealed, ciphertext=flip(sealed.ciphertext, 5))
    elif part == "tag":
        sealed = replace(sealed, ciphertext=flip(sealed.ciphertext, len(sealed.ciphertext) - 1))
    else:
        sealed = replace(sealed, nonce=flip(sealed.nonce))
    with pytest.raises(VaultError, match="tampered"):
        vault.open(ALICE, sealed)


def test_a_truncated_nonce_is_tampering_not_a_crash(vault: TokenVault) -> None:
    sealed = vault.seal(ALICE, TOKENS)
    with pytest.raises(VaultError):
        vault.open(ALICE, replace(sealed, nonce=b"\x00"))


def test_another_users_record_does_not_open_as_mine(vault: TokenVault) -> None:
    with pytest.raises(VaultError, match="another user"):
        vault.open(BOB, vault.seal(ALICE, TOKENS))


def test_a_record_relabelled_with_another_key_id_does_not_open() -> None:
    old, new = generate_key(), generate_key()
    ring = StaticKeyRing([new, old])
    sealed = TokenVault(StaticKeyRing([old])).seal(ALICE, TOKENS)
    assert TokenVault(ring).open(ALICE, sealed) == TOKENS
    with pytest.raises(VaultError):
        TokenVault(ring).open(ALICE, replace(sealed, key_id=key_id(new)))


def test_a_record_of_a_key_no_longer_on_the_ring_does_not_open(vault: TokenVault) -> None:
    sealed = vault.seal(ALICE, TOKENS)
    with pytest.raises(VaultError, match="not on the key ring"):
        TokenVault(StaticKeyRing([generate_key()])).open(ALICE, sealed)


def test_older_keys_still_open_and_the_first_key_seals() -> None:
    old, new = generate_key(), generate_key()
    sealed_before = TokenVault(StaticKeyRing([old])).seal(ALICE, TOKENS)
    rotated = TokenVault(StaticKeyRing([new, old]))
    assert rotated.open(ALICE, sealed_before) == TOKENS
    assert not rotated.is_current(sealed_before)
    assert rotated.seal(ALICE, TOKENS).key_id == key_id(new)


def test_a_key_id_names_the_key_without_revealing_it() -> None:
    key = generate_key()
    assert key_id(key) == key_id(key)
    assert key_id(key) != key_id(generate_key())
    assert len(key_id(key)) == 16
    assert key_id(key) not in (key.hex(), encode_key(key))


def test_without_a_key_one_is_generated_owner_only(tmp_path: Path) -> None:
    settings = Settings(
        ims_base_url="https://ims.example", client_id="c", client_secret="s", data_dir=tmp_path / "data"
    )
    source = open_keys(settings)
    assert source.generated
    assert source.warning is not None and "TOKEN_ENCRYPTION_KEY" in source.warning
    assert source.file == settings.default_key_file
    assert stat.S_IMODE(settings.default_key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    again = open_keys(settings)
    assert not again.generated
    assert again.ring.current() == source.ring.current()


def test_a_key_from_the_environment_needs_no_file(tmp_path: Path) -> None:
    key = generate_key()
    settings = Settings(
        ims_base_url="https://ims.example",
        client_id="c",
        client_secret="s",
        data_dir=tmp_path,
        encryption_key=key,
    )
    source = open_keys(settings)
    assert source.ring.current().id == key_id(key)
    assert source.file is None
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    first, second = generate_key(), generate_key()
    write_key_file(path, [first])
    ring = FileKeyRing(path)
    assert ring.current().id == key_id(first)
    write_key_file(path, [second, first])
    assert ring.current().id == key_id(second)
    assert ring.find(key_id(first)) is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_key_file_that_turns_bad_keeps_the_keys_loaded_before(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    key = generate_key()
    write_key_file(path, [key])
    ring = FileKeyRing(path)
    path.write_text("garbage\n")
    assert ring.current().id == key_id(key)


def test_a_malformed_key_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# comment\n{encode_key(generate_key())}\n\nnot-a-key\n")
    with pytest.raises(KeyFileError, match="line 4"):
        read_key_file(path)
    path.write_text("# only a comment\n")
    with pytest.raises(KeyFileError, match="no key"):
        read_key_file(path)

"""Sealing tokens for storage: AES-256-GCM, bound to the user they belong to.

Each sealed record carries the id of the key that made it and a fresh 96-bit random nonce
(NIST SP 800-38D §8.2.2). The associated data names the format, the key id and the user id, so
a ciphertext moved to another user's row, or relabelled with another key id, fails to open just
as a tampered one does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from reference_client.keyring import KeyRing
from reference_client.tokens import TokenSet

NONCE_BYTES = 12
_FORMAT = b"reference-client tokens v1"


class VaultError(Exception):
    """A sealed record cannot be opened: tampered, foreign, or sealed with a key no longer known."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


def associated_data(key_id: str, user_id: str) -> bytes:
    return b"\x00".join((_FORMAT, key_id.encode("ascii"), user_id.encode("utf-8")))


class TokenVault:
    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys

    def seal(self, user_id: str, tokens: TokenSet) -> Sealed:
        key = self.keys.current()
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(key.material).encrypt(nonce, tokens.to_bytes(), associated_data(key.id, user_id))
        return Sealed(key.id, nonce, ciphertext)

    def open(self, user_id: str, sealed: Sealed) -> TokenSet:
        key = self.keys.find(sealed.key_id)
        if key is None:
            raise VaultError(f"sealed with key {sealed.key_id}, which is not on the key ring")
        try:
            plaintext = AESGCM(key.material).decrypt(
                sealed.nonce, sealed.ciphertext, associated_data(key.id, user_id)
            )
        except (InvalidTag, ValueError):  # ValueError: a nonce of the wrong length
            raise VaultError("the sealed tokens were tampered with or belong to another user") from None
        try:
            return TokenSet.from_bytes(plaintext)
        except (ValueError, KeyError, TypeError) as exc:
            raise VaultError(f"the sealed tokens are not a token set: {type(exc).__name__}") from None

    def is_current(self, sealed: Sealed) -> bool:
        return sealed.key_id == self.keys.current().id

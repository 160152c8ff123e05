"""Key rotation: every stored token set re-encrypted under a new key, nobody logged out.

With a key file: a new key is put first in the file (a running app re-reads it and encrypts
with it from then on), every row is re-encrypted, and the old keys are dropped once no row
needs them. With TOKEN_ENCRYPTION_KEY: the operator puts the new key there and the old one in
TOKEN_ENCRYPTION_PREVIOUS_KEYS, runs the rotation, then removes the old key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reference_client.clock import SystemClock
from reference_client.config import Settings
from reference_client.database import Database
from reference_client.keyring import (
    KeyRing,
    StaticKeyRing,
    create_key_file,
    generate_key,
    key_id,
    read_key_file,
    write_key_file,
)
from reference_client.token_store import TokenStore
from reference_client.vault import TokenVault, VaultError

_ATTEMPTS = 5  # a row the running app rewrites meanwhile is read again


class RotationError(Exception):
    """The rotation cannot proceed safely; the message says what to fix."""


@dataclass
class RotationReport:
    key_id: str
    reencrypted: int = 0
    already_current: int = 0
    discarded: int = 0  # rows that failed authentication: tampered, logged out anyway
    retired_keys: list[str] = field(default_factory=list)
    remaining_keys: list[str] = field(default_factory=list)
    key_file: Path | None = None


def _unknown_key_ids(database: Database, ring: KeyRing) -> list[str]:
    used = [str(row[0]) for row in database.execute("SELECT DISTINCT key_id FROM tokens")]
    return sorted(k for k in used if ring.find(k) is None)


def reencrypt(database: Database, ring: KeyRing, report: RotationReport) -> None:
    store = TokenStore(database, TokenVault(ring), SystemClock())
    vault = store.vault
    for user_id in store.user_ids():
        for _ in range(_ATTEMPTS):
            found = store.sealed(user_id)
            if found is None:
                break
            sealed, version = found
            if vault.is_current(sealed):
                report.already_current += 1
                break
            try:
                tokens = vault.open(user_id, sealed)
            except VaultError:
                database.execute("DELETE FROM tokens WHERE user_id=? AND version=?", (user_id, version))
                report.discarded += 1
                break
            if store.replace_sealed(user_id, vault.seal(user_id, tokens), version, store.clock.now_ms()):
                report.reencrypted += 1
                break


def rotate(settings: Settings) -> RotationReport:
    database = Database(settings.database_path)
    try:
        if settings.encryption_key is not None:
            return _rotate_environment_keys(settings, database)
        return _rotate_key_file(settings, database)
    finally:
        database.close()


def _rotate_environment_keys(settings: Settings, database: Database) -> RotationReport:
    if settings.encryption_key is None:  # pragma: no cover - checked by the caller
        raise RotationError("TOKEN_ENCRYPTION_KEY is not set")
    ring = StaticKeyRing([settings.encryption_key, *settings.previous_encryption_keys])
    unknown = _unknown_key_ids(database, ring)
    if unknown:
        raise RotationError(
            f"tokens are sealed with key(s) {', '.join(unknown)}, which are not configured: put the old key "
            "in TOKEN_ENCRYPTION_PREVIOUS_KEYS, or these users would be logged out"
        )
    report = RotationReport(key_id=ring.current().id)
    reencrypt(database, ring, report)
    report.remaining_keys = ring.ids()
    return report


def _rotate_key_file(settings: Settings, database: Database) -> RotationReport:
    path = settings.encryption_key_file or settings.default_key_file
    if settings.encryption_key_file is None:
        create_key_file(path)
    old = read_key_file(path)
    unknown = _unknown_key_ids(database, StaticKeyRing(old))
    if unknown:
        raise RotationError(
            f"tokens are sealed with key(s) {', '.join(unknown)}, which {path} does not hold; "
            "add the missing key to the file (after the current one) and run the rotation again"
        )
    new = generate_key()
    write_key_file(path, [new, *old])
    ring = StaticKeyRing([new, *old])
    report = RotationReport(key_id=key_id(new), key_file=path)
    reencrypt(database, ring, report)
    if not _unknown_key_ids(database, StaticKeyRing([new])):
        write_key_file(path, [new])
        report.retired_keys = [key_id(k) for k in old]
        report.remaining_keys = [report.key_id]
    else:  # the running app wrote with an old key meanwhile: keep them, run again later
        report.remaining_keys = ring.ids()
    return report

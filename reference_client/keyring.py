"""The keys that encrypt tokens at rest, each known by an id so that keys can rotate.

The current key encrypts; every key on the ring decrypts. Keys come from the environment
(`TOKEN_ENCRYPTION_KEY`, plus older ones still being phased out) or from a key file with one
base64 key a line, the current one first. A key file is re-read when it changes, so a running
app picks up a rotation (`ims-reference-client rotate-key`) without a restart.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from reference_client.config import KEY_BYTES, Settings, decode_key

logger = logging.getLogger("reference_client.keys")

_KEY_ID_LABEL = b"reference-client token key id v1"


class KeyFileError(Exception):
    """The key file is missing, unreadable or malformed; the message names the file and line."""


def key_id(material: bytes) -> str:
    """A short public name for a key: a MAC of a fixed label under the key, never the key."""
    return hmac.new(material, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def generate_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encode_key(material: bytes) -> str:
    return base64.b64encode(material).decode("ascii")


@dataclass(frozen=True)
class Key:
    id: str
    material: bytes = field(repr=False)

    @classmethod
    def of(cls, material: bytes) -> Key:
        if len(material) != KEY_BYTES:
            raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes, not {len(material)}")
        return cls(key_id(material), material)


class KeyRing(Protocol):
    def current(self) -> Key:
        """The key new ciphertexts are made with."""
        ...

    def find(self, key_id: str) -> Key | None:
        """The key of that id, if this ring still has it."""
        ...

    def ids(self) -> list[str]:
        """Every key id on the ring, the current one first."""
        ...


class StaticKeyRing:
    """Keys given once (from the environment); the first one is current."""

    def __init__(self, materials: Sequence[bytes]) -> None:
        if not materials:
            raise ValueError("a key ring needs at least one key")
        self._keys = [Key.of(m) for m in materials]
        self._by_id = {k.id: k for k in self._keys}

    def current(self) -> Key:
        return self._keys[0]

    def find(self, key_id: str) -> Key | None:
        return self._by_id.get(key_id)

    def ids(self) -> list[str]:
        return [k.id for k in self._keys]


def read_key_file(path: Path) -> list[bytes]:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc}") from exc
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            keys.append(decode_key(line))
        except ValueError as exc:
            raise KeyFileError(f"{path}, line {number}: the key {exc}") from None
    if not keys:
        raise KeyFileError(f"the key file {path} holds no key")
    return keys


def _key_file_text(materials: Sequence[bytes]) -> str:
    return (
        "# Token encryption keys of the reference client: the current key first.\n"
        "# Keep this file secret; whoever reads it can decrypt the stored tokens.\n"
        + "".join(f"{encode_key(m)}\n" for m in materials)
    )


def write_key_file(path: Path, materials: Sequence[bytes]) -> None:
    """Replace the key file atomically; owner-only from the first byte."""
    text = _key_file_text(materials)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def create_key_file(path: Path) -> bool:
    """Generate a key file with one fresh key unless one exists; True when it was created."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(_key_file_text([generate_key()]))
    return True


class FileKeyRing:
    """Keys from a file, re-read whenever the file changes (a rotation by another process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._signature: tuple[int, int, int] | None = None
        self._ring = StaticKeyRing(read_key_file(path))
        self._signature = self._stat()
        self._warn_if_readable_by_others()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def _warn_if_readable_by_others(self) -> None:
        with contextlib.suppress(OSError):
            if stat.S_IMODE(self.path.stat().st_mode) & 0o077:
                logger.warning("the key file %s is readable by other users; chmod 600 it", self.path)

    def _fresh(self) -> StaticKeyRing:
        signature = self._stat()
        if signature is not None and signature != self._signature:
            try:
                self._ring = StaticKeyRing(read_key_file(self.path))
                self._signature = signature
            except KeyFileError as exc:
                logger.warning("keeping the keys loaded before: %s", exc)
        return self._ring

    def current(self) -> Key:
        return self._fresh().current()

    def find(self, key_id: str) -> Key | None:
        return self._fresh().find(key_id)

    def ids(self) -> list[str]:
        return self._fresh().ids()


@dataclass(frozen=True)
class KeySource:
    """Where the keys of a `Settings` come from, and whether a file was just generated."""

    ring: KeyRing
    file: Path | None
    generated: bool

    @property
    def warning(self) -> str | None:
        if not self.generated:
            return None
        return (
            f"generated a token encryption key in {self.file} (owner-only). It sits next to the "
            "tokens it protects: in production give TOKEN_ENCRYPTION_KEY from a secret store instead."
        )


def open_keys(settings: Settings) -> KeySource:
    """The key ring `settings` call for; generates the default key file when no key is given."""
    if settings.encryption_key is not None:
        ring = StaticKeyRing([settings.encryption_key, *settings.previous_encryption_keys])
        return KeySource(ring, None, False)
    path = settings.encryption_key_file or settings.default_key_file
    generated = False
    if settings.encryption_key_file is None:
        try:
            generated = create_key_file(path)
        except OSError as exc:
            raise KeyFileError(f"cannot create the key file {path}: {exc}") from exc
    return KeySource(FileKeyRing(path), path, generated)

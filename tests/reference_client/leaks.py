"""Looking for tokens where they must not be: every encoding a careless app might store.

A token hidden in a longer base64 text is found too: it is encoded at each of the three byte
alignments, and only the characters that do not depend on its neighbours are searched for.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus


def _b64_cores(data: bytes) -> Iterable[tuple[str, bytes]]:
    for shift in range(3):
        shifted = b"\x00" * shift + data
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            text = encode(shifted)
            yield f"{name}@{shift}", text[4 if shift else 0 : -4]


def encodings(token: str) -> dict[str, bytes]:
    raw = token.encode()
    forms = {
        "raw": raw,
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
        "url-encoded": quote(token, safe="").encode(),
        "form-encoded": quote_plus(token).encode(),
    }
    forms.update(_b64_cores(raw))
    segments = token.split(".")
    if len(segments) == 3:
        for number, segment in enumerate(segments):
            forms[f"JWT segment {number}"] = segment.encode()
            with contextlib.suppress(binascii.Error, ValueError):
                forms[f"JWT segment {number} decoded"] = base64.urlsafe_b64decode(
                    segment + "=" * (-len(segment) % 4)
                )
    return forms


@dataclass(frozen=True)
class Leak:
    file: Path
    encoding: str
    offset: int


def find_leaks(tokens: Iterable[str], files: Iterable[Path]) -> list[Leak]:
    contents = {path: path.read_bytes() for path in files if path.is_file()}
    leaks = []
    for token in tokens:
        for encoding, needle in encodings(token).items():
            for path, data in contents.items():
                offset = data.find(needle)
                if offset >= 0:
                    leaks.append(Leak(path, encoding, offset))
    return leaks


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())

"""Text that came from the app's side (file names, page text, URLs, its log), made safe to print.

A file name or a page can hold a carriage return and ANSI escapes, and printed raw they can
draw over a FAIL line with "PASS". Control characters are shown escaped (`\r`, `\x1b`), so
what reaches a terminal is what was there.
"""

from __future__ import annotations

import unicodedata

_KEPT_IN_BLOCKS = frozenset("\n\t")


def printable(text: str, *, multiline: bool = True) -> str:
    """`text` with every control character escaped; newlines and tabs kept when `multiline`."""
    kept = _KEPT_IN_BLOCKS if multiline else frozenset()
    return "".join(
        c if c in kept or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") else _escaped(c)
        for c in text
    )


def _escaped(c: str) -> str:
    code = ord(c)
    if c == "\r":
        return "\\r"
    if c == "\n":
        return "\\n"
    if c == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

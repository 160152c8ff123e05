"""Compressed content: gzip, zlib, bz2 and xz streams in a byte string, opened for the scan.

A partner that compresses its log (`access.log.gz`), a session blob or a cache entry has not
encrypted anything: the token is one `gunzip` away. So the scan looks for the start of each
format's stream and reads what it can, bounded in size (a small "bomb" cannot take the run's
memory) and tolerant of a stream that is still being written (a log flushed but not closed has
no trailer yet: everything before the cut is read).

gzip, bz2 and xz start with long magic numbers and are looked for anywhere in the data; zlib's
two-byte header occurs by chance in any text ("x^", "x\\x9c"), so it is tried only where the
caller says a stream may start (the beginning of a file, a cookie, a decoded base64 run).
"""

from __future__ import annotations

import bz2
import lzma
import re
import zlib
from dataclasses import dataclass

MAX_DECOMPRESSED = 64 * 1024 * 1024  # per stream: far more than any partner's log or blob
MAX_STREAMS = 32  # per piece of data: random bytes can hold a gzip magic now and then
_CHUNK = 1024 * 1024

_MAGIC = re.compile(rb"\x1f\x8b\x08|BZh[1-9]1AY&SY|\xfd7zXZ\x00")


@dataclass(frozen=True)
class Stream:
    format: str  # "gzip", "zlib", "bz2" or "xz"
    offset: int  # where the compressed stream starts in the data
    consumed: int  # how many bytes of the data it spans
    content: bytes  # what it decompresses to (possibly cut at MAX_DECOMPRESSED)


def streams(data: bytes, *, zlib_at_start: bool = True) -> list[Stream]:
    """Every compressed stream in `data` that opens to something, in order."""
    found: list[Stream] = []
    if zlib_at_start and _looks_like_zlib(data):
        stream = _open("zlib", data, 0)
        if stream is not None:
            return [stream]
    resume = 0
    for match in _MAGIC.finditer(data):
        if match.start() < resume:
            continue  # inside a stream already opened (a later gzip member, or chance)
        kind = {b"\x1f": "gzip", b"B": "bz2", b"\xfd": "xz"}[match.group()[:1]]
        stream = _open(kind, data, match.start())
        if stream is None:
            continue
        found.append(stream)
        resume = stream.offset + stream.consumed
        if len(found) >= MAX_STREAMS:
            break
    return found


def _looks_like_zlib(data: bytes) -> bool:
    # RFC 1950 §2.2: CM = 8 (deflate), CINFO <= 7, and the two header bytes a multiple of 31.
    return len(data) > 2 and data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0


def _open(kind: str, data: bytes, offset: int) -> Stream | None:
    """Decompress the stream at `offset`, and the members that follow it (gzip, bz2 and xz
    files may hold several, one after another); None when nothing decompresses."""
    out = bytearray()
    position = offset
    while position < len(data) and len(out) < MAX_DECOMPRESSED:
        content, unused, complete = _one_member(kind, data[position:], MAX_DECOMPRESSED - len(out))
        out += content
        if not complete:
            position = len(data) if content else position
            break
        position = len(data) - len(unused)
        if kind == "zlib" or not _MAGIC.match(unused):
            break
    if not out:
        return None
    return Stream(kind, offset, max(position - offset, 1), bytes(out))


def _one_member(kind: str, data: bytes, limit: int) -> tuple[bytes, bytes, bool]:
    """(what one stream decompresses to, the bytes after it, whether it ended cleanly)."""
    out = bytearray()
    try:
        if kind in ("gzip", "zlib"):
            inflater = zlib.decompressobj(wbits=31 if kind == "gzip" else 15)
            pending = data
            while pending and len(out) < limit and not inflater.eof:
                out += inflater.decompress(pending, limit - len(out))
                pending = inflater.unconsumed_tail
            return bytes(out), inflater.unused_data, inflater.eof
        decompressor = bz2.BZ2Decompressor() if kind == "bz2" else lzma.LZMADecompressor(lzma.FORMAT_XZ)
        out += decompressor.decompress(data, limit)
        while not decompressor.eof and not decompressor.needs_input and len(out) < limit:
            out += decompressor.decompress(b"", limit - len(out))
        return bytes(out), decompressor.unused_data, decompressor.eof
    except (zlib.error, OSError, EOFError, lzma.LZMAError):
        return bytes(out), b"", False  # corrupt or cut short: keep what came out before the damage

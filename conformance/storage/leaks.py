"""Finding tokens at rest: every encoding of a token a partner might store, and where it is.

The mock knows every token it issued to the partner, so the storage checks never guess what
looks like a token: they search for those exact values (`Secret`) in each way a program might
write them down (`Needle`): raw, base64 and base64url (padded, unpadded, and inside a larger
base64 blob at any alignment), hex, URL-encoded, JSON-escaped, UTF-16 and, for JWTs, the
payload and signature segments on their own, each also decoded and written down again (the
signature's bytes as hex, the payload's JSON as it is): finding one segment is finding the token.
`scan_bytes` also decodes runs of base64 it meets and searches the decoded bytes, one level
deep, which catches JSON-in-base64 session blobs, and opens gzip, zlib, bz2 and xz content
(`compressed.py`), so a compressed log or a compressed blob in a cookie is read too.
`StreamScanner` does the same over a stream (a dump command's output) in bounded memory.

Matching is `bytes.find` per pattern: CPython's search skips ahead on long patterns, so a few
hundred tokens' worth of patterns go through tens of megabytes in about a second.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from urllib.parse import quote, quote_plus

from conformance.storage import compressed

# Anything shorter would match by accident; real tokens are hundreds of characters.
MIN_SECRET_LENGTH = 8
MIN_SEGMENT_LENGTH = 16  # JWT payload/signature segments searched on their own
BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{40,}={0,2}")
MAX_DEPTH = 3  # compressed inside compressed inside ...: deeper than any real storage nests
EXCERPT_CONTEXT = 40  # bytes of context either side of a hit
STREAM_CHUNK = 2 * 1024 * 1024  # what StreamScanner searches at a time, after the overlap
STREAM_OVERLAP = 512 * 1024  # kept from the previous chunk: see StreamScanner
_TO_STANDARD_ALPHABET = bytes.maketrans(b"-_", b"+/")
_JWT_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Secret:
    """A token the mock issued to the partner. `label` names it in reports; never the value."""

    label: str
    value: str

    @classmethod
    def labelled(cls, kind: str, value: str, token_id: str | None = None) -> Secret:
        """A secret labelled `kind` plus the token's id, or else a few characters of each end."""
        tail = token_id if token_id else f"{value[:4]}…{value[-4:]}"
        return cls(f"{kind} {tail}", value)


@dataclass(frozen=True)
class Needle:
    """One way of writing down a secret: the bytes to search for, and the encoding's name."""

    secret: Secret
    encoding: str
    pattern: bytes


@dataclass(frozen=True)
class Finding:
    """A secret found at rest: which one, how it was encoded, where, and its surroundings."""

    secret_label: str
    encoding: str
    location: str
    excerpt: str  # the hit itself is masked

    def to_dict(self) -> dict[str, str]:
        return {
            "secret": self.secret_label,
            "encoding": self.encoding,
            "location": self.location,
            "excerpt": self.excerpt,
        }


def needles_for(secrets: Iterable[Secret]) -> list[Needle]:
    """Every encoding of every secret worth searching for; one needle per distinct pattern."""
    needles: list[Needle] = []
    for secret in secrets:
        if len(secret.value) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"secret {secret.label!r} is {len(secret.value)} characters long; "
                f"at least {MIN_SECRET_LENGTH} are needed to search for it without false alarms"
            )
        seen: set[bytes] = set()
        for encoding, pattern in _encodings(secret.value):
            if pattern in seen or len(pattern) < MIN_SECRET_LENGTH:
                continue
            seen.add(pattern)
            needles.append(Needle(secret, encoding, pattern))
    return needles


def _encodings(value: str) -> Iterable[tuple[str, bytes]]:
    raw = value.encode("utf-8")
    yield "raw", raw
    yield from _base64_forms(raw, "base64", base64.b64encode)
    yield from _base64_forms(raw, "base64url", base64.urlsafe_b64encode)
    yield "hex", raw.hex().encode("ascii")
    yield "hex (upper case)", raw.hex().upper().encode("ascii")
    # Forms that equal the raw value are dropped by the caller (for a JWT, all of these).
    yield "url-encoded", quote(value, safe="").encode("ascii")
    yield "url-encoded", quote(value).encode("ascii")
    yield "url-encoded", quote_plus(value).encode("ascii")  # form encoding: a space is `+`
    yield "json-escaped", value.replace("/", "\\/").encode("utf-8")  # PHP's json_encode, among others
    yield "utf-16le", value.encode("utf-16-le")
    segments = _jwt_segments(value)
    if segments:
        # Not the header: it is the same for every token of a kind, so finding it proves nothing.
        _, payload, signature = segments
        for name, segment in (("jwt-payload", payload), ("jwt-signature", signature)):
            if len(segment) >= MIN_SEGMENT_LENGTH:
                yield name, segment.encode("ascii")
                yield from _segment_forms(name, decode_base64(segment.encode("ascii")) or b"")


def _segment_forms(name: str, decoded: bytes) -> Iterable[tuple[str, bytes]]:
    """A JWT segment decoded and written down another way: the payload's JSON as it is, the
    signature's bytes in hex or standard base64 (a program that "splits and encodes" a token)."""
    if len(decoded) < MIN_SEGMENT_LENGTH:
        return
    yield f"{name}, decoded", decoded
    yield f"{name} as hex", decoded.hex().encode("ascii")
    yield f"{name} as hex (upper case)", decoded.hex().upper().encode("ascii")
    yield f"{name} as base64", base64.b64encode(decoded)
    yield f"{name} as base64 (unpadded)", base64.b64encode(decoded).rstrip(b"=")


def _base64_forms(raw: bytes, name: str, encode: Callable[[bytes], bytes]) -> Iterable[tuple[str, bytes]]:
    padded = encode(raw)
    yield name, padded
    yield f"{name} (unpadded)", padded.rstrip(b"=")
    # Inside a larger base64 blob the secret starts at one of three alignments. Encode it
    # behind 0, 1 or 2 filler bytes and drop the characters that also carry bits of the
    # neighbouring bytes: 0, 2 or 3 at the front, and the last one unless the length is a
    # multiple of three.
    for shift, unstable_front in ((0, 0), (1, 2), (2, 3)):
        encoded = encode(b"\0" * shift + raw).rstrip(b"=")
        end = len(encoded) - (1 if (shift + len(raw)) % 3 else 0)
        yield f"{name} (within a larger blob)", encoded[unstable_front:end]


def _jwt_segments(value: str) -> tuple[str, str, str] | None:
    """The three segments of a JWS compact serialization (RFC 7515 §7.1), or None."""
    parts = value.split(".")
    if len(parts) != 3 or not all(_JWT_SEGMENT.fullmatch(p) for p in parts):
        return None
    header = decode_base64(parts[0].encode("ascii"))
    try:
        parsed = json.loads(header) if header is not None else None
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    return parts[0], parts[1], parts[2]


def decode_base64(data: bytes) -> bytes | None:
    """Decode base64 or base64url, padded or not; None when `data` is not base64."""
    data = data.strip().rstrip(b"=").translate(_TO_STANDARD_ALPHABET)
    if len(data) % 4 == 1:
        return None
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
    except binascii.Error:
        return None


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    needle: Needle
    rank: int  # the needle's index: on a tie the plainer encoding, listed first, wins


def _hits(data: bytes, needles: Sequence[Needle]) -> list[_Hit]:
    """Every occurrence of every needle; of overlapping hits of one secret only the widest.

    A raw JWT contains its own payload segment and padded base64 contains the unpadded form:
    one place in the data is one finding.
    """
    by_secret: dict[Secret, list[_Hit]] = {}
    for rank, needle in enumerate(needles):
        start = data.find(needle.pattern)
        while start != -1:
            by_secret.setdefault(needle.secret, []).append(
                _Hit(start, start + len(needle.pattern), needle, rank)
            )
            start = data.find(needle.pattern, start + 1)
    kept: list[_Hit] = []
    for hits in by_secret.values():
        hits.sort(key=lambda h: h.start)
        cluster: list[_Hit] = []
        for hit in hits:
            if cluster and hit.start >= max(h.end for h in cluster):
                kept.append(_widest(cluster))
                cluster = []
            cluster.append(hit)
        kept.append(_widest(cluster))
    return sorted(kept, key=lambda h: (h.start, h.rank))


def _widest(cluster: Sequence[_Hit]) -> _Hit:
    return min(cluster, key=lambda h: (h.start - h.end, h.rank))


class _Index:
    """Hits sorted by start, to find those overlapping a range without looking at them all."""

    def __init__(self, hits: Sequence[_Hit]) -> None:
        self.hits = hits
        self.starts = [h.start for h in hits]
        self.longest = max((h.end - h.start for h in hits), default=0)

    def overlapping(self, lo: int, hi: int) -> list[_Hit]:
        first = bisect_right(self.starts, lo - self.longest)
        last = bisect_left(self.starts, hi)
        return [h for h in self.hits[first:last] if h.end > lo]


@dataclass(frozen=True)
class _Run:
    """A run of base64 characters in the data, and where its decoded bytes sit in the buffer
    that holds every decoded run (so one search covers them all)."""

    start: int
    length: int
    decoded_at: int
    decoded_length: int


def _decoded_runs(data: bytes, direct: Sequence[_Hit], shortest: int) -> tuple[bytes, list[_Run]]:
    # A run that lies inside a direct hit is a secret (or a segment of one): decoding it
    # tells nothing new. `reach[i]`: the furthest end of the first i + 1 hits by start.
    starts = [h.start for h in direct]
    reach = list(accumulate((h.end for h in direct), max))
    buffer = bytearray()
    runs: list[_Run] = []
    for match in BASE64_RUN.finditer(data):
        before = bisect_right(starts, match.start())
        if before and reach[before - 1] >= match.end():
            continue
        decoded = decode_base64(match.group())
        if decoded is None or len(decoded) < shortest:
            continue
        runs.append(_Run(match.start(), len(match.group()), len(buffer), len(decoded)))
        buffer += decoded + b"\0"
    return bytes(buffer), runs


@dataclass(frozen=True)
class _Frame:
    """Where `data` sits in a longer stream: the offset and line of its first byte, and how
    much of its start the previous window searched already (what ends there was reported)."""

    origin: int = 0
    lines_before: int = 0
    seen: int = 0
    zlib_at_start: bool = True


_WHOLE = _Frame()


def scan_bytes(
    data: bytes, needles: Sequence[Needle], location: str, *, offsets: bool = True, depth: int = 0
) -> list[Finding]:
    """Every secret in `data`, directly, inside a base64 run (decoded one level deep), or
    inside a compressed stream (opened, and searched the same way, up to `MAX_DEPTH` levels).

    `location` names the data ("file var/app.log"); with `offsets` each finding's location
    adds the byte offset and line number of the hit.
    """
    return _scan(data, needles, location, offsets, depth, _WHOLE)


def _scan(
    data: bytes, needles: Sequence[Needle], location: str, offsets: bool, depth: int, frame: _Frame
) -> list[Finding]:
    if not needles:
        return []
    shortest = min(len(n.pattern) for n in needles)
    if len(data) < shortest:
        return []  # decoding only makes data shorter, so nothing inside can match either
    direct = _Index(_hits(data, needles))
    findings = [
        Finding(
            hit.needle.secret.label,
            hit.needle.encoding,
            _where(data, hit.start, location, offsets, frame),
            _excerpt(data, hit, direct),
        )
        for hit in direct.hits
        if hit.end > frame.seen
    ]
    findings += _inside_compressed(data, needles, location, offsets, depth, frame)
    buffer, runs = _decoded_runs(data, direct.hits, shortest)
    for run in runs:
        if run.start + run.length <= frame.seen:
            continue
        decoded = buffer[run.decoded_at : run.decoded_at + run.decoded_length]
        where = (
            f"{_where(data, run.start, location, offsets, frame)}, in a base64 run of {run.length} characters"
        )
        findings += _inside_compressed(decoded, needles, where, False, depth, _WHOLE)
    run_starts = [run.decoded_at for run in runs]
    inner = _Index(_hits(buffer, needles))
    for hit in inner.hits:
        run = runs[bisect_right(run_starts, hit.start) - 1]
        if hit.end > run.decoded_at + run.decoded_length:
            continue  # spans two runs: an artefact of searching them together
        if run.start + run.length <= frame.seen:
            continue
        if any(
            d.needle.secret == hit.needle.secret
            for d in direct.overlapping(run.start, run.start + run.length)
        ):
            continue  # already reported directly (the run is the secret's base64)
        findings.append(
            Finding(
                hit.needle.secret.label,
                f"{hit.needle.encoding} inside base64",
                f"{_where(data, run.start, location, offsets, frame)}, in a base64 run of {run.length} "
                f"characters, at decoded byte {hit.start - run.decoded_at}",
                _excerpt(buffer, hit, inner, within=(run.decoded_at, run.decoded_at + run.decoded_length)),
            )
        )
    return findings


def _inside_compressed(
    data: bytes, needles: Sequence[Needle], location: str, offsets: bool, depth: int, frame: _Frame
) -> list[Finding]:
    if depth >= MAX_DEPTH:
        return []
    findings: list[Finding] = []
    for stream in compressed.streams(data, zlib_at_start=frame.zlib_at_start):
        if stream.offset + stream.consumed <= frame.seen:
            continue
        where = f"{_where(data, stream.offset, location, offsets, frame)}, {stream.format}-compressed"
        for finding in scan_bytes(stream.content, needles, where, offsets=True, depth=depth + 1):
            findings.append(replace(finding, encoding=f"{finding.encoding} inside {stream.format}"))
    return findings


def scan_text(text: str, needles: Sequence[Needle], location: str, *, offsets: bool = True) -> list[Finding]:
    """`scan_bytes` on the UTF-8 encoding of `text` (offsets are then UTF-8 byte offsets)."""
    return scan_bytes(text.encode("utf-8", "surrogateescape"), needles, location, offsets=offsets)


class StreamScanner:
    """`scan_bytes` over data that arrives in pieces (a dump command's output), in bounded memory.

    The data is searched in windows: each new `chunk` bytes behind the last `overlap` bytes of
    the window before. A token is shorter than the overlap, so one that spans two chunks lies
    whole in the second window; what ends inside the overlap was reported by the first window
    and is not reported again. Offsets and line numbers count from the start of the stream.

    Decoding works on a window, so two encodings see a bounded stretch of the stream: a base64
    run is decoded whole when it is no longer than the overlap, and a compressed stream is
    opened from its start to the end of the window it starts in (at least `overlap` bytes of
    it, and up to `compressed.MAX_DECOMPRESSED` out); what follows is not decompressed. A zlib
    stream (whose header occurs by chance) is looked for at the very start of the data only.
    Where a hit straddles a chunk boundary, a shorter form of the same secret that ends before
    it (a JWT's payload segment) can be reported by the first window as well.
    """

    def __init__(
        self,
        needles: Sequence[Needle],
        location: str,
        *,
        chunk: int = STREAM_CHUNK,
        overlap: int = STREAM_OVERLAP,
    ) -> None:
        self.needles = needles
        self.location = location
        self.chunk = chunk
        self.overlap = max(overlap, max((len(n.pattern) for n in needles), default=0))
        self.findings: list[Finding] = []
        self.size = 0  # bytes fed so far
        self._pending = bytearray()
        self._tail = b""  # the end of the last window searched
        self._origin = 0  # the stream offset of the tail's first byte
        self._lines = 0  # newlines in the stream before the tail

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        self._pending += data
        while len(self._pending) >= self.chunk:
            piece = bytes(self._pending[: self.chunk])
            del self._pending[: self.chunk]
            self._search(piece)

    def close(self) -> list[Finding]:
        """Search what is left; every finding in the stream."""
        if self._pending:
            self._search(bytes(self._pending))
            self._pending.clear()
        return self.findings

    def _search(self, piece: bytes) -> None:
        window = self._tail + piece
        first = self._origin == 0 and not self._tail
        frame = _Frame(self._origin, self._lines, seen=len(self._tail), zlib_at_start=first)
        self.findings += _scan(window, self.needles, self.location, True, 0, frame)
        dropped = max(len(window) - self.overlap, 0)
        self._lines += window.count(b"\n", 0, dropped)
        self._origin += dropped
        self._tail = window[dropped:]


def _where(data: bytes, offset: int, location: str, offsets: bool, frame: _Frame = _WHOLE) -> str:
    if not offsets:
        return location
    line = frame.lines_before + data.count(b"\n", 0, offset) + 1
    return f"{location} at byte {frame.origin + offset} (line {line})"


def _excerpt(data: bytes, hit: _Hit, hits: _Index, within: tuple[int, int] | None = None) -> str:
    """A short, printable context around `hit` (inside `within`), with every hit in it masked."""
    first, last = within if within else (0, len(data))
    lo = max(first, hit.start - EXCERPT_CONTEXT)
    hi = min(last, hit.end + EXCERPT_CONTEXT)
    parts: list[str] = ["…" if lo > first else ""]
    cursor = lo
    for other in hits.overlapping(lo, hi):
        start, end = max(other.start, cursor), min(other.end, hi)
        if start >= end:
            continue
        parts.append(_printable(data[cursor:start]))
        parts.append(f"«{other.needle.encoding} token, {other.end - other.start} bytes, masked»")
        cursor = end
    parts.append(_printable(data[cursor:hi]))
    parts.append("…" if hi < last else "")
    return "".join(parts)


def _printable(chunk: bytes) -> str:
    text = chunk.decode("utf-8", "replace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)

"""Tokens in the browser: cookies (decoding signed-but-not-encrypted sessions) and web storage.

A signed session cookie is readable by anyone who holds it: the signature stops tampering,
not reading. So a token kept in Flask's, Starlette's, Django's, Rails' or Express's
cookie-backed session is a token in the browser, and `decode_cookie` opens each of these
formats to show it. Encrypted formats (Rails' default since 5.2, Mozilla's client-sessions,
Laravel, iron/JWE) cannot be read and are left to the raw scan, which is right: an encrypted
cookie does not leak the token.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from conformance.storage.leaks import Finding, Needle, decode_base64, scan_bytes

MAX_INFLATED = 4 * 1024 * 1024  # a cookie is at most a few kB; a zlib bomb is not worth reading

_B64URL = r"[A-Za-z0-9_-]+"
_B64 = r"[A-Za-z0-9+/]+={0,2}"
# itsdangerous `URLSafeTimedSerializer` (Flask's session): [.]payload.timestamp.signature,
# base64url without padding; a leading `.` means the payload is zlib-compressed.
_ITSDANGEROUS = re.compile(rf"(\.?)({_B64URL})\.({_B64URL})\.({_B64URL})")
# Starlette `SessionMiddleware`: standard base64 of JSON, signed by itsdangerous'
# `TimestampSigner`: payload.timestamp.signature.
_STARLETTE = re.compile(rf"({_B64})\.({_B64URL})\.({_B64URL})")
# Django `signing.dumps` (the signed_cookies session backend): [.]payload:timestamp:signature.
_DJANGO = re.compile(rf"(\.?)({_B64URL}):({_B64URL}):({_B64URL})")
# Rails' signed (not encrypted) cookies: base64 data, `--`, hex or base64 digest.
_RAILS = re.compile(rf"({_B64})--([A-Za-z0-9+/=_-]+)")
_ITSDANGEROUS_TIMESTAMP_BYTES = 8  # an epoch in seconds: 4 bytes today


def decode_cookie(name: str, value: str) -> list[tuple[str, bytes]]:
    """Every readable form of a cookie value, as (how it was decoded, bytes) pairs.

    The most specific forms come first: known session formats, then the URL-decoded value,
    then base64 of the value and of its parts. The value as stored is not included. Forms
    that decode to the same bytes are listed once, under the first name.
    """
    if name.endswith(".sig"):
        return []  # Express cookie-session's signature of the `<name>` cookie: a keyed hash
    forms: list[tuple[str, bytes]] = []
    seen: set[bytes] = set()

    def add(how: str, data: bytes | None) -> None:
        if data and data not in seen:
            seen.add(data)
            forms.append((how, data))

    stored = value.strip()
    if len(stored) >= 2 and stored[0] == stored[-1] == '"':
        stored = stored[1:-1]  # RFC 6265 §4.1.1 allows a quoted cookie value
    seen.add(stored.encode("utf-8"))
    unquoted = unquote(stored)
    texts = [stored] if unquoted == stored else [stored, unquoted]
    for text in texts:
        for how, data in _session_formats(text):
            add(how, data)
    add("URL-decoded", unquoted.encode("utf-8"))
    for text in texts:
        for how, data in _generic(text):
            add(how, data)
    return forms


def _session_formats(text: str) -> Iterable[tuple[str, bytes | None]]:
    if match := _ITSDANGEROUS.fullmatch(text):
        compressed, payload, timestamp, _ = match.groups()
        if _is_itsdangerous_timestamp(timestamp):
            data = _inflate_if(compressed, decode_base64(payload.encode("ascii")))
            if _is_json(data):
                yield f"{_itsdangerous_flavour(compressed, payload)}, decoded", data
    if (match := _STARLETTE.fullmatch(text)) and _is_itsdangerous_timestamp(match.group(2)):
        data = decode_base64(match.group(1).encode("ascii"))
        if _is_json(data):
            yield f"{_itsdangerous_flavour('', match.group(1))}, decoded", data
    if match := _DJANGO.fullmatch(text):
        compressed, payload, _, _ = match.groups()
        data = _inflate_if(compressed, decode_base64(payload.encode("ascii")))
        if _is_json(data):
            yield "Django signed cookie (signing.dumps), decoded", data
    if match := _RAILS.fullmatch(text):
        data = decode_base64(match.group(1).encode("ascii"))
        if data:
            yield "Rails signed cookie (data--digest), decoded", data
    whole = decode_base64(text.encode("utf-8")) if re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", text) else None
    if _is_json(whole):
        yield "Express cookie-session (base64 JSON), decoded", whole
    parts = text.split(".")
    if len(parts) == 3 and _is_json(decode_base64(parts[0].encode("utf-8"))):
        # A JWS (RFC 7515 §7.1): signed, so readable by whoever holds it.
        yield "JWT header, decoded", decode_base64(parts[0].encode("utf-8"))
        yield "JWT payload, decoded", decode_base64(parts[1].encode("utf-8"))


def _generic(text: str) -> Iterable[tuple[str, bytes | None]]:
    """base64/base64url of the whole value and of each `.`-separated part, inflated if zlib."""
    parts = text.split(".")
    candidates = [("the value", text)]
    if len(parts) > 1:
        candidates += [(f"part {i + 1} of {len(parts)}", part) for i, part in enumerate(parts)]
    for what, candidate in candidates:
        data = decode_base64(candidate.encode("utf-8")) if candidate.isascii() else None
        yield f"base64 of {what}, decoded", data
        if data and data[:1] == b"\x78":
            yield f"zlib in base64 of {what}, decoded", _inflate(data)


def _itsdangerous_flavour(compressed: str, payload: str) -> str:
    if compressed or "-" in payload or "_" in payload:
        return "Flask/itsdangerous signed session"
    if "+" in payload or "/" in payload or payload.endswith("="):
        return "Starlette SessionMiddleware session"
    return "itsdangerous-signed session (Flask or Starlette)"


def _is_itsdangerous_timestamp(segment: str) -> bool:
    data = decode_base64(segment.encode("ascii"))
    return data is not None and 0 < len(data) <= _ITSDANGEROUS_TIMESTAMP_BYTES


def _inflate_if(compressed: str, data: bytes | None) -> bytes | None:
    return _inflate(data) if compressed and data else data


def _inflate(data: bytes) -> bytes | None:
    try:
        return zlib.decompressobj().decompress(data, MAX_INFLATED)
    except zlib.error:
        return None


def _is_json(data: bytes | None) -> bool:
    if not data or data[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def _forms(where: str, name: str, value: str) -> list[tuple[str, bytes]]:
    """Where a cookie-like value can be read: each decoded form, then the value as stored."""
    decoded = [(f"{where} ({how})", data) for how, data in decode_cookie(name, value)]
    return [*decoded, (f"{where} (as stored)", value.encode("utf-8"))]


def scan_cookies(cookies: Sequence[Mapping[str, Any]], needles: Sequence[Needle]) -> list[Finding]:
    """Secrets in browser cookies (Playwright's cookie dicts: name, value, domain, path, ...).

    Each cookie is searched in its decoded forms first, then as stored; a secret is reported
    once per cookie, under the most telling form (a token inside a Flask session is reported
    as such, not as an unexplained base64 fragment).
    """
    findings: list[Finding] = []
    for cookie in cookies:
        name = str(cookie.get("name", ""))
        value = str(cookie.get("value", ""))
        where = f"cookie {name} on {cookie.get('domain', '')}{cookie.get('path', '')}"
        findings += _once_per_secret(_forms(where, name, value), needles)
    return findings


_CHUNK_SUFFIX = re.compile(r"[._-]?(?:c|chunk|part)?\d+$", re.IGNORECASE)


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def scan_split_cookies(cookies: Sequence[Mapping[str, Any]], needles: Sequence[Needle]) -> list[Finding]:
    """Secrets split across several cookies (`at.0`, `at.1`, ...; ASP.NET's `nameC1`, `nameC2`):
    the values of each family of chunked names, and of all of a site's cookies, joined in name
    order, then decoded as one cookie value."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for cookie in cookies:
        site = (str(cookie.get("domain", "")), str(cookie.get("path", "")))
        name = str(cookie.get("name", ""))
        groups.setdefault((*site, _CHUNK_SUFFIX.sub("", name) + "*"), []).append(cookie)
        groups.setdefault((*site, "*"), []).append(cookie)
    findings: list[Finding] = []
    for (domain, path, family), members in groups.items():
        if len(members) < 2:
            continue
        members = sorted(members, key=lambda c: _natural(str(c.get("name", ""))))
        names = "+".join(str(c.get("name", "")) for c in members)
        joined = "".join(str(c.get("value", "")) for c in members)
        where = f"cookies {names} on {domain}{path}, joined"
        findings += _once_per_secret(_forms(where, family, joined), needles)
    return findings


def scan_web_storage(
    kind: str, items: Mapping[str, str], origin: str, needles: Sequence[Needle]
) -> list[Finding]:
    """Secrets in localStorage or sessionStorage (`kind`) of `origin`: values, decoded as a
    cookie would be, and the key names themselves (a token used as a key is still stored)."""
    findings: list[Finding] = []
    for key, value in items.items():
        where = f"{kind} key {key!r} on {origin}"
        findings += _once_per_secret(_forms(where, key, value), needles)
        findings += scan_bytes(key.encode("utf-8"), needles, f"{kind} key name on {origin}", offsets=False)
    return findings


def _once_per_secret(forms: Sequence[tuple[str, bytes]], needles: Sequence[Needle]) -> list[Finding]:
    """One finding per secret, from the first form that shows it; but a token stored as it is
    (the last form, "as stored", and raw) is reported so, not as its own decoded payload."""
    best: dict[str, tuple[int, int, Finding]] = {}
    for order, (location, data) in enumerate(forms):
        for finding in scan_bytes(data, needles, location, offsets=False):
            stored_raw = order == len(forms) - 1 and finding.encoding == "raw"
            rank = (0 if stored_raw else 1, order)
            kept = best.get(finding.secret_label)
            if kept is None or rank < kept[:2]:
                best[finding.secret_label] = (*rank, finding)
    return [finding for _, _, finding in sorted(best.values(), key=lambda kept: kept[:2])]

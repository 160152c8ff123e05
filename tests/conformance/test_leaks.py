"""The token-leak matcher: every encoding of an issued token is found, and nothing else is."""

from __future__ import annotations

import base64
import bz2
import gzip
import json
import lzma
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conformance.storage import compressed
from conformance.storage.leaks import Finding, Secret, needles_for, scan_bytes, scan_text
from tests.helpers import issued
from tests.helpers.flows import tokens_for

# Not a JWT, with characters that URL- and JSON-encoding change and that make base64 and
# base64url differ; 37 characters, so its base64 has padding and its unpadded and "within a
# larger blob" forms differ from the padded one.
OPAQUE = Secret("opaque token", "Xk9+qR/7vZ2=mN4p_Lw8-Tj3/Hs6+Bd1Y>?~0")
ASCII_ENCODINGS = [
    "raw",
    "base64",
    "base64 (unpadded)",
    "base64 (within a larger blob)",
    "base64url",
    "base64url (unpadded)",
    "base64url (within a larger blob)",
    "hex",
    "hex (upper case)",
    "url-encoded",
    "json-escaped",
]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_needles_cover_every_listed_encoding_of_an_opaque_token() -> None:
    encodings = {n.encoding for n in needles_for([OPAQUE])}
    assert encodings == {*ASCII_ENCODINGS, "utf-16le"}


def test_needles_of_a_jwt_add_payload_and_signature_but_never_the_header() -> None:
    token = issued.secret("access_token")
    header = token.value.split(".")[0].encode()
    needles = needles_for([token])
    assert {"jwt-payload", "jwt-signature"} <= {n.encoding for n in needles}
    assert not [n for n in needles if n.pattern == header]
    # A JWT is URL-safe already: its URL-encoded form is the raw one, searched once.
    assert "url-encoded" not in {n.encoding for n in needles}


@pytest.mark.parametrize("encoding", ASCII_ENCODINGS)
def test_each_encoding_is_found_where_it_was_written(encoding: str) -> None:
    for needle in (n for n in needles_for([OPAQUE]) if n.encoding == encoding):
        data = b'{"user": "alice", "blob": "' + needle.pattern + b'", "n": 1}\n'
        finding = only(scan_bytes(data, needles_for([OPAQUE]), "file var/state.json"))
        assert (finding.secret_label, finding.encoding) == ("opaque token", encoding)


def test_utf16_text_is_found() -> None:
    data = "name=alice;token=".encode("utf-16-le") + OPAQUE.value.encode("utf-16-le")
    assert only(scan_bytes(data, needles_for([OPAQUE]), "file app.dat")).encoding == "utf-16le"


@pytest.mark.parametrize("segment, encoding", [(1, "jwt-payload"), (2, "jwt-signature")])
def test_a_jwt_segment_stored_on_its_own_is_found(segment: int, encoding: str) -> None:
    token = issued.secret("refresh_token")
    data = f"sig={token.value.split('.')[segment]}\n".encode()
    finding = only(scan_bytes(data, needles_for([token]), "file var/rt"))
    assert (finding.secret_label, finding.encoding) == ("refresh_token", encoding)


def _segment_bytes(token: Secret, index: int) -> bytes:
    segment = token.value.split(".")[index]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@pytest.mark.parametrize(
    ("segment", "write", "encoding"),
    [
        (2, lambda b: b.hex(), "jwt-signature as hex"),
        (2, lambda b: b.hex().upper(), "jwt-signature as hex (upper case)"),
        (2, lambda b: base64.b64encode(b).decode(), "jwt-signature as base64"),
        (1, lambda b: b.decode(), "jwt-payload, decoded"),
        (1, lambda b: b.hex(), "jwt-payload as hex"),
    ],
)
def test_a_jwt_segment_decoded_and_written_down_again_is_that_token(
    segment: int, write: Callable[[bytes], str], encoding: str
) -> None:
    # "Splitting and hex-encoding" a token is no protection: the signature alone is the token's.
    token = issued.secret("access_token")
    data = f"header=...\npart={write(_segment_bytes(token, segment))}\n".encode()
    finding = only(scan_bytes(data, needles_for([token]), "file var/sessions.txt"))
    assert (finding.secret_label, finding.encoding) == ("access_token", encoding)


def _gzip_flushed_not_closed(data: bytes) -> bytes:
    """What a log writer that flushes each line but never closes leaves on disk: no trailer."""
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


@pytest.mark.parametrize(
    ("name", "pack"),
    [
        ("gzip", gzip.compress),
        ("gzip", _gzip_flushed_not_closed),
        ("gzip", lambda d: gzip.compress(b"first line\n") + gzip.compress(d)),  # an appended member
        ("zlib", zlib.compress),
        ("bz2", bz2.compress),
        ("xz", lzma.compress),
    ],
)
def test_a_token_in_compressed_content_is_found(name: str, pack: Callable[[bytes], bytes]) -> None:
    token = issued.secret("refresh_token")
    data = pack(f"2026-12-03 POST /ims/token/v3 -> {json.dumps({'refresh_token': token.value})}\n".encode())
    finding = only(scan_bytes(data, needles_for([token]), "file var/access.log.gz"))
    assert finding.encoding == f"raw inside {name}"
    assert finding.location.startswith("file var/access.log.gz at byte ")
    assert f"{name}-compressed" in finding.location


def test_compressed_content_inside_base64_inside_a_file_is_found() -> None:
    token = issued.secret("access_token")
    blob = base64.b64encode(gzip.compress(json.dumps({"at": token.value}).encode())).decode()
    finding = only(scan_text(f'{{"session": "{blob}"}}', needles_for([token]), "file var/s.json"))
    assert finding.encoding == "raw inside gzip"


def test_a_decompression_bomb_is_read_only_up_to_its_bound() -> None:
    bomb = gzip.compress(b"\0" * (compressed.MAX_DECOMPRESSED + 1024 * 1024))
    (stream,) = compressed.streams(bomb)
    assert len(stream.content) == compressed.MAX_DECOMPRESSED


def test_random_bytes_with_a_chance_magic_number_are_no_stream() -> None:
    assert compressed.streams(b"\x1f\x8b\x08" + bytes(range(256)) * 4) == []


@pytest.mark.parametrize("kind", ["authorization_code", "access_token", "refresh_token", "id_token"])
def test_a_raw_token_is_one_finding_not_one_per_segment(kind: str) -> None:
    data = f"Authorization: Bearer {issued.issued()[kind]}\n".encode()
    finding = only(scan_bytes(data, needles_for(issued.secrets()), "file var/app.log"))
    assert (finding.secret_label, finding.encoding) == (kind, "raw")


def test_a_jwt_header_alone_is_not_a_finding() -> None:
    token = issued.secret("access_token")
    header = token.value.split(".")[0]
    data = f"header={header}\nheader.b64={base64.b64encode(header.encode()).decode()}\n".encode()
    assert scan_bytes(data, needles_for([token]), "file var/app.log") == []


def test_another_token_of_the_same_kind_is_not_a_finding() -> None:
    # The code and the access token share signer and most claims; only the exact token counts.
    code, access = issued.issued()["authorization_code"], issued.secret("access_token")
    assert scan_text(f"code={code}", needles_for([access]), "file var/app.log") == []


def flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def test_a_token_altered_in_payload_and_signature_is_not_a_finding() -> None:
    token = issued.secret("access_token")
    header, payload, signature = token.value.split(".")
    altered = f"{header}.{flip(payload, 20)}.{flip(signature, 20)}"
    assert scan_text(altered, needles_for([token]), "file var/app.log") == []


def test_an_intact_signature_segment_is_still_that_token() -> None:
    token = issued.secret("access_token")
    header, payload, signature = token.value.split(".")
    findings = scan_text(
        f"{header}.{flip(payload, 20)}.{signature}", needles_for([token]), "file var/app.log"
    )
    assert [f.encoding for f in findings] == ["jwt-signature"]


def test_random_base64_and_binary_are_not_findings() -> None:
    data = base64.b64encode(bytes(range(256)) * 400) + bytes(range(256)) * 400
    assert scan_bytes(data, needles_for(issued.secrets()), "file var/blob") == []


@pytest.mark.parametrize("alphabet", [base64.b64encode, base64.urlsafe_b64encode])
@pytest.mark.parametrize("before", range(6))
def test_base64_of_a_token_inside_a_larger_blob_is_found_at_every_alignment(
    alphabet: Any, before: int
) -> None:
    token = issued.secret("access_token")
    blob = alphabet(b"p" * before + token.value.encode() + b"?~tail")
    finding = only(scan_bytes(b"blob=" + blob + b"\n", needles_for([token]), "file var/blob"))
    assert finding.encoding.startswith("base64")
    assert "inside base64" not in finding.encoding  # found by the shifted needles themselves


def test_json_in_base64_is_decoded_and_searched_one_level_deep() -> None:
    token = issued.secret("access_token")
    raw_only = [n for n in needles_for([token]) if n.encoding == "raw"]
    blob = base64.b64encode(json.dumps({"user": "alice", "access_token": token.value}).encode())
    finding = only(scan_bytes(b"session=" + blob + b"\n", raw_only, "file var/sessions.txt"))
    assert finding.encoding == "raw inside base64"
    assert finding.location.startswith("file var/sessions.txt at byte 8 (line 1), in a base64 run of")
    assert finding.excerpt.startswith('{"user": "alice", "access_token": "«raw token,')


def test_a_token_both_encoded_and_in_decoded_base64_is_reported_once() -> None:
    token = issued.secret("access_token")
    blob = base64.b64encode(json.dumps({"t": token.value}).encode())
    assert (
        only(scan_bytes(blob, needles_for([token]), "file var/x")).encoding == "base64 (within a larger blob)"
    )


def test_hex_inside_base64_is_found() -> None:
    token = issued.secret("refresh_token")
    blob = base64.b64encode(b"rt:" + token.value.encode().hex().encode())
    assert only(scan_bytes(blob, needles_for([token]), "file var/x")).encoding == "hex inside base64"


def test_a_finding_names_the_byte_offset_and_line_of_a_token_mid_line() -> None:
    token = issued.secret("access_token")
    data = b"line one\nline two\n2026-01-01 INFO token=" + token.value.encode() + b" user=alice\n"
    finding = only(scan_bytes(data, needles_for([token]), "file var/app.log"))
    assert finding.location == "file var/app.log at byte 40 (line 3)"


def test_the_excerpt_shows_the_context_and_masks_the_token() -> None:
    access, refresh = issued.secret("access_token"), issued.secret("refresh_token")
    data = f"INFO stored access={access.value} refresh={refresh.value} for alice".encode()
    findings = scan_bytes(data, needles_for([access, refresh]), "file var/app.log")
    assert [f.secret_label for f in findings] == ["access_token", "refresh_token"]
    for finding in findings:
        assert access.value[:40] not in finding.excerpt
        assert refresh.value[-40:] not in finding.excerpt
        assert "«raw token," in finding.excerpt
    assert findings[0].excerpt.startswith("INFO stored access=«raw token,")
    assert findings[1].excerpt.endswith("masked» for alice")


def test_without_offsets_the_location_is_as_given() -> None:
    token = issued.secret("access_token")
    finding = only(scan_text(token.value, needles_for([token]), "localStorage key 'auth'", offsets=False))
    assert finding.location == "localStorage key 'auth'"


def test_every_occurrence_is_reported() -> None:
    token = issued.secret("access_token")
    data = "\n".join(f"GET /api Authorization: Bearer {token.value}" for _ in range(3)).encode()
    findings = scan_bytes(data, needles_for([token]), "file access.log")
    assert [f.location.split("(")[1] for f in findings] == ["line 1)", "line 2)", "line 3)"]


def test_a_secret_too_short_to_search_for_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'pin'"):
        needles_for([Secret("pin", "1234")])


def test_a_secret_label_names_kind_and_id_never_the_value() -> None:
    assert Secret.labelled("access_token", "x" * 40, "1795_abc_ue1").label == "access_token 1795_abc_ue1"
    assert Secret.labelled("refresh_token", "abcdefghijklmnop").label == "refresh_token abcd…mnop"


def test_findings_serialise_for_the_report() -> None:
    token = issued.secret("access_token")
    finding = only(scan_text(quote(token.value), needles_for([token]), "file f"))
    assert finding.to_dict() == {
        "secret": "access_token",
        "encoding": "raw",
        "location": "file f at byte 0 (line 1)",
        "excerpt": finding.excerpt,
    }


@pytest.mark.anyio
async def test_tokens_from_a_real_code_flow_are_found_in_a_dump(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    secrets = [Secret(k, body[k]) for k in ("access_token", "refresh_token", "id_token")]
    dump = json.dumps({"tokens": body, "encoded": base64.b64encode(body["refresh_token"].encode()).decode()})
    findings = scan_text(dump, needles_for(secrets), "command output")
    assert sorted((f.secret_label, f.encoding) for f in findings) == [
        ("access_token", "raw"),
        ("id_token", "raw"),
        ("refresh_token", "base64"),
        ("refresh_token", "raw"),
    ]

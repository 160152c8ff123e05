"""The leak finder itself: it must find a token however a careless app encodes it."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.reference_client.leaks import find_leaks

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJpZCI6IjE3MDAwMDAwMDAwMDBfYWJjIiwidHlwZSI6ImFjY2Vzc190b2tlbiJ9.c2lnbmF0dXJlLWJ5dGVzLW9mLXRoZS10b2tlbg"


@pytest.mark.parametrize(
    "stored",
    [
        TOKEN.encode(),
        base64.b64encode(TOKEN.encode()),
        base64.b64encode(json.dumps({"access_token": TOKEN}).encode()),
        base64.urlsafe_b64encode(b"x" + TOKEN.encode()),
        TOKEN.encode().hex().encode(),
        quote(TOKEN, safe="").encode(),
        b"session=" + TOKEN.split(".")[2].encode(),
        base64.urlsafe_b64decode(TOKEN.split(".")[1] + "=="),
    ],
)
def test_a_token_is_found_in_any_encoding(tmp_path: Path, stored: bytes) -> None:
    path = tmp_path / "store"
    path.write_bytes(b"prefix" + stored + b"suffix")
    assert find_leaks([TOKEN], [path])


def test_nothing_is_found_where_there_is_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store"
    path.write_bytes(b"an innocent file")
    assert find_leaks([TOKEN], [path]) == []

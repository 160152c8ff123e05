"""Tokens at rest: encrypted in SQLite, useless when tampered with, kept across key rotation."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from mock_ims.state.context import Context
from reference_client.keyring import StaticKeyRing, generate_key, key_id, read_key_file
from reference_client.rotation import RotationError, rotate
from tests.reference_client.harness import InProcess, in_process
from tests.reference_client.leaks import files_under, find_leaks

pytestmark = pytest.mark.anyio

DAY = 86_400


def tokens_row(rc: InProcess) -> tuple[str, bytes, bytes]:
    with sqlite3.connect(rc.settings.database_path) as db:
        row = db.execute("SELECT key_id, nonce, ciphertext FROM tokens").fetchone()
    assert row is not None
    return str(row[0]), bytes(row[1]), bytes(row[2])


def write_tokens_row(rc: InProcess, sql: str, *args: object) -> None:
    with sqlite3.connect(rc.settings.database_path) as db:
        db.execute(sql, args)


async def all_tokens_the_mock_issued(rc: InProcess) -> list[str]:
    ledger = [record.raw for record in await rc.mock.ledger.all()]
    return ledger + rc.recorder.issued_tokens()


async def test_the_data_directory_holds_no_token_in_any_encoding(rc: InProcess) -> None:
    await rc.sign_in()
    await rc.mock.clock.advance(DAY)
    assert (await rc.browser.get("/profile")).status_code == 200  # a refresh: rotated tokens stored too
    tokens = await all_tokens_the_mock_issued(rc)
    assert len(tokens) >= 6  # code; access, refresh, id token; refreshed access and refresh
    files = files_under(rc.settings.data_dir)
    assert rc.settings.database_path in files
    assert find_leaks(tokens, files) == []


async def test_the_stored_row_is_a_ciphertext_under_the_current_key(rc: InProcess) -> None:
    await rc.sign_in()
    stored_key_id, nonce, ciphertext = tokens_row(rc)
    assert stored_key_id == rc.components.keys.current().id
    assert len(nonce) == 12
    assert b"access_token" not in ciphertext


async def test_a_tampered_ciphertext_is_treated_as_logged_out(rc: InProcess) -> None:
    await rc.sign_in()
    _, _, ciphertext = tokens_row(rc)
    flipped = ciphertext[:10] + bytes([ciphertext[10] ^ 0x01]) + ciphertext[11:]
    write_tokens_row(rc, "UPDATE tokens SET ciphertext=?", flipped)
    response = await rc.browser.get("/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/?notice=session-ended"
    assert await rc.journal(endpoint="profile") == []  # nothing was sent anywhere


async def test_tokens_moved_to_another_users_row_do_not_open(rc: InProcess) -> None:
    bob = rc.new_browser()
    await rc.sign_in(user="bob@example.com", browser=bob)
    await rc.sign_in()
    alice, bob_id = rc.user_id("alice@example.com"), rc.user_id("bob@example.com")
    write_tokens_row(rc, "DELETE FROM tokens WHERE user_id=?", bob_id)
    write_tokens_row(rc, "UPDATE tokens SET user_id=? WHERE user_id=?", bob_id, alice)
    response = await bob.get("/profile")
    assert response.headers["location"] == "/?notice=session-ended"


async def test_the_database_file_is_owner_only(rc: InProcess) -> None:
    await rc.sign_in()
    assert rc.settings.database_path.stat().st_mode & 0o077 == 0
    assert rc.settings.data_dir.stat().st_mode & 0o077 == 0


async def test_the_database_knows_sessions_only_by_a_hash(rc: InProcess) -> None:
    await rc.sign_in()
    session_id = rc.browser.cookies["rc_session"]
    assert find_leaks([session_id], files_under(rc.settings.data_dir)) == []


# --- key rotation ------------------------------------------------------------------------------


@pytest.fixture
async def rc_with_key_file(ims_context: Context, tmp_path: Path) -> AsyncIterator[InProcess]:
    """The reference client with no key configured: it generates a key file in DATA_DIR."""
    running = await in_process(ims_context, tmp_path / "data", encryption_key=None)
    try:
        yield running
    finally:
        await running.aclose()


async def test_rotating_the_key_file_keeps_users_signed_in(rc_with_key_file: InProcess) -> None:
    rc = rc_with_key_file
    await rc.sign_in()
    before, _, _ = tokens_row(rc)
    report = rotate(rc.settings)
    assert report.reencrypted == 1
    after, _, _ = tokens_row(rc)
    assert after == report.key_id != before
    assert report.retired_keys == [before]
    assert [key_id(k) for k in read_key_file(rc.settings.default_key_file)] == [after]
    assert rc.settings.default_key_file.stat().st_mode & 0o077 == 0
    response = await rc.browser.get("/profile")  # the running app re-read the key file
    assert response.status_code == 200
    assert "Alice Example" in response.text
    assert len(await rc.journal(endpoint="token")) == 1  # no new sign-in was needed


async def test_after_rotation_new_tokens_are_sealed_with_the_new_key(rc_with_key_file: InProcess) -> None:
    rc = rc_with_key_file
    await rc.sign_in()
    report = rotate(rc.settings)
    rc.clock.advance(DAY)
    assert (await rc.browser.get("/profile")).status_code == 200  # refreshed and stored again
    assert tokens_row(rc)[0] == report.key_id


async def test_rotating_with_environment_keys_reencrypts_under_the_new_key(rc: InProcess) -> None:
    await rc.sign_in()
    old = rc.settings.encryption_key
    assert old is not None
    new = generate_key()
    report = rotate(replace(rc.settings, encryption_key=new, previous_encryption_keys=(old,)))
    assert report.reencrypted == 1
    assert tokens_row(rc)[0] == key_id(new)
    # The app restarted with the new key alone still has the user's tokens.
    rc.components.vault.keys = StaticKeyRing([new])
    assert (await rc.browser.get("/profile")).status_code == 200


async def test_rotation_refuses_to_orphan_tokens_of_a_key_it_was_not_given(rc: InProcess) -> None:
    await rc.sign_in()
    with pytest.raises(RotationError, match="TOKEN_ENCRYPTION_PREVIOUS_KEYS"):
        rotate(replace(rc.settings, encryption_key=generate_key()))
    assert tokens_row(rc)[0] == rc.components.keys.current().id  # untouched


async def test_rotation_discards_tampered_rows(rc: InProcess) -> None:
    await rc.sign_in()
    write_tokens_row(rc, "UPDATE tokens SET ciphertext=?", b"garbage-that-fails-authentication")
    assert rc.settings.encryption_key is not None
    report = rotate(
        replace(
            rc.settings, encryption_key=generate_key(), previous_encryption_keys=(rc.settings.encryption_key,)
        )
    )
    assert report.discarded == 1
    assert rc.components.token_store.user_ids() == []

"""The app is made of replaceable collaborators: a weaker one changes the app, and the tests see it.

The conformance suite builds its "evil twins" this way: each replaces one collaborator with a
subclass broken on purpose. These two show the seams work, and that the tests that guard the
reference client fail on a twin.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest

from mock_ims.state.context import Context
from reference_client.sessions import Session
from reference_client.state import PendingLogin, StateManager
from reference_client.tokens import TokenSet
from reference_client.vault import Sealed, TokenVault
from tests.reference_client.harness import APP_URL, in_process, mint_code, presentations
from tests.reference_client.leaks import files_under, find_leaks

pytestmark = pytest.mark.anyio


class UncheckedState(StateManager):
    """Broken on purpose: any state opens the browser's latest pending login."""

    async def consume(self, session: Session | None, state: str | None) -> PendingLogin:
        row = self.database.one(
            "SELECT nonce, code_verifier FROM login_states ORDER BY created_ms DESC LIMIT 1"
        )
        if row is None:
            raise AssertionError("no pending login")
        return PendingLogin(state=state or "", nonce=str(row[0]), code_verifier=str(row[1]))


class PlaintextVault(TokenVault):
    """Broken on purpose: 'sealed' tokens are the tokens."""

    def seal(self, user_id: str, tokens: TokenSet) -> Sealed:
        return Sealed(self.keys.current().id, b"", tokens.to_bytes())

    def open(self, user_id: str, sealed: Sealed) -> TokenSet:
        return TokenSet.from_bytes(sealed.ciphertext)


async def test_a_twin_with_an_unchecked_state_redeems_an_attackers_code(
    ims_context: Context, tmp_path: Path
) -> None:
    rc = await in_process(ims_context, tmp_path / "data")
    try:
        rc.components.states = UncheckedState(rc.components.database, rc.clock)
        code, minted = await mint_code(rc.mock)
        await rc.start_login()
        await rc.browser.get(f"/callback?{urlencode({'code': code, 'state': 'forged'})}")
        assert presentations(await rc.journal(), minted) != []  # what test_login forbids
    finally:
        await rc.aclose()


async def test_a_twin_with_a_plaintext_vault_is_caught_by_the_leak_scan(
    ims_context: Context, tmp_path: Path
) -> None:
    rc = await in_process(ims_context, tmp_path / "data")
    try:
        vault = PlaintextVault(rc.components.keys)
        rc.components.vault = rc.components.token_store.vault = vault
        await rc.sign_in()
        leaks = find_leaks(rc.recorder.issued_tokens(), files_under(rc.settings.data_dir))
        assert {leak.encoding for leak in leaks} >= {"raw"}
        assert (await rc.browser.get(f"{APP_URL}/profile")).status_code == 200  # it "works"
    finally:
        await rc.aclose()

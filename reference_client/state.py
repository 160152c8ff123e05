"""Pending logins: the `state`, `nonce` and PKCE verifier of each authorization request.

The state is 256 random bits (RFC 6749 §10.10 asks for unguessable; docs/design-notes.md §4 for at least
128), bound to the browser session that started the login (RFC 6749 §10.12, RFC 9700 §4.7),
valid for ten minutes, and used once: the callback claims it with one conditional UPDATE before
anything else happens, so two racing callbacks cannot both pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from reference_client.clock import Clock
from reference_client.database import Database, digest
from reference_client.sessions import Session

STATE_LIFETIME_S = 600
_PURGE_AFTER_MS = 86_400_000  # used states are kept a day, so a replay reads "reused", not "unknown"


class StateProblem(StrEnum):
    MISSING = "missing"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REUSED = "reused"
    OTHER_SESSION = "other-session"


class StateRejected(Exception):
    """The callback's state is not one this browser is waiting for; the code must not be used."""

    def __init__(self, problem: StateProblem) -> None:
        super().__init__(f"state {problem.value}")
        self.problem = problem


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))), unpadded."""
    digest_bytes = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest_bytes).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PendingLogin:
    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)

    @property
    def code_challenge(self) -> str:
        return s256(self.code_verifier)


class StateManager:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def new_login(self) -> PendingLogin:
        return PendingLogin(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),  # RFC 7636 §4.1: 43-128 characters
        )

    async def begin(self, session: Session) -> PendingLogin:
        """A new pending login for this browser session."""
        now = self.clock.now_ms()
        self.database.execute("DELETE FROM login_states WHERE expires_ms<?", (now - _PURGE_AFTER_MS,))
        login = self.new_login()
        self.database.execute(
            "INSERT INTO login_states (state_hash, session_hash, nonce, code_verifier, created_ms, expires_ms) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                digest(login.state),
                session.key,
                login.nonce,
                login.code_verifier,
                now,
                now + STATE_LIFETIME_S * 1000,
            ),
        )
        return login

    async def consume(self, session: Session | None, state: str | None) -> PendingLogin:
        """The pending login of `state`, claimed for good; `StateRejected` says why not."""
        if not state:
            raise StateRejected(StateProblem.MISSING)
        key = digest(state)
        row = self.database.one(
            "SELECT session_hash, nonce, code_verifier, expires_ms, used_ms FROM login_states WHERE state_hash=?",
            (key,),
        )
        if row is None:
            raise StateRejected(StateProblem.UNKNOWN)
        session_hash, nonce, verifier, expires_ms, used_ms = row
        now = self.clock.now_ms()
        if used_ms is not None:
            raise StateRejected(StateProblem.REUSED)
        # Claimed before any other check: a state that was presented once is spent, whatever
        # follows. Its secrets are wiped; only the fact that it was used is kept.
        claimed = self.database.execute(
            "UPDATE login_states SET used_ms=?, nonce='', code_verifier='' WHERE state_hash=? AND used_ms IS NULL",
            (now, key),
        )
        if claimed.rowcount != 1:
            raise StateRejected(StateProblem.REUSED)
        if session is None or not hmac.compare_digest(str(session_hash), session.key):
            raise StateRejected(StateProblem.OTHER_SESSION)
        if now >= int(expires_ms):
            raise StateRejected(StateProblem.EXPIRED)
        return PendingLogin(state=state, nonce=str(nonce), code_verifier=str(verifier))

"""Twins that get `state` wrong: absent, predictable, unchecked, unbound, reusable.

RFC 6749 §10.12. Each keeps everything else of the reference client's StateManager.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import replace
from urllib.parse import urlsplit

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_client.config import Settings
from reference_client.database import digest
from reference_client.ims import IMSClient
from reference_client.sessions import SESSION_LIFETIME_S, Session, SessionStore
from reference_client.state import PendingLogin, StateManager, StateProblem, StateRejected
from tests.conformance.twins.assembly import app_of, standard, with_ims
from tests.conformance.twins.registry import twin


def claim_latest(manager: StateManager, session: Session | None) -> PendingLogin:
    """The browser session's most recent unused pending login, claimed: what an app that keeps
    "the login in progress" per session finds, whatever the callback says."""
    if session is None:
        raise StateRejected(StateProblem.UNKNOWN)
    row = manager.database.one(
        "SELECT state_hash, nonce, code_verifier FROM login_states "
        "WHERE session_hash=? AND used_ms IS NULL ORDER BY created_ms DESC LIMIT 1",
        (session.key,),
    )
    if row is None:
        raise StateRejected(StateProblem.UNKNOWN)
    manager.database.execute(
        "UPDATE login_states SET used_ms=? WHERE state_hash=?", (manager.clock.now_ms(), row[0])
    )
    return PendingLogin(state="", nonce=str(row[1]), code_verifier=str(row[2]))


class NoStateSent(IMSClient):
    def authorize_params(self, login: PendingLogin) -> dict[str, str]:
        params = super().authorize_params(login)
        del params["state"]
        return params


class LoginPerSession(StateManager):
    async def consume(self, session: Session | None, state: str | None) -> PendingLogin:
        return claim_latest(self, session)


@twin(
    "state-absent",
    breaks="state.present",
    flaw="sends no state; the callback continues the browser session's login in progress",
)
def state_absent(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    parts.states = LoginPerSession(parts.database, parts.clock)
    return app_of(settings, with_ims(parts, NoStateSent(settings, parts.http, parts.clock)))


class CountingStates(StateManager):
    _counter = itertools.count(1)

    def new_login(self) -> PendingLogin:
        return replace(super().new_login(), state=f"login-{next(self._counter)}")


@twin("state-predictable", breaks="state.unpredictable", flaw="the state is a counter: login-1, login-2, ...")
def state_predictable(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    parts.states = CountingStates(parts.database, parts.clock)
    return app_of(settings, parts)


class UnknownStateTolerated(StateManager):
    async def consume(self, session: Session | None, state: str | None) -> PendingLogin:
        try:
            return await super().consume(session, state)
        except StateRejected as exc:
            if exc.problem is not StateProblem.UNKNOWN:
                raise
            # "Lost" states (a cleaned-up table, a second tab) are forgiven: the login goes on.
            return claim_latest(self, session)


@twin(
    "state-unchecked",
    breaks="state.verified",
    flaw="a state it never issued is accepted: the browser's login in progress goes on",
)
def state_unchecked(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    parts.states = UnknownStateTolerated(parts.database, parts.clock)
    return app_of(settings, parts)


class MissingStateTolerated(StateManager):
    async def consume(self, session: Session | None, state: str | None) -> PendingLogin:
        if not state:
            return claim_latest(self, session)
        return await super().consume(session, state)


@twin(
    "state-missing-accepted",
    breaks="state.missing-rejected",
    flaw="a callback without state continues the browser's login in progress",
)
def state_missing_accepted(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    parts.states = MissingStateTolerated(parts.database, parts.clock)
    return app_of(settings, parts)


class UnboundStates(StateManager):
    """Checks the state was issued, unused and fresh, but not to which browser."""

    async def consume(self, session: Session | None, state: str | None) -> PendingLogin:
        if not state:
            raise StateRejected(StateProblem.MISSING)
        row = self.database.one(
            "SELECT nonce, code_verifier, expires_ms, used_ms FROM login_states WHERE state_hash=?",
            (digest(state),),
        )
        if row is None:
            raise StateRejected(StateProblem.UNKNOWN)
        nonce, verifier, expires_ms, used_ms = row
        now = self.clock.now_ms()
        if used_ms is not None:
            raise StateRejected(StateProblem.REUSED)
        self.database.execute("UPDATE login_states SET used_ms=? WHERE state_hash=?", (now, digest(state)))
        if now >= int(expires_ms):
            raise StateRejected(StateProblem.EXPIRED)
        return PendingLogin(state=state, nonce=str(nonce), code_verifier=str(verifier))


@twin(
    "state-unbound",
    breaks="state.bound-to-session",
    flaw="accepts any state it issued, in any browser (login CSRF)",
)
def state_unbound(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    parts.states = UnboundStates(parts.database, parts.clock)
    return app_of(settings, parts)


class ReusableStates(StateManager):
    """Checks the state and its browser session, and never spends it."""

    async def consume(self, session: Session | None, state: str | None) -> PendingLogin:
        if not state:
            raise StateRejected(StateProblem.MISSING)
        row = self.database.one(
            "SELECT session_hash, nonce, code_verifier, expires_ms FROM login_states WHERE state_hash=?",
            (digest(state),),
        )
        if row is None:
            raise StateRejected(StateProblem.UNKNOWN)
        session_hash, nonce, verifier, expires_ms = row
        if session is None or session_hash != session.key:
            raise StateRejected(StateProblem.OTHER_SESSION)
        if self.clock.now_ms() >= int(expires_ms):
            raise StateRejected(StateProblem.EXPIRED)
        return PendingLogin(state=state, nonce=str(nonce), code_verifier=str(verifier))


class SessionKeptAtSignIn(SessionStore):
    """Signs the user into the session that started the login, as apps that keep the state in
    their session do; so a replayed callback still comes from the state's own session."""

    async def sign_in(self, previous: Session | None, user_id: str) -> Session:
        if previous is None:
            return await self.create(user_id)
        expires_ms = self.clock.now_ms() + SESSION_LIFETIME_S * 1000
        self.database.execute(
            "UPDATE sessions SET user_id=?, expires_ms=? WHERE id_hash=?", (user_id, expires_ms, previous.key)
        )
        return replace(previous, user_id=user_id, expires_ms=expires_ms)


@twin(
    "state-reusable",
    breaks="state.single-use",
    flaw="never spends a state (and keeps the session across sign-in): a replayed callback redeems again",
)
def state_reusable(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    parts.states = ReusableStates(parts.database, parts.clock)
    parts.sessions = SessionKeptAtSignIn(parts.database, parts.clock, secure_cookies=settings.secure_cookies)
    return app_of(settings, parts)


def _wiping_journal(settings: Settings, app: ASGIApp) -> ASGIApp:
    """After every callback, asks the mock to forget what it saw (`DELETE /__admin/journal`)."""
    callback = urlsplit(settings.redirect_uri or "/callback").path
    journal = f"{settings.ims_base_url}/__admin/journal"

    async def wipe(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)
        if scope["type"] == "http" and scope["path"] == callback:
            async with httpx.AsyncClient(timeout=5) as client:
                with contextlib.suppress(httpx.HTTPError):
                    await client.delete(journal)

    return wipe


@twin(
    "journal-wiper",
    breaks="state.single-use",
    flaw="replays redeem again (as state-reusable), then it erases the mock's journal to hide it",
)
def journal_wiper(settings: Settings) -> ASGIApp:
    return _wiping_journal(settings, state_reusable(settings))

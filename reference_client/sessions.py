"""Browser sessions: an opaque random id in an HttpOnly, SameSite=Lax cookie, nothing else.

Everything about a session lives on the server; the cookie holds 256 random bits and no data,
so there is nothing in the browser to decode (no tokens, no user id). The database keeps a hash
of the id. Signing in issues a new id (session fixation, OWASP Session Management).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from reference_client.clock import Clock
from reference_client.database import Database, digest

COOKIE_NAME = "rc_session"
SESSION_LIFETIME_S = 14 * 86_400  # as long as an IMS refresh token lives
ANONYMOUS_LIFETIME_S = 3_600  # a session that only holds pending logins
MAX_COOKIE_LENGTH = 128


@dataclass(frozen=True)
class Session:
    id: str = field(repr=False)
    user_id: str | None
    csrf_token: str = field(repr=False)
    expires_ms: int

    @property
    def key(self) -> str:
        """What the database knows the session by."""
        return digest(self.id)

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    def csrf_matches(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_token.encode(), (presented or "").encode())


class SessionStore:
    def __init__(self, database: Database, clock: Clock, *, secure_cookies: bool) -> None:
        self.database = database
        self.clock = clock
        self.secure_cookies = secure_cookies

    async def load(self, request: Request) -> Session | None:
        session_id = request.cookies.get(COOKIE_NAME)
        if not session_id or len(session_id) > MAX_COOKIE_LENGTH:
            return None
        row = self.database.one(
            "SELECT user_id, csrf_token, expires_ms FROM sessions WHERE id_hash=?", (digest(session_id),)
        )
        if row is None:
            return None
        if self.clock.now_ms() >= int(row[2]):
            self.database.execute("DELETE FROM sessions WHERE id_hash=?", (digest(session_id),))
            return None
        return Session(session_id, row[0], str(row[1]), int(row[2]))

    async def create(self, user_id: str | None = None) -> Session:
        now = self.clock.now_ms()
        self.database.execute("DELETE FROM sessions WHERE expires_ms<=?", (now,))
        lifetime_s = ANONYMOUS_LIFETIME_S if user_id is None else SESSION_LIFETIME_S
        session = Session(
            id=secrets.token_urlsafe(32),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            expires_ms=now + lifetime_s * 1000,
        )
        self.database.execute(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)",
            (session.key, user_id, session.csrf_token, now, session.expires_ms),
        )
        return session

    async def sign_in(self, previous: Session | None, user_id: str) -> Session:
        """A new session for the user; the pre-login one (if any) ends."""
        if previous is not None:
            await self.end(previous)
        return await self.create(user_id)

    async def end(self, session: Session) -> None:
        self.database.execute("DELETE FROM sessions WHERE id_hash=?", (session.key,))

    async def end_all_of(self, user_id: str) -> None:
        self.database.execute("DELETE FROM sessions WHERE user_id=?", (user_id,))

    def set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE_NAME,
            session.id,
            max_age=max(0, (session.expires_ms - self.clock.now_ms()) // 1000),
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=self.secure_cookies
        )

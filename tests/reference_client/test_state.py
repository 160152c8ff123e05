"""The login state: unguessable, bound to the browser session, short-lived, single-use."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_client.database import Database
from reference_client.sessions import Session, SessionStore
from reference_client.state import STATE_LIFETIME_S, StateManager, StateProblem, StateRejected, s256
from tests.reference_client.harness import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "tokens.db")
    yield db
    db.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000_000)


@pytest.fixture
def states(database: Database, clock: FakeClock) -> StateManager:
    return StateManager(database, clock)


@pytest.fixture
async def session(database: Database, clock: FakeClock) -> Session:
    return await SessionStore(database, clock, secure_cookies=False).create()


async def refusal(states: StateManager, session: Session | None, state: str | None) -> StateProblem:
    with pytest.raises(StateRejected) as caught:
        await states.consume(session, state)
    return caught.value.problem


def entropy_bits(value: str) -> float:
    return len(value) * math.log2(64)  # URL-safe base64: 6 bits a character


async def test_a_state_carries_at_least_128_random_bits_and_differs_per_login(
    states: StateManager, session: Session
) -> None:
    logins = [await states.begin(session) for _ in range(20)]
    assert all(entropy_bits(login.state) >= 128 for login in logins)
    assert len({login.state for login in logins}) == 20
    assert len({login.nonce for login in logins}) == 20
    assert all(43 <= len(login.code_verifier) <= 128 for login in logins)


async def test_the_state_opens_its_own_pending_login_once(states: StateManager, session: Session) -> None:
    login = await states.begin(session)
    assert await states.consume(session, login.state) == login
    assert await refusal(states, session, login.state) == StateProblem.REUSED


@pytest.mark.parametrize("state", [None, ""])
async def test_a_missing_state_is_refused(states: StateManager, session: Session, state: str | None) -> None:
    assert await refusal(states, session, state) == StateProblem.MISSING


async def test_a_forged_state_is_refused(states: StateManager, session: Session) -> None:
    await states.begin(session)
    assert await refusal(states, session, "forged-by-an-attacker") == StateProblem.UNKNOWN


async def test_another_sessions_state_is_refused_and_spent(
    states: StateManager, session: Session, database: Database, clock: FakeClock
) -> None:
    victim = await SessionStore(database, clock, secure_cookies=False).create()
    attacker_login = await states.begin(session)
    assert await refusal(states, victim, attacker_login.state) == StateProblem.OTHER_SESSION
    assert await refusal(states, session, attacker_login.state) == StateProblem.REUSED


async def test_a_state_without_any_session_is_refused(states: StateManager, session: Session) -> None:
    login = await states.begin(session)
    assert await refusal(states, None, login.state) == StateProblem.OTHER_SESSION


async def test_a_state_expires_after_ten_minutes(
    states: StateManager, session: Session, clock: FakeClock
) -> None:
    in_time = await states.begin(session)
    late = await states.begin(session)
    clock.advance(STATE_LIFETIME_S - 1)
    await states.consume(session, in_time.state)
    clock.advance(1)
    assert await refusal(states, session, late.state) == StateProblem.EXPIRED


async def test_the_database_keeps_only_a_hash_of_the_state(
    states: StateManager, session: Session, database: Database
) -> None:
    login = await states.begin(session)
    assert login.state.encode() not in database.path.read_bytes()
    rows = list(database.execute("SELECT state_hash, session_hash FROM login_states"))
    assert login.state not in rows[0]
    assert session.id not in rows[0]


def test_the_pkce_challenge_is_s256_of_the_verifier() -> None:
    # RFC 7636 Appendix B.
    assert (
        s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    assert "=" not in s256("x" * 43)
    assert len(base64.urlsafe_b64decode(s256("x" * 43) + "=")) == 32


async def test_a_used_state_keeps_no_verifier_or_nonce(
    states: StateManager, session: Session, database: Database
) -> None:
    login = await states.begin(session)
    await states.consume(session, login.state)
    assert list(database.execute("SELECT nonce, code_verifier FROM login_states")) == [("", "")]

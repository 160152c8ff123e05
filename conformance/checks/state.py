"""`state`: present, unpredictable, verified, bound to the browser session, used once.

RFC 6749 §10.12 (CSRF), RFC 9700 §4.7. Negative checks judge from both sides: the mock's journal
shows whether the code was redeemed, and the browser shows whether a session was created.
"""

from __future__ import annotations

import math
import re

from conformance.checks.base import (
    Judgement,
    check,
    errored,
    failed,
    journal_evidence,
    note,
    passed,
    screenshot_evidence,
    skipped,
    warned,
)
from conformance.journeys.observations import Observations
from conformance.journeys.probes import ForgedCallback, LoginRun
from conformance.masking import mask_location
from conformance.model import Severity

MIN_BITS = 128
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)


def alphabet_of(state: str) -> tuple[str, int]:
    """The smallest usual alphabet the state is written in, and its size."""
    if UUID.fullmatch(state):
        return "a version 4 UUID", 0
    if re.fullmatch(r"[0-9]+", state):
        return "decimal digits", 10
    if re.fullmatch(r"[0-9a-fA-F]+", state):
        return "hex", 16
    if re.fullmatch(r"[A-Za-z0-9]+", state):
        return "letters and digits", 62
    if re.fullmatch(r"[A-Za-z0-9_\-]+=*", state):
        return "base64url", 64
    if re.fullmatch(r"[A-Za-z0-9+/]+=*", state):
        return "base64", 64
    return "printable characters", 95


def estimated_bits(state: str) -> float:
    """An upper bound on the randomness in a state value, from its length and alphabet: what it
    could carry if every character were random (a hash of a counter looks the same from outside)."""
    _, size = alphabet_of(state)
    if size == 0:
        return 122.0  # a version 4 UUID has 122 random bits
    return len(state.rstrip("=")) * math.log2(size)


@check(
    "state.present",
    severity=Severity.REQUIRED,
    area="state",
    fix="Send a `state` in every authorize request and keep it in the user's server-side session.",
    requirement="RFC 6749 §10.12; IMS authorize/v2: state recommended to prevent CSRF",
    description="The authorize request carries a state.",
    probes=("login",),
)
def send_a_state(obs: Observations) -> Judgement:
    run = obs.login
    if run.authorize is None:
        return failed("no authorize request was seen", seen=run.error or "")
    evidence = [journal_evidence("authorize request", [run.authorize])]
    if not run.state:
        return failed(
            "the authorize request has no state",
            expected="a random state bound to the session",
            evidence=evidence,
        )
    return passed(f"state sent ({len(run.state)} characters)", evidence=evidence)


@check(
    "state.unpredictable",
    severity=Severity.REQUIRED,
    area="state",
    fix="Make the state at least 128 random bits from a CSPRNG, new for every sign-in.",
    requirement="RFC 6749 §10.10, §10.12 (state must not be guessable)",
    description="The state differs on every login and carries at least 128 bits (WARN below 128, FAIL below 64 or when repeated).",
    probes=("login", "second-login"),
)
def make_the_state_unpredictable(obs: Observations) -> Judgement:
    first, second = obs.login.state, obs.second_login.state
    if obs.login.authorize is None or obs.second_login.authorize is None:
        return skipped("the suite did not see two authorize requests to compare (see state.present)")
    if not first or not second:
        return failed(
            "no state to judge: an authorize request carried none", seen=f"first={first!r}, second={second!r}"
        )
    evidence = [note("states of two logins", {"first": first, "second": second})]
    if first == second:
        return failed("two logins sent the same state", seen=first, evidence=evidence)
    bits = min(estimated_bits(first), estimated_bits(second))
    name, _ = alphabet_of(first)
    measured = (
        f"2 distinct states of {len(first)} and {len(second)} characters ({name}): "
        f"room for at most {bits:.0f} bits"
    )
    if bits < 64:
        return failed(measured, expected=f">= {MIN_BITS} bits", evidence=evidence)
    if bits < MIN_BITS:
        return warned(measured, expected=f">= {MIN_BITS} bits", evidence=evidence)
    return passed(
        f"{measured} (the suite sees length and alphabet, not how the values were made)", evidence=evidence
    )


def _judge_forged(obs: Observations, result: ForgedCallback, what: str) -> Judgement:
    evidence = [
        note("callback delivered (code masked)", mask_location(result.callback_url)),
        journal_evidence("token requests for the attacker's code", result.redeemed),
        *screenshot_evidence("the partner's answer", result.landing.screenshot if result.landing else None),
        *screenshot_evidence(
            "the partner's profile page afterwards", result.profile.screenshot if result.profile else None
        ),
    ]
    redeemed = [e for e in result.redeemed if e.get("outcome") == "ok"]
    if redeemed:
        return failed(
            f"the partner redeemed an attacker's code delivered with {what}",
            expected="the callback refused before the code is used",
            seen=f"{len(redeemed)} successful token request(s) for the attacker's code",
            evidence=evidence,
        )
    if result.redeemed:
        refusal = result.redeemed[0]
        return failed(
            f"the partner tried to redeem an attacker's code delivered with {what} "
            f"(the mock refused it: {refusal.get('reason') or refusal.get('error')})",
            expected="the callback refused before the code is used",
            seen=f"{len(result.redeemed)} token request(s) for the attacker's code",
            evidence=evidence,
        )
    if result.shows_attacker(obs.ims_url()):
        return failed(
            f"after a callback with {what}, the browser is signed in as the attacker", evidence=evidence
        )
    if result.landing is None or result.landing.error:
        why = result.landing.error if result.landing else "no page"
        return errored(f"the partner did not answer the callback with {what} ({why})", evidence=evidence)
    if (precondition := _never_redeems(obs)) is not None:
        return precondition
    status = result.landing.status
    summary = (
        f"a callback with {what} was answered ({status}) without a token request for the attacker's code, "
        "and the attacker was not signed in"
    )
    if status is not None and status >= 500:
        summary += f" (but the partner answered {status}; prefer a clear 4xx page)"
    return passed(summary, evidence=evidence)


def _never_redeems(obs: Observations) -> Judgement | None:
    """SKIP when the partner redeemed no code in a normal sign-in: then not redeeming the
    attacker's code shows nothing about the state."""
    login = obs.login
    if any(e.get("outcome") == "ok" for e in login.redemptions()):
        return None
    return skipped(
        "the partner redeemed no code in a normal sign-in either, so not redeeming this one proves "
        "nothing (see code.exchange)"
    )


@check(
    "state.verified",
    severity=Severity.REQUIRED,
    area="state",
    fix="Compare the callback's `state` with the one in the session before redeeming the code; refuse on mismatch.",
    requirement="RFC 6749 §10.12; RFC 9700 §4.7 (verify state before using the code)",
    description="A callback with a forged state is refused: the code is never redeemed and no session starts.",
    probes=("forged-state",),
)
def refuse_a_forged_state(obs: Observations) -> Judgement:
    result: ForgedCallback = obs.get("forged-state")
    return _judge_forged(obs, result, "a forged state")


@check(
    "state.missing-rejected",
    severity=Severity.REQUIRED,
    area="state",
    fix="Refuse a callback that carries no `state`, before redeeming its code.",
    requirement="RFC 6749 §10.12 (a callback without the expected state is refused)",
    description="A callback with no state is refused.",
    probes=("missing-state",),
)
def refuse_a_missing_state(obs: Observations) -> Judgement:
    result: ForgedCallback = obs.get("missing-state")
    return _judge_forged(obs, result, "no state")


@check(
    "state.bound-to-session",
    severity=Severity.REQUIRED,
    area="state",
    fix="Keep the state in the browser's own session, so another browser's state is unknown to it.",
    requirement="RFC 6749 §10.12 (state bound to the user-agent's session: login CSRF)",
    description="A state issued to browser A is refused in browser B.",
    probes=("login", "other-session"),
)
def bind_the_state_to_the_session(obs: Observations) -> Judgement:
    run = obs.login
    if run.authorize is not None and not run.state:
        # Nothing to carry to another browser: the suite can judge this, it is not an ERROR.
        return failed(
            "the partner sends no state, so none is bound to the browser session",
            expected="a state tied to the browser that started the login",
            evidence=[journal_evidence("authorize request", [run.authorize])],
        )
    result: ForgedCallback = obs.get("other-session")
    return _judge_forged(obs, result, "another browser's state")


@check(
    "state.single-use",
    severity=Severity.REQUIRED,
    area="state",
    fix="Delete the state when the callback uses it, so a replayed callback finds none.",
    requirement="RFC 9700 §4.7.1; RFC 6749 §4.1.2, §10.5 (codes and states are single use)",
    description="Replaying a finished callback does not redeem the code again.",
    probes=("replay",),
)
def use_the_state_once(obs: Observations) -> Judgement:
    run, replay = obs.get("replay")
    run_: LoginRun = run
    if replay is None:
        return skipped(
            f"the sign-in did not complete, so there was no callback to replay ({run_.error or 'no code'})"
        )
    evidence = [
        note("callback replayed (code masked)", mask_location(replay.callback_url)),
        journal_evidence(
            "token requests during the replay", [e for e in replay.journal if e.get("endpoint") == "token"]
        ),
        *screenshot_evidence(
            "the partner's answer to the replay", replay.landing.screenshot if replay.landing else None
        ),
    ]
    if replay.redeemed:
        return failed(
            "the partner tried to redeem the code again when the callback was replayed",
            seen=f"{len(replay.redeemed)} more token request(s) for the same code",
            evidence=evidence,
        )
    if not any(e.get("outcome") == "ok" for e in run_.redemptions()):
        return skipped("the sign-in's code was never redeemed, so a replay had nothing to redeem again")
    if replay.landing is None or replay.landing.error:
        why = replay.landing.error if replay.landing else "no page"
        return errored(f"the partner did not answer the replay ({why})", evidence=evidence)
    return passed(
        f"the replayed callback was answered ({replay.landing.status}) without another token request for the code",
        evidence=evidence,
    )

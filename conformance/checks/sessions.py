"""The signed-in session: a new one at sign-in (no fixation), carried by cookies scripts cannot
read and other sites cannot send."""

from __future__ import annotations

from typing import Any

from conformance.checks.base import (
    Judgement,
    check,
    errored,
    failed,
    note,
    passed,
    screenshot_evidence,
    skipped,
    warned,
)
from conformance.journeys.observations import Observations
from conformance.journeys.probes import SessionRun, signed_in_page
from conformance.model import Evidence, Severity

SAMESITE_KEPT = ("lax", "strict")


def _names(cookies: list[dict[str, Any]]) -> str:
    return ", ".join(sorted({str(c["name"]) for c in cookies}))


def _signed_in(obs: Observations) -> tuple[SessionRun, Judgement | None]:
    """The run, or why it cannot be judged: the victim's sign-in must have worked."""
    run: SessionRun = obs.get("sessions")
    if (why := obs.cannot_tell_signed_in()) is not None:
        return run, skipped(why)
    login = run.login
    if login is None:
        return run, errored("the sign-in never started")
    if login.error:
        return run, errored(f"the sign-in did not complete: {login.error}")
    if not signed_in_page(login.profile, login.user, obs.ims_url()):
        return run, errored("after the sign-in, the after_login page does not show the user")
    return run, None


@check(
    "session.fixation",
    severity=Severity.REQUIRED,
    area="sessions",
    fix="Start a new session (a new id) when the user signs in, and end the one from before.",
    requirement="OWASP Session Management: renew the session id after authentication (session fixation, CWE-384)",
    description="Cookies an attacker got from the app before sign-in and planted in the victim's browser do not open the signed-in page after it.",
    probes=("login", "sessions"),
)
def renew_the_session_at_sign_in(obs: Observations) -> Judgement:
    run, unjudged = _signed_in(obs)
    if unjudged is not None:
        return unjudged
    if not run.planted:
        return skipped("the app set no cookie before the sign-in, so there was no session to plant")
    page = run.with_planted
    changed = sorted(
        str(c["name"])
        for c in run.signed_in
        if any(p["name"] == c["name"] and p["value"] != c["value"] for p in run.planted)
    )
    evidence: list[Evidence] = [
        note(
            "the cookies",
            {
                "planted before sign-in (the attacker's own)": _names(run.planted),
                "after sign-in, with a new value": ", ".join(changed) or "(none)",
            },
        ),
        *screenshot_evidence("after_login with only the planted cookies", page.screenshot if page else None),
    ]
    if page is None or page.error:
        return errored(
            f"after_login with the planted cookies did not load: {page.error if page else 'no page'}",
            evidence=evidence,
        )
    assert run.login is not None  # _signed_in said so
    if signed_in_page(page, run.login.user, obs.ims_url()):
        return failed(
            f"the cookies set before sign-in ({_names(run.planted)}) open the signed-in page after it: "
            "whoever planted them shares the user's session",
            expected="a new session at sign-in",
            seen=f"{page.url} shows the user with the planted cookies alone",
            evidence=evidence,
        )
    return passed(
        f"the cookies set before sign-in ({_names(run.planted)}) do not open the signed-in page after it",
        evidence=evidence,
    )


def _flaws(cookie: dict[str, Any], set_cookie: str | None, https: bool) -> list[str]:
    flaws = []
    if not cookie.get("httpOnly"):
        flaws.append("not HttpOnly (scripts can read it)")
    attributes = {part.strip().lower() for part in (set_cookie or "").split(";")[1:]}
    declared = next((a.split("=", 1)[1].strip() for a in attributes if a.startswith("samesite=")), None)
    if set_cookie is None:
        declared = str(cookie.get("sameSite", "")).lower()  # not set by a response: the jar's word
    if declared not in SAMESITE_KEPT:
        flaws.append(
            f"SameSite {declared or 'not declared'} (Lax or Strict keeps other sites from sending it)"
        )
    if https and not cookie.get("secure"):
        flaws.append("not Secure on an https app")
    return flaws


@check(
    "session.cookie-flags",
    severity=Severity.RECOMMENDED,
    area="sessions",
    fix="Set the session cookie with HttpOnly, SameSite=Lax (or Strict) and, on https, Secure.",
    requirement="RFC 6265bis §4.1.2 (HttpOnly, Secure, SameSite); OWASP Session Management (cookie attributes)",
    description="The cookies that carry the signed-in session are HttpOnly, SameSite Lax or Strict, and Secure on https.",
    probes=("login", "sessions"),
)
def protect_the_session_cookie(obs: Observations) -> Judgement:
    run, unjudged = _signed_in(obs)
    if unjudged is not None:
        return unjudged
    if not run.carriers:
        return skipped(
            f"no cookie carries the session alone: after_login still showed the user with each of "
            f"{_names(run.signed_in) or 'no cookie'} left out"
        )
    https = obs.harness.partner.base_url.startswith("https:") if obs.harness else False
    by_name = {str(c["name"]): c for c in run.signed_in}
    found = {
        name: _flaws(by_name[name], run.set_cookies.get(name), https)
        for name in run.carriers
        if name in by_name
    }
    evidence = [
        note(
            "the cookies that carry the session",
            {name: run.set_cookies.get(name, "(set without a response header)") for name in run.carriers},
        )
    ]
    wrong = {name: flaws for name, flaws in found.items() if flaws}
    if wrong:
        return warned(
            "; ".join(f"{name}: {', '.join(flaws)}" for name, flaws in wrong.items()),
            expected="HttpOnly; SameSite=Lax or Strict" + ("; Secure" if https else ""),
            evidence=evidence,
        )
    return passed(
        f"{', '.join(run.carriers)}: HttpOnly, SameSite Lax or Strict" + (", Secure" if https else ""),
        evidence=evidence,
    )

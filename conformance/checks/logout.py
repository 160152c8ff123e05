"""Logout ends the IMS grant, and only the user can trigger it."""

from __future__ import annotations

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
from conformance.journeys.probes import LOGOUT_FAILED, CrossSiteLogout
from conformance.model import Severity


@check(
    "logout.revokes",
    severity=Severity.RECOMMENDED,
    area="sessions",
    fix="On logout, revoke the refresh token at /ims/revoke (or end the IMS session) before forgetting it.",
    requirement="RFC 7009 §1 (revoke tokens that are no longer needed); IMS /ims/revoke, /ims/logout/v1",
    description="Logging out revokes the tokens at IMS or ends the IMS session.",
    probes=("logout",),
)
def revoke_on_logout(obs: Observations) -> Judgement:
    harness = obs.harness
    if harness is not None and harness.partner.logout is None:
        return skipped("the partner description declares no logout")
    run, journal, visit = obs.get("logout")
    if run.error and not run.error.startswith(LOGOUT_FAILED):
        return skipped(f"the sign-in before the logout did not complete: {run.error}")
    if run.error:
        return failed(f"could not log out: {run.error}")
    if visit is None:
        return skipped("the suite did not get as far as the logout")
    calls = [e for e in journal if e.get("endpoint") in ("revoke", "logout")]
    evidence = [journal_evidence("revoke and logout requests", calls)]
    done = [e for e in calls if e.get("outcome") == "ok"]
    if done:
        what = ", ".join(sorted({f"/ims/{e.get('endpoint')}" for e in done}))
        return passed(f"logging out called {what} and IMS accepted it", evidence=evidence)
    return warned(
        "logout did not revoke the tokens at IMS" + (f" ({len(calls)} refused call(s))" if calls else ""),
        expected="POST /ims/revoke with the refresh token (or the access token, without one)",
        evidence=evidence,
    )


@check(
    "logout.csrf",
    severity=Severity.RECOMMENDED,
    area="sessions",
    fix="Sign out only on a POST that carries a CSRF token (or checks Origin); never on a GET.",
    requirement="OWASP CSRF Prevention: state-changing requests are not GETs and carry a token (logout CSRF)",
    description="Another site cannot sign the user out: the logout URL sent as an image, or as a link followed from another site, leaves the user signed in.",
    probes=("login", "logout-csrf"),
)
def refuse_a_cross_site_logout(obs: Observations) -> Judgement:
    harness = obs.harness
    if harness is not None and harness.partner.logout is None:
        return skipped("the partner description declares no logout")
    result: CrossSiteLogout = obs.get("logout-csrf")
    if (why := obs.cannot_tell_signed_in()) is not None:
        return skipped(why)
    if result.login.error and not result.attempts:
        return errored(f"the sign-in or the logout control did not work: {result.login.error}")
    if result.unresolved:
        return errored(result.unresolved)
    if result.logout_url is None or not result.attempts:
        return errored("the suite did not get as far as sending the logout URL from another site")
    evidence = [
        note("the logout URL another site sent", result.logout_url),
        journal_evidence("requests at IMS meanwhile", result.journal),
        *[
            shot
            for attempt in result.attempts
            for shot in screenshot_evidence(f"after_login after {attempt.way}", attempt.after.screenshot)
        ],
    ]
    for attempt in result.attempts:
        if attempt.after.error:
            return errored(
                f"after_login did not load after {attempt.way}: {attempt.after.error}", evidence=evidence
            )
        if attempt.signed_out(obs.ims_url()):
            how = (
                "it sent the browser to sign in again"
                if attempt.new_sign_in
                else "it no longer shows the user"
            )
            return warned(
                f"{attempt.way} signed the user out: GET {result.logout_url}",
                expected="the user still signed in",
                seen=f"after_login: {how}",
                evidence=evidence,
            )
    return passed(
        f"the user stayed signed in after {' and after '.join(a.way for a in result.attempts)}",
        evidence=evidence,
    )

"""Logout ends the IMS grant."""

from __future__ import annotations

from conformance.checks.base import Judgement, check, failed, journal_evidence, passed, skipped, warned
from conformance.journeys.observations import Observations
from conformance.journeys.probes import LOGOUT_FAILED
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

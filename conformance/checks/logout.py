"""Logout ends the IMS grant."""

from __future__ import annotations

from conformance.checks.base import Judgement, check, failed, journal_evidence, passed, skipped, warned
from conformance.model import Severity
from conformance.observations import Observations


@check(
    "logout.revokes",
    severity=Severity.RECOMMENDED,
    requirement="RFC 7009 §1 (revoke tokens that are no longer needed); IMS /ims/revoke, /ims/logout/v1",
    description="Logging out revokes the tokens at IMS or ends the IMS session.",
    probes=("logout",),
)
def revoke_on_logout(obs: Observations) -> Judgement:
    harness = obs.harness
    if harness is not None and harness.partner.logout is None:
        return skipped("the partner description declares no logout")
    run, journal, _visit = obs.get("logout")
    if run.error:
        return failed(f"could not log out: {run.error}")
    calls = [e for e in journal if e.get("endpoint") in ("revoke", "logout")]
    evidence = [journal_evidence("revoke and logout requests", calls)]
    if any(e.get("outcome") == "ok" for e in calls):
        return passed("logout called IMS to revoke the tokens or end the session", evidence=evidence)
    return warned(
        "logout did not revoke the tokens at IMS",
        expected="POST /ims/revoke with the refresh token",
        evidence=evidence,
    )

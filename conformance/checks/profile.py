"""After login: the user's profile is shown, fetched with a bearer header."""

from __future__ import annotations

from conformance.checks.base import (
    Judgement,
    check,
    failed,
    journal_evidence,
    passed,
    screenshot_evidence,
    skipped,
)
from conformance.journeys.observations import Observations
from conformance.journeys.probes import shows_user
from conformance.model import Evidence, Severity


@check(
    "profile.shown",
    severity=Severity.REQUIRED,
    area="tokens",
    fix="After the callback, fetch /ims/profile/v1 or userinfo and show the user's name or email.",
    requirement="Lightroom partner integration: show the signed-in Adobe user (IMS profile/userinfo)",
    description="After login the after_login page shows the user's name or email.",
    probes=("login",),
)
def show_the_signed_in_user(obs: Observations) -> Judgement:
    run = obs.login
    page = run.profile
    if page is None:
        return failed(
            "the login did not complete" + (f": {run.error}" if run.error else ""), seen=run.error or ""
        )
    evidence = [Evidence("url", "page", page.url), *screenshot_evidence("the profile page", page.screenshot)]
    if page.error:
        return failed(f"the profile page did not load: {page.error}", evidence=evidence)
    if page.server_error:
        return failed(f"the profile page answered {page.status}", evidence=evidence)
    if not shows_user(page, run.user):
        return failed(
            "the page does not show the user's name or email",
            expected=f"{run.user.display_name} or {run.user.email}",
            seen=page.text[:300],
            evidence=evidence,
        )
    return passed(f"the page shows {run.user.display_name}", evidence=evidence)


@check(
    "profile.bearer",
    severity=Severity.REQUIRED,
    area="tokens",
    fix="Send the access token as `Authorization: Bearer <token>`, never in a URL or body.",
    requirement="RFC 6750 §2.1, §5.3 (send the access token in the Authorization header, not the URL)",
    description="Profile/userinfo are fetched with an Authorization: Bearer header, not a query token.",
    probes=("login",),
)
def fetch_the_profile_with_a_bearer_header(obs: Observations) -> Judgement:
    run = obs.login
    calls = [e for e in run.journal if e.get("endpoint") in ("profile", "userinfo")]
    if not calls:
        return skipped("the partner did not call /ims/profile or /ims/userinfo during login")
    evidence = [journal_evidence("profile and userinfo requests", calls)]
    bad = [
        e
        for e in calls
        if {"access_token_in_query", "access_token_in_body"} & set(e.get("notes") or [])
        or (e.get("headers") or {}).get("authorization", "").lower() != "bearer"
    ]
    if bad:
        return failed("the access token was sent outside an Authorization: Bearer header", evidence=evidence)
    if any(e.get("outcome") != "ok" for e in calls):
        return failed("a profile request was refused", evidence=evidence)
    return passed(f"{len(calls)} profile request(s), each with a bearer header", evidence=evidence)

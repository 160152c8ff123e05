"""Failures the user meets: Deny on the login page, and a failing token endpoint."""

from __future__ import annotations

from conformance.checks.base import (
    Judgement,
    check,
    errored,
    failed,
    journal_evidence,
    passed,
    screenshot_evidence,
    skipped,
)
from conformance.journeys.observations import Observations
from conformance.journeys.probes import LoginRun, shows_user
from conformance.model import Severity
from conformance.stage.harness import VICTIM


@check(
    "error.access-denied",
    severity=Severity.REQUIRED,
    area="authorization",
    fix="Handle `error=access_denied` on the callback with a page that lets the user try again.",
    requirement="RFC 6749 §4.1.2.1 (error=access_denied returns to the client)",
    description="Deny on the login page leads to an error page (no 500 or empty 5xx) and no token request.",
    probes=("access-denied",),
)
def handle_access_denied(obs: Observations) -> Judgement:
    run: LoginRun = obs.get("access-denied")
    denied = [e for e in run.journal if e.get("error") == "access_denied"]
    if not denied:
        return skipped(
            "the mock never answered access_denied: the sign-in did not reach its login page"
            + (f" ({run.error})" if run.error else "")
        )
    page = run.landing
    tokens = [e for e in run.journal if e.get("endpoint") == "token"]
    evidence = [journal_evidence("the Deny, and token requests after it", denied + tokens)]
    if page is not None:
        evidence += screenshot_evidence("the partner's answer to error=access_denied", page.screenshot)
    if page is None or (page.error and run.callback_url is None):
        return failed("the browser never came back to the partner after Deny", seen=run.error or "")
    if page.error:
        return errored(f"the partner did not answer error=access_denied ({page.error})", evidence=evidence)
    if page.crashed:
        return failed(f"the partner answered {page.status} to error=access_denied", evidence=evidence)
    if tokens:
        return failed("the partner called the token endpoint after the user denied", evidence=evidence)
    if not page.text.strip():
        return failed("the partner showed an empty page after Deny", evidence=evidence)
    return passed(
        f"the callback with error=access_denied was answered with a page (status {page.status}); no token request",
        evidence=evidence,
    )


@check(
    "error.token-endpoint",
    severity=Severity.REQUIRED,
    area="tokens",
    fix="Catch a failing token request and show an error page; do not crash or hang.",
    requirement="RFC 6749 §5.2; IMS answers 500 internal_error 'Please try again later'",
    description="When the token endpoint fails, the partner shows a clean error page (no 500 or empty 5xx), without hanging or signing in.",
    probes=("token-endpoint-500",),
)
def handle_a_failing_token_endpoint(obs: Observations) -> Judgement:
    run: LoginRun = obs.get("token-endpoint-500")
    tokens = [e for e in run.journal if e.get("endpoint") == "token"]
    failures = [e for e in tokens if e.get("outcome") == "fault"]
    if not failures:
        return skipped(
            "the partner made no token request during the sign-in, so the failure never happened"
            + (f" ({run.error})" if run.error else "")
        )
    page = run.landing
    evidence = [journal_evidence("token requests", tokens)]
    if page is not None:
        evidence += screenshot_evidence("the partner's answer", page.screenshot)
    if page is None or page.error:
        return failed(
            "the partner did not answer the callback in time",
            seen=(page.error if page else run.error) or "",
            evidence=evidence,
        )
    if page.crashed:
        return failed(f"the partner answered {page.status} when the token endpoint failed", evidence=evidence)
    # Only the same code counts as a retry: after the error page the suite opens after_login,
    # and a partner may start a new sign-in from there (a new code, answered at once by IMS SSO).
    code = failures[0].get("consumed")
    retried = [e for e in tokens if e.get("outcome") == "ok" and code and e.get("consumed") == code]
    if retried:
        return passed(
            "the partner retried the same code after the failure, and the retry succeeded", evidence=evidence
        )
    if (
        run.profile is not None
        and shows_user(run.profile, VICTIM)
        and not any(e.get("outcome") == "ok" for e in tokens)
    ):
        return failed("the partner shows a signed-in user although no token was obtained", evidence=evidence)
    return passed(
        f"the token endpoint answered 500 and the partner showed a page (status {page.status}), not a crash",
        evidence=evidence,
    )

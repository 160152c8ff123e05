"""Failures the user meets: Deny on the login page, and a failing token endpoint."""

from __future__ import annotations

from conformance.checks.base import Judgement, check, failed, journal_evidence, passed, screenshot_evidence
from conformance.harness import VICTIM
from conformance.model import Severity
from conformance.observations import Observations
from conformance.probes import LoginRun, shows_user


@check(
    "error.access-denied",
    severity=Severity.REQUIRED,
    requirement="RFC 6749 §4.1.2.1 (error=access_denied returns to the client)",
    description="Deny on the login page leads to an error page (no 500 or empty 5xx) and no token request.",
    probes=("access-denied",),
)
def handle_access_denied(obs: Observations) -> Judgement:
    run: LoginRun = obs.get("access-denied")
    page = run.landing
    tokens = [e for e in run.journal if e.get("endpoint") == "token"]
    evidence = [journal_evidence("token requests after Deny", tokens)]
    if page is not None:
        evidence += screenshot_evidence("the partner's answer to error=access_denied", page.screenshot)
    if page is None:
        return failed("the browser never came back to the partner after Deny", seen=run.error or "")
    if page.crashed:
        return failed(f"the partner answered {page.status} to error=access_denied", evidence=evidence)
    if tokens:
        return failed("the partner called the token endpoint after the user denied", evidence=evidence)
    if not page.text.strip():
        return failed("the partner showed an empty page after Deny", evidence=evidence)
    return passed(f"a page answered with status {page.status}; no token request", evidence=evidence)


@check(
    "error.token-endpoint",
    severity=Severity.REQUIRED,
    requirement="RFC 6749 §5.2; IMS answers 500 internal_error 'Please try again later'",
    description="When the token endpoint fails, the partner shows a clean error page (no 500 or empty 5xx), without hanging or signing in.",
    probes=("token-endpoint-500",),
)
def handle_a_failing_token_endpoint(obs: Observations) -> Judgement:
    run: LoginRun = obs.get("token-endpoint-500")
    page = run.landing
    tokens = [e for e in run.journal if e.get("endpoint") == "token"]
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
    if any(e.get("outcome") == "ok" for e in tokens):
        return passed(
            "the partner retried the token request after the failure, and it succeeded", evidence=evidence
        )
    if run.profile is not None and shows_user(run.profile, VICTIM):
        return failed("the partner shows a signed-in user although no token was obtained", evidence=evidence)
    return passed(f"a clean page (status {page.status}) after the token endpoint failed", evidence=evidence)

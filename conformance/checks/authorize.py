"""The authorization request: scopes, flow, PKCE."""

from __future__ import annotations

from typing import Any

from conformance.checks.base import Judgement, check, failed, journal_evidence, passed, warned
from conformance.config import REQUIRED_SCOPES
from conformance.journeys.observations import Observations
from conformance.model import Severity
from conformance.scopes import MalformedScope, lenient_scopes, read_scopes


def _authorize_or_error(obs: Observations) -> tuple[dict[str, Any] | None, Judgement | None]:
    run = obs.login
    if run.authorize is None:
        return None, failed(
            "the partner never sent the browser to the mock's authorize endpoint",
            expected="a redirect to /ims/authorize/v2",
            seen=run.error or "no authorize request in the journal",
        )
    return run.authorize, None


@check(
    "scope.required",
    severity=Severity.REQUIRED,
    area="authorization",
    fix="Ask for `openid,AdobeID,lr_partner_apis` (and `offline_access` to refresh) in the authorize request.",
    requirement="Lightroom Partner API (authenticate customers): scopes openid, AdobeID, lr_partner_apis",
    description="The authorize request asks for openid, AdobeID and lr_partner_apis.",
    probes=("login",),
)
def ask_for_the_lightroom_scopes(obs: Observations) -> Judgement:
    entry, problem = _authorize_or_error(obs)
    if problem or entry is None:
        return problem or failed("no authorize request")
    raw = str(entry["params"].get("scope", ""))
    scopes = lenient_scopes(raw)
    missing = [s for s in REQUIRED_SCOPES if s not in scopes]
    evidence = [journal_evidence("authorize request", [entry])]
    if missing:
        return failed(
            f"scope lacks {', '.join(missing)}",
            expected=",".join(REQUIRED_SCOPES),
            seen=raw or "(no scope)",
            evidence=evidence,
        )
    return passed(f"scope {raw!r} includes {', '.join(REQUIRED_SCOPES)}", seen=raw, evidence=evidence)


@check(
    "scope.format",
    severity=Severity.REQUIRED,
    area="authorization",
    fix="Send each scope once, comma-separated, and only scopes your API key has in the Developer Console.",
    requirement="IMS authorize/v2: scope is a comma- or space-delimited list of case-sensitive names; RFC 6749 §3.3",
    description="Scopes are well formed, not repeated, and all allowed for the client.",
    probes=("login",),
)
def send_well_formed_scopes(obs: Observations) -> Judgement:
    entry, problem = _authorize_or_error(obs)
    if problem or entry is None:
        return problem or failed("no authorize request")
    raw = str(entry["params"].get("scope", ""))
    evidence = [journal_evidence("authorize request", [entry])]
    try:
        read_scopes(raw)
    except MalformedScope as exc:
        return failed(f"malformed scope: {exc}", seen=raw, evidence=evidence)
    if entry.get("error") == "invalid_scope":
        return failed(f"the mock refused the scope: {entry.get('reason')}", seen=raw, evidence=evidence)
    if "scope_duplicated" in (entry.get("notes") or []):
        return failed("a scope is repeated", seen=raw, evidence=evidence)
    if "," in raw and " " in raw.strip():
        return warned("scopes mix commas and spaces; IMS samples use commas", seen=raw, evidence=evidence)
    return passed("scopes are well formed and allowed", seen=raw, evidence=evidence)


@check(
    "authorize.code-flow",
    severity=Severity.REQUIRED,
    area="authorization",
    fix="Use `response_type=code` with your own client id and a redirect URI registered for it.",
    requirement="RFC 6749 §4.1.1; IMS authorize/v2 (authorization code flow for web apps)",
    description="response_type=code, the partner's own client_id, and its registered redirect URI.",
    probes=("login",),
)
def use_the_code_flow(obs: Observations) -> Judgement:
    entry, problem = _authorize_or_error(obs)
    if problem or entry is None:
        return problem or failed("no authorize request")
    params: dict[str, str] = entry["params"]
    evidence = [journal_evidence("authorize request", [entry])]
    harness = obs.harness
    problems = []
    if params.get("response_type", "code") != "code":
        problems.append(f"response_type={params.get('response_type')}")
    if harness is not None and params.get("client_id") != harness.client_id:
        problems.append(f"client_id={params.get('client_id')!r}, not the partner's {harness.client_id!r}")
    if "redirect_uri" not in params:
        problems.append("no redirect_uri (IMS would fall back to the default redirect URI)")
    elif harness is not None and params["redirect_uri"] != harness.partner.redirect_uri:
        problems.append(
            f"redirect_uri {params['redirect_uri']!r} is not the registered {harness.partner.redirect_uri!r}"
        )
    if entry.get("outcome") == "refused" and entry.get("endpoint") == "authorize":
        problems.append(f"the mock refused it: {entry.get('reason')}")
    if problems:
        return failed(
            "; ".join(problems),
            expected="response_type=code with the registered client and redirect URI",
            evidence=evidence,
        )
    version = entry.get("version") or "unversioned"
    return passed(f"code flow with the registered redirect URI (authorize {version})", evidence=evidence)


@check(
    "pkce.s256",
    severity=Severity.RECOMMENDED,
    area="authorization",
    fix="Send a `code_challenge` (S256 of a random verifier) and the verifier with the code.",
    requirement="RFC 9700 §2.1.1 (use PKCE); RFC 7636 §4.2 (S256)",
    description="The authorize request carries a PKCE code_challenge with method S256.",
    probes=("login",),
)
def use_pkce_with_s256(obs: Observations) -> Judgement:
    entry, problem = _authorize_or_error(obs)
    if problem or entry is None:
        return problem or failed("no authorize request")
    params: dict[str, str] = entry["params"]
    evidence = [journal_evidence("authorize request", [entry])]
    if "code_challenge" not in params:
        return warned("no PKCE code_challenge", expected="code_challenge_method=S256", evidence=evidence)
    method = params.get("code_challenge_method", "plain")
    if method != "S256":
        return warned(f"PKCE with method {method}", expected="S256", seen=method, evidence=evidence)
    return passed("PKCE with S256", evidence=evidence)

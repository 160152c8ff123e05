"""The code exchange and the client secret: backend only, authenticated, once."""

from __future__ import annotations

from typing import Any

from conformance.checks.base import (
    Judgement,
    check,
    errored,
    failed,
    journal_evidence,
    passed,
    skipped,
    warned,
)
from conformance.checks.exposed import judge_browsing
from conformance.journeys.observations import Observations
from conformance.model import Severity
from conformance.storage.leaks import Needle, Secret, needles_for

PROMPT_SECONDS = 30
# Not sec-fetch-mode: Node's built-in fetch (undici) sends `sec-fetch-mode: cors` from a backend.
BROWSER_HEADERS = ("origin", "sec-fetch-site", "sec-fetch-dest")


def _browser_markers(entry: dict[str, Any]) -> list[str]:
    headers: dict[str, str] = entry.get("headers") or {}
    markers = [h for h in BROWSER_HEADERS if h in headers]
    agent = headers.get("user-agent", "")
    if "Chrome/" in agent or "HeadlessChrome" in agent or "Firefox/" in agent or "Safari/" in agent:
        markers.append(f"user-agent {agent[:60]!r}")
    return markers


@check(
    "code.exchange",
    severity=Severity.REQUIRED,
    area="tokens",
    fix="Redeem the code once, from your server, with your client id and secret (HTTP Basic).",
    requirement="RFC 6749 §4.1.3, §2.3.1; IMS token/v3 (a web app authenticates with its secret, from its backend)",
    description="The code is redeemed once, promptly, from the backend (no browser headers), with client authentication.",
    probes=("login",),
)
def redeem_the_code_from_the_backend(obs: Observations) -> Judgement:
    run = obs.login
    if run.code_id is None:
        return failed("the login did not produce a code", seen=run.error or "no code issued")
    redemptions = run.redemptions()
    evidence = [journal_evidence("token requests for the login's code", redemptions)]
    if not redemptions:
        return failed(
            "the code was never redeemed", expected="one token request with the code", evidence=evidence
        )
    if len(redemptions) > 1:
        return failed(f"the code was redeemed {len(redemptions)} times", evidence=evidence)
    entry = redemptions[0]
    if entry.get("outcome") != "ok":
        return failed(
            f"the redemption was refused: {entry.get('error')} ({entry.get('reason')})", evidence=evidence
        )
    markers = _browser_markers(entry)
    if markers:
        return failed(f"the code was redeemed from a browser ({', '.join(markers)})", evidence=evidence)
    if entry.get("auth") in (None, "none"):
        return failed("the token request carried no client authentication", evidence=evidence)
    issued_at = [e for e in run.journal if run.code_id in (e.get("issued") or [])]
    if issued_at:
        delay = (int(entry.get("time_ms", 0)) - int(issued_at[0].get("time_ms", 0))) / 1000
        if delay > PROMPT_SECONDS:
            return failed(f"the code was redeemed {delay:.0f}s after it was issued", evidence=evidence)
    return passed(
        f"redeemed once from the backend with {entry.get('auth')} client authentication", evidence=evidence
    )


@check(
    "code.redirect-uri",
    severity=Severity.RECOMMENDED,
    area="tokens",
    fix="Send the same `redirect_uri` in the token request as in the authorize request.",
    requirement="RFC 6749 §4.1.3 (redirect_uri repeated on the token request when the authorization request had one)",
    description="The token request repeats the redirect_uri of the authorization request (IMS tolerates its absence).",
    probes=("login",),
)
def repeat_the_redirect_uri(obs: Observations) -> Judgement:
    redemptions = obs.login.redemptions()
    if not redemptions:
        return skipped(
            "the partner redeemed no code, so there is no token request to look at (see code.exchange)"
        )
    evidence = [journal_evidence("token requests for the login's code", redemptions)]
    omitted = [e for e in redemptions if "redirect_uri_omitted" in (e.get("notes") or [])]
    if omitted:
        return warned(
            "the token request has no redirect_uri (IMS accepts that; RFC 6749 §4.1.3 asks for it)",
            expected="redirect_uri equal to the authorization request's",
            evidence=evidence,
        )
    return passed(f"{len(redemptions)} token request(s), each repeating redirect_uri", evidence=evidence)


@check(
    "secret.not-in-url",
    severity=Severity.RECOMMENDED,
    area="tokens",
    fix="Send the client secret with HTTP Basic or in the POST body, never in a query string.",
    requirement="RFC 6749 §2.3.1 (credentials must not be sent in the request URI)",
    description="The client secret is not sent in a query string (IMS tolerates it; logs and proxies keep URLs).",
    probes=("login",),
)
def keep_the_secret_out_of_urls(obs: Observations) -> Judgement:
    run = obs.login
    authenticated = [e for e in run.journal if e.get("auth") not in (None, "none")]
    if not authenticated:
        return skipped("the partner sent no request with client authentication during the sign-in")
    in_query = [e for e in authenticated if "client_secret_in_query" in (e.get("notes") or [])]
    if in_query:
        return warned(
            "the client secret was sent in the query string",
            expected="HTTP Basic or a form body",
            evidence=[journal_evidence("requests with the secret in the URL", in_query)],
        )
    return passed(
        f"{len(authenticated)} authenticated request(s) ({', '.join(sorted({str(e.get('auth')) for e in authenticated}))}), "
        "none with the secret in the URL",
        evidence=[journal_evidence("requests with client authentication", authenticated)],
    )


def secret_needles(client_id: str, secret: str) -> list[Needle]:
    """The secret in every encoding, and the HTTP Basic credentials it makes."""
    return needles_for(
        [Secret("the client secret", secret), Secret("HTTP Basic credentials", f"{client_id}:{secret}")]
    )


@check(
    "secret.not-in-browser",
    severity=Severity.REQUIRED,
    area="browser",
    fix="Keep the client secret on the server: never in pages, scripts, cookies or headers sent to the browser.",
    requirement="RFC 6749 §2.3.1, §10.1 (a confidential client keeps its secret on the server)",
    description="The client secret never reaches the browser: URLs, request and response headers, bodies, pages, cookies, web storage, IndexedDB, Cache Storage.",
    probes=("login",),
)
def keep_the_secret_on_the_server(obs: Observations) -> Judgement:
    harness = obs.harness
    secret = harness.client_secret if harness else str(obs.extra.get("client_secret", ""))
    client_id = harness.client_id if harness else str(obs.extra.get("client_id", ""))
    if not secret:
        return errored("the suite does not know the client secret, so it cannot look for it")
    try:
        needles = secret_needles(client_id, secret)
    except ValueError:
        return skipped(
            f"the client secret is {len(secret)} characters: too short to search for without false alarms"
        )
    return judge_browsing(obs, needles, one="the client secret", none="no trace of the client secret")

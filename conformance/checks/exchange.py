"""The code exchange and the client secret: backend only, authenticated, once."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, quote_plus

from conformance.checks.base import Judgement, check, failed, journal_evidence, note, passed, warned
from conformance.model import Evidence, Severity
from conformance.observations import Observations

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
    "secret.not-in-url",
    severity=Severity.RECOMMENDED,
    requirement="RFC 6749 §2.3.1 (credentials must not be sent in the request URI)",
    description="The client secret is not sent in a query string (IMS tolerates it; logs and proxies keep URLs).",
    probes=("login",),
)
def keep_the_secret_out_of_urls(obs: Observations) -> Judgement:
    run = obs.login
    in_query = [e for e in run.journal if "client_secret_in_query" in (e.get("notes") or [])]
    if in_query:
        return warned(
            "the client secret was sent in the query string",
            expected="HTTP Basic or a form body",
            evidence=[journal_evidence("requests with the secret in the URL", in_query)],
        )
    return passed("the client secret never appeared in a URL the mock saw")


def _secret_needles(client_id: str, secret: str) -> dict[str, str]:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    needles = {
        "raw": secret,
        "HTTP Basic credentials": basic,
        "base64": base64.b64encode(secret.encode()).decode(),
    }
    for label, encoded in (("URL-encoded", quote(secret, safe="")), ("form-encoded", quote_plus(secret))):
        if encoded != secret:
            needles[label] = encoded
    return needles


def find_secret(obs: Observations, client_id: str, secret: str) -> list[dict[str, str]]:
    """Every place in the browser's view (network, cookies, web storage) where the secret shows."""
    needles = _secret_needles(client_id, secret)
    hits: list[dict[str, str]] = []
    runs = [obs.login]

    def look(where: str, text: str | None) -> None:
        if not text:
            return
        for label, needle in needles.items():
            if needle in text:
                hits.append({"where": where, "encoding": label})

    for run in runs:
        for entry in run.network:
            look(f"URL of {entry.method} {entry.url[:120]}", entry.url)
            look(f"request body of {entry.method} {entry.url[:120]}", entry.request_body)
            look(f"response body of {entry.url[:120]}", entry.response_body)
        for cookie in run.browser.cookies:
            look(f"cookie {cookie.get('name')}", str(cookie.get("value", "")))
        for kind, origins in (
            ("localStorage", run.browser.local_storage),
            ("sessionStorage", run.browser.session_storage),
        ):
            for origin, items in origins.items():
                for key, value in items.items():
                    look(f"{kind} {origin} key {key}", f"{key}={value}")
    return hits


@check(
    "secret.not-in-browser",
    severity=Severity.REQUIRED,
    requirement="RFC 6749 §2.3.1, §10.1 (a confidential client keeps its secret on the server)",
    description="The client secret never reaches the browser: pages, scripts, URLs, cookies, web storage.",
    probes=("login",),
)
def keep_the_secret_on_the_server(obs: Observations) -> Judgement:
    harness = obs.harness
    secret = harness.client_secret if harness else str(obs.extra.get("client_secret", ""))
    client_id = harness.client_id if harness else str(obs.extra.get("client_id", ""))
    if not secret:
        return failed("the suite does not know the client secret, so it cannot look for it")
    run = obs.login
    hits = find_secret(obs, client_id, secret)
    scanned = note(
        "looked at",
        f"{len(run.network)} responses and requests, {len(run.browser.cookies)} cookies, web storage",
    )
    if hits:
        return failed(
            f"the client secret reached the browser ({len(hits)} place(s))",
            seen=hits[0]["where"],
            evidence=[Evidence("storage", "where the secret was seen", hits), scanned],
        )
    return passed("the client secret never reached the browser", evidence=[scanned])

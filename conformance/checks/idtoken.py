"""The ID token: the partner refuses one that is wrong (OIDC Core §3.1.3.7).

For each check the mock issues one sign-in's ID token wrong in exactly one way (the
`id-token-tampered` scenario), and the judge looks at what the partner did with that sign-in:

- it *trusted* it when it used the sign-in's tokens (a profile, userinfo or Lightroom call, or a
  refresh, with the access or refresh token of that answer), or when its pages then show the
  user and no other sign-in happened;
- it *refused* it when its page loaded and does not show the user, or when it started a new
  sign-in (which IMS answers at once for a signed-in browser, with an honest ID token) without
  using the tampered one's tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.checks.base import (
    Judgement,
    check,
    errored,
    journal_evidence,
    missed,
    note,
    passed,
    screenshot_evidence,
    skipped,
)
from conformance.journeys.observations import Observations
from conformance.journeys.probes import LoginRun, signed_in_page
from conformance.model import Severity
from conformance.scopes import lenient_scopes

# A token presented here is a token used; revoking one (or signing out with it) is refusing it.
NOT_A_USE = frozenset({"revoke", "logout"})
SEVERITY = Severity.RECOMMENDED


@dataclass(frozen=True)
class Tampering:
    how: str  # the scenario's `how`
    check_id: str
    flaw: str  # "an ID token <flaw>"
    rule: str  # the paragraph of OIDC Core §3.1.3.7
    fix: str


TAMPERINGS = (
    Tampering("signature", "idtoken.signature", "signed by a key IMS does not publish", "¶6: verify the signature with the issuer's keys (its JWKS)",
              "Verify the ID token's RS256 signature with the key /ims/keys publishes under its kid before trusting the sign-in."),
    Tampering("audience", "idtoken.audience", "issued to another client (aud)", "¶3: aud must contain this client's id",
              "Refuse an ID token whose aud is not your client id."),
    Tampering("issuer", "idtoken.issuer", "from another issuer (iss)", "¶2: iss must be the issuer discovery names",
              "Refuse an ID token whose iss is not the issuer IMS's discovery document names."),
    Tampering("expired", "idtoken.expiry", "that expired an hour before (exp)", "¶9: the current time must be before exp",
              "Refuse an ID token whose exp has passed (allow a couple of minutes of clock skew, no more)."),
    Tampering("nonce", "idtoken.nonce", "carrying a nonce this sign-in never sent", "¶11: nonce must be the one the authorization request sent",
              "Send a random nonce with each sign-in, keep it in the session, and refuse an ID token that carries another."),
)  # fmt: skip


def _signed_in_pages(run: LoginRun, ims_url: str) -> list[str]:
    return [
        p.url for p in (run.landing, run.profile) if p is not None and signed_in_page(p, run.user, ims_url)
    ]


def _judge(obs: Observations, tampering: Tampering) -> Judgement:
    run: LoginRun = obs.get(f"idtoken-{tampering.how}")
    flaw = f"an ID token {tampering.flaw}"
    params: dict[str, Any] = (run.authorize or {}).get("params") or {}
    if run.authorize is None:
        return errored(
            f"the sign-in never reached IMS: {run.error}" if run.error else "the sign-in never reached IMS"
        )
    if "openid" not in lenient_scopes(str(params.get("scope", ""))):
        return skipped("the app asks for no openid scope, so IMS sends it no ID token")
    if tampering.how == "nonce" and not params.get("nonce"):
        return skipped("the app sends no nonce, so there is none for the ID token to contradict")
    entries = [e for e in run.journal if e.get("endpoint") == "token" and e.get("tampered_id_token")]
    if not entries:
        if run.error:
            return errored(f"the sign-in did not reach the token exchange: {run.error}")
        return skipped(
            "the app redeemed no code for an ID token during the sign-in, so none was tampered with"
        )
    tampered = entries[0]
    after = [e for e in run.journal if int(e.get("seq") or 0) > int(tampered.get("seq") or 0)]
    issued = set(tampered.get("issued") or [])
    uses = [e for e in after if e.get("consumed") in issued and e.get("endpoint") not in NOT_A_USE]
    fresh = [
        e
        for e in after
        if e.get("endpoint") == "token"
        and e.get("grant_type") == "authorization_code"
        and e.get("outcome") == "ok"
    ]
    shown = _signed_in_pages(run, obs.ims_url())
    evidence = [
        note("the ID token the mock sent (decoded)", tampered["tampered_id_token"]),
        journal_evidence("the token answer that carried it, and the requests after it", [tampered, *after]),
        *screenshot_evidence("the page after the callback", run.landing.screenshot if run.landing else None),
        *screenshot_evidence("the after_login page", run.profile.screenshot if run.profile else None),
    ]
    expected = f"the sign-in refused (OIDC Core §3.1.3.7 {tampering.rule})"
    if uses:
        called = ", ".join(sorted({str(e.get("endpoint")) for e in uses}))
        return missed(
            SEVERITY,
            f"the app accepted a sign-in with {flaw}: it called {called} with its tokens",
            expected=expected,
            seen=f"{flaw}, trusted",
            evidence=evidence,
        )
    if (why := obs.cannot_tell_signed_in()) is not None:
        return skipped(f"the app did not use the sign-in's tokens, but {why}", evidence=evidence)
    if shown and not fresh:
        return missed(
            SEVERITY,
            f"the app signed the user in with {flaw}",
            expected=expected,
            seen=f"the user shown at {shown[0]}",
            evidence=evidence,
        )
    page = run.profile or run.landing
    if page is None or page.error:
        return errored(
            f"the app's page after the sign-in did not load: {(page.error if page else run.error) or 'no page'}",
            evidence=evidence,
        )
    if fresh:
        return passed(
            f"the app did not use the sign-in with {flaw}; it started a new sign-in, which got an honest one",
            evidence=evidence,
        )
    return passed(f"the app did not sign the user in with {flaw}", evidence=evidence)


def _register(tampering: Tampering) -> None:
    def judge(obs: Observations) -> Judgement:
        return _judge(obs, tampering)

    check(
        tampering.check_id,
        severity=SEVERITY,
        area="tokens",
        fix=tampering.fix,
        requirement=f"OIDC Core §3.1.3.7 {tampering.rule}",
        description=f"A sign-in with an ID token {tampering.flaw} does not sign the user in.",
        probes=("login", f"idtoken-{tampering.how}"),
    )(judge)


for _tampering in TAMPERINGS:
    _register(_tampering)

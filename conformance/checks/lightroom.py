"""Calling Lightroom: the client id as `X-API-Key` on every call, and an expired token (403
code 4300) refreshed and the call retried.

Both judge what the app did anyway: the Lightroom calls in the journal of the sign-in and of
the refresh probe. An app that never calls the Lightroom stub during the run gets SKIP.
"""

from __future__ import annotations

from typing import Any

from conformance.checks.base import Judgement, check, failed, journal_evidence, passed, skipped
from conformance.checks.refresh import no_refresh_token
from conformance.journeys.observations import Observations
from conformance.journeys.probes import RefreshRun
from conformance.model import Severity

EXPIRED = "4300"  # Lightroom's answer to an expired or foreign access token (docs/ims-facts.md §6)


def _calls(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in journal if str(e.get("endpoint", "")).startswith("lightroom.")]


def _client_id(obs: Observations) -> str:
    return obs.harness.client_id if obs.harness is not None else str(obs.extra.get("client_id", ""))


@check(
    "lightroom.api-key",
    severity=Severity.REQUIRED,
    area="lightroom",
    fix="Send your client id (API key) as the X-API-Key header on every Lightroom call.",
    requirement="Lightroom Partner API: every call carries X-API-Key, the integration's client id",
    description="Every Lightroom call of the sign-in and of the refresh probe carries X-API-Key equal to the client id.",
    probes=("login", "refresh"),
)
def send_the_api_key(obs: Observations) -> Judgement:
    refresh: RefreshRun = obs.refresh
    calls = _calls(obs.login.journal) + [e for visit in refresh.visits for e in _calls(visit.journal)]
    if not calls:
        return skipped("the app did not call the Lightroom API during the sign-in or the refresh probe")
    client_id = _client_id(obs)
    wrong = [e for e in calls if (e.get("headers") or {}).get("x-api-key", "") != client_id]
    evidence = [journal_evidence("Lightroom calls", calls)]
    if wrong:
        keys = sorted(
            {
                repr((e.get("headers") or {}).get("x-api-key", ""))
                if (e.get("headers") or {}).get("x-api-key")
                else "none"
                for e in wrong
            }
        )
        return failed(
            f"{len(wrong)} of {len(calls)} Lightroom call(s) without the client id as X-API-Key (sent: {', '.join(keys)})",
            expected=f"X-API-Key: {client_id}",
            evidence=evidence,
        )
    return passed(f"{len(calls)} Lightroom call(s), each with X-API-Key: {client_id}", evidence=evidence)


@check(
    "lightroom.expired",
    severity=Severity.REQUIRED,
    area="lightroom",
    fix="Treat Lightroom's 403 with code 4300 as an expired token: refresh, then retry the call once.",
    requirement="Lightroom Partner API: 403 code 4300 means the access token expired; RFC 6749 §6 (refresh)",
    description="A Lightroom call answered 403 code 4300 (expired token) is followed, in the same page load, by a refresh and the same call again, which succeeds.",
    probes=("refresh",),
)
def refresh_on_lightroom_4300(obs: Observations) -> Judgement:
    refresh: RefreshRun = obs.refresh
    if (missing := no_refresh_token(obs, refresh.login)) is not None:
        return missing
    visit = next((v for v in refresh.visits if _expired(v.journal)), None)
    if visit is None:
        return skipped("Lightroom never answered the app 403 4300: it made no call with an expired token")
    if not any(v.refreshes for v in refresh.visits):
        return skipped(
            "the app never refreshed after the expiry, for IMS or Lightroom (see refresh.on-expiry)"
        )
    journal = visit.journal
    expired = _expired(journal)[0]
    evidence = [
        journal_evidence(
            f"Lightroom calls and refreshes while loading {visit.label}",
            [e for e in journal if e in _calls(journal) or e.get("grant_type") == "refresh_token"],
        )
    ]
    later = [e for e in journal if _seq(e) > _seq(expired)]
    refreshed = [e for e in later if e.get("grant_type") == "refresh_token" and e.get("outcome") == "ok"]
    if not refreshed:
        return failed(
            "after Lightroom answered 403 4300, the app did not refresh",
            expected="a refresh, then the call again",
            evidence=evidence,
        )
    endpoint = expired.get("endpoint")
    retried = [
        e
        for e in later
        if _seq(e) > _seq(refreshed[0]) and e.get("endpoint") == endpoint and e.get("outcome") == "ok"
    ]
    if not retried:
        return failed(
            f"after the refresh, the page load did not call {endpoint} again",
            expected="the call again, with the new access token",
            seen="the Lightroom call given up after 403 4300",
            evidence=evidence,
        )
    return passed(
        f"403 4300 from {endpoint}, then a refresh and the call again (answered {retried[0].get('status')})",
        evidence=evidence,
    )


def _seq(entry: dict[str, Any]) -> int:
    return int(entry.get("seq") or 0)


def _expired(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in _calls(journal) if e.get("status") == 403 and str(e.get("error")) == EXPIRED]

"""Refresh: when the access token expires, rotate, never storm, and recover from revocation.

The probe advances the mock's clock; the partner's own clock does not move, so a partner sees
the expiry when IMS (or Lightroom) answers 401/403 and must refresh then.
"""

from __future__ import annotations

from typing import Any

from conformance.browser.browsing import PageVisit
from conformance.checks.base import (
    Judgement,
    check,
    errored,
    failed,
    journal_evidence,
    note,
    passed,
    screenshot_evidence,
    skipped,
)
from conformance.journeys.observations import Observations
from conformance.journeys.probes import TABS, ConcurrentRefresh, LoginRun, RefreshRun, Revisit, shows_user
from conformance.model import Severity
from conformance.stage.harness import TestUser


def _visit(run: RefreshRun, label: str) -> Revisit | None:
    return next((v for v in run.visits if v.label == label), None)


def _refresh_calls(run: RefreshRun) -> list[dict[str, Any]]:
    return [e for v in run.visits for e in v.refreshes]


def no_refresh_token(obs: Observations, login: LoginRun) -> Judgement | None:
    """SKIP when the sign-in before a refresh probe never got a refresh token to refresh with."""
    if login.error:
        return skipped(f"the sign-in before the expiry did not complete: {login.error}")
    if not login.journal:
        return skipped("the sign-in before the expiry reached no IMS endpoint")
    if "refresh_token" in obs.kinds_issued(login.journal):
        return None
    scope = str(((login.authorize or {}).get("params") or {}).get("scope", ""))
    why = (
        "the app did not ask for offline_access"
        if "offline_access" not in scope.replace(",", " ").split()
        else ""
    )
    return skipped(
        "no refresh token was ever issued" + (f": {why}" if why else ""),
        evidence=[journal_evidence("the sign-in's requests", login.journal)],
    )


@check(
    "refresh.on-expiry",
    severity=Severity.REQUIRED,
    area="refresh",
    fix="When IMS answers 401 (or Lightroom 403 4300), refresh with the refresh token and retry.",
    requirement="RFC 6749 §6; IMS: access tokens expire after 24 h and are renewed with the refresh token",
    description="After the access token expires, the partner refreshes and keeps working.",
    probes=("refresh",),
)
def refresh_when_the_token_expires(obs: Observations) -> Judgement:
    run = obs.refresh
    if (precondition := no_refresh_token(obs, run.login)) is not None:
        return precondition
    visit = _visit(run, "after-first-expiry")
    if visit is None:
        return skipped("the probe did not get as far as the expiry")
    evidence = [
        journal_evidence("requests after the access token expired", visit.journal),
        *screenshot_evidence("the page after expiry", visit.page.screenshot),
    ]
    if not visit.refreshes:
        return failed(
            "no refresh after the access token expired",
            expected="grant_type=refresh_token, then the page works",
            seen=f"page status {visit.page.status}",
            evidence=evidence,
        )
    if not any(e.get("outcome") == "ok" for e in visit.refreshes):
        return failed(f"the refresh was refused: {visit.refreshes[0].get('reason')}", evidence=evidence)
    before = _visit(run, "while-valid-1")
    if not _works_as_before(visit.page, before.page if before else None, run.login.user):
        return failed(
            "the partner refreshed but the page did not work afterwards",
            expected="the page as it was while the token was valid",
            seen=visit.page.text[:200],
            evidence=evidence,
        )
    return passed("refreshed after expiry and kept working", evidence=evidence)


def _works_as_before(page: PageVisit, before: PageVisit | None, user: TestUser) -> bool:
    """`page` answers as `before` (the needs_token page while the token was valid) did.

    needs_token need not show the user: when it did before, it must still; when it did not, it
    must answer at the same URL with the same status (not a sign-in page or an error).
    """
    if page.server_error or page.error:
        return False
    if before is None or shows_user(before, user):
        return shows_user(page, user)
    return page.status == before.status and page.url == before.url


@check(
    "refresh.rotation",
    severity=Severity.REQUIRED,
    area="refresh",
    fix="Store the refresh token from every refresh answer and use it the next time.",
    requirement="IMS: a refresh returns a new refresh token to store and use next; RFC 9700 §4.14.2",
    description="The next refresh uses the newly issued refresh token.",
    probes=("refresh",),
)
def use_the_rotated_refresh_token(obs: Observations) -> Judgement:
    run = obs.refresh
    if (precondition := no_refresh_token(obs, run.login)) is not None:
        return precondition
    first_visit = _visit(run, "after-first-expiry")
    firsts = [e for e in (first_visit.refreshes if first_visit else []) if e.get("outcome") == "ok"]
    if not firsts:
        return skipped("no successful first refresh to rotate from (see refresh.on-expiry)")
    second_visit = _visit(run, "after-second-expiry")
    seconds = second_visit.refreshes if second_visit else []
    calls = _refresh_calls(run)
    chain = calls[calls.index(firsts[0]) :]
    evidence = [journal_evidence("refreshes from the first expiry on", chain)]
    if not seconds:
        return failed("no refresh after the second expiry", evidence=evidence)
    # Every refresh must present the refresh token the last successful one returned, however
    # many refreshes the partner makes in between (refresh.no-storm judges how many).
    latest = firsts[0]
    spent = {latest.get("consumed")}
    for entry in chain[1:]:
        used = entry.get("consumed")
        expected = _rotated(latest) or [str(latest.get("consumed"))]
        if used not in expected:
            if used in spent:
                return failed("a refresh reused an old, already used refresh token", evidence=evidence)
            return failed(
                f"a refresh presented an unexpected token: {entry.get('reason')}", evidence=evidence
            )
        if entry.get("outcome") != "ok":
            return failed(
                f"a refresh with the rotated token failed: {entry.get('reason')}", evidence=evidence
            )
        latest = entry
        spent.add(used)
    return passed(
        f"each of {len(chain) - 1} later refresh(es) used the refresh token rotated by the one before",
        evidence=evidence,
    )


def _rotated(entry: dict[str, Any]) -> list[str]:
    """The refresh token a successful refresh issued (after its access token), if any."""
    return [str(i) for i in (entry.get("issued") or [])[1:]]


@check(
    "refresh.no-storm",
    severity=Severity.REQUIRED,
    area="refresh",
    fix="Refresh only when the access token has expired or is refused, once per expiry.",
    requirement="IMS: Adobe throttles integrations that create too many tokens; refresh only when needed",
    description="No refresh while the access token is valid, and one refresh per expiry.",
    probes=("refresh",),
)
def refresh_only_when_needed(obs: Observations) -> Judgement:
    run = obs.refresh
    if (precondition := no_refresh_token(obs, run.login)) is not None:
        return precondition
    labels = (
        "while-valid-1",
        "while-valid-2",
        "after-first-expiry",
        "after-first-refresh",
        "after-second-expiry",
    )
    visits = {label: _visit(run, label) for label in labels}
    missing = [label for label, visit in visits.items() if visit is None or visit.page.error]
    if missing:
        broken = visits[missing[0]]
        return skipped(
            f"the probe did not load every page it needs ({', '.join(missing)})"
            + (f": {broken.page.error}" if broken is not None and broken.page.error else "")
        )
    early = [
        e
        for e in run.login.journal
        if e.get("endpoint") == "token" and e.get("grant_type") == "refresh_token"
    ]
    for label in ("while-valid-1", "while-valid-2", "after-first-refresh"):
        visit = visits[label]
        if visit is not None:
            early += visit.refreshes
    if early:
        return failed(
            f"{len(early)} refresh(es) while the access token was still valid",
            evidence=[journal_evidence("refreshes while the access token was valid", early)],
        )
    for label in ("after-first-expiry", "after-second-expiry"):
        visit = visits[label]
        if visit is not None and len(visit.refreshes) > 1:
            return failed(
                f"{len(visit.refreshes)} refreshes for one expiry",
                evidence=[journal_evidence("refreshes for one expiry", visit.refreshes)],
            )
    calls = _refresh_calls(run)
    if not calls:
        return skipped("the app never refreshed, so there was no refresh to count (see refresh.on-expiry)")
    return passed(
        f"{len(calls)} refresh(es) over 2 expiries and {len(labels)} page loads, none while the token was valid",
        evidence=[journal_evidence("every refresh of the probe", calls)],
    )


@check(
    "refresh.revoked",
    severity=Severity.REQUIRED,
    area="refresh",
    fix="When a refresh gets `invalid_grant`, forget the tokens and send the user to sign in again.",
    requirement="RFC 6749 §5.2 (invalid_grant); IMS: after a user revokes the app, sign in again",
    description="A revoked refresh token sends the user to log in again cleanly.",
    probes=("refresh-revoked",),
)
def recover_from_a_revoked_refresh_token(obs: Observations) -> Judgement:
    login, visit = obs.get("refresh-revoked")
    login_: LoginRun = login
    if (precondition := no_refresh_token(obs, login_)) is not None:
        return precondition
    if visit is None:
        return skipped("the probe did not get as far as the revocation")
    if not _signed_in(login_):
        # Else a partner that never let the user in would "recover" from a revocation it never met.
        return failed(
            "the login before the revocation did not sign the user in",
            expected="the user shown, or the partner's tokens in use, after the login",
            seen=login_.profile.text[:200] if login_.profile else "",
            evidence=screenshot_evidence(
                "after the login", login_.profile.screenshot if login_.profile else None
            ),
        )
    evidence = [
        journal_evidence("requests after revocation and expiry", visit.journal),
        *screenshot_evidence("where the user ended up", visit.page.screenshot),
    ]
    refused = [
        e
        for e in visit.journal
        if e.get("endpoint") == "token"
        and e.get("grant_type") == "refresh_token"
        and e.get("outcome") != "ok"
    ]
    if not refused:
        return skipped(
            "the app did not present its revoked refresh token after the expiry, so it never met the "
            "revocation (see refresh.on-expiry)",
            evidence=evidence,
        )
    harness = obs.harness
    at_login = harness is not None and visit.page.url.startswith(f"{harness.ims_url}/ims/authorize")
    if visit.page.crashed:
        return failed(f"the partner answered {visit.page.status}", evidence=evidence)
    if visit.page.error and not at_login:
        return failed(f"the page did not load: {visit.page.error}", evidence=evidence)
    if shows_user(visit.page, login_.user) and not at_login:
        return failed("the partner still shows the user as signed in", evidence=evidence)
    where = "the IMS sign-in page" if at_login else f"a page with status {visit.page.status}"
    return passed(
        f"the refresh was refused ({refused[0].get('error')}) and the user was sent to {where}, no longer signed in",
        evidence=evidence,
    )


BEARER_ENDPOINTS = ("profile", "userinfo")


def _signed_in(run: LoginRun) -> bool:
    """The login let the user in: the after_login page shows them, or the partner used its new
    access token successfully (IMS profile or userinfo, a Lightroom call)."""
    if run.profile is not None and shows_user(run.profile, run.user):
        return True
    return any(
        e.get("outcome") == "ok"
        and (e.get("endpoint") in BEARER_ENDPOINTS or str(e.get("endpoint", "")).startswith("lightroom."))
        for e in run.journal
    )


@check(
    "refresh.concurrent",
    severity=Severity.REQUIRED,
    area="refresh",
    fix="Refresh once per user at a time (a lock, or a single in-flight refresh others wait for), and let waiting requests use its result.",
    requirement="RFC 9700 §4.14.2 (a rotated refresh token presented twice revokes the grant); IMS rotates refresh tokens",
    description=f"With the access token expired, {TABS} tabs loading the token-needing page at once cause one refresh, and every tab ends signed in.",
    probes=("login", "refresh-concurrent"),
)
def refresh_once_for_many_tabs(obs: Observations) -> Judgement:
    result: ConcurrentRefresh = obs.get("refresh-concurrent")
    if (missing := no_refresh_token(obs, result.login)) is not None:
        return missing
    refreshes = result.refreshes
    evidence = [
        journal_evidence("refresh requests while the tabs loaded", refreshes),
        note(
            "where each tab ended",
            {f"tab {i + 1}": f"{tab.status} {tab.url}" for i, tab in enumerate(result.tabs)},
        ),
        *[
            shot
            for i, tab in enumerate(result.tabs)
            for shot in screenshot_evidence(f"tab {i + 1}", tab.screenshot)
        ],
    ]
    if not result.tabs:
        return errored("the tabs did not load", evidence=evidence)
    if (hung := next((tab for tab in result.tabs if tab.hung), None)) is not None:
        return errored(f"a tab did not load: {hung.error}", evidence=evidence)
    if not refreshes:
        return skipped(
            "the app did not refresh while the tabs loaded (see refresh.on-expiry)", evidence=evidence
        )
    presented: dict[str, int] = {}
    for entry in refreshes:
        token = str(entry.get("consumed") or "")
        presented[token] = presented.get(token, 0) + 1
    twice = [token for token, count in presented.items() if token and count > 1]
    user = result.login.user
    out = [i + 1 for i, tab in enumerate(result.tabs) if tab.error or not shows_user(tab, user)]
    if twice:
        return failed(
            f"the same refresh token was presented {max(presented.values())} times at once"
            + (", and IMS revoked the grant" if any(e.get("revoked") for e in refreshes) else ""),
            expected="one refresh, the other requests waiting for it",
            seen=f"{len(refreshes)} refresh request(s); tab(s) {', '.join(map(str, out)) or 'none'} not signed in",
            evidence=evidence,
        )
    if (why := obs.cannot_tell_signed_in()) is not None:
        return skipped(why, evidence=evidence)
    if out:
        return failed(
            f"tab(s) {', '.join(map(str, out))} of {len(result.tabs)} did not end signed in",
            expected="every tab showing the user",
            evidence=evidence,
        )
    return passed(
        f"{len(refreshes)} refresh for {len(result.tabs)} tabs loading at once; every tab shows the user",
        evidence=evidence,
    )

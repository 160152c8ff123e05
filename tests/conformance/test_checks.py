"""Checks judge observations; here they are fed made-up observations, no browser involved."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.browsing import PageVisit
from conformance.checks import REGISTRY
from conformance.checks.state import estimated_bits
from conformance.harness import ATTACKER, VICTIM
from conformance.model import Verdict
from conformance.observations import Observations
from conformance.probes import ForgedCallback, LoginRun, RefreshRun, Revisit

GOOD_STATE = "q8Xr0sV2mC1pL9kT4nW7yB3dF6hJ0aZ5uE8iO2gR1tY"
SCOPE = "openid,AdobeID,lr_partner_apis,offline_access"


def authorize(**params: str) -> dict[str, Any]:
    base = {
        "client_id": "partner",
        "redirect_uri": "http://127.0.0.1:8000/callback",
        "scope": SCOPE,
        "response_type": "code",
        "state": GOOD_STATE,
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
    }
    base.update(params)
    return {
        "endpoint": "authorize",
        "version": "v2",
        "outcome": "ok",
        "params": {k: v for k, v in base.items() if v},
        "notes": [],
    }


def token_entry(**fields: Any) -> dict[str, Any]:
    entry = {
        "endpoint": "token",
        "grant_type": "authorization_code",
        "consumed": "code-1",
        "outcome": "ok",
        "auth": "basic",
        "headers": {"user-agent": "python-httpx/0.28"},
        "issued": ["at-1", "rt-1"],
        "time_ms": 1000,
        "notes": [],
    }
    entry.update(fields)
    return entry


def page(text: str = f"Hello {VICTIM.display_name}", status: int = 200) -> PageVisit:
    return PageVisit("http://127.0.0.1:8000/profile", status, text)


def login_run(
    *, auth: dict[str, Any] | None = None, tokens: list[dict[str, Any]] | None = None, **fields: Any
) -> LoginRun:
    entry = auth if auth is not None else authorize()
    login_entry = {"endpoint": "login", "issued": ["code-1"], "time_ms": 900, "outcome": "ok", "notes": []}
    journal = [entry, login_entry, *(tokens if tokens is not None else [token_entry()])]
    run = LoginRun(
        name="login",
        user=VICTIM,
        journal=journal,
        authorize=entry,
        code_id="code-1",
        profile=page(),
        landing=page(),
    )
    for key, value in fields.items():
        setattr(run, key, value)
    return run


def judge(check_id: str, **observations: Any) -> Verdict:
    return REGISTRY[check_id].judge(Observations(**observations)).verdict


# ---- the authorize request ---------------------------------------------------------------


def test_the_reference_shaped_login_passes_the_authorize_checks() -> None:
    run = login_run()
    for check_id in ("scope.required", "scope.format", "authorize.code-flow", "pkce.s256", "state.present"):
        assert judge(check_id, login=run) is Verdict.PASS, check_id


@pytest.mark.parametrize(
    ("params", "check_id", "verdict"),
    [
        ({"scope": "openid,AdobeID"}, "scope.required", Verdict.FAIL),
        ({"scope": "openid AdobeID lr_partner_apis"}, "scope.required", Verdict.PASS),
        ({"scope": "openid,AdobeID lr_partner_apis"}, "scope.format", Verdict.WARN),
        ({"response_type": "token"}, "authorize.code-flow", Verdict.FAIL),
        ({"redirect_uri": ""}, "authorize.code-flow", Verdict.FAIL),
        ({"code_challenge": "", "code_challenge_method": ""}, "pkce.s256", Verdict.WARN),
        ({"code_challenge_method": "plain"}, "pkce.s256", Verdict.WARN),
        ({"state": ""}, "state.present", Verdict.FAIL),
    ],
)
def test_authorize_mistakes(params: dict[str, str], check_id: str, verdict: Verdict) -> None:
    assert judge(check_id, login=login_run(auth=authorize(**params))) is verdict


def test_a_scope_the_mock_refused_fails_scope_format() -> None:
    entry = authorize() | {"outcome": "refused", "error": "invalid_scope", "reason": "scope x is not allowed"}
    assert judge("scope.format", login=login_run(auth=entry)) is Verdict.FAIL


# ---- state --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "at_least", "below"),
    [
        (GOOD_STATE, 128, 1000),
        ("90cff02f-da33-46ec-985c-1f5cf2f9644a", 100, 128),
        ("0123456789abcdef0123456789abcdef", 128, 129),
        ("12345", 0, 64),
    ],
)
def test_state_entropy_estimates(state: str, at_least: float, below: float) -> None:
    assert at_least <= estimated_bits(state) < below


def test_repeated_or_short_states_fail_unpredictable() -> None:
    same = judge("state.unpredictable", login=login_run(), second_login=login_run())
    assert same is Verdict.FAIL
    short = login_run(auth=authorize(state="abc123"))
    other = login_run(auth=authorize(state="xyz789"))
    assert judge("state.unpredictable", login=short, second_login=other) is Verdict.FAIL
    uuid_a = login_run(auth=authorize(state="90cff02f-da33-46ec-985c-1f5cf2f9644a"))
    uuid_b = login_run(auth=authorize(state="80cff02f-da33-46ec-985c-1f5cf2f9644b"))
    assert judge("state.unpredictable", login=uuid_a, second_login=uuid_b) is Verdict.WARN


def forged(*, redeemed: bool = False, shows: str = "Please sign in") -> ForgedCallback:
    journal = [token_entry(consumed="evil-code")] if redeemed else []
    landing = PageVisit("http://127.0.0.1:8000/callback", 400, "Invalid state")
    return ForgedCallback(
        "forged-state",
        "evil-code",
        "http://127.0.0.1:8000/callback?code=x&state=y",
        landing,
        page(shows),
        journal,
    )


@pytest.mark.parametrize("check_id", ["state.verified", "state.missing-rejected", "state.bound-to-session"])
def test_forged_callbacks_pass_only_when_refused_on_both_sides(check_id: str) -> None:
    probe = {
        "state.verified": "forged_state",
        "state.missing-rejected": "missing_state",
        "state.bound-to-session": "other_session",
    }[check_id]
    assert judge(check_id, **{probe: forged()}) is Verdict.PASS
    assert judge(check_id, **{probe: forged(redeemed=True)}) is Verdict.FAIL
    assert judge(check_id, **{probe: forged(shows=f"Welcome {ATTACKER.display_name}")}) is Verdict.FAIL


def test_a_replayed_callback_must_not_redeem_again() -> None:
    run = login_run()
    assert judge("state.single-use", replay=(run, forged())) is Verdict.PASS
    assert judge("state.single-use", replay=(run, forged(redeemed=True))) is Verdict.FAIL
    assert judge("state.single-use", replay=(run, None)) is Verdict.FAIL


# ---- the code exchange -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "verdict"),
    [
        ([token_entry()], Verdict.PASS),
        ([], Verdict.FAIL),
        ([token_entry(), token_entry(outcome="refused")], Verdict.FAIL),
        ([token_entry(outcome="refused", error="invalid_grant")], Verdict.FAIL),
        ([token_entry(headers={"origin": "http://127.0.0.1:8000", "sec-fetch-mode": "cors"})], Verdict.FAIL),
        ([token_entry(headers={"user-agent": "Mozilla/5.0 HeadlessChrome/120"})], Verdict.FAIL),
        ([token_entry(auth="none")], Verdict.FAIL),
        ([token_entry(time_ms=120_000)], Verdict.FAIL),
    ],
)
def test_code_exchange(tokens: list[dict[str, Any]], verdict: Verdict) -> None:
    assert judge("code.exchange", login=login_run(tokens=tokens)) is verdict


def test_a_secret_in_the_query_string_warns() -> None:
    run = login_run(tokens=[token_entry(notes=["client_secret_in_query"], auth="query")])
    assert judge("secret.not-in-url", login=run) is Verdict.WARN


# ---- profile -------------------------------------------------------------------------------


def test_profile_shown_needs_the_users_name_or_email() -> None:
    assert judge("profile.shown", login=login_run()) is Verdict.PASS
    assert judge("profile.shown", login=login_run(profile=page(VICTIM.email))) is Verdict.PASS
    assert judge("profile.shown", login=login_run(profile=page("Welcome!"))) is Verdict.FAIL
    assert judge("profile.shown", login=login_run(profile=page("oops", 500))) is Verdict.FAIL


def test_profile_must_be_fetched_with_a_bearer_header() -> None:
    good = {"endpoint": "profile", "outcome": "ok", "headers": {"authorization": "Bearer"}, "notes": []}
    bad = {"endpoint": "profile", "outcome": "ok", "headers": {}, "notes": ["access_token_in_query"]}
    assert judge("profile.bearer", login=login_run(tokens=[token_entry(), good])) is Verdict.PASS
    assert judge("profile.bearer", login=login_run(tokens=[token_entry(), bad])) is Verdict.FAIL
    assert judge("profile.bearer", login=login_run()) is Verdict.SKIP


# ---- errors --------------------------------------------------------------------------------


def test_access_denied_needs_a_clean_page_and_no_token_request() -> None:
    clean = login_run(tokens=[], landing=PageVisit("http://x/callback", 200, "You declined."))
    assert judge("error.access-denied", access_denied=clean) is Verdict.PASS
    crash = login_run(tokens=[], landing=PageVisit("http://x/callback", 500, "Internal Server Error"))
    assert judge("error.access-denied", access_denied=crash) is Verdict.FAIL
    greedy = login_run(landing=PageVisit("http://x/callback", 200, "You declined."))
    assert judge("error.access-denied", access_denied=greedy) is Verdict.FAIL


def test_a_failing_token_endpoint_needs_a_clean_page() -> None:
    failed_call = [token_entry(outcome="fault", status=500)]
    clean = login_run(
        tokens=failed_call,
        landing=PageVisit("http://x/callback", 503, "Sign-in failed: IMS is unavailable"),
        profile=page("Sign in"),
    )
    assert judge("error.token-endpoint", token_endpoint_500=clean) is Verdict.PASS
    crash = login_run(tokens=failed_call, landing=PageVisit("http://x/callback", 500, "Traceback"))
    assert judge("error.token-endpoint", token_endpoint_500=crash) is Verdict.FAIL
    retried = login_run(tokens=[*failed_call, token_entry()], landing=page())
    assert judge("error.token-endpoint", token_endpoint_500=retried) is Verdict.PASS


# ---- refresh -------------------------------------------------------------------------------


def refresh_entry(consumed: str, issued: list[str], outcome: str = "ok") -> dict[str, Any]:
    return token_entry(grant_type="refresh_token", consumed=consumed, issued=issued, outcome=outcome)


def refresh_run(
    first: list[dict[str, Any]], second: list[dict[str, Any]], early: list[dict[str, Any]] | None = None
) -> RefreshRun:
    run = RefreshRun(login_run())
    run.visits = [
        Revisit("while-valid-1", page(), early or []),
        Revisit("while-valid-2", page(), []),
        Revisit("after-first-expiry", page(), first),
        Revisit("after-first-refresh", page(), []),
        Revisit("after-second-expiry", page(), second),
    ]
    return run


def test_a_correct_refresh_sequence_passes_every_refresh_check() -> None:
    run = refresh_run([refresh_entry("rt-1", ["at-2", "rt-2"])], [refresh_entry("rt-2", ["at-3", "rt-3"])])
    for check_id in ("refresh.on-expiry", "refresh.rotation", "refresh.no-storm"):
        assert judge(check_id, refresh=run) is Verdict.PASS, check_id


def test_no_refresh_fails_on_expiry_and_skips_rotation() -> None:
    run = refresh_run([], [])
    run.visits[2].page = page("Please sign in again")
    assert judge("refresh.on-expiry", refresh=run) is Verdict.FAIL
    assert judge("refresh.rotation", refresh=run) is Verdict.SKIP
    assert judge("refresh.no-storm", refresh=run) is Verdict.PASS


def test_reusing_the_old_refresh_token_fails_rotation() -> None:
    run = refresh_run(
        [refresh_entry("rt-1", ["at-2", "rt-2"])], [refresh_entry("rt-1", [], outcome="refused")]
    )
    assert judge("refresh.rotation", refresh=run) is Verdict.FAIL


def test_refreshing_while_valid_is_a_storm() -> None:
    run = refresh_run(
        [refresh_entry("rt-1", ["at-2", "rt-2"])],
        [refresh_entry("rt-2", ["at-3", "rt-3"])],
        early=[refresh_entry("rt-0", ["a", "b"])],
    )
    assert judge("refresh.no-storm", refresh=run) is Verdict.FAIL


def test_landing_on_the_mocks_login_page_is_not_being_signed_in_as_the_attacker() -> None:
    # The mock's login page lists every test user, Mallory included.
    login_page = PageVisit(
        "http://127.0.0.1:9/ims/authorize/v2?client_id=x", 200, f"Sign in {ATTACKER.display_name}"
    )
    result = ForgedCallback("forged-state", "evil-code", "http://x/callback", login_page, login_page, [])
    assert judge("state.verified", forged_state=result) is Verdict.FAIL
    observations = Observations(forged_state=result)
    observations.extra["ims_url"] = "http://127.0.0.1:9"
    assert REGISTRY["state.verified"].judge(observations).verdict is Verdict.PASS

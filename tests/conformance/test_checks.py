"""Checks judge observations; here they are fed made-up observations, no browser involved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.browsing import PageVisit
from conformance.checks import REGISTRY
from conformance.checks.state import estimated_bits
from conformance.harness import ATTACKER, VICTIM
from conformance.leaks import Secret
from conformance.model import Verdict
from conformance.observations import Observations
from conformance.probes import ForgedCallback, LoginRun, RefreshRun, Revisit
from conformance.storage import StorageSpec

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
    run = login_run()
    assert judge(check_id, login=run, **{probe: forged()}) is Verdict.PASS
    assert judge(check_id, login=run, **{probe: forged(redeemed=True)}) is Verdict.FAIL
    attacker = forged(shows=f"Welcome {ATTACKER.display_name}")
    assert judge(check_id, login=run, **{probe: attacker}) is Verdict.FAIL


def test_a_partner_that_sends_no_state_fails_bound_to_session_rather_than_erroring() -> None:
    # No other-session observation: with no state there is nothing to carry to another browser.
    stateless = login_run(auth=authorize(state=""))
    assert judge("state.bound-to-session", login=stateless) is Verdict.FAIL


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
        ([token_entry(headers={"sec-fetch-site": "same-origin", "sec-fetch-dest": "empty"})], Verdict.FAIL),
        # Node's built-in fetch (undici) sends sec-fetch-mode from the backend: not a browser.
        ([token_entry(headers={"user-agent": "node", "sec-fetch-mode": "cors"})], Verdict.PASS),
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


def test_rotation_follows_every_refresh_even_in_a_storm() -> None:
    # A refresh between the two expiries is refresh.no-storm's business; rotation judges only
    # that each refresh presents the token the previous one returned.
    run = refresh_run([refresh_entry("rt-1", ["at-2", "rt-2"])], [refresh_entry("rt-3", ["at-4", "rt-4"])])
    run.visits[3].journal = [refresh_entry("rt-2", ["at-3", "rt-3"])]
    assert judge("refresh.rotation", refresh=run) is Verdict.PASS
    run.visits[4].journal = [refresh_entry("rt-2", [], outcome="refused")]
    assert judge("refresh.rotation", refresh=run) is Verdict.FAIL


def test_on_expiry_judges_the_needs_token_page_against_itself_while_valid() -> None:
    run = refresh_run([refresh_entry("rt-1", ["at-2", "rt-2"])], [refresh_entry("rt-2", ["at-3", "rt-3"])])
    for visit in run.visits:
        visit.page = page("Your albums: 3")  # a needs_token page that does not name the user
    assert judge("refresh.on-expiry", refresh=run) is Verdict.PASS
    run.visits[2].page = PageVisit("http://127.0.0.1:8000/", 200, "Please sign in")
    assert judge("refresh.on-expiry", refresh=run) is Verdict.FAIL
    named = refresh_run([refresh_entry("rt-1", ["at-2", "rt-2"])], [])
    named.visits[2].page = page("Your albums: 3")  # the user was shown while valid, not after
    assert judge("refresh.on-expiry", refresh=named) is Verdict.FAIL


def revisit(text: str, journal: list[dict[str, Any]] | None = None, status: int = 200) -> Revisit:
    return Revisit("after-revocation", PageVisit("http://127.0.0.1:8000/", status, text), journal or [])


def test_a_revoked_refresh_token_must_end_the_session_cleanly() -> None:
    refused = [refresh_entry("rt-1", [], outcome="refused")]
    signed_in = login_run()
    assert (
        judge("refresh.revoked", refresh_revoked=(signed_in, revisit("Please sign in", refused)))
        is Verdict.PASS
    )
    stale = revisit(f"Hello {VICTIM.display_name}", refused)
    assert judge("refresh.revoked", refresh_revoked=(signed_in, stale)) is Verdict.FAIL
    crash = revisit("Internal Server Error", refused, status=500)
    assert judge("refresh.revoked", refresh_revoked=(signed_in, crash)) is Verdict.FAIL


def test_refresh_revoked_does_not_pass_when_the_login_before_never_signed_in() -> None:
    # A partner that refused the login (say, an ID token it thought was from the future) meets
    # no revoked refresh token; "not signed in afterwards" proves nothing then.
    refused_login = login_run(profile=page("Please sign in"))
    visit = revisit("Please sign in")
    assert judge("refresh.revoked", refresh_revoked=(refused_login, visit)) is Verdict.FAIL
    used_tokens = {"endpoint": "lightroom.account", "outcome": "ok", "notes": []}
    anonymous_page = login_run(profile=page("You are signed in"), tokens=[token_entry(), used_tokens])
    assert judge("refresh.revoked", refresh_revoked=(anonymous_page, visit)) is Verdict.PASS


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


# ---- storage -------------------------------------------------------------------------------

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JhIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


class SignInWritesStorage(Observations):
    """A partner that writes its tokens at sign-in and deletes them at sign-out: when the run
    ends (logout and revocation probes last) its storage is empty again."""

    def __init__(self, root: Path) -> None:
        super().__init__(login=login_run())
        self.root = root
        self.extra["storage-spec"] = StorageSpec(files=("**",), root=root)
        self.extra["secrets"] = [Secret("access_token at-1", TOKEN)]

    def get(self, name: str) -> Any:
        if name != "signed-in":
            return super().get(name)
        (self.root / "tokens.txt").write_text(f"cora {TOKEN}\n")
        return login_run()


def test_tokens_at_rest_are_looked_for_while_a_user_is_signed_in(tmp_path: Path) -> None:
    observations = SignInWritesStorage(tmp_path)
    judgement = REGISTRY["storage.encrypted"].judge(observations)
    assert judgement.verdict is Verdict.FAIL
    assert "tokens.txt" in judgement.seen

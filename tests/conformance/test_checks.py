"""Checks judge observations; here they are fed made-up observations, no browser involved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.browser.browsing import PageVisit
from conformance.checks import REGISTRY
from conformance.checks.state import estimated_bits
from conformance.journeys.observations import Observations
from conformance.journeys.probes import (
    ConcurrentRefresh,
    CrossSiteLogout,
    ForgedCallback,
    LoginRun,
    RefreshRun,
    Revisit,
    SessionRun,
)
from conformance.model import Verdict
from conformance.stage.harness import ATTACKER, VICTIM
from conformance.storage.scan import StorageSpec

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


# What the mock issued in the journals below, by id (a harness asks the mock's token list).
TOKENS = [
    {"id": "code-1", "kind": "authorization_code"},
    *({"id": f"at-{n}", "kind": "access_token"} for n in range(5)),
    *({"id": f"rt-{n}", "kind": "refresh_token"} for n in range(5)),
]


def observations(**probes: Any) -> Observations:
    prefilled = Observations(**probes)
    prefilled.extra["tokens"] = TOKENS
    return prefilled


def judge(check_id: str, **probes: Any) -> Verdict:
    return REGISTRY[check_id].judge(observations(**probes)).verdict


# ---- no verdict without what it needs ------------------------------------------------------


def nothing_seen(name: str) -> LoginRun:
    return LoginRun(name=name, user=VICTIM)


def callback_without_answer(name: str) -> ForgedCallback:
    return ForgedCallback(name, "", "", None, None, [])


EMPTY = {
    "login": nothing_seen("login"),
    "second_login": nothing_seen("second-login"),
    "signed_in": nothing_seen("signed-in"),
    "forged_state": callback_without_answer("forged-state"),
    "missing_state": callback_without_answer("missing-state"),
    "other_session": callback_without_answer("other-session"),
    "replay": (nothing_seen("replay"), None),
    "access_denied": nothing_seen("access-denied"),
    "token_endpoint_500": nothing_seen("token-endpoint-500"),
    "refresh": RefreshRun(nothing_seen("refresh")),
    "refresh_revoked": (nothing_seen("refresh-revoked"), None),
    "logout": (nothing_seen("logout"), [], None),
    **{
        f"idtoken_{how}": nothing_seen(f"idtoken-{how}")
        for how in ("signature", "audience", "issuer", "expired", "nonce")
    },
    "sessions": SessionRun([]),
    "logout_csrf": CrossSiteLogout(nothing_seen("logout-csrf")),
    "refresh_concurrent": ConcurrentRefresh(nothing_seen("refresh-concurrent")),
}


@pytest.mark.parametrize("check_id", sorted(REGISTRY))
def test_no_check_passes_on_an_empty_observation_set(check_id: str) -> None:
    """Every probe ran and saw nothing: no page, no journal entry, no token, no browsing."""
    judgement = REGISTRY[check_id].judge(Observations(**EMPTY))
    assert judgement.verdict is not Verdict.PASS, judgement.summary
    assert judgement.summary


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
    assert judge("state.single-use", replay=(run, None)) is Verdict.SKIP


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


DENIED = {"endpoint": "login", "outcome": "refused", "error": "access_denied", "notes": []}


def test_access_denied_needs_a_clean_page_and_no_token_request() -> None:
    clean = login_run(tokens=[DENIED], landing=PageVisit("http://x/callback", 200, "You declined."))
    assert judge("error.access-denied", access_denied=clean) is Verdict.PASS
    crash = login_run(tokens=[DENIED], landing=PageVisit("http://x/callback", 500, "Internal Server Error"))
    assert judge("error.access-denied", access_denied=crash) is Verdict.FAIL
    greedy = login_run(
        tokens=[DENIED, token_entry()], landing=PageVisit("http://x/callback", 200, "You declined.")
    )
    assert judge("error.access-denied", access_denied=greedy) is Verdict.FAIL


def test_access_denied_is_skipped_when_the_deny_never_happened() -> None:
    never = login_run(tokens=[], landing=PageVisit("http://x/", 200, "Welcome"), error="no IMS page")
    assert judge("error.access-denied", access_denied=never) is Verdict.SKIP


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


def test_a_new_sign_in_after_the_failure_is_no_retry_and_no_reason_to_fail() -> None:
    # After the error page the suite opens after_login; a partner that starts a new sign-in from
    # there gets a new code at once (IMS SSO). That is neither a retry nor a sign-in without a token.
    new_sign_in = [token_entry(outcome="fault", status=500), token_entry(consumed="code-2")]
    run = login_run(tokens=new_sign_in, landing=PageVisit("http://x/callback", 503, "Sign-in failed"))
    judgement = REGISTRY["error.token-endpoint"].judge(observations(token_endpoint_500=run))
    assert judgement.verdict is Verdict.PASS
    assert "retried" not in judgement.summary


def test_a_token_endpoint_that_was_never_called_cannot_pass() -> None:
    run = login_run(tokens=[], landing=PageVisit("http://x/callback", 400, "Bad request"))
    assert judge("error.token-endpoint", token_endpoint_500=run) is Verdict.SKIP


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
    assert judge("refresh.no-storm", refresh=run) is Verdict.SKIP  # no refresh to count


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
    visit = revisit("Please sign in", [refresh_entry("rt-1", [], outcome="refused")])
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
    assert judge("state.verified", login=login_run(), forged_state=result) is Verdict.FAIL
    seen = observations(login=login_run(), forged_state=result)
    seen.extra["ims_url"] = "http://127.0.0.1:9"
    assert REGISTRY["state.verified"].judge(seen).verdict is Verdict.PASS


# ---- storage -------------------------------------------------------------------------------

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JhIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


class SignInWritesStorage(Observations):
    """A partner that writes its tokens at sign-in and deletes them at sign-out: when the run
    ends (logout and revocation probes last) its storage is empty again."""

    def __init__(self, root: Path) -> None:
        super().__init__(login=login_run())
        self.root = root
        self.extra["storage-spec"] = StorageSpec(files=("**",), root=root)
        self.extra["tokens"] = [{"id": "at-1", "kind": "access_token", "raw": TOKEN}]

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


def test_a_clean_but_incomplete_scan_warns_and_names_what_was_not_scanned(tmp_path: Path) -> None:
    # tokens.txt comes after a.txt and b.txt: a budget of one file never reaches it.
    (tmp_path / "a.txt").write_text("nothing")
    (tmp_path / "b.txt").write_text("nothing")
    observations = SignInWritesStorage(tmp_path)
    observations.extra["storage-spec"] = StorageSpec(files=("**",), root=tmp_path, max_files=1)
    judgement = REGISTRY["storage.encrypted"].judge(observations)
    assert judgement.verdict is Verdict.WARN
    assert judgement.summary == (
        "none of 1 tokens in 1 place(s) scanned, but the scan was incomplete; not scanned: "
        "files '**': stopped after 1 file(s) (max_files = 1 reached); at least one more matched, "
        "how many more was not counted"
    )


def test_a_token_found_in_an_incomplete_scan_still_fails(tmp_path: Path) -> None:
    (tmp_path / "z.txt").write_text("nothing")
    observations = SignInWritesStorage(tmp_path)
    observations.extra["storage-spec"] = StorageSpec(files=("**",), root=tmp_path, max_files=1)
    assert REGISTRY["storage.encrypted"].judge(observations).verdict is Verdict.FAIL


# ---- what a verdict says -----------------------------------------------------------------------


def test_an_attackers_code_the_mock_refused_is_a_try_not_a_redemption() -> None:
    tried = forged()
    tried.journal = [token_entry(consumed="evil-code", outcome="refused", reason="PKCE verifier mismatch")]
    judgement = REGISTRY["state.verified"].judge(observations(login=login_run(), forged_state=tried))
    assert judgement.verdict is Verdict.FAIL
    assert "tried to redeem" in judgement.summary
    assert "PKCE verifier mismatch" in judgement.summary


def test_a_partner_that_redeems_no_code_at_all_proves_nothing_by_refusing_the_attackers() -> None:
    never_redeems = login_run(tokens=[])
    assert judge("state.verified", login=never_redeems, forged_state=forged()) is Verdict.SKIP


def test_state_unpredictable_says_what_it_measured_and_no_more() -> None:
    other = login_run(auth=authorize(state=GOOD_STATE[::-1]))
    judgement = REGISTRY["state.unpredictable"].judge(observations(login=login_run(), second_login=other))
    assert judgement.verdict is Verdict.PASS
    assert "2 distinct states of 43 and 43 characters (letters and digits)" in judgement.summary
    assert "at most" in judgement.summary


def test_the_token_request_should_repeat_the_redirect_uri() -> None:
    assert judge("code.redirect-uri", login=login_run()) is Verdict.PASS
    omitted = login_run(tokens=[token_entry(notes=["redirect_uri_omitted"])])
    assert judge("code.redirect-uri", login=omitted) is Verdict.WARN
    assert judge("code.redirect-uri", login=login_run(tokens=[])) is Verdict.SKIP


def test_the_secret_cannot_be_out_of_urls_the_partner_never_sent() -> None:
    assert judge("secret.not-in-url", login=login_run()) is Verdict.PASS
    assert judge("secret.not-in-url", login=login_run(tokens=[])) is Verdict.SKIP


def test_refresh_checks_skip_when_no_refresh_token_was_issued() -> None:
    without = RefreshRun(login_run(tokens=[token_entry(issued=["at-1"])]))
    for check_id in ("refresh.on-expiry", "refresh.rotation", "refresh.no-storm"):
        judgement = REGISTRY[check_id].judge(observations(refresh=without))
        assert judgement.verdict is Verdict.SKIP, check_id
        assert "no refresh token was ever issued" in judgement.summary
    revoked = (login_run(tokens=[token_entry(issued=["at-1"])]), revisit("Please sign in"))
    assert judge("refresh.revoked", refresh_revoked=revoked) is Verdict.SKIP


def test_a_revocation_the_partner_never_met_is_no_recovery() -> None:
    # The user ends up signed out, but the partner never presented the revoked refresh token.
    assert judge("refresh.revoked", refresh_revoked=(login_run(), revisit("Please sign in"))) is Verdict.SKIP


def test_a_refresh_probe_whose_pages_did_not_load_cannot_pass_no_storm() -> None:
    run = refresh_run([refresh_entry("rt-1", ["at-2", "rt-2"])], [refresh_entry("rt-2", ["at-3", "rt-3"])])
    run.visits[4].page = PageVisit(
        "http://127.0.0.1:8000/profile", None, "", error="net::ERR_CONNECTION_REFUSED"
    )
    assert judge("refresh.no-storm", refresh=run) is Verdict.SKIP


# ---- the ID token ---------------------------------------------------------------------------

TAMPERED = {
    "how": "audience",
    "header": {"kid": "ims_na1-key-1"},
    "claims": {"aud": "mock-ims-another-client"},
}


def tampered_login(*after: dict[str, Any], shown: bool, auth: dict[str, Any] | None = None) -> LoginRun:
    """A sign-in whose token answer (seq 3) carried a tampered ID token, then `after` (seq 4...)."""
    tampered = token_entry(seq=3, tampered_id_token=TAMPERED, fault="rule-1")
    later = [{"seq": 4 + i, "notes": [], **entry} for i, entry in enumerate(after)]
    shown_page = page() if shown else page("Sign-in failed: the ID token is not for this app", status=400)
    return login_run(auth=auth, tokens=[tampered, *later], landing=shown_page, profile=shown_page)


def idtoken_verdict(run: LoginRun, check_id: str = "idtoken.audience") -> Verdict:
    how = {"idtoken.audience": "audience", "idtoken.nonce": "nonce"}[check_id]
    return judge(check_id, login=login_run(), **{f"idtoken_{how}": run})


def test_an_app_that_refuses_the_tampered_sign_in_passes() -> None:
    assert idtoken_verdict(tampered_login(shown=False)) is Verdict.PASS


def test_an_app_that_shows_the_user_after_a_tampered_id_token_is_warned() -> None:
    assert idtoken_verdict(tampered_login(shown=True)) is Verdict.WARN


def test_an_app_that_uses_the_tampered_sign_ins_access_token_is_warned_whatever_it_shows() -> None:
    profile_call = {"endpoint": "profile", "consumed": "at-1", "outcome": "ok"}
    assert idtoken_verdict(tampered_login(profile_call, shown=False)) is Verdict.WARN


def test_revoking_the_tampered_sign_ins_tokens_is_not_using_them() -> None:
    revoked = {"endpoint": "revoke", "consumed": "at-1", "outcome": "ok"}
    assert idtoken_verdict(tampered_login(revoked, shown=False)) is Verdict.PASS


def test_a_new_sign_in_after_refusing_the_tampered_one_passes_though_the_user_ends_signed_in() -> None:
    # IMS answers a signed-in browser's authorize at once: the new sign-in gets an honest ID token.
    honest = token_entry(consumed="code-2", issued=["at-2", "rt-2"])
    assert idtoken_verdict(tampered_login(honest, shown=True)) is Verdict.PASS


def test_no_openid_scope_means_no_id_token_to_judge() -> None:
    run = tampered_login(shown=True, auth=authorize(scope="AdobeID,lr_partner_apis"))
    assert idtoken_verdict(run) is Verdict.SKIP


def test_an_app_that_sends_no_nonce_skips_the_nonce_check_only() -> None:
    run = tampered_login(shown=True, auth=authorize())  # the default authorize request has no nonce
    assert idtoken_verdict(run, "idtoken.nonce") is Verdict.SKIP
    with_nonce = tampered_login(shown=True, auth=authorize(nonce="n-1"))
    assert idtoken_verdict(with_nonce, "idtoken.nonce") is Verdict.WARN


def test_a_sign_in_without_a_tampered_id_token_is_skipped() -> None:
    assert idtoken_verdict(login_run()) is Verdict.SKIP


# ---- Lightroom ------------------------------------------------------------------------------


def lightroom_call(key: str | None, **fields: Any) -> dict[str, Any]:
    headers = {"authorization": "Bearer", **({"x-api-key": key} if key is not None else {})}
    return {
        "endpoint": "lightroom.account",
        "headers": headers,
        "outcome": "ok",
        "status": 200,
        "notes": [],
        **fields,
    }


@pytest.mark.parametrize(
    ("key", "verdict"), [("partner", Verdict.PASS), (None, Verdict.FAIL), ("someone-else", Verdict.FAIL)]
)
def test_every_lightroom_call_carries_the_client_id_as_api_key(key: str | None, verdict: Verdict) -> None:
    run = login_run(tokens=[token_entry(), lightroom_call(key)])
    prefilled = observations(login=run, refresh=RefreshRun(login_run()))
    prefilled.extra["client_id"] = "partner"
    assert REGISTRY["lightroom.api-key"].judge(prefilled).verdict is verdict


def test_a_4300_needs_a_refresh_and_the_call_again_in_the_same_page_load() -> None:
    expired = lightroom_call("partner", seq=1, status=403, outcome="refused", error="4300")
    refreshed = token_entry(seq=2, grant_type="refresh_token", consumed="rt-1", issued=["at-2", "rt-2"])
    again = lightroom_call("partner", seq=3)
    for journal, verdict in (
        ([expired, refreshed, again], Verdict.PASS),
        ([expired, refreshed], Verdict.FAIL),
        ([expired], Verdict.SKIP),  # it never refreshes at all: refresh.on-expiry says so
    ):
        run = RefreshRun(login_run(), [Revisit("after-first-expiry", page(), journal)])
        assert judge("lightroom.expired", refresh=run) is verdict, journal

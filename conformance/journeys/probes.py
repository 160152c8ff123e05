"""Probes: the browser journeys the suite makes through the partner app, and what they saw.

Each probe runs once per run in fresh browser contexts and returns an observation; checks judge
observations and never drive the browser themselves.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape as html_escape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import Browser
from playwright.sync_api import Error as PlaywrightError

from conformance.browser.browsing import BrokenOff, BrowserSession, Hung, PageVisit, origin_of
from conformance.config import Action
from conformance.stage.harness import ATTACKER, VICTIM, Harness, TestUser

LOGOUT_FAILED = "logout failed"


class ProbeError(RuntimeError):
    """The probe could not run the journey (the partner never sent the browser to IMS, ...)."""


@dataclass
class LoginRun:
    """One sign-in through the partner, as the browser and the mock saw it."""

    name: str
    user: TestUser
    journal: list[dict[str, Any]] = field(default_factory=list)
    authorize: dict[str, Any] | None = None
    callback_url: str | None = None
    code_id: str | None = None
    landing: PageVisit | None = None
    profile: PageVisit | None = None
    error: str | None = None
    trace: str | None = None

    @property
    def state(self) -> str | None:
        if self.authorize is None:
            return None
        state = self.authorize.get("params", {}).get("state")
        return str(state) if state is not None else None

    def entries(self, endpoint: str) -> list[dict[str, Any]]:
        return [e for e in self.journal if e.get("endpoint") == endpoint]

    def redemptions(self, code_id: str | None = None) -> list[dict[str, Any]]:
        wanted = code_id or self.code_id
        return [e for e in self.entries("token") if wanted and e.get("consumed") == wanted]


@dataclass
class ForgedCallback:
    """A callback the partner did not ask for: an attacker's code, with a forged or foreign state."""

    name: str
    minted_code_id: str
    callback_url: str
    landing: PageVisit | None
    profile: PageVisit | None
    journal: list[dict[str, Any]]
    trace: str | None = None

    @property
    def redeemed(self) -> list[dict[str, Any]]:
        return [
            e
            for e in self.journal
            if e.get("endpoint") == "token" and e.get("consumed") == self.minted_code_id
        ]

    def shows_attacker(self, ims_url: str = "") -> bool:
        return any(signed_in_page(p, ATTACKER, ims_url) for p in (self.landing, self.profile))


@dataclass
class Revisit:
    label: str
    page: PageVisit
    journal: list[dict[str, Any]]

    @property
    def refreshes(self) -> list[dict[str, Any]]:
        return [
            e for e in self.journal if e.get("endpoint") == "token" and e.get("grant_type") == "refresh_token"
        ]


@dataclass
class RefreshRun:
    login: LoginRun
    visits: list[Revisit] = field(default_factory=list)


def shows_user(page: PageVisit, user: TestUser) -> bool:
    text = page.text.lower()
    return user.email.lower() in text or user.display_name.lower() in text


# ---- driving the partner --------------------------------------------------------------------


def _perform(session: BrowserSession, harness: Harness, action: Action, base: str) -> None:
    if action.kind == "goto":
        session.page.goto(harness.partner.url(action.target), wait_until="commit")
    elif action.kind == "post":
        # A form POST from the partner's own page, as a user's click would send it.
        session.open(base, f"(the page to {action.kind} {action.target} from)")
        session.page.evaluate(
            "(url) => { const f = document.createElement('form'); f.method = 'post'; f.action = url;"
            " document.body.appendChild(f); f.submit(); }",
            harness.partner.url(action.target),
        )
    else:
        session.open(base, f"(the page to click {action.target} on)")
        session.page.click(action.target)


def start_login(session: BrowserSession, harness: Harness) -> str:
    """Begin a sign-in at the partner and wait for the mock's login page; its URL."""
    session.origins.add(harness.partner.base_url)
    try:
        _perform(session, harness, harness.partner.start_login, harness.partner.base_url)
        session.page.wait_for_url(f"{harness.ims_url}/ims/**", wait_until="commit")
    except PlaywrightError as exc:
        if session.waiting_for() is not None:
            raise session.hung("when the sign-in started") from exc
        raise ProbeError(
            f"starting the login ({harness.partner.start_login.kind} {harness.partner.start_login.target}) "
            f"did not reach the mock IMS at {harness.ims_url}; the browser is at {session.page.url}"
        ) from exc
    with contextlib.suppress(PlaywrightError):
        session.page.wait_for_load_state("load")
    return session.page.url


def _callback_watch(session: BrowserSession, harness: Harness) -> list[str]:
    seen: list[str] = []
    prefix = harness.partner.redirect_uri

    def record(request: Any) -> None:
        if request.is_navigation_request() and request.url.startswith(prefix):
            seen.append(request.url)

    session.page.on("request", record)
    return seen


def answer_login_page(session: BrowserSession, harness: Harness, user: TestUser | None) -> None:
    """Click the user's button on the mock's login page (None: click Deny); wait to leave the mock."""
    try:
        if (
            session.page.url.startswith(f"{harness.ims_url}/ims/")
            and session.page.locator("#login-form").count()
        ):
            # The click waits for the navigation it starts: the partner's callback, and where it leads.
            session.page.click("#deny" if user is None else f'button[data-user="{user.email}"]')
        session.page.wait_for_url(
            re.compile(rf"^(?!{re.escape(harness.ims_url)}/ims/).*"), wait_until="commit"
        )
    except PlaywrightError as exc:
        if session.waiting_for() is not None:
            raise session.hung("after the sign-in at IMS") from exc
        raise ProbeError(f"the browser stayed on the mock IMS at {session.page.url}") from exc


def login(
    harness: Harness,
    browser: Browser,
    name: str,
    *,
    user: TestUser = VICTIM,
    planted: list[dict[str, Any]] | None = None,
) -> tuple[LoginRun, BrowserSession]:
    """A complete sign-in (in a browser holding the `planted` cookies first, if given); the
    session stays open for what the caller does next."""
    session = harness.browser_session(browser, name)
    if planted:
        session.context.add_cookies(_as_set(planted))  # type: ignore[arg-type]
    run = LoginRun(name=name, user=user)
    mark = harness.journal_mark()
    callbacks = _callback_watch(session, harness)
    try:
        start_login(session, harness)
        answer_login_page(session, harness, user)
        run.landing = session.visit("landing", when="after the sign-in at IMS")
        run.profile = session.goto(
            harness.partner.url(harness.partner.after_login), "profile", "after the sign-in"
        )
    except Hung as exc:
        run.error = str(exc)  # no screenshot: a hung page would keep it waiting as long again
    except (ProbeError, BrokenOff, PlaywrightError) as exc:
        run.error = str(exc).splitlines()[0]
        session.screenshot("error")
    run.callback_url = callbacks[0] if callbacks else None
    run.journal = harness.journal_since(mark)
    authorizes = [e for e in run.journal if e.get("endpoint") == "authorize"]
    run.authorize = authorizes[0] if authorizes else None
    for entry in run.journal:
        if entry.get("endpoint") in ("authorize", "login") and entry.get("issued"):
            run.code_id = entry["issued"][0]
    return run, session


def finish(run: LoginRun, session: BrowserSession) -> LoginRun:
    run.trace = session.close()
    return run


def standard_login(harness: Harness, browser: Browser) -> LoginRun:
    run, session = login(harness, browser, "login")
    return finish(run, session)


def second_login(harness: Harness, browser: Browser) -> LoginRun:
    run, session = login(harness, browser, "second-login")
    return finish(run, session)


def signed_in(harness: Harness, browser: Browser) -> LoginRun:
    """A sign-in the user stays in, so what the partner keeps for a signed-in user is at rest."""
    run, session = login(harness, browser, "signed-in")
    return finish(run, session)


def logout(harness: Harness, browser: Browser) -> tuple[LoginRun, list[dict[str, Any]], PageVisit | None]:
    run, session = login(harness, browser, "logout")
    action = harness.partner.logout
    visit = None
    journal: list[dict[str, Any]] = []
    if action is not None and run.error is None:
        mark = harness.journal_mark()
        try:
            _perform(session, harness, action, harness.partner.url(harness.partner.after_login))
            with contextlib.suppress(PlaywrightError):
                session.page.wait_for_load_state("load")
            visit = session.visit("after-logout")
        except (Hung, BrokenOff, PlaywrightError) as exc:
            run.error = f"{LOGOUT_FAILED}: {str(exc).splitlines()[0]}"
        journal = harness.journal_since(mark)
    run.trace = session.close()
    return run, journal, visit


FOREIGN_ORIGIN = "http://cross-site.ims-conformance.invalid"  # served by the suite, in the browser only
CROSS_SITE_WAYS = ("an <img> on another site", "a link followed from another site")
_LOGOUT_URL_SCRIPT = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const form = el.form || el.closest('form');
  // A button's formAction is the page's own URL when it has no formaction attribute.
  return el.href || (form && (el.hasAttribute('formaction') ? el.formAction : form.action)) || null;
}"""


@dataclass(frozen=True)
class LogoutAttempt:
    """One way another site sent the logout URL, and after_login opened next."""

    way: str  # one of CROSS_SITE_WAYS
    after: PageVisit
    # Opening after_login went through IMS's authorize: the app had signed the user out (and IMS
    # answers a browser signed in at IMS at once, so the page may show the user again).
    new_sign_in: bool
    user: TestUser

    def signed_out(self, ims_url: str) -> bool:
        return self.new_sign_in or not signed_in_page(self.after, self.user, ims_url)


@dataclass
class CrossSiteLogout:
    """A signed-in user's browser sends the app's logout URL from another site."""

    login: LoginRun
    logout_url: str | None = None
    attempts: list[LogoutAttempt] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)  # the mock's, during the attempts
    unresolved: str | None = None  # why there was no logout URL to send


def _logout_url(session: BrowserSession, harness: Harness, action: Action) -> str | None:
    if action.kind != "click":
        return harness.partner.url(action.target)
    session.open(harness.partner.url(harness.partner.after_login), "(the page with the logout control)")
    found = session.page.evaluate(_LOGOUT_URL_SCRIPT, action.target)
    return str(found) if found else None


def cross_site_logout(harness: Harness, browser: Browser) -> CrossSiteLogout:
    """Sign in, then have another site send the logout URL: as an image, then as a followed link
    (a top-level GET, which SameSite=Lax cookies go with); after each, open after_login."""
    run, session = login(harness, browser, "logout-csrf")
    result = CrossSiteLogout(run)
    action = harness.partner.logout
    try:
        if action is None or run.error is not None:
            return result
        result.logout_url = _logout_url(session, harness, action)
        if result.logout_url is None:
            result.unresolved = f"no link or form found for {action.target} on the after_login page"
            return result
        pages = {
            "img": f'<img src="{html_escape(result.logout_url)}" alt="">',
            "link": f'<a id=go href="{html_escape(result.logout_url)}">go</a>',
        }
        session.context.route(
            f"{FOREIGN_ORIGIN}/**",
            lambda route: route.fulfill(
                status=200,
                content_type="text/html",
                body=pages.get(urlsplit(route.request.url).path.strip("/"), ""),
            ),
        )
        mark = harness.journal_mark()
        for way, path in zip(CROSS_SITE_WAYS, ("img", "link"), strict=True):
            session.open(f"{FOREIGN_ORIGIN}/{path}", f"(the other site's page with {way})")
            if path == "link":
                with contextlib.suppress(PlaywrightError):
                    session.page.click("#go")
                    session.page.wait_for_load_state("load")
            opened = harness.journal_mark()
            after = session.goto(
                harness.partner.url(harness.partner.after_login), f"after-{path}", f"after {way}"
            )
            new_sign_in = any(e.get("endpoint") == "authorize" for e in harness.journal_since(opened))
            attempt = LogoutAttempt(way, after, new_sign_in, run.user)
            result.attempts.append(attempt)
            if attempt.signed_out(harness.ims_url):
                break
        result.journal = harness.journal_since(mark)
    except (Hung, BrokenOff, PlaywrightError) as exc:
        run.error = str(exc).splitlines()[0]
    finally:
        run.trace = session.close()
    return result


# ---- callbacks the partner did not ask for -------------------------------------------------


def _attacker_code(harness: Harness) -> tuple[str, str]:
    minted = harness.ims.tokens.mint(
        "authorization_code",
        user=ATTACKER.email,
        client_id=harness.client_id,
        redirect_uri=harness.partner.redirect_uri,
        scope=",".join(s for s in ("openid", "AdobeID", "lr_partner_apis", "offline_access") if s),
    )
    return str(minted["token"]), str(minted["id"])


def _with_params(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


def _deliver(
    harness: Harness, session: BrowserSession, name: str, url: str, code_id: str, mark: int
) -> ForgedCallback:
    landing = session.goto(url, "forged-callback")
    profile = session.goto(harness.partner.url(harness.partner.after_login), "after-forged-callback")
    trace = session.close()
    return ForgedCallback(name, code_id, url, landing, profile, harness.journal_since(mark), trace)


def forged_callback(harness: Harness, browser: Browser, *, with_state: bool) -> ForgedCallback:
    """The victim starts a sign-in; a callback arrives with the attacker's code and a forged
    state (or none): RFC 6749 §10.12 login CSRF."""
    name = "forged-state" if with_state else "missing-state"
    session = harness.browser_session(browser, name)
    mark = harness.journal_mark()
    start_login(session, harness)
    code, code_id = _attacker_code(harness)
    params = {"code": code}
    if with_state:
        params["state"] = secrets.token_urlsafe(24)
    return _deliver(harness, session, name, _with_params(harness.partner.redirect_uri, params), code_id, mark)


def other_session_callback(harness: Harness, browser: Browser) -> ForgedCallback:
    """Browser A's genuine state, delivered in browser B with the attacker's code."""
    mark = harness.journal_mark()
    first = harness.browser_session(browser, "state-owner")
    ims_page = start_login(first, harness)
    state = parse_qs(urlsplit(ims_page).query).get("state", [None])[0]
    if state is None:
        entries = [e for e in harness.journal_since(mark) if e.get("endpoint") == "authorize"]
        state = entries[-1]["params"].get("state") if entries else None
    first.close(keep_trace=False)
    if not state:
        raise ProbeError("the partner's authorize request carried no state, so there is none to carry over")
    victim = harness.browser_session(browser, "other-session")
    start_login(victim, harness)
    code, code_id = _attacker_code(harness)
    url = _with_params(harness.partner.redirect_uri, {"code": code, "state": state})
    return _deliver(harness, victim, "other-session", url, code_id, mark)


def replayed_callback(harness: Harness, browser: Browser) -> tuple[LoginRun, ForgedCallback | None]:
    """A finished sign-in's callback URL, opened again in the same browser."""
    run, session = login(harness, browser, "replay")
    if run.callback_url is None or run.code_id is None:
        run.trace = session.close()
        return run, None
    mark = harness.journal_mark()
    return run, _deliver(harness, session, "replay", run.callback_url, run.code_id, mark)


# ---- errors --------------------------------------------------------------------------------


def denied_login(harness: Harness, browser: Browser) -> LoginRun:
    session = harness.browser_session(browser, "access-denied")
    run = LoginRun(name="access-denied", user=VICTIM)
    mark = harness.journal_mark()
    callbacks = _callback_watch(session, harness)
    try:
        start_login(session, harness)
        answer_login_page(session, harness, None)
        run.landing = session.visit("after-deny")
    except (ProbeError, Hung, BrokenOff, PlaywrightError) as exc:
        run.error = str(exc).splitlines()[0]
    run.callback_url = callbacks[0] if callbacks else None
    run.journal = harness.journal_since(mark)
    run.trace = session.close()
    return run


def login_under(harness: Harness, browser: Browser, name: str, scenario: str, **options: Any) -> LoginRun:
    """A sign-in with a mock scenario played once for the partner's client just before it (and
    removed after it, if the sign-in never reached it)."""
    played = harness.ims.faults.scenario(scenario, client_id=harness.client_id, times=1, **options)
    try:
        run, session = login(harness, browser, name)
    finally:
        for fault in played.get("faults", []):
            with contextlib.suppress(Exception):
                harness.ims.faults.remove(fault["id"])
    run.trace = session.close()
    return run


def token_endpoint_failure(harness: Harness, browser: Browser) -> LoginRun:
    return login_under(harness, browser, "token-endpoint-500", "token-endpoint-500")


def tampered_id_token(harness: Harness, browser: Browser, how: str) -> LoginRun:
    """A sign-in whose ID token the mock issues wrong in one way (`how`)."""
    return login_under(harness, browser, f"idtoken-{how}", "id-token-tampered", how=how)


# ---- refresh -------------------------------------------------------------------------------

EXPIRY_MARGIN = 120


def _revisit(harness: Harness, session: BrowserSession, label: str, when: str) -> Revisit:
    mark = harness.journal_mark()
    page = session.goto(harness.partner.url(harness.partner.needs_token), label, when)
    return Revisit(label, page, harness.journal_since(mark))


def _access_lifetime(harness: Harness, run: LoginRun) -> int:
    for token in harness.ims.tokens.list(client_id=harness.client_id, kind="access_token"):
        if token["id"] in _issued(run.journal):
            return (int(token["expires_ms"]) - int(token["created_ms"])) // 1000
    return 86_400


def _issued(journal: list[dict[str, Any]]) -> set[str]:
    return {token_id for entry in journal for token_id in entry.get("issued") or []}


def refresh(harness: Harness, browser: Browser) -> RefreshRun:
    """Sign in, use the token while valid, let it expire (mock clock), use it again, twice."""
    run, session = login(harness, browser, "refresh")
    result = RefreshRun(run)
    with real_time_afterwards(harness):
        _expire_twice(harness, session, run, result)
    run.trace = session.close()
    return result


@contextlib.contextmanager
def real_time_afterwards(harness: Harness) -> Iterator[None]:
    """Probes that move the mock's clock put it back, so later sign-ins are not "from the
    future" for partners that check an ID token's `iat`. A shared mock (`[ims] url`) whose
    clock someone else had moved gets that offset back, not real time."""
    clock = harness.ims.clock
    before = float(clock.now()["offset_seconds"])
    try:
        yield
    finally:
        if before == 0:
            clock.reset()
        else:
            clock.advance(before - float(clock.now()["offset_seconds"]))


def _expire_twice(harness: Harness, session: BrowserSession, run: LoginRun, result: RefreshRun) -> None:
    if run.error is None:
        result.visits.append(_revisit(harness, session, "while-valid-1", "while the access token was valid"))
        result.visits.append(_revisit(harness, session, "while-valid-2", "while the access token was valid"))
        lifetime = _access_lifetime(harness, run)
        harness.ims.clock.advance(lifetime + EXPIRY_MARGIN)
        result.visits.append(
            _revisit(harness, session, "after-first-expiry", "after the access token expired")
        )
        result.visits.append(_revisit(harness, session, "after-first-refresh", "after the first refresh"))
        harness.ims.clock.advance(lifetime + EXPIRY_MARGIN)
        result.visits.append(
            _revisit(harness, session, "after-second-expiry", "after the refreshed access token expired")
        )


TABS = 4
SLOW_REFRESH_S = 1.0


@dataclass
class ConcurrentRefresh:
    """Several tabs of one signed-in browser load the token-needing page at once, the access
    token having expired."""

    login: LoginRun
    tabs: list[PageVisit] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)  # the mock's, while the tabs loaded

    @property
    def refreshes(self) -> list[dict[str, Any]]:
        return [
            e for e in self.journal if e.get("endpoint") == "token" and e.get("grant_type") == "refresh_token"
        ]


def concurrent_refresh(harness: Harness, browser: Browser) -> ConcurrentRefresh:
    run, session = login(harness, browser, "refresh-concurrent")
    result = ConcurrentRefresh(run)
    if run.error is None:
        url = harness.partner.url(harness.partner.needs_token)
        pages = [session.context.new_page() for _ in range(TABS)]
        for page in pages:
            # Chromium's HTTP cache lets one request for a URL through at a time (the others wait
            # for its answer, to reuse it): without the cache the tabs' requests go side by side.
            # (Measured: 4 tabs on a page answering in 1 s took 4.1 s with the cache, 1.1 s without.)
            cdp = session.context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        with real_time_afterwards(harness):
            harness.ims.clock.advance(_access_lifetime(harness, run) + EXPIRY_MARGIN)
            # The first refresh takes a second: long enough for every tab's request to need one,
            # so an app that does not make them wait for it refreshes again, whatever the timing.
            slow = harness.ims.faults.add(
                "token",
                delay=SLOW_REFRESH_S,
                times=1,
                client_id=harness.client_id,
                grant_type="refresh_token",
            )
            mark = harness.journal_mark()
            try:
                # Started without waiting, so the browser sends the requests side by side.
                for page in pages:
                    page.evaluate("(url) => { window.location.href = url; }", url)
                for index, page in enumerate(pages):
                    session.use(page)
                    result.tabs.append(
                        session.visit(f"tab-{index + 1}", when="while other tabs loaded the same page")
                    )
                    if result.tabs[-1].hung:
                        break  # the others waited as long: reading them would only wait again
            finally:
                with contextlib.suppress(Exception):
                    harness.ims.faults.remove(slow["id"])
            result.journal = harness.journal_since(mark)
    run.trace = session.close()
    return result


def revoked_refresh(harness: Harness, browser: Browser) -> tuple[LoginRun, Revisit | None]:
    run, session = login(harness, browser, "refresh-revoked")
    visit = None
    if run.error is None:
        harness.ims.faults.scenario("refresh-revoked", client_id=harness.client_id)
        with real_time_afterwards(harness):
            harness.ims.clock.advance(_access_lifetime(harness, run) + EXPIRY_MARGIN)
            visit = _revisit(
                harness,
                session,
                "after-revocation",
                "after the access token expired and the refresh token was revoked",
            )
    run.trace = session.close()
    return run, visit


# ---- sessions ------------------------------------------------------------------------------

MOCK_COOKIE_PREFIX = "mock_ims_"  # the mock's own cookies: on the same host when both run on loopback


@dataclass
class SessionRun:
    """A sign-in in a browser an attacker planted their own pre-sign-in cookies in, and which
    cookies carry the signed-in session."""

    planted: list[dict[str, Any]]  # the attacker's cookies from a visit of their own, before sign-in
    login: LoginRun | None = None
    signed_in: list[dict[str, Any]] = field(default_factory=list)  # the victim's, after the sign-in
    with_planted: PageVisit | None = None  # after_login in a browser holding only the planted cookies
    carriers: list[str] = field(default_factory=list)  # cookies without which after_login signs out
    set_cookies: dict[str, str] = field(default_factory=dict)  # name -> the last Set-Cookie the app sent


def partner_cookies(session: BrowserSession, harness: Harness) -> list[dict[str, Any]]:
    """The cookies the browser would send the partner app (the mock's own left out)."""
    cookies = session.context.cookies(harness.partner.base_url)
    return [dict(c) for c in cookies if not str(c.get("name", "")).startswith(MOCK_COOKIE_PREFIX)]


def _as_set(cookies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("name", "value", "domain", "path", "expires", "httpOnly", "secure", "sameSite")
    return [{k: c[k] for k in keys if k in c} for c in cookies]


def _set_cookie_lines(session: BrowserSession, base_url: str) -> dict[str, str]:
    origin = origin_of(base_url)
    lines: dict[str, str] = {}
    for entry in session.network:
        if origin_of(entry.url) != origin:
            continue
        for line in entry.response_headers.get("set-cookie", "").split("\n"):
            name = line.split("=", 1)[0].strip()
            if name and "=" in line:
                lines[name] = line.strip()
    return lines


def _after_login_with(
    harness: Harness, browser: Browser, name: str, cookies: list[dict[str, Any]]
) -> PageVisit:
    """after_login in a fresh browser holding exactly `cookies`."""
    session = harness.browser_session(browser, name)
    if cookies:
        session.context.add_cookies(_as_set(cookies))  # type: ignore[arg-type]
    try:
        return session.goto(harness.partner.url(harness.partner.after_login), name, "with the cookies alone")
    finally:
        session.close(keep_trace=False)


def signed_in_page(page: PageVisit | None, user: TestUser, ims_url: str) -> bool:
    """The page is the partner's and shows the user: the mock's own login page lists every
    test user, so a page there proves nothing."""
    return page is not None and not (ims_url and page.url.startswith(ims_url)) and shows_user(page, user)


def sessions(harness: Harness, browser: Browser) -> SessionRun:
    """Session fixation and the cookies of the signed-in session: an attacker visits the app and
    starts a sign-in, keeping the cookies it sets; the victim signs in with those planted; then
    after_login is opened with the planted cookies alone, and with each signed-in cookie left out."""
    attacker = harness.browser_session(browser, "session-attacker")
    try:
        start_login(attacker, harness)
        result = SessionRun(partner_cookies(attacker, harness))
    finally:
        attacker.close(keep_trace=False)
    run, session = login(harness, browser, "session-fixation", planted=result.planted)
    result.login = run
    result.signed_in = partner_cookies(session, harness)
    result.set_cookies = _set_cookie_lines(session, harness.partner.base_url)
    run.trace = session.close()
    if run.error is not None or not signed_in_page(run.profile, run.user, harness.ims_url):
        return result
    if result.planted:
        result.with_planted = _after_login_with(harness, browser, "session-planted", result.planted)
    for cookie in result.signed_in:
        others = [c for c in result.signed_in if c is not cookie]
        page = _after_login_with(harness, browser, f"session-without-{cookie['name']}", others)
        if not signed_in_page(page, run.user, harness.ims_url):
            result.carriers.append(str(cookie["name"]))
    return result

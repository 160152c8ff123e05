"""Thin page helpers: one browser context per probe, and everything the browser held in it.

A token or the client secret that reaches the browser can sit in many places, and a check may
only say "none" for the places it looked at. So a session records every request the browser
made (URL, headers, body: a `Referer` to another origin included), every response it got
(headers, `Location`, text bodies), every URL it was at (fragments included), the HTML of each
page it showed, and at the end the cookies and, per origin, localStorage, sessionStorage,
IndexedDB and Cache Storage, read from a page the suite serves itself in that origin.

An app under test may hang, cut a response short or send 50 MB, so every step has a budget
(`step_timeout`): a page that does not answer within it is `Hung`, named by what the browser
was waiting for, and nothing more is asked of that page (a screenshot of it would wait as long
again). Bodies are kept up to a bound, read only once the browser has them whole, and a tall
page is photographed at the viewport, not in full (a full-page shot of a 5 MB page crashes
Chromium's GPU process).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Frame, Page, Request, Response, Route
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/x-javascript",
    "+json",
    "+xml",
)
MAX_BODY = 512 * 1024
MAX_BODY_READ = 8 * MAX_BODY  # a longer body is not fetched from the browser at all
MAX_PAGE_CHARS = MAX_BODY  # page text and DOM HTML kept per visit
MAX_FULL_PAGE_PX = 8_000  # taller pages are photographed at the viewport
SCREENSHOT_TIMEOUT_MS = 5_000
LOAD_SLICE_MS = 250  # how often a wait for a page's load looks whether its response broke off
MAX_STORAGE_CHARS = 8 * 1024 * 1024  # per origin: localStorage and friends hold a few kB
STEP_TIMEOUT_S = 10.0
# The page's text and HTML, bounded in the page: a 50 MB DOM is neither serialized nor laid out
# whole (that alone takes Chromium tens of seconds), only read up to `limit` characters.
PAGE_TEXT_SCRIPT = """(limit) => {
  const root = document.documentElement;
  if (!root) return {text: "", html: "", height: 0};
  const body = document.body;
  if (document.getElementsByTagName("*").length < 20000) {
    return {text: body ? body.innerText.slice(0, limit) : "", html: root.outerHTML.slice(0, limit),
            height: root.scrollHeight};
  }
  let text = "";
  const walker = document.createTreeWalker(body || root, NodeFilter.SHOW_TEXT);
  while (text.length < limit && walker.nextNode()) text += walker.currentNode.data;
  let html = document.head ? document.head.outerHTML : "";
  for (const child of (body || root).children) {
    if (html.length >= limit) break;
    html += child.outerHTML;
  }
  return {text: text.slice(0, limit), html: html.slice(0, limit), height: Number.MAX_SAFE_INTEGER};
}"""
STORAGE_PROBE_PATH = "/__ims_conformance_storage__"
STORAGE_SCRIPT = (Path(__file__).parent / "storage.js").read_text("utf-8")


class Hung(RuntimeError):
    """The app did not answer a step within the step budget; the message says what hung."""


class BrokenOff(RuntimeError):
    """The app's response to a page broke off before its end (a body cut short, a reset)."""


@dataclass
class NetworkEntry:
    method: str
    url: str
    status: int | None
    resource_type: str
    request_body: str | None = None
    response_body: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    failure: str | None = None  # the response never completed: Chromium's reason (net::ERR_...)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "status": self.status, "type": self.resource_type}


@dataclass
class PageVisit:
    url: str
    status: int | None
    text: str
    screenshot: str | None = None
    error: str | None = None
    html: str = ""  # the page's DOM as serialized after it loaded
    hung: bool = False  # the app did not answer within the step budget: `error` says what

    @property
    def server_error(self) -> bool:
        return self.status is not None and self.status >= 500

    @property
    def crashed(self) -> bool:
        """A 500, or another 5xx with nothing to read. A deliberate 502/503/504 page explaining
        that IMS failed is a clean answer to an IMS failure."""
        return self.status == 500 or (self.server_error and not self.text.strip())


@dataclass
class BrowserState:
    cookies: list[dict[str, Any]] = field(default_factory=list)
    local_storage: dict[str, dict[str, str]] = field(default_factory=dict)  # origin -> items
    session_storage: dict[str, dict[str, str]] = field(default_factory=dict)
    indexed_db: dict[str, dict[str, str]] = field(default_factory=dict)  # origin -> "db/store/key" -> text
    cache_storage: dict[str, dict[str, str]] = field(default_factory=dict)  # origin -> "cache url" -> text
    unread: list[str] = field(default_factory=list)  # what could not be read, and why

    def stores(self) -> list[tuple[str, str, dict[str, str]]]:
        """(kind, origin, items) for every web store read."""
        return [
            (kind, origin, items)
            for kind, by_origin in (
                ("localStorage", self.local_storage),
                ("sessionStorage", self.session_storage),
                ("IndexedDB", self.indexed_db),
                ("Cache Storage", self.cache_storage),
            )
            for origin, items in sorted(by_origin.items())
        ]


@dataclass
class BrowsingRecord:
    """All one browser context saw, kept when it closes: what the browser-side checks scan."""

    name: str
    network: list[NetworkEntry]
    navigations: list[str]  # every URL a frame was at, fragment included
    pages: list[PageVisit]
    state: BrowserState


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


class BrowserSession:
    """A fresh browser context (its own cookies): a user, or an attacker's victim. On close its
    `BrowsingRecord` goes to `records` (the run's list), so every probe's browsing is judged."""

    def __init__(
        self,
        browser: Browser,
        name: str,
        report_dir: Path,
        proxy: dict[str, str] | None = None,
        records: list[BrowsingRecord] | None = None,
        skip_origins: tuple[str, ...] = (),
        step_timeout: float = STEP_TIMEOUT_S,
        on_hang: Callable[[Hung], None] | None = None,
    ) -> None:
        self.name = name
        self.report_dir = report_dir
        self.records = records
        self.skip_origins = skip_origins  # origins whose web storage is not the partner's (the mock)
        self.step_timeout = step_timeout
        self.on_hang = on_hang
        self.hang: Hung | None = None  # the first step the app did not answer: later steps are not taken
        # `proxy`: the intercepting proxy, when the partner talks to IMS's real hostnames.
        self.context: BrowserContext = browser.new_context(
            proxy=proxy,  # type: ignore[arg-type]
        )
        self.context.set_default_navigation_timeout(step_timeout * 1000)
        self.context.set_default_timeout(step_timeout * 1000)
        # No DOM snapshots: each costs a serialization of the page, 17 s of a 32 s probe on a
        # 50 MB page (measured); the report keeps every page's HTML and a screenshot instead.
        self.context.tracing.start(screenshots=True, snapshots=False)
        self.network: list[NetworkEntry] = []
        self.navigations: list[str] = []
        self.pages: list[PageVisit] = []
        self.origins: set[str] = set()
        self._pending: dict[Request, NetworkEntry] = {}
        self.context.on("request", self._request)
        self.context.on("response", self._response)
        self.context.on("requestfailed", self._failed)
        self.context.on("requestfinished", self._finished)
        self.context.on("page", self._watch)
        self._watched: set[Page] = set()
        self.page: Page = self.context.new_page()
        self._watch(self.page)
        self._shots = 0
        self._closed = False

    def use(self, page: Page) -> None:
        """Act on `page`, another tab of this context, from now on."""
        self._watch(page)
        self.page = page

    def _watch(self, page: Page) -> None:
        if page not in self._watched:
            self._watched.add(page)
            page.on("framenavigated", self._navigated)

    def _navigated(self, frame: Frame) -> None:
        if frame.url and frame.url != "about:blank" and STORAGE_PROBE_PATH not in frame.url:
            self.navigations.append(frame.url)

    def _request(self, request: Request) -> None:
        if STORAGE_PROBE_PATH in request.url:
            return
        entry = NetworkEntry(request.method, request.url, None, request.resource_type)
        entry.request_headers = dict(request.headers)
        with contextlib.suppress(PlaywrightError, UnicodeDecodeError):
            entry.request_body = request.post_data
        self._pending[request] = entry
        self.network.append(entry)

    def _response(self, response: Response) -> None:
        entry = self._pending.get(response.request)
        if entry is None:
            return
        entry.status = response.status
        with contextlib.suppress(PlaywrightError):
            # As sent and as received: Cookie, Referer and Set-Cookie included.
            entry.request_headers = dict(response.request.all_headers())
            entry.response_headers = dict(response.all_headers())

    def _finished(self, request: Request) -> None:
        """The body is whole in the browser now: keep it if it is text and not too long.
        (Asked for any earlier, a body that never ends would block the suite.)"""
        entry = self._pending.pop(request, None)
        if entry is None or entry.status is None or 300 <= entry.status < 400:
            return
        if not any(t in entry.response_headers.get("content-type", "") for t in TEXT_TYPES):
            return
        try:
            size = int(request.sizes()["responseBodySize"])
            if size > MAX_BODY_READ:
                return
            response = request.response()
            body = response.body() if response is not None else b""
        except PlaywrightError:
            return
        entry.response_body = body[:MAX_BODY].decode("utf-8", errors="replace")

    def _failed(self, request: Request) -> None:
        entry = self._pending.pop(request, None)  # no (whole) response: what it sent stays recorded
        if entry is not None:
            entry.failure = request.failure or "no reason given"

    def waiting_for(self) -> str | None:
        """The page the browser asked for and has not had whole yet (the latest), as "GET /path"
        or, when its answer started, "GET /path answered 200 but"."""
        for entry in reversed(list(self._pending.values())):
            if entry.resource_type == "document" and STORAGE_PROBE_PATH not in entry.url:
                if entry.status is None:
                    return f"{entry.method} {_path(entry.url)}"
                return f"{entry.method} {_path(entry.url)} answered {entry.status} but"
        return None

    def hung(self, when: str, waiting: str | None = None) -> Hung:
        """The `Hung` for a step the app did not finish within the budget (the first is kept)."""
        what = waiting or self.waiting_for() or f"the page at {_path(self.page.url)}"
        verb = "did not finish loading" if what.endswith(" but") else "did not answer"
        hang = Hung(f"{what} {verb} within {self.step_timeout:g} s {when}")
        if self.hang is None:
            self.hang = hang
            if self.on_hang is not None:
                self.on_hang(hang)
        return hang

    def screenshot(self, step: str, height: int | None = None) -> str | None:
        """A PNG of the page: whole when it is not too tall (`height`, when known), else the viewport."""
        self._shots += 1
        path = self.report_dir / "screenshots" / f"{self.name}-{self._shots:02d}-{step}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        full_page = height is not None and height <= MAX_FULL_PAGE_PX
        try:
            self.page.screenshot(path=str(path), full_page=full_page, timeout=SCREENSHOT_TIMEOUT_MS)
        except PlaywrightError:
            return None
        return str(path.relative_to(self.report_dir))

    def goto(self, url: str, step: str, when: str | None = None) -> PageVisit:
        """Open `url`; a page that does not load within the step budget is a hung visit, and
        after one, no other page is opened in this context (it would only hang as long again)."""
        if self.hang is not None:
            return PageVisit(url, None, "", error=str(self.hang), hung=True)  # not opened: it hung before
        try:
            response = self.page.goto(url, wait_until="commit")
        except PlaywrightTimeoutError:
            hung = self.hung(when or f"({step})", self.waiting_for() or f"GET {_path(url)}")
            visit = PageVisit(self.page.url, None, "", error=str(hung), hung=True)
            self.pages.append(visit)
            return visit
        except PlaywrightError as exc:
            return PageVisit(self.page.url, None, "", self.screenshot(step), error=_short(exc))
        return self.visit(step, response.status if response else None, when)

    def open(self, url: str, when: str) -> None:
        """Open `url` to act on it (a click, a form): `Hung` or `BrokenOff` when it does not load."""
        if self.hang is not None:
            raise Hung(str(self.hang))
        try:
            self.page.goto(url, wait_until="commit")
        except PlaywrightTimeoutError as exc:
            raise self.hung(when, self.waiting_for() or f"GET {_path(url)}") from exc
        problem = self._settle(when)
        if problem is not None:
            raise problem

    def visit(self, step: str, status: int | None = None, when: str | None = None) -> PageVisit:
        """The page as it is now, once loaded; its status is the last document response for its
        URL. A page that does not finish loading within the step budget is read as far as it
        came, without a screenshot; one whose response broke off says so in `error`."""
        problem = self._settle(when or f"({step})")
        for _ in range(5):
            if status is not None:
                break
            status = self.document_status(self.page.url)
            # Response events are dispatched between calls: one round trip lets them arrive.
            with contextlib.suppress(PlaywrightError):
                self.page.evaluate("0")
        text = html = ""
        height: int | None = None
        hung = isinstance(problem, Hung)
        if not hung:  # a page still loading keeps Chromium busy: reading it would wait as long again
            with contextlib.suppress(PlaywrightError):
                found = self.page.evaluate(PAGE_TEXT_SCRIPT, MAX_PAGE_CHARS)
                text, html, height = str(found["text"]), str(found["html"]), int(found["height"])
        shot = None if hung else self.screenshot(step, height)
        visit = PageVisit(
            self.page.url, status, text, shot, html=html, error=str(problem) if problem else None, hung=hung
        )
        self.pages.append(visit)
        return visit

    def _settle(self, when: str) -> Hung | BrokenOff | None:
        """Wait, within the step budget, for the page's load event, or for its document's
        response to break off (Chromium then never fires load: a cut body looks like a hang)."""
        deadline = time.monotonic() + self.step_timeout
        while True:
            try:
                self.page.wait_for_load_state("load", timeout=LOAD_SLICE_MS)
                return None
            except PlaywrightTimeoutError:
                pass
            except PlaywrightError as exc:
                return BrokenOff(_short(exc))
            if (broken := self._broken_document()) is not None:
                return broken
            if time.monotonic() >= deadline:
                return self.hung(when)

    def _broken_document(self) -> BrokenOff | None:
        wanted = self.page.url.split("#", 1)[0]
        for entry in reversed(self.network):
            if entry.resource_type == "document" and entry.url.split("#", 1)[0] == wanted:
                if entry.failure is None:
                    return None
                got = f"answered {entry.status}, then " if entry.status is not None else ""
                return BrokenOff(
                    f"{entry.method} {_path(entry.url)}: {got}the response broke off ({entry.failure})"
                )
        return None

    def document_status(self, url: str) -> int | None:
        wanted = url.split("#", 1)[0]
        for entry in reversed(self.network):
            if entry.resource_type == "document" and entry.url.split("#", 1)[0] == wanted:
                return entry.status
        return None

    def state(self) -> BrowserState:
        """Cookies, and each origin's web storage, read in a page the suite serves itself."""
        state = BrowserState()
        try:
            state.cookies = [dict(cookie) for cookie in self.context.cookies()]
        except PlaywrightError as exc:
            state.unread.append(f"cookies: {_short(exc)}")
        if self.hang is not None:
            # The tab still waits for the app; until that navigation is abandoned, Chromium
            # would not route the storage page either.
            with contextlib.suppress(PlaywrightError):
                self.page.goto("about:blank", wait_until="commit", timeout=SCREENSHOT_TIMEOUT_MS)
        for origin in self._storage_origins():
            self._read_storage(origin, state)
        return state

    def _storage_origins(self) -> list[str]:
        """Every origin the browser showed a page of, or was sent to, but the mock's own."""
        seen = {origin_of(o) for o in self.origins}
        seen.update(origin_of(e.url) for e in self.network if e.resource_type == "document")
        seen.update(origin_of(url) for url in self.navigations)
        return sorted(o for o in seen if o and not o.startswith(self.skip_origins))

    def _read_storage(self, origin: str, state: BrowserState) -> None:
        url = origin + STORAGE_PROBE_PATH

        def serve(route: Route) -> None:
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>storage</title>")

        try:
            self.page.route(url, serve)
            try:
                self.page.goto(url, wait_until="commit")
                found = self.page.evaluate(STORAGE_SCRIPT, MAX_STORAGE_CHARS)
            finally:
                self.page.unroute(url, serve)
        except PlaywrightError as exc:
            state.unread.append(f"web storage of {origin}: {_short(exc)}")
            return
        for key, target in (
            ("localStorage", state.local_storage),
            ("sessionStorage", state.session_storage),
            ("indexedDB", state.indexed_db),
            ("cacheStorage", state.cache_storage),
        ):
            target[origin] = {str(k): str(v) for k, v in dict(found.get(key) or {}).items()}
        state.unread += [f"{origin}: {why}" for why in found.get("unread") or []]

    def record(self, state: BrowserState) -> BrowsingRecord:
        return BrowsingRecord(self.name, list(self.network), list(self.navigations), list(self.pages), state)

    def close(self, keep_trace: bool = True) -> str | None:
        """Close the context; what it saw, with the cookies and storage read now, goes to `records`."""
        if self._closed:
            return None
        self._closed = True
        if self.records is not None:
            self.records.append(self.record(self.state()))
        trace: str | None = None
        try:
            if keep_trace:
                path = self.report_dir / "traces" / f"{self.name}.zip"
                path.parent.mkdir(parents=True, exist_ok=True)
                self.context.tracing.stop(path=str(path))
                trace = str(path.relative_to(self.report_dir))
            else:
                self.context.tracing.stop()
        except PlaywrightError:
            trace = None
        with contextlib.suppress(PlaywrightError):
            self.context.close()
        return trace


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "") if parts.netloc else url


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]

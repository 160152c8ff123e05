"""Thin page helpers: one browser context per probe, and everything the browser held in it.

A token or the client secret that reaches the browser can sit in many places, and a check may
only say "none" for the places it looked at. So a session records every request the browser
made (URL, headers, body: a `Referer` to another origin included), every response it got
(headers, `Location`, text bodies), every URL it was at (fragments included), the HTML of each
page it showed, and at the end the cookies and, per origin, localStorage, sessionStorage,
IndexedDB and Cache Storage, read from a page the suite serves itself in that origin.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Frame, Page, Request, Response, Route
from playwright.sync_api import Error as PlaywrightError

TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/x-javascript",
    "+json",
    "+xml",
)
MAX_BODY = 512 * 1024
MAX_STORAGE_CHARS = 8 * 1024 * 1024  # per origin: localStorage and friends hold a few kB
NAVIGATION_TIMEOUT_MS = 15_000
STORAGE_PROBE_PATH = "/__ims_conformance_storage__"
STORAGE_SCRIPT = (Path(__file__).parent / "browser_storage.js").read_text("utf-8")


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
    ) -> None:
        self.name = name
        self.report_dir = report_dir
        self.records = records
        self.skip_origins = skip_origins  # origins whose web storage is not the partner's (the mock)
        # `proxy`: the intercepting proxy, when the partner talks to IMS's real hostnames.
        self.context: BrowserContext = browser.new_context(
            ignore_https_errors=True,
            proxy=proxy,  # type: ignore[arg-type]
        )
        self.context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        self.context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
        self.context.tracing.start(screenshots=True, snapshots=True)
        self.network: list[NetworkEntry] = []
        self.navigations: list[str] = []
        self.pages: list[PageVisit] = []
        self.origins: set[str] = set()
        self._pending: dict[Request, NetworkEntry] = {}
        self.context.on("request", self._request)
        self.context.on("response", self._response)
        self.context.on("requestfailed", self._failed)
        self.context.on("page", self._watch)
        self._watched: set[Page] = set()
        self.page: Page = self.context.new_page()
        self._watch(self.page)
        self._shots = 0
        self._closed = False

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
        entry = self._pending.pop(response.request, None)
        if entry is None:
            return
        entry.status = response.status
        with contextlib.suppress(PlaywrightError):
            # As sent and as received: Cookie, Referer and Set-Cookie included.
            entry.request_headers = dict(response.request.all_headers())
            entry.response_headers = dict(response.all_headers())
        content_type = entry.response_headers.get("content-type", response.headers.get("content-type", ""))
        if any(t in content_type for t in TEXT_TYPES) and not (300 <= response.status < 400):
            with contextlib.suppress(PlaywrightError, UnicodeDecodeError):
                body = response.body()
                entry.response_body = body[:MAX_BODY].decode("utf-8", errors="replace")

    def _failed(self, request: Request) -> None:
        self._pending.pop(request, None)  # no response will come: what it sent stays recorded

    def screenshot(self, step: str) -> str | None:
        self._shots += 1
        path = self.report_dir / "screenshots" / f"{self.name}-{self._shots:02d}-{step}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.page.screenshot(path=str(path), full_page=True)
        except PlaywrightError:
            return None
        return str(path.relative_to(self.report_dir))

    def goto(self, url: str, step: str) -> PageVisit:
        try:
            response = self.page.goto(url, wait_until="load")
        except PlaywrightError as exc:
            return PageVisit(self.page.url, None, "", self.screenshot(step), error=_short(exc))
        return self.visit(step, response.status if response else None)

    def visit(self, step: str, status: int | None = None) -> PageVisit:
        """The page as it is now; its status is the last document response for its URL."""
        with contextlib.suppress(PlaywrightError):
            self.page.wait_for_load_state("load")
        for _ in range(5):
            if status is not None:
                break
            status = self.document_status(self.page.url)
            # Response events are dispatched between calls: one round trip lets them arrive.
            with contextlib.suppress(PlaywrightError):
                self.page.evaluate("0")
        text = html = ""
        with contextlib.suppress(PlaywrightError):
            text = self.page.inner_text("body", timeout=5000)
        with contextlib.suppress(PlaywrightError):
            html = self.page.content()[:MAX_BODY]
        visit = PageVisit(self.page.url, status, text, self.screenshot(step), html=html)
        self.pages.append(visit)
        return visit

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


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]

"""Thin page helpers: one browser context per probe, with its network, cookies and storage."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, Response
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
NAVIGATION_TIMEOUT_MS = 15_000


@dataclass
class NetworkEntry:
    method: str
    url: str
    status: int | None
    resource_type: str
    request_body: str | None = None
    response_body: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "status": self.status, "type": self.resource_type}


@dataclass
class PageVisit:
    url: str
    status: int | None
    text: str
    screenshot: str | None = None
    error: str | None = None

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


class BrowserSession:
    """A fresh browser context (its own cookies): a user, or an attacker's victim."""

    def __init__(
        self, browser: Browser, name: str, report_dir: Path, proxy: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.report_dir = report_dir
        # `proxy`: the intercepting proxy, when the partner talks to IMS's real hostnames.
        self.context: BrowserContext = browser.new_context(
            ignore_https_errors=True,
            proxy=proxy,  # type: ignore[arg-type]
        )
        self.context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        self.context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
        self.context.tracing.start(screenshots=True, snapshots=True)
        self.page: Page = self.context.new_page()
        self.network: list[NetworkEntry] = []
        self.origins: set[str] = set()
        self.page.on("response", self._record)
        self._shots = 0

    def _record(self, response: Response) -> None:
        request = response.request
        entry = NetworkEntry(request.method, request.url, response.status, request.resource_type)
        with contextlib.suppress(PlaywrightError, UnicodeDecodeError):
            entry.request_body = request.post_data
        content_type = response.headers.get("content-type", "")
        if any(t in content_type for t in TEXT_TYPES) and not (300 <= response.status < 400):
            with contextlib.suppress(PlaywrightError, UnicodeDecodeError):
                body = response.body()
                entry.response_body = body[:MAX_BODY].decode("utf-8", errors="replace")
        self.network.append(entry)

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
        text = ""
        with contextlib.suppress(PlaywrightError):
            text = self.page.inner_text("body", timeout=5000)
        return PageVisit(self.page.url, status, text, self.screenshot(step))

    def document_status(self, url: str) -> int | None:
        wanted = url.split("#", 1)[0]
        for entry in reversed(self.network):
            if entry.resource_type == "document" and entry.url.split("#", 1)[0] == wanted:
                return entry.status
        return None

    def state(self) -> BrowserState:
        state = BrowserState(cookies=[dict(cookie) for cookie in self.context.cookies()])
        for origin in sorted(self.origins):
            with contextlib.suppress(PlaywrightError):
                self.page.goto(origin + "/__conformance_storage_probe__", wait_until="commit")
                local, session = self.page.evaluate(
                    "() => [Object.fromEntries(Object.entries(localStorage)),"
                    " Object.fromEntries(Object.entries(sessionStorage))]"
                )
                state.local_storage[origin] = dict(local)
                state.session_storage[origin] = dict(session)
        return state

    def close(self, keep_trace: bool = True) -> str | None:
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

"""What reached the browser: every place a probe's browsing holds, searched for secrets.

`BrowsingRecord`s (conformance.browser.browsing) keep what each browser context saw; this module
lays them out as places (a URL's query, a request header sent to another origin, a response
header, a page's HTML, a cookie, an IndexedDB record, ...) and searches each for the needles of
the tokens or the client secret (conformance.storage.leaks). A place is named without the secret
in it: a URL is shown without its query and fragment, a header by its name and where it was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from conformance.browser.browsing import BrowsingRecord, NetworkEntry, origin_of
from conformance.browser.cookies import scan_cookies, scan_split_cookies, scan_web_storage
from conformance.storage.leaks import Finding, Needle, scan_bytes


@dataclass
class Exposure:
    findings: list[Finding] = field(default_factory=list)
    looked_at: dict[str, int] = field(default_factory=dict)  # kind of place -> how many
    unread: list[str] = field(default_factory=list)  # places that could not be read, and why

    def count(self, kind: str, n: int = 1) -> None:
        self.looked_at[kind] = self.looked_at.get(kind, 0) + n

    def summary(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in self.looked_at.items() if n) or "nothing"


def _shown(url: str) -> str:
    """A URL without its query and fragment (where a secret would be)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url.split("?", 1)[0][:120]


def _url_parts(url: str) -> Iterator[tuple[str, str]]:
    parts = urlsplit(url)
    if parts.query:
        yield "query string", parts.query
    if parts.fragment:
        yield "fragment", parts.fragment
    yield "path", parts.path


def _network_places(entry: NetworkEntry, page_origins: set[str]) -> Iterator[tuple[str, str, str]]:
    """(kind, where, text) for one request and its response."""
    what = f"{entry.method} {_shown(entry.url)}"
    foreign = origin_of(entry.url) not in page_origins
    for part, text in _url_parts(entry.url):
        yield "request URLs", f"the {part} of {what}", text
    for name, value in sorted(entry.request_headers.items()):
        if name.lower() == "cookie":
            continue  # the cookie jar is searched on its own, with each cookie decoded
        sent = " (sent to another origin)" if foreign else ""
        yield "request headers", f"request header {name} of {what}{sent}", value
    if entry.request_body:
        yield "request bodies", f"the body of {what}", entry.request_body
    for name, value in sorted(entry.response_headers.items()):
        yield "response headers", f"response header {name} of {what}", value
    if entry.response_body:
        yield "response bodies", f"the response body of {what}", entry.response_body


def scan_browsing(records: Sequence[BrowsingRecord], needles: Sequence[Needle]) -> Exposure:
    """Every needle in every place the browser held, across all `records`."""
    result = Exposure()
    seen: set[tuple[str, str]] = set()  # (where, text): the same page in two probes is one place

    def search(kind: str, where: str, text: str) -> None:
        result.count(kind)
        if (where, text) in seen:
            return
        seen.add((where, text))
        result.findings.extend(
            scan_bytes(text.encode("utf-8", "surrogateescape"), needles, where, offsets=False)
        )

    for record in records:
        page_origins = {origin_of(e.url) for e in record.network if e.resource_type == "document"}
        for entry in record.network:
            for kind, where, text in _network_places(entry, page_origins):
                search(kind, where, text)
        for url in record.navigations:
            for part, text in _url_parts(url):
                search("URLs the browser was at", f"the {part} of the address {_shown(url)}", text)
        for page in record.pages:
            if page.html:
                search("pages (HTML)", f"the HTML of {_shown(page.url)}", page.html)
        _scan_state(record, needles, result)
    result.findings = _distinct(result.findings)
    return result


def _scan_state(record: BrowsingRecord, needles: Sequence[Needle], result: Exposure) -> None:
    state = record.state
    result.count("cookies", len(state.cookies))
    result.count("origins' web storage, IndexedDB and Cache Storage", len(state.local_storage))
    whole = scan_cookies(state.cookies, needles)
    found = {f.secret_label for f in whole}
    result.findings += whole + [
        f for f in scan_split_cookies(state.cookies, needles) if f.secret_label not in found
    ]
    for kind, origin, items in state.stores():
        result.count(f"{kind} items", len(items))
        result.findings += scan_web_storage(kind, items, origin, needles)
    result.unread += [f"{record.name}: {why}" for why in state.unread]


def _distinct(findings: Iterable[Finding]) -> list[Finding]:
    kept: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        kept.setdefault((finding.secret_label, finding.location), finding)
    return list(kept.values())

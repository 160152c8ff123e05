"""Every place a browser can hold a token, searched and named without the token (no browser
here: the records are written by hand as a browser context would have left them)."""

from __future__ import annotations

import base64
import gzip
import json
from itertools import pairwise
from urllib.parse import quote

import pytest

from conformance.browser.browsing import BrowserState, BrowsingRecord, NetworkEntry, PageVisit
from conformance.browser.exposure import scan_browsing
from conformance.checks import REGISTRY
from conformance.journeys.observations import Observations
from conformance.model import Verdict
from conformance.storage.leaks import Secret, needles_for
from tests.helpers import issued

TOKEN = issued.secret("access_token")
NEEDLES = needles_for([TOKEN])
PARTNER = "http://127.0.0.1:8000"


def record(
    *,
    network: list[NetworkEntry] | None = None,
    navigations: list[str] | None = None,
    pages: list[PageVisit] | None = None,
    state: BrowserState | None = None,
) -> BrowsingRecord:
    return BrowsingRecord("login", network or [], navigations or [], pages or [], state or BrowserState())


def document(url: str, **fields: object) -> NetworkEntry:
    entry = NetworkEntry("GET", url, 200, "document")
    for name, value in fields.items():
        setattr(entry, name, value)
    return entry


def places(*records: BrowsingRecord) -> list[str]:
    findings = scan_browsing(records, NEEDLES).findings
    for finding in findings:
        assert TOKEN.value not in finding.location  # a place is named, the token never shown
    return [f.location for f in findings]


def test_a_clean_browsing_has_no_finding_and_counts_what_was_looked_at() -> None:
    clean = record(network=[document(f"{PARTNER}/profile", response_body="<p>Hello Cora</p>")])
    exposure = scan_browsing([clean], NEEDLES)
    assert exposure.findings == []
    assert exposure.looked_at["request URLs"] == 1
    assert exposure.looked_at["response bodies"] == 1


def test_a_token_in_a_query_string_is_found_and_the_url_shown_without_it() -> None:
    url = f"{PARTNER}/profile?access_token={TOKEN.value}"
    assert places(record(network=[document(url)])) == [f"the query string of GET {PARTNER}/profile"]


def test_a_token_in_a_fragment_the_browser_was_at_is_found() -> None:
    at = record(navigations=[f"{PARTNER}/app#access_token={TOKEN.value}&token_type=bearer"])
    assert places(at) == [f"the fragment of the address {PARTNER}/app"]


def test_a_referer_sent_to_another_origin_is_named_so() -> None:
    pixel = NetworkEntry("GET", "https://analytics.example/p.gif", 200, "image")
    pixel.request_headers = {"referer": f"{PARTNER}/profile?at={TOKEN.value}"}
    page = document(f"{PARTNER}/profile")
    assert places(record(network=[page, pixel])) == [
        "request header referer of GET https://analytics.example/p.gif (sent to another origin)"
    ]


def test_a_token_in_a_redirect_location_is_found() -> None:
    callback = NetworkEntry("GET", f"{PARTNER}/callback", 303, "document")
    callback.response_headers = {"location": f"/profile?t={quote(TOKEN.value)}"}
    assert places(record(network=[callback])) == [f"response header location of GET {PARTNER}/callback"]


def test_a_token_in_a_hidden_field_or_inline_json_is_found_in_the_html() -> None:
    html = f'<form><input type="hidden" name="t" value="{TOKEN.value}"></form>'
    blob = (
        f'<script id="state" type="application/json">{json.dumps({"auth": {"token": TOKEN.value}})}</script>'
    )
    for markup in (html, blob):
        page = PageVisit(f"{PARTNER}/profile", 200, "Hello", html=markup)
        assert places(record(pages=[page])) == [f"the HTML of {PARTNER}/profile"]


def test_a_token_split_across_three_cookies_is_found_joined() -> None:
    value = TOKEN.value
    header, payload, _ = value.split(".")
    cuts = [0, len(header) + len(payload) // 2, len(value) - 100, len(value)]
    cookies = [
        {"name": f"at_{i}", "value": value[a:b], "domain": "127.0.0.1", "path": "/"}
        for i, (a, b) in enumerate(pairwise(cuts))
    ]
    one_by_one = [c for c in cookies if any(n.pattern in c["value"].encode() for n in NEEDLES)]
    assert not one_by_one  # no piece alone holds anything the suite searches for
    found = places(record(state=BrowserState(cookies=cookies)))
    assert found and found[0].startswith("cookies at_0+at_1+at_2 on 127.0.0.1/, joined")


def test_a_gzip_compressed_token_in_a_cookie_is_found() -> None:
    packed = base64.urlsafe_b64encode(gzip.compress(json.dumps({"t": TOKEN.value}).encode())).decode()
    cookie = {"name": "s", "value": packed, "domain": "127.0.0.1", "path": "/"}
    assert places(record(state=BrowserState(cookies=[cookie]))) != []


@pytest.mark.parametrize("store", ["local_storage", "session_storage", "indexed_db", "cache_storage"])
def test_every_web_store_is_searched(store: str) -> None:
    state = BrowserState()
    getattr(state, store)[PARTNER] = {"auth/session/1": json.dumps({"token": TOKEN.value})}
    found = places(record(state=state))
    assert len(found) == 1
    assert "'auth/session/1'" in found[0] and PARTNER in found[0]


def test_the_same_page_seen_by_two_probes_is_one_finding_per_place() -> None:
    url = f"{PARTNER}/profile?access_token={TOKEN.value}"
    assert len(places(record(network=[document(url)]), record(network=[document(url)]))) == 1


def verdict(check_id: str, records: list[BrowsingRecord], **extra: object) -> Verdict:
    from tests.conformance.test_checks import login_run

    seen = Observations(login=login_run())
    issued = [{"id": "at-1", "kind": "access_token", "raw": TOKEN.value}]
    seen.extra.update({"browsing": records, "tokens": issued, **extra})
    return REGISTRY[check_id].judge(seen).verdict


def test_browser_no_tokens_passes_only_on_browsing_it_could_read() -> None:
    clean = record(network=[document(f"{PARTNER}/profile")])
    assert verdict("browser.no-tokens", [clean]) is Verdict.PASS
    unread = record(state=BrowserState(unread=["web storage of http://127.0.0.1:8000: page crashed"]))
    assert verdict("browser.no-tokens", [clean, unread]) is Verdict.ERROR
    assert verdict("browser.no-tokens", []) is Verdict.SKIP


def test_the_client_secret_in_a_response_header_fails_secret_not_in_browser() -> None:
    secret = "s3cr3t-of-the-partner-app"
    leaky = document(f"{PARTNER}/profile")
    leaky.response_headers = {"x-debug": f"partner:{secret}"}
    extra = {"client_secret": secret, "client_id": "partner"}
    assert verdict("secret.not-in-browser", [record(network=[leaky])], **extra) is Verdict.FAIL
    clean = record(network=[document(f"{PARTNER}/profile")])
    assert verdict("secret.not-in-browser", [clean], **extra) is Verdict.PASS


def test_http_basic_credentials_in_the_browser_are_the_secret() -> None:
    secret = "s3cr3t-of-the-partner-app"
    basic = base64.b64encode(f"partner:{secret}".encode()).decode()
    call = NetworkEntry("POST", "http://127.0.0.1:9/ims/token/v3", 200, "fetch")
    call.request_headers = {"authorization": f"Basic {basic}"}
    extra = {"client_secret": secret, "client_id": "partner"}
    assert verdict("secret.not-in-browser", [record(network=[call])], **extra) is Verdict.FAIL


def test_a_secret_label_never_holds_the_value() -> None:
    assert all(TOKEN.value not in n.secret.label for n in NEEDLES)
    assert Secret("the client secret", "x" * 20).label == "the client secret"

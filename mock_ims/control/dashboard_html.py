"""The dashboard's HTML: one server-rendered page, no JavaScript.

Everything shown is escaped: journal entries carry whatever a client sent. Secrets never reach
this module (the journal is masked; client secrets and user passwords are not rendered) and raw
tokens are shown only as a short prefix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from mock_ims.config import ClientConfig, UserConfig
from mock_ims.http.pages import MOCK_BANNER
from mock_ims.protocol import jws
from mock_ims.protocol.tokens import TokenRecord
from mock_ims.state.clock import to_iso
from mock_ims.state.faults import FAULT_RULE_FIELDS
from mock_ims.store import Doc

RAW_PREFIX_LENGTH = 12
OUTCOMES = ("ok", "refused", "fault")
FILTER_NAMES = ("endpoint", "client", "user", "outcome")
FAULT_FIELDS = ("id", *(name for name in FAULT_RULE_FIELDS if name != "id"))

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f4f4;margin:0;color:#222;font-size:14px}
header{background:#1b1b1b;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header h1{font-size:1.1rem;margin:0}
header a{color:#9cf}
main{padding:0 1rem 2rem}
section{background:#fff;margin:1rem 0;padding:.75rem 1rem;border-radius:6px;box-shadow:0 1px 3px #0002}
h2{font-size:1.05rem;margin:.2rem 0 .6rem}
h3{font-size:.9rem;margin:.5rem 0 .2rem}
.mock{background:#fff3cd;border:1px solid #e0c060;padding:.4rem .6rem;border-radius:4px;font-size:.8rem;margin:.5rem 0}
form.inline{display:inline-flex;gap:.4rem;align-items:center;margin:.2rem .6rem .2rem 0}
button{padding:.3rem .6rem;border:1px solid #1473e6;background:#eef5ff;border-radius:4px;cursor:pointer}
button.danger{border-color:#b00020;background:#fdecee}
input,select{padding:.25rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0}
th,td{border-bottom:1px solid #e4e4e4;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#fafafa;font-weight:600}
details.entry,details.token{border-bottom:1px solid #e4e4e4;padding:.2rem 0}
details summary{cursor:pointer}
summary span{display:inline-block;margin-right:.6rem}
.ok{color:#0a7a2f}.refused{color:#b00020}.fault{color:#a05a00}
.muted{color:#777}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.8rem}
pre{background:#f6f6f6;padding:.4rem;overflow:auto;max-height:30rem;margin:.3rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.4rem 0}
dt{font-weight:600}dd{margin:0;word-break:break-all}
"""


@dataclass
class DashboardView:
    """Everything the page shows, gathered by `mock_ims.control.dashboard`."""

    now_ms: int
    offset_seconds: float
    entries: Sequence[Doc]  # newest first, already filtered and cut to the display limit
    matching_entries: int
    total_entries: int
    filters: Mapping[str, str]
    choices: Mapping[str, Sequence[tuple[str, str]]]  # filter name -> (value, label)
    tokens: Sequence[TokenRecord]  # newest first, cut to the display limit
    total_tokens: int
    users: Sequence[UserConfig]
    clients: Sequence[ClientConfig]
    faults: Sequence[Doc]
    emails: Mapping[str, str]  # user id -> email, to name users in the journal
    csrf: str
    refresh: int | None
    return_to: str  # the query string the forms come back to
    lease: Mapping[str, object] | None = None  # who holds the mock's lease (never its id)


def e(value: object) -> str:
    """Escape for HTML text and quoted attribute values."""
    return escape("" if value is None else str(value), quote=True)


def pretty_json(value: object) -> str:
    return e(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def duration(ms: int) -> str:
    """A short human duration: `3 d 4 h`, `2 h 5 min`, `40 s`."""
    seconds = abs(ms) // 1000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def relative(when_ms: int, now_ms: int) -> str:
    delta = when_ms - now_ms
    return f"in {duration(delta)}" if delta > 0 else f"{duration(delta)} ago"


def human_time(when_ms: int, now_ms: int) -> str:
    return f"{to_iso(when_ms)} ({relative(when_ms, now_ms)})"


def truncated_raw(raw: str) -> str:
    return f"{raw[:RAW_PREFIX_LENGTH]}… ({len(raw)} chars)" if raw else ""


def token_status(record: TokenRecord, now_ms: int) -> str:
    if record.revoked_ms is not None:
        return f"revoked ({record.revoked_reason or 'revoked'})"
    if now_ms >= record.expires_ms:
        return "expired"
    if record.used_ms is not None:
        return "used"
    return "live"


def _hidden(csrf: str, return_to: str) -> str:
    return f'<input type=hidden name=csrf value="{e(csrf)}"><input type=hidden name=return_to value="{e(return_to)}">'


def _dl(rows: Iterable[tuple[str, object]]) -> str:
    items = "".join(
        f"<dt>{e(name)}</dt><dd>{e(value)}</dd>" for name, value in rows if value not in (None, "", [], {})
    )
    return f"<dl>{items}</dl>"


def _user_label(user_id: object, emails: Mapping[str, str]) -> str:
    if not user_id:
        return ""
    email = emails.get(str(user_id))
    return f"{email} ({user_id})" if email else str(user_id)


# ---- sections -------------------------------------------------------------------------


def _clock_section(view: DashboardView) -> str:
    hidden = _hidden(view.csrf, view.return_to)
    offset_ms = round(view.offset_seconds * 1000)
    offset_text = "none" if offset_ms == 0 else f"{'+' if offset_ms > 0 else '-'}{duration(offset_ms)}"
    return f"""
<section id=clock><h2>Clock</h2>
<p>Mock time: <strong id=clock-now>{e(to_iso(view.now_ms))}</strong>
&middot; offset from real time: <span id=clock-offset data-seconds="{e(view.offset_seconds)}">{e(offset_text)}</span>
(<span id=clock-offset-seconds>{e(view.offset_seconds)}</span> s)</p>
<form class=inline method=post action="/__admin/ui/clock">{hidden}
<button id=advance-hour name=seconds value=3600>+1 hour</button>
<button id=advance-day name=seconds value=86400>+1 day</button></form>
<form class=inline method=post action="/__admin/ui/clock">{hidden}
<label for=advance-seconds>seconds</label>
<input id=advance-seconds name=seconds inputmode=decimal size=10 required placeholder="e.g. 600 or -60">
<button id=advance-custom>Advance</button></form>
{_lease_line(view.lease)}
</section>"""


def _lease_line(lease: Mapping[str, object] | None) -> str:
    if lease is None:
        return "<p id=lease>Lease: <span id=lease-holder class=muted>not held</span></p>"
    seconds = float(str(lease["expires_in"]))
    return (
        f"<p id=lease>Lease: held by <strong id=lease-holder>{e(lease['holder'])}</strong>"
        f" for {e(duration(round(seconds * 1000)))} more (until {e(lease['expires_at'])}, real time)</p>"
    )


def _select(name: str, current: str, options: Sequence[tuple[str, str]]) -> str:
    rendered = [f'<option value=""{" selected" if not current else ""}>any {e(name)}</option>']
    values = {value for value, _ in options}
    if current and current not in values:
        options = [*options, (current, current)]
    for value, label in options:
        selected = " selected" if value == current else ""
        rendered.append(f'<option value="{e(value)}"{selected}>{e(label)}</option>')
    return f"<select id=filter-{e(name)} name={e(name)}>{''.join(rendered)}</select>"


def _filter_form(view: DashboardView) -> str:
    selects = "".join(
        _select(name, view.filters.get(name, ""), view.choices.get(name, ())) for name in FILTER_NAMES
    )
    refresh = f'<input type=hidden name=refresh value="{e(view.refresh)}">' if view.refresh else ""
    return (
        f'<form class=inline method=get action="/" id=filters>{selects}{refresh}'
        '<button id=filter-apply>Filter</button> <a href="/" id=filter-reset>all entries</a></form>'
    )


def _params_table(entry: Doc) -> str:
    params = entry.get("params") or {}
    sources = entry.get("param_sources") or {}
    if not params:
        return "<p class=muted>no parameters</p>"
    rows = "".join(
        f"<tr><td><code>{e(name)}</code></td><td><code>{e(value)}</code></td><td>{e(sources.get(name, ''))}</td></tr>"
        for name, value in params.items()
    )
    return f"<table class=params><tr><th>parameter</th><th>value</th><th>from</th></tr>{rows}</table>"


def _headers_table(entry: Doc) -> str:
    headers = entry.get("headers") or {}
    if not headers:
        return "<p class=muted>no headers kept</p>"
    rows = "".join(
        f"<tr><td><code>{e(name)}</code></td><td><code>{e(value)}</code></td></tr>"
        for name, value in headers.items()
    )
    return f"<table class=headers><tr><th>header</th><th>value</th></tr>{rows}</table>"


def _entry(entry: Doc, emails: Mapping[str, str]) -> str:
    outcome = str(entry.get("outcome") or "")
    css = outcome if outcome in OUTCOMES else ""
    user = _user_label(entry.get("user_id"), emails)
    reason = entry.get("reason") or ""
    summary = (
        f"<span class=seq>#{e(entry.get('seq'))}</span>"
        f"<span class=time>{e(entry.get('time'))}</span>"
        f"<span class=request><code>{e(entry.get('method'))} {e(entry.get('path'))}</code></span>"
        f"<span class=endpoint>{e(entry.get('endpoint'))}</span>"
        f"<span class=status>{e(entry.get('status'))}</span>"
        f'<span class="outcome {css}">{e(outcome)}</span>'
        f"<span class=client>{e(entry.get('client_id'))}</span>"
        f"<span class=user>{e(user)}</span>"
        f"<span class=reason>{e(reason[:120])}</span>"
    )
    facts = _dl(
        [
            ("endpoint", entry.get("endpoint")),
            ("version", entry.get("version")),
            ("status", entry.get("status")),
            ("outcome", outcome),
            ("error", entry.get("error")),
            ("reason", reason),
            ("notes", ", ".join(entry.get("notes") or [])),
            ("client", entry.get("client_id")),
            ("user", user),
            ("grant type", entry.get("grant_type")),
            ("client auth", entry.get("auth")),
            ("issued", ", ".join(entry.get("issued") or [])),
            ("presented", entry.get("consumed")),
            ("revoked", ", ".join(entry.get("revoked") or [])),
            ("redirected to", entry.get("location")),
            ("fault", entry.get("fault")),
            ("mock time", entry.get("time")),
            ("real time", entry.get("real_time")),
        ]
    )
    return (
        f'<details class=entry id="entry-{e(entry.get("seq"))}" data-endpoint="{e(entry.get("endpoint"))}" '
        f'data-outcome="{e(outcome)}" data-client="{e(entry.get("client_id"))}" data-user="{e(entry.get("user_id"))}">'
        f"<summary>{summary}</summary>{facts}"
        f"<h3>Parameters</h3>{_params_table(entry)}<h3>Headers</h3>{_headers_table(entry)}</details>"
    )


def _journal_section(view: DashboardView) -> str:
    hidden = _hidden(view.csrf, view.return_to)
    clear = (
        f'<form class=inline method=post action="/__admin/ui/clear-journal">{hidden}'
        "<button id=clear-journal class=danger>Clear journal</button></form>"
    )
    if view.entries:
        shown = "".join(_entry(entry, view.emails) for entry in view.entries)
    else:
        shown = "<p id=journal-empty class=muted>No journal entries.</p>"
    more = ""
    if view.matching_entries > len(view.entries):
        more = f"<p class=muted>Showing the newest {len(view.entries)} of {view.matching_entries}.</p>"
    return f"""
<section id=journal><h2>Journal</h2>
<p><span id=journal-count>{view.matching_entries}</span> matching of {view.total_entries} entries, newest first.</p>
{_filter_form(view)}{clear}{more}
<div id=entries>{shown}</div>
</section>"""


def _token(record: TokenRecord, view: DashboardView) -> str:
    try:
        header, claims = jws.unverified(record.raw)
        decoded = (
            f"<h3>Header</h3><pre>{pretty_json(header)}</pre><h3>Claims</h3><pre>{pretty_json(claims)}</pre>"
        )
    except jws.JWSError as exc:
        decoded = f"<p class=muted>cannot decode: {e(exc)}</p>"
    status = token_status(record, view.now_ms)
    facts = _dl(
        [
            ("id", record.id),
            ("kind", record.kind),
            ("status", status),
            ("client", record.client_id),
            ("user", _user_label(record.user_id, view.emails)),
            ("scope", record.scope),
            ("created", human_time(record.created_ms, view.now_ms)),
            ("expires", human_time(record.expires_ms, view.now_ms)),
            ("used", human_time(record.used_ms, view.now_ms) if record.used_ms is not None else None),
            (
                "revoked",
                human_time(record.revoked_ms, view.now_ms) if record.revoked_ms is not None else None,
            ),
            ("grant family", record.family),
            ("issued for", record.parent),
            ("redirect URI", record.redirect_uri),
            ("PKCE", record.code_challenge_method),
            ("minted by", record.minted_by),
            ("raw (truncated)", truncated_raw(record.raw)),
        ]
    )
    summary = (
        f"<span class=kind>{e(record.kind)}</span>"
        f"<span class=token-status>{e(status)}</span>"
        f"<span class=client>{e(record.client_id)}</span>"
        f"<span class=user>{e(_user_label(record.user_id, view.emails))}</span>"
        f"<span class=expires>expires {e(relative(record.expires_ms, view.now_ms))}</span>"
        f"<span class=muted>{e(record.id)}</span>"
    )
    return (
        f'<details class=token id="token-{e(record.id)}" data-kind="{e(record.kind)}" data-status="{e(status)}">'
        f"<summary>{summary}</summary>{facts}{decoded}</details>"
    )


def _tokens_section(view: DashboardView) -> str:
    if view.tokens:
        shown = "".join(_token(record, view) for record in view.tokens)
    else:
        shown = "<p id=tokens-empty class=muted>No codes or tokens issued.</p>"
    more = ""
    if view.total_tokens > len(view.tokens):
        more = f"<p class=muted>Showing the newest {len(view.tokens)} of {view.total_tokens}.</p>"
    return f"""
<section id=tokens><h2>Codes and tokens</h2>
<p><span id=token-count>{view.total_tokens}</span> issued, newest first (ID tokens are not kept).</p>
{more}{shown}
</section>"""


def _users_section(view: DashboardView) -> str:
    rows = "".join(
        f'<tr data-user="{e(u.user_id)}"><td>{e(u.email)}</td><td>{e(u.display_name)}</td><td><code>{e(u.user_id)}</code></td>'
        f"<td>{e(u.country_code)}</td><td>{e(u.account_type)}</td><td>{e(u.entitlement)}</td></tr>"
        for u in view.users
    )
    return f"""
<section id=users><h2>Users</h2>
<table><tr><th>email</th><th>name</th><th>user id</th><th>country</th><th>account type</th><th>Lightroom entitlement</th></tr>{rows}</table>
</section>"""


def _clients_section(view: DashboardView) -> str:
    rows = "".join(
        f'<tr data-client="{e(c.client_id)}"><td><code>{e(c.client_id)}</code></td><td>{e(c.name)}</td>'
        f"<td>{'confidential' if c.confidential else 'public (PKCE)'}</td>"
        f"<td>{'<br>'.join(f'<code>{e(p)}</code>' for p in c.redirect_uris)}</td>"
        f"<td>{e(c.default_redirect_uri)}</td><td>{e(', '.join(c.scopes))}</td><td>{e(', '.join(c.grant_types))}</td>"
        f"<td>{e(duration(c.access_token_lifetime * 1000))} / {e(duration(c.refresh_token_lifetime * 1000))}</td></tr>"
        for c in view.clients
    )
    return f"""
<section id=clients><h2>Clients</h2>
<table><tr><th>client id</th><th>name</th><th>type</th><th>redirect URI patterns</th><th>default redirect URI</th>
<th>scopes</th><th>grant types</th><th>access / refresh lifetime</th></tr>{rows}</table>
</section>"""


def _faults_section(view: DashboardView) -> str:
    if not view.faults:
        return (
            "<section id=faults><h2>Faults</h2><p id=faults-empty class=muted>No active faults.</p></section>"
        )
    head = "".join(f"<th>{e(name)}</th>" for name in FAULT_FIELDS)
    rows = []
    for fault in view.faults:
        cells = []
        for name in FAULT_FIELDS:
            value = fault.get(name)
            if name == "times" and value is None:
                shown = "every call"
            elif isinstance(value, bool):
                shown = "yes" if value else "no"
            elif isinstance(value, dict | list):
                shown = json.dumps(value, ensure_ascii=False)
            else:
                shown = "" if value is None else str(value)
            cells.append(f"<td><code>{e(shown)}</code></td>")
        rows.append(f'<tr class=fault data-fault="{e(fault.get("id"))}">{"".join(cells)}</tr>')
    return f"""
<section id=faults><h2>Faults</h2>
<table><tr>{head}</tr>{"".join(rows)}</table>
</section>"""


def _refresh_links(view: DashboardView) -> str:
    base = f"/?{view.return_to}&" if view.return_to else "/?"
    off = f'<a id=refresh-off href="/{"?" + e(view.return_to) if view.return_to else ""}">off</a>'
    on = f'<a id=refresh-on href="{e(base)}refresh=5">every 5 s</a>'
    state = f"every {view.refresh} s" if view.refresh else "off"
    return f"<span>auto-refresh: <strong id=refresh-state>{e(state)}</strong> ({off} | {on})</span>"


def render(view: DashboardView) -> str:
    meta_refresh = f'<meta http-equiv=refresh content="{view.refresh}">' if view.refresh else ""
    body = "".join(
        [
            _clock_section(view),
            _faults_section(view),
            _journal_section(view),
            _tokens_section(view),
            _users_section(view),
            _clients_section(view),
        ]
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"{meta_refresh}<title>mock-ims dashboard</title><style>{_STYLE}</style></head><body>"
        f'<header><h1>mock-ims dashboard</h1><a href="/openapi.json">OpenAPI</a>'
        f'<a href="/ims/.well-known/openid-configuration">discovery</a>{_refresh_links(view)}</header>'
        f"<main>{MOCK_BANNER}{body}</main></body></html>"
    )


def message_page(title: str, message: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body><main><section>"
        f'<h2>{e(title)}</h2><p id=message>{e(message)}</p><p><a href="/">Back to the dashboard</a></p>'
        "</section></main></body></html>"
    )

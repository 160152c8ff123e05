"""What the dashboard shows, ready for its template (`mock_ims/templates/dashboard.html`).

Everything shown is escaped by the template: journal entries carry whatever a client sent.
Secrets never reach this module (the journal is masked; client secrets and user passwords are
not rendered) and raw tokens are shown only as a short prefix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mock_ims.config import ClientConfig, UserConfig
from mock_ims.protocol import jws
from mock_ims.protocol.tokens import TokenRecord
from mock_ims.state.clock import to_iso
from mock_ims.state.faults import FAULT_RULE_FIELDS
from mock_ims.store import Doc

RAW_PREFIX_LENGTH = 12
OUTCOMES = ("ok", "refused", "fault")
FILTER_NAMES = ("endpoint", "client", "user", "outcome")
FAULT_FIELDS = ("id", *(name for name in FAULT_RULE_FIELDS if name != "id"))

Facts = list[tuple[str, object]]


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


@dataclass(frozen=True)
class Select:
    name: str
    current: str
    options: Sequence[tuple[str, str]]  # (value, label)


@dataclass(frozen=True)
class EntryRow:
    doc: Doc
    outcome: str
    css: str  # the outcome's class, only for a known outcome
    user: str
    reason: str
    facts: Facts


@dataclass(frozen=True)
class TokenRow:
    record: TokenRecord
    status: str
    user: str
    expires: str
    facts: Facts
    header: str | None  # pretty JSON, or None when the token cannot be decoded
    claims: str | None
    undecodable: str | None


@dataclass(frozen=True)
class FaultRow:
    id: object
    cells: list[str]


def pretty_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


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


def _facts(rows: Iterable[tuple[str, object]]) -> Facts:
    return [(name, value) for name, value in rows if value not in (None, "", [], {})]


def _user_label(user_id: object, emails: Mapping[str, str]) -> str:
    if not user_id:
        return ""
    email = emails.get(str(user_id))
    return f"{email} ({user_id})" if email else str(user_id)


def _offset_text(offset_seconds: float) -> str:
    offset_ms = round(offset_seconds * 1000)
    return "none" if offset_ms == 0 else f"{'+' if offset_ms > 0 else '-'}{duration(offset_ms)}"


def _select(name: str, current: str, options: Sequence[tuple[str, str]]) -> Select:
    if current and current not in {value for value, _ in options}:
        options = [*options, (current, current)]
    return Select(name, current, options)


def _entry(entry: Doc, emails: Mapping[str, str]) -> EntryRow:
    outcome = str(entry.get("outcome") or "")
    user = _user_label(entry.get("user_id"), emails)
    reason = entry.get("reason") or ""
    facts = _facts(
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
    css = outcome if outcome in OUTCOMES else ""
    return EntryRow(entry, outcome, css, user, reason, facts)


def _token(record: TokenRecord, view: DashboardView) -> TokenRow:
    now_ms = view.now_ms
    status = token_status(record, now_ms)
    user = _user_label(record.user_id, view.emails)
    facts = _facts(
        [
            ("id", record.id),
            ("kind", record.kind),
            ("status", status),
            ("client", record.client_id),
            ("user", user),
            ("scope", record.scope),
            ("created", human_time(record.created_ms, now_ms)),
            ("expires", human_time(record.expires_ms, now_ms)),
            ("used", human_time(record.used_ms, now_ms) if record.used_ms is not None else None),
            ("revoked", human_time(record.revoked_ms, now_ms) if record.revoked_ms is not None else None),
            ("grant family", record.family),
            ("issued for", record.parent),
            ("redirect URI", record.redirect_uri),
            ("PKCE", record.code_challenge_method),
            ("minted by", record.minted_by),
            ("raw (truncated)", truncated_raw(record.raw)),
        ]
    )
    expires = relative(record.expires_ms, now_ms)
    try:
        header, claims = jws.unverified(record.raw)
    except jws.JWSError as exc:
        return TokenRow(record, status, user, expires, facts, None, None, str(exc))
    return TokenRow(record, status, user, expires, facts, pretty_json(header), pretty_json(claims), None)


def _fault_cell(name: str, value: object) -> str:
    if name == "times" and value is None:
        return "every call"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def template_context(view: DashboardView) -> dict[str, Any]:
    """The dashboard template's variables."""
    lease_left = None
    if view.lease is not None:
        lease_left = duration(round(float(str(view.lease["expires_in"])) * 1000))
    return {
        "view": view,
        "now": to_iso(view.now_ms),
        "offset_text": _offset_text(view.offset_seconds),
        "lease_left": lease_left,
        "selects": [
            _select(name, view.filters.get(name, ""), view.choices.get(name, ())) for name in FILTER_NAMES
        ],
        "entries": [_entry(entry, view.emails) for entry in view.entries],
        "tokens": [_token(record, view) for record in view.tokens],
        "fault_fields": FAULT_FIELDS,
        "faults": [
            FaultRow(fault.get("id"), [_fault_cell(name, fault.get(name)) for name in FAULT_FIELDS])
            for fault in view.faults
        ],
        "duration": duration,
    }

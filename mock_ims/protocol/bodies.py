"""The configuration file, the control plane's request bodies and its answers, declared once:
they validate the file and the bodies (`mock_ims.config` reads a `[[clients]]` table with the
model `POST /__admin/clients` takes), and `/openapi.json` is generated from them.

Pydantic 2 rather than msgspec, measured on this mock (Python 3.11, best of 5):

- import, on top of what `mock_ims.serving.app` imports already: pydantic 69 ms, msgspec 11 ms
  (bare: 90 ms and 42 ms);
- validating a representative `POST /__admin/clients` body (10 fields, a pattern, two lists, an
  enum list, two bounded integers): pydantic 4.9 µs from a dict (7.0 µs from JSON bytes),
  msgspec 2.8 µs (2.1 µs).

Both are far below anything the admin API notices; pydantic's errors are structured (the key and
the kind of error), so each maps to today's `"<key>: <message>"` without parsing English, and its
field validators carry the key. The 60 ms is paid once per worker process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    model_validator,
)

from mock_ims.protocol import pkce
from mock_ims.protocol.scopes import ScopeError, parse_scope
from mock_ims.store import KINDS

DAY = 86_400
# Lifetimes beyond a century would put expiry times past what dates can show (year 9999); a
# clock move of more than that would too.
MAX_LIFETIME_SECONDS = 100 * 365 * DAY
MAX_ADVANCE_SECONDS = MAX_LIFETIME_SECONDS
CLOCK_RANGE = ("1970-01-01T00:00:00Z", "3000-01-01T00:00:00Z")
MAX_DELAY_SECONDS = 600.0
MIN_TTL_SECONDS = 1
MAX_TTL_SECONDS = 3600
DEFAULT_TTL_SECONDS = 60
MAX_HOLDER_LENGTH = 200
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", "implicit")
ENTITLEMENTS = ("created", "trial", "trial_expired", "subscriber", "subscriber_expired")
ACCOUNT_TYPES = ("type1", "type2", "type3")
TOKEN_KINDS = ("authorization_code", "access_token", "refresh_token")
NO_CONTROL = r"^[^\u0000-\u001f\u007f]*$"
HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
HEADER_VALUE = r"^[\t\x20-\x7e\x80-\xff]*$"
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})
SCOPE_NAMES = r"^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e ]*$"

M = TypeVar("M", bound=BaseModel)


class BodyError(ValueError):
    """A body its model refuses; the message names the key at fault (`"<key>: <message>"`)."""


@dataclass(frozen=True)
class Says:
    """What an error at a field's key says: `otherwise` for a wrong type, `bounds` for a value
    outside its limits, pattern or choices, `too_long` and `too_short` for a length out of bounds.
    `{value}` in a message is the value sent (quoted, cut at 80 characters); a missing value is
    always "is required"."""

    otherwise: str
    bounds: str | None = None
    too_long: str | None = None
    too_short: str | None = None


_BOUNDS = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "string_pattern_mismatch",
    "literal_error",
    "enum",
}
_KINDS_OF_VALUE = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    dict: "an object",
    list: "a list",
    type(None): "null",
}
_TOO_LONG = {"string_too_long", "too_long"}
_TOO_SHORT = {"string_too_short", "too_short"}


def _where(loc: tuple[int | str, ...]) -> str:
    # A union's branches appear in `loc` by their type's name (`list[constrained-str]`): not a key.
    keys = [part for part in loc if isinstance(part, int) or not any(c in part for c in "[]-")]
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in keys).lstrip(".")


def _message(says: Says, kind: str) -> str:
    if kind in _TOO_LONG:
        return says.too_long or says.bounds or says.otherwise
    if kind in _TOO_SHORT:
        return says.too_short or says.bounds or says.otherwise
    if kind in _BOUNDS:
        return says.bounds or says.otherwise
    return says.otherwise


def _says(model: type[BaseModel], error: Mapping[str, Any]) -> tuple[str, str]:
    """The key at fault (`""` for the whole object) and what is wrong with it."""
    loc, kind = tuple(error["loc"]), str(error["type"])
    if kind == "value_error":  # our own validators: their message as they wrote it
        return _where(loc), str(error["ctx"]["error"])
    if kind == "missing":
        return _where(loc), "is required"
    field = model.model_fields.get(str(loc[0])) if loc else None
    # The outermost Says wins: `Annotated[MaybeText, Says(...)]` refines the alias's own.
    says = next((m for m in reversed(field.metadata) if isinstance(m, Says)), None) if field else None
    if says is None:
        return _where(loc), f"{str(error['msg'])[:1].lower()}{str(error['msg'])[1:]}"
    value = error.get("input")
    shown = repr(value[:80] if isinstance(value, str) else value)[:90]
    message = _message(says, kind).replace("{value}", shown)
    if kind.endswith("_type") and message.startswith("must be"):
        message += f", not {_KINDS_OF_VALUE.get(type(value), type(value).__name__)}"
    return _where(loc), message


def parse(model: type[M], data: Mapping[str, Any], where: str = "") -> M:
    """`data` as a `model`, or a BodyError naming the first key at fault (an unknown key first),
    under `where` (`clients[0]`) when the object sits inside another."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        key, message = "", f"unknown field {unknown[0]!r}; fields: {', '.join(sorted(model.model_fields))}"
    else:
        key, message = _says(model, errors[0])
    key = ".".join(part for part in (where, key) if part).replace(".[", "[")
    raise BodyError(f"{key}: {message}" if key else message)


class Body(BaseModel):
    """A JSON object with exactly these keys, each of exactly its type (no coercion)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


STRING = Says("must be a string")
Text = Annotated[str, Field(pattern=NO_CONTROL), Says("must be a string without control characters")]
Name = Annotated[str | None, STRING]


# ---- the clock -----------------------------------------------------------------------------


class ClockAdvance(Body):
    advance: Annotated[
        float,
        Field(
            ge=-MAX_ADVANCE_SECONDS,
            le=MAX_ADVANCE_SECONDS,
            description="Seconds forward (negative: back), at most 100 years.",
        ),
        Says("must be a number of seconds", bounds="more than 100 years"),
    ]


class ClockSet(Body):
    set: Annotated[
        str,
        Field(
            json_schema_extra={"format": "date-time"},
            description=f"An ISO 8601 time between {CLOCK_RANGE[0]} and {CLOCK_RANGE[1]}.",
        ),
        Says("must be an ISO 8601 time such as 2030-01-01T00:00:00Z"),
    ]


class ClockChange(RootModel[ClockAdvance | ClockSet]):
    """The clock stays between 1970-01-01T00:00:00Z and 3000-01-01T00:00:00Z: a change that would
    leave that range is refused (400)."""


class Clock(Body):
    now: Annotated[str, Field(description="ISO 8601, UTC.")]
    now_ms: Annotated[int, Field(description="Epoch milliseconds.")]
    offset_seconds: Annotated[float, Field(description="How far the mock is from real time.")]


# ---- faults and scenarios ------------------------------------------------------------------


def _headers(value: Any) -> Any:
    # RFC 9110 §5.1, §5.5: a name is a token; a value has no control characters but tab.

    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError("must be an object of string values")
    for name, text in value.items():
        if not re.fullmatch(HEADER_NAME[1:-1], name):
            raise ValueError(f"{name[:40]!r} is not a valid header name")
        if name.lower() in FRAMING_HEADERS:
            raise ValueError(f"{name} frames the message; the mock sets it itself")
        if not re.fullmatch(HEADER_VALUE[1:-1], text):
            raise ValueError(f"the value of {name} has line breaks or control characters")
    return value


_NOT_FRAMING = {
    "not": {
        "pattern": "^(?:[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Ll][Ee][Nn][Gg][Tt][Hh]|"
        "[Tt][Rr][Aa][Nn][Ss][Ff][Ee][Rr]-[Ee][Nn][Cc][Oo][Dd][Ii][Nn][Gg])$"
    }
}
Tampering = Literal["signature", "audience", "issuer", "expired", "nonce"]
TAMPERINGS: tuple[str, ...] = get_args(Tampering)
Times = Annotated[int | None, Field(ge=1), Says("must be a whole number >= 1, or null for every call")]
DELAY_SAYS = Says(f"must be a number of seconds between 0 and {MAX_DELAY_SECONDS:g}")
Delay = Annotated[float, Field(ge=0, le=MAX_DELAY_SECONDS), DELAY_SAYS]


class FaultRequest(Body):
    """A rule needs an effect: a status, a delay or hang."""

    endpoint: Annotated[
        str,
        Field(
            min_length=1,
            description="An endpoint name (`token`, `authorize`, `lightroom.account`, ...), `*`, or a shell pattern.",
        ),
        Says("required, an endpoint name (token, authorize, ...), '*' or a pattern"),
    ]
    # 1xx are not final answers: an app cannot send one in place of the response.
    status: Annotated[int | None, Field(ge=200, le=599), Says("must be an HTTP status code (200-599)")] = None
    body: Annotated[Any, Field(description="JSON (an object or array) or text to answer with.")] = None
    headers: Annotated[
        dict[Annotated[str, Field(pattern=HEADER_NAME)], Annotated[str, Field(pattern=HEADER_VALUE)]] | None,
        BeforeValidator(_headers),
        Field(
            json_schema_extra={"propertyNames": _NOT_FRAMING},
            description=(
                "Header names are RFC 9110 tokens (not Content-Length or Transfer-Encoding, which the "
                "mock sets); values visible ASCII, space or tab."
            ),
        ),
    ] = None
    delay: Annotated[float | None, Field(ge=0, le=MAX_DELAY_SECONDS), DELAY_SAYS] = None
    hang: Annotated[bool, Says("must be true or false")] = False
    id_token: Annotated[
        Tampering | None,
        Field(description="With the endpoint `id_token`: issue the next ID tokens wrong in this way."),
        Says("must be a string", bounds=f"{{value}} is not one of {', '.join(TAMPERINGS)}"),
    ] = None
    times: Times = None
    client_id: Name = None
    grant_type: Name = None

    @model_validator(mode="after")
    def _has_an_effect(self) -> FaultRequest:
        if (self.endpoint == "id_token") != (self.id_token is not None):
            raise ValueError("the endpoint id_token and the id_token field go together: one needs the other")
        if self.status is None and not self.hang and not self.delay and self.id_token is None:
            raise ValueError(
                "a fault needs an effect: status (with an optional body), delay, hang or id_token"
            )
        return self


class FaultRule(Body):
    endpoint: str
    status: int | None
    body: Annotated[Any, Field(description="Any JSON value, or null for no body.")]
    headers: dict[str, str]
    delay: float
    hang: bool
    id_token: Tampering | None
    times: int | None
    client_id: str | None
    grant_type: str | None
    scenario: str | None
    id: str
    created: str


class FaultRules(Body):
    faults: list[FaultRule]


class ScenarioOptions(Body):
    times: Times = None
    client_id: Name = None
    grant_type: Name = None
    user: Annotated[str, Field(description="A user's id or email (refresh-revoked)."), STRING] = ""
    delay: Delay = 5
    how: Annotated[
        Tampering | None,
        Field(description="How the ID token is wrong (id-token-tampered)."),
        Says("must be a string", bounds=f"{{value}} is not one of {', '.join(TAMPERINGS)}"),
    ] = None


class Scenario(Body):
    name: str
    description: str
    options: list[str]


class ScenarioList(Body):
    scenarios: list[Scenario]


class ScenarioResult(Body):
    scenario: str
    faults: list[FaultRule] = []
    revoked: list[str] = []


# ---- users and clients ---------------------------------------------------------------------

Email = Annotated[
    str,
    Field(
        pattern=r"^[^\s\u0000-\u001f\u007f]*@[^\s\u0000-\u001f\u007f]*$",
        max_length=254,
        description="Unique (case-insensitive).",
    ),
    Says("must be a string", bounds="{value} is not an email address"),
]
MaybeText = Annotated[
    str | None, Field(pattern=NO_CONTROL), Says("must be a string without control characters")
]
Lifetime = Annotated[
    int,
    Field(ge=1, le=MAX_LIFETIME_SECONDS),
    Says(f"must be a positive whole number of seconds, at most {MAX_LIFETIME_SECONDS}"),
]
Strings = Annotated[list[str], Says("must be a list of strings")]
ScopeNames = Annotated[str, Field(pattern=SCOPE_NAMES)]


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return pattern


def _scope_names(value: list[str] | str) -> list[str]:
    # One name or a list; each as the scope parser reads it, repeated names once.
    try:
        return list(parse_scope(",".join([value] if isinstance(value, str) else value)))
    except ScopeError as exc:
        raise ValueError(str(exc)) from exc


class UserRequest(Body):
    email: Email
    password: Annotated[str, Field(min_length=1, pattern=NO_CONTROL), Says("must be a non-empty string")]
    first_name: MaybeText = None
    last_name: MaybeText = None
    user_id: Annotated[MaybeText, Field(description="Default: derived from the email.")] = None
    country_code: MaybeText = None
    account_type: Annotated[
        Literal["type1", "type2", "type3", ""] | None,
        Says("must be a string", bounds=f"{{value}} is not one of {', '.join(ACCOUNT_TYPES)}"),
    ] = None
    preferred_languages: Strings = ["en-us"]
    entitlement: Annotated[
        Literal["created", "trial", "trial_expired", "subscriber", "subscriber_expired", ""] | None,
        Says("must be a string", bounds=f"{{value}} is not one of {', '.join(ENTITLEMENTS)}"),
    ] = None


class UserPatch(UserRequest):
    """The fields to change; the others keep their value."""

    email: Email = None  # type: ignore[assignment]
    password: Annotated[str, Field(min_length=1, pattern=NO_CONTROL), Says("must be a non-empty string")] = (
        None  # type: ignore[assignment]
    )


class User(Body):
    email: str
    password: str
    first_name: str
    last_name: str
    user_id: str
    country_code: str
    account_type: Literal["type1", "type2", "type3"]
    preferred_languages: list[str]
    entitlement: Literal["created", "trial", "trial_expired", "subscriber", "subscriber_expired"]


class Users(Body):
    users: list[User]


ClientId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9._~-]{1,255}$",
        description="RFC 3986 unreserved characters only: it appears in URLs.",
    ),
    Says(
        "must be a string",
        bounds="{value} may only hold letters, digits, '.', '_', '~' and '-' (at most 255)",
    ),
]


class ClientRequest(Body):
    client_id: ClientId
    client_secret: Annotated[
        MaybeText,
        Field(min_length=1, description="Omit (or null) for a public client."),
        Says(
            "must be a string without control characters",
            too_short="must not be empty (omit it for a public client)",
        ),
    ] = None
    name: MaybeText = None
    # Not `format: regex`: that is ECMA-262's syntax, and these are Python's `re` (a lone "]" is
    # a literal in Python, an error in ECMA-262 Unicode mode).
    redirect_uris: Annotated[
        list[Annotated[str, AfterValidator(_compiles)]],
        Says("must be a list of regular expressions"),
        Field(
            description=(
                "Regular expressions in Python's `re` syntax, each matched against the whole "
                "redirect_uri; one that does not compile is refused with 400."
            )
        ),
    ] = []
    default_redirect_uri: MaybeText = None
    scopes: Annotated[
        list[ScopeNames] | ScopeNames,
        AfterValidator(_scope_names),
        Field(description="Scope names (RFC 6749 §3.3), at most 64."),
        Says("must be a list of scope names", bounds="{value} is not a scope name (RFC 6749 §3.3)"),
    ] = ["openid", "AdobeID"]
    grant_types: Annotated[
        list[Literal["authorization_code", "refresh_token", "client_credentials", "implicit"]],
        Says(
            f"must be a list of {', '.join(GRANT_TYPES)}",
            bounds=f"{{value}} is not one of {', '.join(GRANT_TYPES)}",
        ),
    ] = ["authorization_code", "refresh_token"]
    access_token_lifetime: Lifetime = DAY
    refresh_token_lifetime: Lifetime = 14 * DAY
    refresh_without_offline_access: Annotated[bool, Says("must be true or false")] = False


class ClientPatch(ClientRequest):
    """The fields to change; the others keep their value."""

    client_id: ClientId = None  # type: ignore[assignment]


class ClientReplacement(ClientPatch):
    """The whole client; `client_id`, if given, must be the path's."""


class Client(Body):
    client_id: str
    client_secret: str | None
    name: str
    redirect_uris: list[str]
    default_redirect_uri: str | None
    scopes: list[str]
    grant_types: list[str]
    access_token_lifetime: int
    refresh_token_lifetime: int
    refresh_without_offline_access: bool


class Clients(Body):
    clients: list[Client]


# ---- the configuration file ----------------------------------------------------------------

# Each [[clients]] and [[users]] table is a ClientRequest or UserRequest (parsed one by one, so
# an error names `clients[1].scopes`); unset settings take MockConfig's defaults.
Tables = Annotated[list[dict[str, Any]], Field(min_length=1, validate_default=True)]
Whole = Annotated[int | None, Field(ge=1), Says("must be a positive whole number of entries")]
Seconds = Annotated[
    int | None,
    Field(ge=1, le=MAX_LIFETIME_SECONDS),
    Says(
        "must be a positive whole number of seconds",
        bounds=f"must be a positive whole number of seconds, at most {MAX_LIFETIME_SECONDS} (100 years)",
    ),
]


class Settings(Body):
    """A `mock-ims` configuration file (TOML)."""

    clients: Annotated[
        Tables,
        Says("must be a list of [[clients]] tables", too_short="at least one [[clients]] table is required"),
    ] = []
    users: Annotated[list[dict[str, Any]], Says("must be a list of [[users]] tables")] = []
    code_lifetime: Seconds = None
    session_lifetime: Seconds = None
    login_request_lifetime: Seconds = None
    auto_login: Annotated[
        MaybeText, Field(description="An email: every authorize request approved as that user.")
    ] = None
    journal_limit: Whole = None
    retention_seconds: Seconds = None
    purge_interval_seconds: Seconds = None
    region: MaybeText = None
    issuer: Annotated[
        str | None,
        Field(pattern=r"^(https?://[^/?#\s]+)?$"),
        Says("must be a string", bounds="must be a scheme and host, like https://ims.example"),
    ] = None


# ---- tokens --------------------------------------------------------------------------------

Kind = Literal["authorization_code", "access_token", "refresh_token"]
KIND = Says(f"must be one of {', '.join(TOKEN_KINDS)}")


class MintRequest(Body):
    """A null field is as if it were left out."""

    kind: Annotated[Kind, Says(f"required, one of {', '.join(TOKEN_KINDS)}")]
    user: Annotated[
        Name, Field(description="Email or id; required but for an access_token (then a technical account).")
    ] = None
    client_id: Annotated[Name, Field(description="Default: the first configured client.")] = None
    scope: Annotated[
        str | list[str] | None,
        Field(description="Default: the client's scopes."),
        Says("must be a string (comma- or space-separated) or a list of strings"),
    ] = None
    redirect_uri: Annotated[
        Name, Field(description="Required for a code; must match the client's patterns.")
    ] = None
    state: Name = None
    nonce: Name = None
    code_challenge: Name = None
    code_challenge_method: Annotated[
        Literal["S256", "plain"] | None, Says(f"must be one of {', '.join(pkce.METHODS)}")
    ] = None
    lifetime: Annotated[
        int | None,
        Field(ge=1, le=MAX_LIFETIME_SECONDS),
        Says(f"must be a whole number of seconds from 1 to {MAX_LIFETIME_SECONDS}"),
    ] = None


class Minted(Body):
    kind: str
    id: str
    token: str
    expires: str
    access_token: Annotated[
        str, Field(description="With a refresh token: the access token issued with it.")
    ] = ""


SELECTORS = ("user", "client_id", "token_id", "token")


class RevokeRequest(Body):
    # At least one selector that is not null: a null one selects nothing.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": [name], "properties": {name: {"type": "string"}}} for name in SELECTORS]
        }
    )

    user: Name = None
    client_id: Name = None
    token_id: Name = None
    token: Annotated[Name, Field(description="A token's value (it must be one this mock signed).")] = None
    kind: Annotated[Kind | None, KIND] = None

    @model_validator(mode="after")
    def _selects(self) -> RevokeRequest:
        if all(getattr(self, name) is None for name in SELECTORS):
            raise ValueError("say what to revoke: user, client_id, token_id or token")
        return self


class Revoked(Body):
    revoked: list[str]


class TokenView(Body):
    id: str
    kind: Kind
    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]
    client_id: str
    user_id: str
    scope: str
    family: str
    parent: str | None
    created: str
    created_ms: int
    expires: str
    expires_ms: int
    expired: bool
    used: bool
    used_at: str | None
    revoked: bool
    revoked_at: str | None
    revoked_reason: str | None
    redirect_uri: str | None
    minted_by: Literal["flow", "admin"]


class TokenList(Body):
    tokens: list[TokenView]
    count: int


# ---- the lease -----------------------------------------------------------------------------


def _printable(value: str) -> str:
    if not value.strip():
        raise ValueError('required, who takes the lease, e.g. "ims-conformance on ci-7 pid 1234"')
    if not value.isprintable():
        raise ValueError("must be printable text, without control characters or line breaks")
    return value.strip()


TTL_SAYS = Says(
    "must be a number of seconds", bounds=f"must be from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS} seconds"
)
TTL_FIELD = Field(
    ge=MIN_TTL_SECONDS,
    le=MAX_TTL_SECONDS,
    description="Seconds of real time until it expires, unless renewed.",
)
Ttl = Annotated[float, TTL_FIELD, TTL_SAYS]


class LeaseRequest(Body):
    holder: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_HOLDER_LENGTH,
            description="Who takes it, shown to whoever is refused: e.g. `ims-conformance on ci-7 pid 1234`.",
        ),
        AfterValidator(_printable),
        Says(
            'required, who takes the lease, e.g. "ims-conformance on ci-7 pid 1234"',
            too_long=f"at most {MAX_HOLDER_LENGTH} characters",
        ),
    ]
    ttl: Ttl = DEFAULT_TTL_SECONDS


class LeaseRenewal(Body):
    ttl: Annotated[
        float,
        TTL_FIELD,
        TTL_SAYS,
        Field(
            default=None,
            description="Default: the ttl it was taken (or last renewed) for.",
        ),
    ]


class LeaseShown(Body):
    holder: Annotated[str, Field(description="Who holds it, as they said when taking it.")]
    ttl: Ttl
    expires_in: Annotated[float, Field(ge=0, description="Seconds of real time left.")]
    expires_at: Annotated[str, Field(description="ISO 8601, UTC, real time (not the mock's clock).")]
    acquired_at: Annotated[str, Field(description="ISO 8601, UTC, real time.")]


class Lease(LeaseShown):
    id: Annotated[str, Field(description="The lease's id: renew and release it with it.")]


class LeaseFree(Body):
    held: Literal[False]


class LeaseTaken(LeaseShown):
    held: Literal[True]


class LeaseStatus(RootModel[LeaseFree | LeaseTaken]):
    pass


class LeaseHeld(LeaseShown):
    error: Literal["lease_held"]
    detail: str


# ---- the rest of the control plane -----------------------------------------------------------


class AdminError(Body):
    error: str
    detail: str


class Cleared(Body):
    cleared: Literal[True]


class Reset(Body):
    reset: Literal[True]


class Process(Body):
    pid: int
    rss_bytes: Annotated[
        int | None, Field(description="Resident memory of the answering worker (null where unknown).")
    ]


Count = Annotated[int, Field(ge=0)]
Documents = Annotated[
    dict[str, Count],
    Field(
        description="Documents of each kind in the store (tokens includes codes).",
        json_schema_extra={
            "properties": {kind: {"type": "integer", "minimum": 0} for kind in KINDS},
            "required": list(KINDS),
            "additionalProperties": False,
        },
    ),
]


class Stats(Body):
    documents: Documents
    journal_entries: Count
    journal_limit: Annotated[int, Field(ge=1)]
    process: Process


class TamperedIdToken(Body):
    how: Tampering
    header: dict[str, Any]
    claims: dict[str, Any]


class JournalEntry(Body):
    seq: int
    time: Annotated[str, Field(description="Mock-clock time, ISO 8601.")]
    time_ms: int
    real_time: str
    endpoint: str
    version: str
    method: str
    path: str
    client_id: str | None
    user_id: str | None
    grant_type: str | None
    params: Annotated[
        dict[str, str], Field(description="Secrets masked (`***`), codes and tokens replaced by their ids.")
    ]
    param_sources: dict[str, Literal["query", "body"]]
    headers: dict[str, str]
    auth: Literal["basic", "body", "query", "none"] | None
    outcome: Literal["ok", "refused", "fault"]
    status: int
    error: str | None
    reason: str | None
    notes: Annotated[
        list[str],
        Field(description="Leniencies accepted: `redirect_uri_omitted`, `client_secret_in_query`, ..."),
    ]
    issued: list[str]
    consumed: str | None
    revoked: list[str]
    location: str | None
    fault: Annotated[str | None, Field(description="The id of the fault rule that shaped this answer.")]
    tampered_id_token: Annotated[
        TamperedIdToken | None,
        Field(description="An ID token issued wrong on purpose (the `id-token-tampered` scenario)."),
    ]
    pid: Annotated[int, Field(description="The worker process that answered.")]


class Journal(Body):
    entries: list[JournalEntry]
    count: int

"""Every route of the control plane: its handler, and per method what it takes and answers
(`/openapi.json` is generated from this table and the models of `mock_ims.protocol.bodies`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_ims.control.admin.clock import clock
from mock_ims.control.admin.faults import fault, faults, scenario, scenarios
from mock_ims.control.admin.journal import journal
from mock_ims.control.admin.lease import lease, one_lease
from mock_ims.control.admin.registry import client, clients, user, users
from mock_ims.control.admin.stats import stats
from mock_ims.control.admin.tokens import reset, revoke, tokens
from mock_ims.protocol import bodies as b


@dataclass(frozen=True)
class Answer:
    description: str
    model: type[BaseModel] | None = None
    location: str = ""  # the Location header's description, when it is sent


# A status's answer, or the name of a shared response (`#/components/responses/...`).
Answers = Mapping[int, Answer | str]


@dataclass(frozen=True)
class Op:
    summary: str
    answers: Answers
    body: type[BaseModel] | None = None
    body_required: bool = True
    description: str = ""
    query: str = ""  # the name of a table of query parameters (control/openapi.py)


@dataclass(frozen=True)
class Api:
    path: str
    name: str  # operation ids are `admin_<name>_<method>`
    endpoint: Callable[[Request], Awaitable[Response]]
    ops: Mapping[str, Op]
    parameters: Mapping[str, str] = field(default_factory=dict)  # path parameter: description


CLOCK = Answer("The time.", b.Clock)
USER = Answer("The user.", b.User)
CLIENT = Answer("The client.", b.Client)
GONE = Answer("Removed.")
RULES = Answer("The rules.", b.FaultRules)
LEASE = (
    "A cooperative, exclusive lease on the whole mock, for a tool that needs it to itself for a while (a "
    "conformance run moves the clock and reads the journal). One holder at a time: a second is refused (409) "
    "with who holds it and for how long. It expires on real time, never on the mock's clock, unless "
    "renewed; `POST /__admin/reset` keeps it, and it is not journalled. Cooperative: it refuses a second "
    "holder, it does not lock the mock."
)
USER_REF = {"ref": "The user's id or email (case-insensitive)."}
CLIENT_ID = {"client_id": "The client's id."}
LEASE_ID = {"lease_id": "The id `POST /__admin/lease` answered."}

API: tuple[Api, ...] = (
    Api("/__admin/journal", "journal", journal, {
        "get": Op("Journal entries, oldest first, filtered", {200: Answer("The entries.", b.Journal), 400: "AdminError"}, query="journal"),
        "delete": Op("Clear the journal", {200: Answer("Cleared.", b.Cleared)}),
    }),
    Api("/__admin/clock", "clock", clock, {
        "get": Op("The mock's time", {200: CLOCK}),
        "post": Op("Move the mock's time (every expiry decision uses it)", {200: Answer("The new time.", b.Clock)}, b.ClockChange),
        "delete": Op("Back to real time", {200: CLOCK}),
    }),
    Api("/__admin/faults", "faults", faults, {
        "get": Op("The active fault rules", {200: RULES}),
        "post": Op("Add a fault rule", {201: Answer("The rule, with its id.", b.FaultRule)}, b.FaultRequest),
        "delete": Op("Remove every fault rule", {200: Answer("None left.", b.FaultRules)}),
    }),
    Api("/__admin/faults/{fault_id}", "fault", fault, {
        "delete": Op("Remove one fault rule", {204: GONE, 404: "AdminNotFound"}),
    }, {"fault_id": "The rule's id."}),
    Api("/__admin/scenarios", "scenarios", scenarios, {
        "get": Op("The named scenarios and their options", {200: Answer("The scenarios.", b.ScenarioList)}),
    }),
    Api("/__admin/scenarios/{name}", "scenario", scenario, {
        "post": Op(
            "Play a named scenario",
            {201: Answer("The fault rules added, or the tokens revoked.", b.ScenarioResult), 404: "AdminNotFound"},
            b.ScenarioOptions, body_required=False,
            description="Each scenario takes only the options `GET /__admin/scenarios` lists for it.",
        ),
    }, {"name": "The scenario (see `GET /__admin/scenarios`)."}),
    Api("/__admin/users", "users", users, {
        "get": Op("Every user", {200: Answer("The users.", b.Users)}),
        "post": Op("Add a user", {201: USER, 409: "AdminConflict"}, b.UserRequest),
    }),
    Api("/__admin/users/{ref}", "user", user, {
        "get": Op("One user", {200: USER, 404: "AdminNotFound"}),
        "put": Op("Replace a user (the id cannot change)", {200: USER, 404: "AdminNotFound", 409: "AdminConflict"}, b.UserRequest),
        "patch": Op("Change some of a user's fields (the id cannot change)", {200: USER, 404: "AdminNotFound", 409: "AdminConflict"}, b.UserPatch, body_required=False),
        "delete": Op("Remove a user and revoke every token issued to it", {204: GONE, 404: "AdminNotFound"}),
    }, USER_REF),
    Api("/__admin/clients", "clients", clients, {
        "get": Op("Every client", {200: Answer("The clients.", b.Clients)}),
        "post": Op("Register a client", {201: CLIENT, 409: "AdminConflict"}, b.ClientRequest),
    }),
    Api("/__admin/clients/{client_id}", "client", client, {
        "get": Op("One client", {200: CLIENT, 404: "AdminNotFound"}),
        "put": Op("Replace a client (the id cannot change)", {200: CLIENT, 404: "AdminNotFound"}, b.ClientReplacement),
        "patch": Op("Change some of a client's fields (the id cannot change)", {200: CLIENT, 404: "AdminNotFound"}, b.ClientPatch, body_required=False),
        "delete": Op("Remove a client and revoke every token issued to it", {204: GONE, 404: "AdminNotFound"}),
    }, CLIENT_ID),
    Api("/__admin/tokens", "tokens", tokens, {
        "get": Op("Every code and token issued, filtered", {200: Answer("The tokens.", b.TokenList), 400: "AdminError"}, query="tokens"),
        "post": Op("Mint a code or token as if the user had signed in, without a browser", {201: Answer("The code or token.", b.Minted), 404: "AdminNotFound"}, b.MintRequest),
    }),
    Api("/__admin/tokens/revoke", "tokens_revoke", revoke, {
        "post": Op("Revoke tokens by user, client, id or value (the fields combine)", {200: Answer("The ids revoked.", b.Revoked)}, b.RevokeRequest),
    }),
    Api("/__admin/reset", "reset", reset, {
        "post": Op("Back to the configured state: journal, tokens, sessions, faults, clock, users, clients", {200: Answer("Reset.", b.Reset)}),
    }),
    Api("/__admin/stats", "stats", stats, {
        "get": Op("How much state the mock holds: documents by kind, journal entries, memory", {200: Answer("The figures.", b.Stats)}),
    }),
    Api("/__admin/lease", "lease", lease, {
        "get": Op("Who holds the mock's lease, if anyone", {200: Answer("The holder and its expiry, or `held: false`.", b.LeaseStatus)}, description=LEASE),
        "post": Op(
            "Take the mock's lease",
            {
                201: Answer("Yours: keep the `id`, the only proof it is yours; renew it before it expires.", b.Lease, location="`/__admin/lease/{id}`: where to renew and release it."),
                409: "LeaseHeld",
            },
            b.LeaseRequest, description=LEASE,
        ),
    }),
    Api("/__admin/lease/{lease_id}", "lease", one_lease, {
        "put": Op("Renew the lease: it expires `ttl` seconds from now", {200: Answer("Renewed.", b.Lease), 404: "LeaseGone", 409: "LeaseHeld"}, b.LeaseRenewal, body_required=False),
        "delete": Op(
            "Release the lease", {204: Answer("Released: the next holder may take it."), 404: "LeaseGone", 409: "LeaseHeld"},
            description="Not idempotent: releasing a lease no longer held (released, expired) is a 404.",
        ),
    }, LEASE_ID),
)  # fmt: skip


def admin_routes() -> list[BaseRoute]:
    # `{ref:path}`, `{client_id:path}`: ids and emails may hold a "/"; the document says `{ref}`.
    wide = {"ref", "client_id"}
    return [
        Route(
            "/".join(
                f"{{{part[1:-1]}:path}}" if part[1:-1] in wide else part for part in api.path.split("/")
            ),
            api.endpoint,
            methods=[method.upper() for method in api.ops],
        )
        for api in API
    ]

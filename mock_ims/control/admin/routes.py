"""Every route of the control plane."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from mock_ims.control.admin.clock import clock
from mock_ims.control.admin.faults import fault, faults, scenario, scenarios
from mock_ims.control.admin.journal import journal
from mock_ims.control.admin.lease import lease, one_lease
from mock_ims.control.admin.registry import client, clients, user, users
from mock_ims.control.admin.stats import stats
from mock_ims.control.admin.tokens import reset, revoke, tokens

ONE = ["GET", "PUT", "PATCH", "DELETE"]


def admin_routes() -> list[BaseRoute]:
    return [
        Route("/__admin/journal", journal, methods=["GET", "DELETE"]),
        Route("/__admin/clock", clock, methods=["GET", "POST", "DELETE"]),
        Route("/__admin/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/__admin/faults/{fault_id}", fault, methods=["DELETE"]),
        Route("/__admin/scenarios", scenarios, methods=["GET"]),
        Route("/__admin/scenarios/{name}", scenario, methods=["POST"]),
        Route("/__admin/users", users, methods=["GET", "POST"]),
        Route("/__admin/users/{ref:path}", user, methods=ONE),
        Route("/__admin/clients", clients, methods=["GET", "POST"]),
        Route("/__admin/clients/{client_id:path}", client, methods=ONE),
        Route("/__admin/tokens", tokens, methods=["GET", "POST"]),
        Route("/__admin/tokens/revoke", revoke, methods=["POST"]),
        Route("/__admin/reset", reset, methods=["POST"]),
        Route("/__admin/stats", stats, methods=["GET"]),
        Route("/__admin/lease", lease, methods=["GET", "POST"]),
        Route("/__admin/lease/{lease_id}", one_lease, methods=["PUT", "DELETE"]),
    ]

"""`/__admin/lease`: take, renew and give back the mock's lease (see `mock_ims.state.lease`).

The lease's id is its holder's proof: it is answered once, to the acquirer, and never shown
by `GET` or in a refusal. Releasing a lease that is no longer held (released before, or
expired) is a 404, not a silent success: its holder learns that its hold lapsed.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.control.admin.common import AdminError, body_as
from mock_ims.protocol.bodies import LeaseRenewal, LeaseRequest
from mock_ims.state.context import context
from mock_ims.state.lease import (
    Lease,
    LeaseError,
    LeaseHeld,
    LeaseNotFound,
    Leases,
)


def _refused(exc: LeaseError, leases: Leases) -> AdminError:
    if isinstance(exc, LeaseHeld):
        shown = leases.describe(exc.lease)
        return AdminError(str(exc), 409, "lease_held", {**shown, "expires_in": exc.expires_in})
    if isinstance(exc, LeaseNotFound):
        return AdminError(str(exc), 404, "not_found")
    return AdminError(str(exc), 409, "lease_contended")


def _granted(lease: Lease, leases: Leases) -> dict[str, Any]:
    return {"id": lease.id, **leases.describe(lease)}


async def lease(request: Request) -> Response:
    """GET: who holds the lease, or `{"held": false}`; POST `{"holder", "ttl"}`: take it (201)."""
    leases = context(request).leases
    if request.method == "GET":
        held = await leases.current()
        return JSONResponse({"held": False} if held is None else {"held": True, **leases.describe(held)})
    wanted = await body_as(request, LeaseRequest, required=True)
    try:
        taken = await leases.acquire(wanted.holder, wanted.ttl)
    except LeaseError as exc:
        raise _refused(exc, leases) from exc
    return JSONResponse(
        _granted(taken, leases), status_code=201, headers={"Location": f"/__admin/lease/{taken.id}"}
    )


async def one_lease(request: Request) -> Response:
    """PUT (optionally `{"ttl"}`): renew the lease; DELETE: release it (204)."""
    leases = context(request).leases
    lease_id = request.path_params["lease_id"]
    try:
        if request.method == "DELETE":
            await leases.release(lease_id)
            return Response(status_code=204)
        renewal = await body_as(request, LeaseRenewal)
        renewed = await leases.renew(lease_id, renewal.ttl)
    except LeaseError as exc:
        raise _refused(exc, leases) from exc
    return JSONResponse(_granted(renewed, leases))

"""`/__admin/lease`: take, renew and give back the mock's lease (see `mock_ims.state.lease`).

The lease's id is its holder's proof: it is answered once, to the acquirer, and never shown
by `GET` or in a refusal. Releasing a lease that is no longer held (released before, or
expired) is a 404, not a silent success: its holder learns that its hold lapsed.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.control.admin.common import AdminError, json_body
from mock_ims.state.context import context
from mock_ims.state.lease import (
    DEFAULT_TTL_SECONDS,
    MAX_HOLDER_LENGTH,
    MAX_TTL_SECONDS,
    MIN_TTL_SECONDS,
    Lease,
    LeaseError,
    LeaseHeld,
    LeaseNotFound,
    Leases,
)

ACQUIRE_FIELDS = frozenset({"holder", "ttl"})


def _ttl(data: dict[str, Any]) -> float | None:
    if "ttl" not in data:
        return None
    value = data["ttl"]  # an explicit null is a mistake, not "the default"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AdminError("ttl: must be a number of seconds")
    if not MIN_TTL_SECONDS <= value <= MAX_TTL_SECONDS:
        raise AdminError(f"ttl: must be from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS} seconds")
    return float(value)


def _holder(data: dict[str, Any]) -> str:
    value = data.get("holder")
    if not isinstance(value, str) or not value.strip():
        raise AdminError('holder: required, who takes the lease, e.g. "ims-conformance on ci-7 pid 1234"')
    if len(value) > MAX_HOLDER_LENGTH:
        raise AdminError(f"holder: at most {MAX_HOLDER_LENGTH} characters")
    if not value.isprintable():
        raise AdminError("holder: must be printable text, without control characters or line breaks")
    return value.strip()


def _check_fields(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise AdminError(f"unknown field {unknown[0]!r}; fields: {', '.join(sorted(allowed))}")


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
    data = await json_body(request, required=True)
    _check_fields(data, ACQUIRE_FIELDS)
    holder, ttl = _holder(data), _ttl(data)
    try:
        taken = await leases.acquire(holder, DEFAULT_TTL_SECONDS if ttl is None else ttl)
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
        data = await json_body(request)
        _check_fields(data, frozenset({"ttl"}))
        renewed = await leases.renew(lease_id, _ttl(data))
    except LeaseError as exc:
        raise _refused(exc, leases) from exc
    return JSONResponse(_granted(renewed, leases))

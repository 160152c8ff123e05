"""`/__admin/clock`: read the mock's time, advance it, set it, or reset it to real time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.control.admin.common import AdminError, checked, json_body
from mock_ims.protocol.bodies import ClockAdvance, ClockSet
from mock_ims.state.clock import ClockRangeError, parse_iso
from mock_ims.state.context import context


async def clock(request: Request) -> Response:
    """GET: the time; POST `{"advance": seconds}` or `{"set": "<ISO 8601>"}`; DELETE: real time."""
    ctx = context(request)
    if request.method == "POST":
        data = await json_body(request)
        if set(data) == {"advance"}:
            try:
                await ctx.clock.advance(checked(ClockAdvance, data).advance)
            except ClockRangeError as exc:
                raise AdminError(f"advance: {exc}") from exc
        elif set(data) == {"set"}:
            when = checked(ClockSet, data).set
            try:
                epoch_ms = parse_iso(when)
            except (ValueError, OverflowError, OSError) as exc:
                raise AdminError(f"set: {when!r} is not an ISO 8601 time") from exc
            try:
                await ctx.clock.set(epoch_ms)
            except ClockRangeError as exc:
                raise AdminError(f"set: {exc}") from exc
        else:
            raise AdminError('send {"advance": seconds} or {"set": "<ISO 8601 time>"}')
    elif request.method == "DELETE":
        await ctx.clock.reset()
    return JSONResponse(await ctx.clock.describe())

"""`/__admin/clock`: read the mock's time, advance it, set it, or reset it to real time."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.control.admin.common import AdminError, json_body
from mock_ims.state.clock import ClockRangeError, parse_iso
from mock_ims.state.context import context

MAX_ADVANCE_SECONDS = 100 * 365 * 86_400


async def clock(request: Request) -> Response:
    """GET: the time; POST `{"advance": seconds}` or `{"set": "<ISO 8601>"}`; DELETE: real time."""
    ctx = context(request)
    if request.method == "POST":
        data = await json_body(request)
        if set(data) == {"advance"}:
            seconds = data["advance"]
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not math.isfinite(seconds)
            ):
                raise AdminError("advance: must be a number of seconds")
            if abs(seconds) > MAX_ADVANCE_SECONDS:
                raise AdminError("advance: more than 100 years")
            try:
                await ctx.clock.advance(float(seconds))
            except ClockRangeError as exc:
                raise AdminError(f"advance: {exc}") from exc
        elif set(data) == {"set"}:
            if not isinstance(data["set"], str):
                raise AdminError("set: must be an ISO 8601 time such as 2030-01-01T00:00:00Z")
            try:
                epoch_ms = parse_iso(data["set"])
            except (ValueError, OverflowError, OSError) as exc:
                raise AdminError(f"set: {data['set']!r} is not an ISO 8601 time") from exc
            try:
                await ctx.clock.set(epoch_ms)
            except ClockRangeError as exc:
                raise AdminError(f"set: {exc}") from exc
        else:
            raise AdminError('send {"advance": seconds} or {"set": "<ISO 8601 time>"}')
    elif request.method == "DELETE":
        await ctx.clock.reset()
    return JSONResponse(await ctx.clock.describe())

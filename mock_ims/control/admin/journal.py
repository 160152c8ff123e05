"""`/__admin/journal`: read (with filters) and clear the journal."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.control.admin.common import AdminError, int_param
from mock_ims.state.clock import parse_iso
from mock_ims.state.context import context
from mock_ims.state.journal import JournalFilter

FILTERS = ("endpoint", "client_id", "user_id", "outcome", "since", "after", "limit")


def parse_filter(request: Request) -> JournalFilter:
    query = request.query_params
    unknown = sorted(set(query) - set(FILTERS) - {"client", "user"})
    if unknown:
        raise AdminError(f"unknown filter {unknown[0]!r}; use {', '.join(FILTERS)}")
    since_ms = None
    if query.get("since"):
        try:
            since_ms = parse_iso(query["since"])
        except ValueError as exc:
            raise AdminError(f"since: {query['since']!r} is not an ISO 8601 time") from exc
    return JournalFilter(
        endpoint=query.get("endpoint"),
        client_id=query.get("client_id") or query.get("client"),
        user_id=query.get("user_id") or query.get("user"),
        outcome=query.get("outcome"),
        since_ms=since_ms,
        after=int_param(query.get("after"), "after", default=0),
        limit=int_param(query.get("limit"), "limit", default=None),
    )


async def journal(request: Request) -> Response:
    """GET: entries, oldest first, filtered; DELETE: clear."""
    ctx = context(request)
    if request.method == "DELETE":
        await ctx.journal.clear()
        return JSONResponse({"cleared": True})
    entries = await ctx.journal.entries(parse_filter(request))
    return JSONResponse({"entries": entries, "count": len(entries)})

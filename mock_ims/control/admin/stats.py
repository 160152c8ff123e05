"""`/__admin/stats`: how much state the mock holds, to see that it stays bounded under load."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.state.context import context
from mock_ims.store import KINDS


def resident_bytes() -> int | None:
    """This process's resident memory (Linux /proc), or None where it cannot be read."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


async def stats(request: Request) -> Response:
    """GET: documents of each kind in the store, journal entries, and the answering process."""
    ctx = context(request)
    documents = {kind: len(await ctx.store.items(kind)) for kind in KINDS}
    return JSONResponse(
        {
            "documents": documents,
            "journal_entries": len(await ctx.store.journal()),
            "journal_limit": ctx.config.journal_limit,
            "process": {"pid": os.getpid(), "rss_bytes": resident_bytes()},
        }
    )

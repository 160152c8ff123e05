"""Dropping what has expired, so a mock under sustained load keeps a bounded amount of state.

Codes and tokens are purged `retention_seconds` after they expire, sessions and login requests
when they expire; the journal is capped by `journal_limit` as it is written. The running server
purges every `purge_interval_seconds`.

The purge goes by the earlier of the mock's clock and real time: moving the clock forward (to
expire tokens in a test) never makes their records vanish, so answers stay "expired" rather than
"unknown", and moving it back never drops anything early.
"""

from __future__ import annotations

import asyncio
import logging

from mock_ims.state.clock import real_ms
from mock_ims.state.context import Context

logger = logging.getLogger("mock_ims.state.purge")


async def purge_expired(ctx: Context) -> int:
    """Drop every document past its expiry (plus retention, for tokens); how many were dropped."""
    now_ms = min(await ctx.now_ms(), real_ms())
    return await ctx.store.purge(now_ms)


async def purge_periodically(ctx: Context) -> None:
    """Run until cancelled (at shutdown); an error is logged and the next round tries again."""
    interval = ctx.config.purge_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            dropped = await purge_expired(ctx)
        except Exception:
            logger.exception("purging expired state failed")
            continue
        if dropped:
            logger.debug("purged %d expired documents", dropped)

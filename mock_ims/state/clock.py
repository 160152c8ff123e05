"""The mock's clock: real time plus an offset that tests control.

The offset lives in the store, so every worker (and every host sharing a Redis store) agrees on
what time it is. Every expiry decision, for codes, tokens, login requests and sessions, asks
this clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from mock_ims.protocol.bodies import CLOCK_RANGE
from mock_ims.state.cached import StoreView
from mock_ims.store import Store

_KEY = "clock"
# Where the mock's time may be moved: far enough for any test, and far from the limits of
# datetime (year 9999), which every expiry plus a lifetime of up to 100 years must stay within.
MIN_MS = 0
MAX_MS = 32_503_680_000_000  # 3000-01-01T00:00:00Z


class ClockRangeError(ValueError):
    """A change that would move the clock outside `CLOCK_RANGE`."""


def real_ms() -> int:
    return time.time_ns() // 1_000_000


_second: tuple[int, str] = (0, "1970-01-01T00:00:00")  # the last second formatted


def to_iso(ms: int) -> str:
    """`2026-01-02T03:04:05.678Z`. Every journal entry has two: the second is formatted once
    (datetime costs a few microseconds), the milliseconds each time."""
    global _second
    second, millis = divmod(ms, 1000)
    if _second[0] != second:
        _second = (second, datetime.fromtimestamp(second, UTC).isoformat(timespec="seconds")[:-6])
    return f"{_second[1]}.{millis:03d}Z"


def parse_iso(text: str) -> int:
    """An ISO 8601 time (naive means UTC) as epoch milliseconds; ValueError when malformed."""
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _check_range(epoch_ms: int) -> None:
    if not MIN_MS <= epoch_ms < MAX_MS:
        raise ClockRangeError(f"the clock must stay between {CLOCK_RANGE[0]} and {CLOCK_RANGE[1]}")


class Clock:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._offset = StoreView(store, self._load_offset)

    async def _load_offset(self) -> int:
        doc = await self._store.get("meta", _KEY)
        return int(doc["offset_ms"]) if doc else 0

    async def offset_ms(self) -> int:
        return await self._offset.get()

    async def now_ms(self) -> int:
        return real_ms() + await self.offset_ms()

    async def advance(self, seconds: float) -> int:
        """Move time forward (or back, with a negative value); the new time in epoch ms."""
        offset = await self.offset_ms() + round(seconds * 1000)
        now = real_ms()
        _check_range(now + offset)
        await self._store.put("meta", _KEY, {"offset_ms": offset})
        return now + offset

    async def set(self, epoch_ms: int) -> int:
        _check_range(epoch_ms)
        await self._store.put("meta", _KEY, {"offset_ms": epoch_ms - real_ms()})
        return epoch_ms

    async def reset(self) -> None:
        await self._store.delete("meta", _KEY)

    async def describe(self) -> dict[str, object]:
        offset = await self.offset_ms()
        now = real_ms() + offset
        return {"now": to_iso(now), "now_ms": now, "offset_seconds": offset / 1000}

"""`mock-ims serve` sends each response in one write: the writes of one event-loop turn are
joined (uvicorn writes the head and the body separately)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mock_ims.serving.coalescing import CoalescingTransport

pytestmark = pytest.mark.anyio


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0


async def next_turn() -> None:
    await asyncio.sleep(0)


async def test_the_writes_of_one_turn_leave_as_one() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert inner.writes == []
    assert transport.get_write_buffer_size() == 40
    await next_turn()
    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]


async def test_writes_of_later_turns_keep_their_order() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"a")
    await next_turn()
    transport.writelines([b"b", b"c"])
    await next_turn()
    assert inner.writes == [b"a", b"bc"]


async def test_close_sends_what_is_pending_first() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"last answer")
    transport.close()
    assert inner.writes == [b"last answer"]
    assert inner.closed
    await next_turn()
    assert inner.writes == [b"last answer"]


async def test_abort_drops_what_is_pending() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"never sent")
    transport.abort()
    await next_turn()
    assert inner.writes == []
    assert inner.aborted

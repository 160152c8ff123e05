"""Stopping a run early: `--timeout`, Ctrl-C or SIGTERM end the run where it is.

The signal becomes a `RunStopped` (a KeyboardInterrupt, which pytest also stops on), so the
runner's own clean-up still runs: the checks not yet judged are ERROR "not judged: the run was
stopped", the reports are written, and the app's whole process group is stopped. Later signals
during that clean-up are ignored, so a second Ctrl-C cannot leave the app running.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGALRM)


class RunStopped(KeyboardInterrupt):
    """The run was stopped before it ended; `reason` says by what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class StopState:
    reason: str | None = None

    @property
    def stopped(self) -> bool:
        return self.reason is not None


def _reason(signum: int, timeout: float | None) -> str:
    if signum == signal.SIGALRM:
        return f"the run took longer than --timeout {timeout:g}s"
    if signum == signal.SIGINT:
        return "interrupted (Ctrl-C)"
    return f"stopped by {signal.Signals(signum).name}"


@contextlib.contextmanager
def stoppable(timeout: float | None) -> Iterator[StopState]:
    """Within the block, SIGTERM, SIGINT and the `timeout` (seconds) raise `RunStopped` once."""
    state = StopState()
    if threading.current_thread() is not threading.main_thread():
        yield state  # signal handlers belong to the main thread; a caller elsewhere stops it itself
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if state.stopped:
            return  # already stopping: let the clean-up finish
        state.reason = _reason(signum, timeout)
        raise RunStopped(state.reason)

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    if timeout:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield state
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, old in previous.items():
            signal.signal(signum, old)

"""Several `mock-ims serve` processes sharing one store, as behind a load balancer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.helpers.processes import RunningProcess, mock_ims_process


def redis_store_url(redis_url: str) -> str:
    """The test Redis under a key prefix of its own, so each group of mocks starts empty."""
    return f"{redis_url}?prefix=mocks-{uuid.uuid4().hex}:"


@contextmanager
def mocks_sharing_store(
    store_url: str, data_dir: Path, *args: str, count: int = 2
) -> Iterator[list[RunningProcess]]:
    """`count` mocks on their own ports with one store and one data dir (so one set of signing
    keys), started one after the other: the first creates the keys, the others load them. `args`
    go to every `mock-ims serve`."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(mock_ims_process("--store", store_url, *args, data_dir=data_dir))
            for _ in range(count)
        ]

"""Files the mock writes into its data directory (keys, the local CA): never seen half written."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def _temporary(path: Path, data: bytes, mode: int) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return tmp


def write_once(path: Path, data: bytes, *, mode: int) -> None:
    """Hard-link a finished file into place: the first writer wins, nobody sees half a file."""
    tmp = _temporary(path, data, mode)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def write_replacing(path: Path, data: bytes, *, mode: int) -> None:
    """Rename a finished file over `path`: readers see the old file or the new one."""
    os.replace(_temporary(path, data, mode), path)

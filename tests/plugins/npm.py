"""Installing a folder's pinned npm packages once, whatever number of xdist workers ask."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def install_lock(folder: Path) -> Iterator[None]:
    """One npm install into ``folder`` at a time (pytest-xdist workers share it)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no xdist-safe lock, install unguarded
        yield
        return
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"callrec-npm-{digest}.lock"
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

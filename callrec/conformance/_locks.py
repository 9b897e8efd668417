"""Advisory file locks shared by the processes of a run (xdist workers, the controller) and
by runs on one machine: ``flock`` where the platform has it.

A lock belongs to an open file and goes away with it, so a process that dies (``kill -9``
included) never leaves one held. Without ``fcntl`` (Windows) the locks are no-ops: one
process then sees no other (documented in the README).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


def open_file(path: Path) -> int:
    """A read-write descriptor of ``path`` (created if missing, its folder too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


if sys.platform == "win32":  # pragma: no cover

    def acquire(fd: int, *, shared: bool = False, wait: bool = True) -> bool:
        del fd, shared, wait
        return True

    def release(fd: int) -> None:
        del fd

else:
    import fcntl

    def acquire(fd: int, *, shared: bool = False, wait: bool = True) -> bool:
        """Lock ``fd``; False when ``wait`` is off and another holder is in the way."""
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def held(fd: int) -> Iterator[None]:
    """An exclusive lock on ``fd`` for the ``with`` block."""
    acquire(fd)
    try:
        yield
    finally:
        release(fd)


def try_hold(path: Path) -> int | None:
    """An open descriptor of ``path`` holding its exclusive lock, or None when another
    process holds a lock on it (close the descriptor to let go)."""
    fd = open_file(path)
    if acquire(fd, wait=False):
        return fd
    os.close(fd)
    return None

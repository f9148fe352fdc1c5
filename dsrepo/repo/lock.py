"""The repository lock: one mutating dsrepo operation at a time.

Every operation that changes ``.dsrepo`` or a working copy holds ``.dsrepo/lock``
(an OS file lock, released automatically if the process dies). A second process
waits up to ``DSREPO_LOCK_TIMEOUT`` seconds (default 3) and then fails with
:class:`~dsrepo.errors.LockError`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from dsrepo.errors import LockError

DEFAULT_TIMEOUT = 3.0


def _timeout() -> float:
    raw = os.environ.get("DSREPO_LOCK_TIMEOUT")
    try:
        return float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT


@contextmanager
def repo_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock file ``path`` for the duration of the block.

    Waits ``timeout`` seconds (default: ``DSREPO_LOCK_TIMEOUT`` or 3 s); raises
    LockError naming the project when another process keeps holding it."""
    from filelock import FileLock, Timeout

    wait = _timeout() if timeout is None else timeout
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise LockError(f"another dsrepo process is working in {path.parent.parent} (lock {path} held for "
                        f"{wait:g} s); try again when it has finished") from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """Take the lock only if it is free right now; yields whether it was taken."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()

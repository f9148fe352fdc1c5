"""The repository lock: one mutating dsrepo operation at a time.

Every operation that changes ``.dsrepo`` or a working copy holds ``.dsrepo/lock``
(an OS file lock, released automatically if the process dies). A second process
waits up to ``DSREPO_LOCK_TIMEOUT`` seconds (default 3) and then fails with
:class:`~dsrepo.errors.LockError`.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from dsrepo.errors import LockError

DEFAULT_TIMEOUT = 3.0


def _timeout() -> float:
    raw = os.environ.get("DSREPO_LOCK_TIMEOUT")
    try:
        return float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT


_POLL = 0.05  # seconds between tries while another process holds the lock


class _Held(Exception):
    """The lock is held by another process (internal)."""


def _flock_acquire(path: Path, wait: float) -> int:
    """Open ``path`` and take an exclusive ``flock`` on it, retrying for ``wait`` seconds;
    returns the descriptor (closing it releases the lock). _Held when still taken."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise _Held from None
            time.sleep(min(_POLL, max(0.0, deadline - time.monotonic())))
        except BaseException:
            os.close(fd)
            raise


def _acquire(path: Path, wait: float) -> Callable[[], None]:
    """Take the OS lock on ``path`` (waiting ``wait`` seconds); returns its release.
    _Held if it stays taken. POSIX: ``flock`` directly (importing filelock costs ~20 ms
    on every command); elsewhere: filelock."""
    if os.name == "posix":
        fd = _flock_acquire(path, wait)
        return lambda: os.close(fd)
    from filelock import FileLock, Timeout

    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise _Held from None
    return lock.release


@contextmanager
def repo_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock file ``path`` for the duration of the block.

    Waits ``timeout`` seconds (default: ``DSREPO_LOCK_TIMEOUT`` or 3 s); raises
    LockError naming the project when another process keeps holding it."""
    wait = _timeout() if timeout is None else timeout
    try:
        release = _acquire(path, wait)
    except _Held:
        raise LockError(f"another dsrepo process is working in {path.parent.parent} (lock {path} held for "
                        f"{wait:g} s); try again when it has finished") from None
    try:
        yield
    finally:
        release()


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """Take the lock only if it is free right now; yields whether it was taken."""
    try:
        release = _acquire(path, 0.0)
    except _Held:
        yield False
        return
    try:
        yield True
    finally:
        release()

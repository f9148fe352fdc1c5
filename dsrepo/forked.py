"""Splitting CPU-bound per-item work across two processes with ``fork``.

Storing a large dataset builds and encodes every item in pure Python, which one core
does at a fixed speed. :func:`forked_map` gives part of such a job to a forked child:
the child inherits the parsed dataset (copy-on-write, nothing is pickled or sent to
it), computes its share, and writes the resulting bytes to a temp file, which the
parent reads back once its own share is done. Results come out in task order either
way, and the parent alone touches the repository.

The child only computes; anything it cannot do (an exception, a crash, a kill) makes
the parent compute that share itself, so errors surface in the parent exactly as in a
serial run. ``DSREPO_JOBS=1`` turns the split off.
"""

from __future__ import annotations

import gc
import os
import signal
import struct
import tempfile
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
_LEN = struct.Struct("<Q")
MIN_TASKS = 2000  # below this the fork costs more than it saves


def call(fn: Callable[[], bytes] | bytes) -> bytes:
    """``fn()`` (a value that is not callable is returned as is): for mapping a list of
    deferred computations with :func:`forked_map`."""
    return fn() if callable(fn) else fn


def _jobs() -> int:
    env = os.environ.get("DSREPO_JOBS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _die_with(parent: int) -> None:
    """Be killed when ``parent`` dies (Linux): the child shares the parent's open files,
    the repository lock among them, and must not keep it held alone."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


def _child(fn: Callable[[T], bytes], tasks: Sequence[T], fd: int, parent: int) -> None:
    """Compute ``tasks`` into ``fd`` and leave without running any cleanup of the parent."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _die_with(parent)
        gc.disable()  # the inherited heap is frozen; new objects are short-lived and acyclic
        with os.fdopen(fd, "wb", buffering=1 << 20, closefd=True) as out:
            for t in tasks:
                data = fn(t)
                out.write(_LEN.pack(len(data)))
                out.write(data)
        code = 0
    except BaseException:  # noqa: BLE001 - any failure: the parent redoes the share
        code = 1
    finally:
        os._exit(code)


def _read_results(path: str, n: int) -> Iterator[bytes]:
    """The results a child wrote, in order, as far as the file holds whole ones (at most ``n``)."""
    with open(path, "rb") as f:
        for _ in range(n):
            head = f.read(8)
            if len(head) < 8:
                return
            (size,) = _LEN.unpack(head)
            data = f.read(size)
            if len(data) < size:
                return
            yield data


def forked_map(fn: Callable[[T], bytes], tasks: Sequence[T], tmp_dir: str | os.PathLike,
               min_tasks: int | None = None, child_share: float = 0.6) -> Iterator[bytes]:
    """``fn(t)`` for each of ``tasks``, in order. With at least ``min_tasks`` tasks
    (default :data:`MIN_TASKS`), two usable cores and ``os.fork``, the last
    ``child_share`` of the tasks is computed by a forked child while this process
    computes the rest; otherwise (or if the child fails) everything runs here. ``fn`` must be deterministic and must not touch shared state
    the parent relies on (files, locks, the store): the child's side effects are lost."""
    n = len(tasks)
    split = n - int(n * child_share)
    if split == n or n < (MIN_TASKS if min_tasks is None else min_tasks) or _jobs() < 2 or not hasattr(os, "fork"):
        for t in tasks:
            yield fn(t)
        return
    os.makedirs(tmp_dir, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="forked-", dir=tmp_dir)
    pid = -1
    try:
        parent = os.getpid()
        gc.freeze()  # the child's collector never walks (and so never copies) the inherited objects
        try:
            pid = os.fork()
        finally:
            if pid != 0:
                gc.unfreeze()
        if pid == 0:
            _child(fn, tasks[split:], fd, parent)
        os.close(fd)
        fd = -1
        for t in tasks[:split]:
            yield fn(t)
        _, status = os.waitpid(pid, 0)
        pid = -1
        done = 0
        if os.waitstatus_to_exitcode(status) == 0:
            for data in _read_results(path, n - split):
                done += 1
                yield data
        for t in tasks[split + done:]:  # a failed child: its share is computed here
            yield fn(t)
    finally:
        if fd >= 0:
            os.close(fd)
        if pid > 0:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        try:
            os.unlink(path)
        except OSError:
            pass

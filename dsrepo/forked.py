"""Splitting CPU-bound per-item work across two processes with ``fork``.

Storing a large dataset builds and encodes every item in pure Python, which one core
does at a fixed speed. :func:`forked_map` gives part of such a job to a forked child:
the child inherits the parsed dataset (copy-on-write, nothing is pickled or sent to
it), computes its share, and writes the resulting bytes to a temp file, which the
parent reads as the child writes it, once its own share is done (so what the caller
does with each result overlaps the child's work). Whenever the child's next result is
not there yet, the parent takes the last task the child has not reached (a shared
counter tells the child where to stop), so neither process waits for the other however
the work divides. Results come out in task order either way, and the parent alone
touches the repository. :class:`Forked` runs one such
computation beside whatever the caller does meanwhile.

The child only computes; anything it cannot do (an exception, a crash, a kill) makes
the parent compute the rest of that share itself (the results the child wrote whole
before are used: the work is deterministic), so errors surface in the parent exactly
as in a serial run. ``DSREPO_JOBS=1`` turns the split off.
"""

from __future__ import annotations

import gc
import mmap
import os
import signal
import struct
import tempfile
import time
from typing import BinaryIO, Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
_LEN = struct.Struct("<Q")
MIN_TASKS = 2000  # below this the fork costs more than it saves
_POLL = 0.002  # s between looks at a child's output while it has nothing new


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


class _Child:
    """A forked child running ``job(out)`` (``out``: a binary file in ``tmp_dir``), or
    nothing when forking is off (``pid`` -1). :meth:`wait` gives the file's path if the
    child succeeded; :meth:`close` kills a child still running and removes the file."""

    def __init__(self, job: Callable[[BinaryIO], None], tmp_dir: str | os.PathLike) -> None:
        self.pid = -1
        self.path: str | None = None
        if _jobs() < 2 or not hasattr(os, "fork"):
            return
        os.makedirs(tmp_dir, exist_ok=True)
        fd, self.path = tempfile.mkstemp(prefix="forked-", dir=tmp_dir)
        parent = os.getpid()
        pid = -1
        caller_froze = gc.get_freeze_count() > 0  # (objects someone froze stay frozen)
        gc.freeze()  # the child's collector never walks (and so never copies) the inherited objects
        try:
            pid = os.fork()
        except OSError:  # (no memory or process slots left: the parent does the work)
            pid = -1
        finally:
            if pid != 0:
                if not caller_froze:
                    gc.unfreeze()
                os.close(fd)
        if pid == 0:
            self._run(job, fd, parent)
        self.pid = pid
        if pid < 0:
            self.close()

    @staticmethod
    def _run(job: Callable[[BinaryIO], None], fd: int, parent: int) -> None:
        """The child: run ``job`` into ``fd`` and leave without any cleanup of the parent's."""
        code = 1
        try:
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: die, as the parent stops
            _die_with(parent)
            gc.disable()  # the inherited heap is frozen; new objects are short-lived and acyclic
            with os.fdopen(fd, "wb", buffering=1 << 18, closefd=True) as out:
                job(out)
            code = 0
        except BaseException:  # noqa: BLE001 - any failure: the parent does the work itself
            code = 1
        finally:
            os._exit(code)

    def wait(self) -> str | None:
        """Wait for the child; the path of its output if it succeeded, else None."""
        if self.pid <= 0:
            return None
        _, status = os.waitpid(self.pid, 0)
        self.pid = -1
        return self.path if os.waitstatus_to_exitcode(status) == 0 else None

    def running(self) -> bool:
        """Whether the child is still running (reaped once it ended)."""
        if self.pid <= 0:
            return False
        pid, _status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return True
        self.pid = -1
        return False

    def close(self) -> None:
        if self.pid > 0:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = -1
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.path = None


class _Results:
    """The whole results in the file a child is writing, taken one by one without waiting."""

    def __init__(self, path: str) -> None:
        self._f = open(path, "rb", buffering=0)
        self._buf = bytearray()
        self._at = 0

    def take(self) -> bytes | None:
        """The next whole result, or None if the file holds none yet."""
        while True:
            buf, at = self._buf, self._at
            if len(buf) - at >= 8:
                (size,) = _LEN.unpack_from(buf, at)
                if len(buf) - at - 8 >= size:
                    self._at = at + 8 + size
                    return bytes(buf[at + 8:at + 8 + size])
            chunk = self._f.read(1 << 20)
            if not chunk:
                return None
            del buf[:at]
            self._at = 0
            buf += chunk

    def close(self) -> None:
        self._f.close()


class Forked:
    """``fn()`` computed by a forked child while the caller goes on (a context manager).
    :meth:`result` waits for it; if the child failed, or forking is off, ``fn()`` is
    computed here then, so its errors surface as in a serial run. ``fn`` must not touch
    state the parent relies on (the child's side effects other than its result are lost,
    files it writes excepted)."""

    def __init__(self, fn: Callable[[], bytes], tmp_dir: str | os.PathLike) -> None:
        self._fn = fn
        self._value: bytes | None = None
        self._child = _Child(lambda out: out.write(fn()), tmp_dir)

    def result(self) -> bytes:
        if self._value is None:
            path = self._child.wait()
            if path is not None:
                with open(path, "rb") as f:
                    self._value = f.read()
            self._child.close()
            if self._value is None:
                self._value = self._fn()
        return self._value

    def close(self) -> None:
        self._child.close()

    def __enter__(self) -> "Forked":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SharedInt:
    """One integer in memory shared with the children forked after it is made, read and
    written whole: a reader never sees a value that was not written. (Not through
    ``struct.pack_into``, which zero-fills its target before writing: a child reading
    meanwhile could see 0.)"""

    def __init__(self, value: int) -> None:
        self._map = mmap.mmap(-1, 8)
        self._view = memoryview(self._map).cast("q")  # (an aligned 8-byte store and load)
        self._view[0] = value

    def get(self) -> int:
        return self._view[0]

    def set(self, value: int) -> None:
        self._view[0] = value

    def close(self) -> None:
        self._view.release()
        self._map.close()


class ForkedMap:
    """The work of :func:`forked_map` started now: the child begins its share when this
    is made, the caller does something else meanwhile, then iterates (once) for the
    results, taking part in the work from there as :func:`forked_map` does. A context
    manager: :meth:`close` kills a child whose results are no longer wanted."""

    def __init__(self, fn: Callable[[T], bytes], tasks: Sequence[T], tmp_dir: str | os.PathLike,
                 min_tasks: int | None = None, child_share: float = 0.75) -> None:
        self._fn = fn
        self._tasks = tasks
        n = len(tasks)
        self._split = split = n - int(n * child_share)
        self._child: _Child | None = None
        self._results: _Results | None = None
        self._limit: SharedInt | None = None
        if split == n or n < (MIN_TASKS if min_tasks is None else min_tasks):
            return
        self._limit = limit = SharedInt(n)  # (the child stops before this task)

        def job(out: BinaryIO) -> None:
            for i in range(split, n):
                if i >= limit.get():
                    return
                data = fn(tasks[i])
                out.write(_LEN.pack(len(data)) + data)
                out.flush()  # (the parent takes results as they come)

        self._child = child = _Child(job, tmp_dir)
        if child.pid > 0 and child.path is not None:
            self._results = _Results(child.path)

    def __iter__(self) -> Iterator[bytes]:
        fn, tasks, split = self._fn, self._tasks, self._split
        child, results, limit = self._child, self._results, self._limit
        try:
            for t in tasks[:split]:
                yield fn(t)
            i, end, stolen = split, len(tasks), []
            while results is not None and child is not None and limit is not None and i < end:
                data = results.take()
                if data is None:
                    if child.running():
                        if end - 1 > i:  # take the last task the child has not reached
                            end -= 1
                            limit.set(end)
                            stolen.append(fn(tasks[end]))
                        else:
                            time.sleep(_POLL)
                        continue
                    data = results.take()  # (the last it wrote before it ended)
                    if data is None:
                        break  # a failed child: the rest of its share is computed here
                yield data
                i += 1
            for k in range(i, end):
                yield fn(tasks[k])
            yield from reversed(stolen)
        finally:
            self.close()

    def close(self) -> None:
        if self._results is not None:
            self._results.close()
            self._results = None
        if self._child is not None:
            self._child.close()
            self._child = None
        if self._limit is not None:
            self._limit.close()
            self._limit = None

    def __enter__(self) -> "ForkedMap":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def forked_map(fn: Callable[[T], bytes], tasks: Sequence[T], tmp_dir: str | os.PathLike,
               min_tasks: int | None = None, child_share: float = 0.75) -> Iterator[bytes]:
    """``fn(t)`` for each of ``tasks``, in order. With at least ``min_tasks`` tasks
    (default :data:`MIN_TASKS`), two usable cores and ``os.fork``, the last
    ``child_share`` of the tasks is given to a forked child while this process computes
    the rest, then takes the child's results as they come and, whenever the next one is
    not there yet, computes the last task the child has not reached itself (the child
    stops there); otherwise (or if the child fails) everything runs here. ``fn`` must be
    deterministic (a task may be computed by both) and must not touch shared state the
    parent relies on (files, locks, the store): the child's side effects are lost.
    The child is forked on the first ``next()`` (:class:`ForkedMap` forks it at once)."""
    with ForkedMap(fn, tasks, tmp_dir, min_tasks, child_share) as work:
        yield from work

"""The one progress/warning interface core code reports through.

Core functions take a ``progress: Progress`` argument (default ``NULL``) and never
print. The CLI passes an implementation that renders with rich on a terminal.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Protocol


class Task(Protocol):
    """A running unit of work: advance it as items are processed."""

    def advance(self, n: int = 1) -> None: ...


class Progress(Protocol):
    """Sink for progress and warnings."""

    def task(self, description: str, total: int | None = None):  # -> ContextManager[Task]
        """Open a task; use as a context manager yielding a :class:`Task`."""
        ...

    def warn(self, message: str) -> None:
        """Report a non-fatal problem (one line)."""
        ...


class _NullTask:
    __slots__ = ()

    def advance(self, n: int = 1) -> None:
        return None


class NullProgress:
    """Discards progress; collects warnings in ``warnings`` so callers/tests can read them."""

    def __init__(self, record: bool = True) -> None:
        self.warnings: list[str] = []
        self._record = record

    @contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[_NullTask]:
        yield _NullTask()

    def warn(self, message: str) -> None:
        if self._record:
            self.warnings.append(message)


def null() -> NullProgress:
    """A fresh progress sink that shows nothing and records warnings."""
    return NullProgress()


NULL_PROGRESS = NullProgress(record=False)
"""Shared do-nothing sink used as the default argument of core functions."""

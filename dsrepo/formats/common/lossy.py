"""Honest conversions: count what an exporter cannot represent, warn once per kind."""

from __future__ import annotations

from collections import Counter

from dsrepo.errors import ExportError
from dsrepo.progress import Progress


class LossTracker:
    """Collects dropped/changed annotations during an export.

    Call :meth:`drop` for every annotation the format cannot hold; call :meth:`finish`
    at the end: it emits one warning per kind with a count, or raises ExportError
    when ``strict`` is set.
    """

    def __init__(self, format_name: str, progress: Progress, strict: bool = False) -> None:
        self.format_name = format_name
        self.progress = progress
        self.strict = strict
        self.counts: Counter[str] = Counter()

    def drop(self, kind: str, n: int = 1) -> None:
        """Record ``n`` annotations of ``kind`` (e.g. "mask") that were not exported."""
        self.counts[kind] += n

    def finish(self) -> None:
        """Warn (or raise, if strict) about everything recorded."""
        if not self.counts:
            return
        msgs = [f"{self.format_name} cannot hold {kind}: {n} dropped" for kind, n in sorted(self.counts.items())]
        if self.strict:
            raise ExportError("; ".join(msgs) + " (--strict)")
        for m in msgs:
            self.progress.warn(m)

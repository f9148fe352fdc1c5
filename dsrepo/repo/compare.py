"""``compare``: two arbitrary datasets side by side, Datumaro style.

``exact`` mode: categories, items on one side only, and items whose content differs
(ignoring named attributes and, by default, format meta). ``distance`` mode: annotations
of items present on both sides matched by geometry (IoU), with per-label confusion
counts, mispredictions and unmatched annotations. Both are
:mod:`dsrepo.model.compare`; this module resolves the two sides and writes the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from dsrepo.errors import UsageError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.sides import opener, pair_sources, resolve_side

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo

MODES = ("exact", "distance")


@dataclass(frozen=True, slots=True)
class Comparison:
    """A comparison: ``mode``, the two sides (descriptions), the source compared, the
    report (a JSON-ready dict, see :mod:`dsrepo.model.compare`) and the file it was
    written to (None when not asked)."""

    mode: str
    a: str
    b: str
    source: str
    report: Mapping[str, Any]
    out: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "a": self.a, "b": self.b, "source": self.source, **self.report}


def compare(repo: "Repo | str | Path | None", a: str, b: str, format_a: str | None = None,
            format_b: str | None = None, mode: str = "exact", iou: float = 0.5,
            ignored_attrs: Sequence[str] = (), ignored_item_attrs: Sequence[str] = (), ignore_meta: bool = True,
            out: str | Path | None = None, progress: Progress = NULL_PROGRESS) -> Comparison:
    """Compare dataset ``a`` with dataset ``b`` in ``mode`` ("exact" or "distance").

    Each side is a dataset file/folder when a format applies to it (``format_a``;
    ``format_b``, default ``format_a``) and it exists, else ``REV`` (a revision with one
    source) or ``REV:SOURCE``. ``repo`` is an open Repo or the project folder, opened only
    when a side needs it. ``ignored_attrs`` / ``ignored_item_attrs`` name annotation /
    item attributes left out of an exact comparison, ``ignore_meta`` leaves out format
    meta; ``iou`` is the matching threshold. With ``out`` the report is also written
    there as JSON (atomically). UsageError for a bad mode or threshold."""
    if mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not 0.0 <= iou <= 1.0:
        raise UsageError(f"--iou must be between 0 and 1, got {iou}")
    from dsrepo.model.compare import compare_distance, compare_exact

    get_repo = opener(repo)
    side_a = resolve_side(get_repo, a, format_a, progress)
    side_b = resolve_side(get_repo, b, format_b or format_a, progress)
    ((name, sa, sb),) = pair_sources(side_a, side_b, single=True)
    stored = any(s.record is not None for s in (sa, sb))  # type: ignore[union-attr]
    r = get_repo() if stored else None
    da, db = sa.as_dataset(r), sb.as_dataset(r)  # type: ignore[union-attr]
    if mode == "exact":
        report = compare_exact(da, db, ignored_item_attrs, ignored_attrs, ignore_meta, iou)
    else:
        report = compare_distance(da, db, iou)
    result = Comparison(mode, side_a.label, side_b.label, name, report, str(out) if out is not None else None)
    if out is not None:
        import orjson

        from dsrepo.formats.common.files import atomic_write_bytes

        atomic_write_bytes(out, orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    return result

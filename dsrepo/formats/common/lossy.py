"""Honest conversions: count what an exporter cannot represent, warn once per kind.

Every format words its loss reports with the same vocabulary (below), so the same loss
reads the same whatever the target format:

    <format> cannot hold <kind>: <n> dropped            (LossTracker.drop)
    <format> cannot hold <kind>: <n> <what happened>    (LossTracker.drop with ``result``)
    <format>: <n> <kind> <how they were written>        (LossTracker.change)

``kind`` is the plural word of an annotation type (:func:`kind_word`), optionally
qualified ("polygons with fewer than 3 points"), or one of the common non-type losses
(``ITEM_ATTRIBUTES``...). A *drop* loses data: ``--strict`` turns it into an ExportError.
A *change* writes the annotation in the form the format has for it (an ellipse as a
polygon, a keypoint set as single points): it is reported, never an error.
"""

from __future__ import annotations

from collections import Counter

from dsrepo.errors import ExportError
from dsrepo.model.annotations import AnnType
from dsrepo.progress import Progress

# -- the vocabulary -----------------------------------------------------------------------

# One plural word per annotation type, as it follows a count in a loss report.
KIND_WORDS: dict[AnnType, str] = {
    AnnType.label: "image labels",
    AnnType.caption: "captions",
    AnnType.bbox: "boxes",
    AnnType.polygon: "polygons",
    AnnType.polyline: "polylines",
    AnnType.points: "points",
    AnnType.mask: "masks",
    AnnType.ellipse: "ellipses",
}

# Losses that are not an annotation type.
ITEM_ATTRIBUTES = "item attributes"  # Item.attributes of an item (counted per item)
ANNOTATION_ATTRIBUTES = "annotation attributes"  # counted per annotation, the annotation is kept
COVERED_PIXELS = "covered pixels"  # shapes that lost pixels under later ones (counted per shape)
HIDDEN_SHAPES = "fully covered shapes"  # shapes left without a pixel under later ones: dropped
SUBSET_NAMES = "subset names"  # counted per item written without its subset
UNLABELED = "annotations without a label"
BAD_LABEL = "annotations with a label index outside the categories"
UNKNOWN_SIZE = "annotations on images of unknown size"


def kind_word(kind: AnnType | str) -> str:
    """The vocabulary word of an annotation type (an AnnType or its value)."""
    return KIND_WORDS[AnnType(kind)]


class LossTracker:
    """Collects dropped/changed annotations during an export.

    Call :meth:`drop` for every annotation (or part of one) the format cannot hold and
    :meth:`change` for one written in another form; call :meth:`finish` at the end: it
    emits one warning per kind with a count, or raises ExportError when ``strict`` is set
    and something was dropped.
    """

    def __init__(self, format_name: str, progress: Progress, strict: bool = False) -> None:
        self.format_name = format_name
        self.progress = progress
        self.strict = strict
        self.counts: Counter[tuple[str, str]] = Counter()
        self.changes: Counter[tuple[str, str]] = Counter()

    def drop(self, kind: str, n: int = 1, result: str = "dropped") -> None:
        """Record ``n`` losses of ``kind`` (a vocabulary word, e.g. ``kind_word(AnnType.mask)``);
        ``result`` says what became of them when it is not plainly "dropped"."""
        if n:
            self.counts[(kind, result)] += n

    def change(self, kind: str, result: str, n: int = 1) -> None:
        """Record ``n`` annotations of ``kind`` written in another form (``result``, e.g.
        "written as 32-point polygons"): reported, but not an error with ``--strict``."""
        if n:
            self.changes[(kind, result)] += n

    def messages(self) -> list[str]:
        """The drop reports recorded so far, sorted."""
        return [f"{self.format_name} cannot hold {k}: {n} {r}" for (k, r), n in sorted(self.counts.items())]

    def finish(self) -> None:
        """Warn (or raise, if strict) about everything recorded: changes first, then drops."""
        msgs = self.messages()
        if self.strict and msgs:
            raise ExportError("; ".join(msgs) + " (--strict)")
        for (kind, result), n in sorted(self.changes.items()):
            self.progress.warn(f"{self.format_name}: {n} {kind} {result}")
        for m in msgs:
            self.progress.warn(m)

"""image_dir export: every item's image written as ``<id><ext>`` under the folder.

The images are the whole dataset, so they are always written (``--save-media`` is
accepted and implied). Annotations, item attributes and subset names cannot be held:
they are counted with a LossTracker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from dsrepo.errors import DatasetError, ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.files import safe_relpath
from dsrepo.formats.common.lossy import ITEM_ATTRIBUTES, SUBSET_NAMES, LossTracker, kind_word
from dsrepo.formats.image_dir.media import can_write, target_ext, warn_missing, write_image
from dsrepo.model.annotations import AnnType
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress


def safe_out(rel: str, what: str) -> str:
    """``rel`` as a safe relative path for writing; ExportError naming ``what`` if not."""
    try:
        return safe_relpath(rel, None, None)
    except DatasetError as e:
        raise ExportError(f"{what}: {e.detail}") from None


def count_losses(item: Item, tracker: LossTracker, keep: Iterable[AnnType] = ()) -> None:
    """Record every annotation of ``item`` whose type is not in ``keep``, and its
    attributes, as dropped."""
    kept = set(keep)
    for ann in item.annotations:
        if ann.type not in kept:
            tracker.drop(kind_word(ann.type))
    if item.attributes:
        tracker.drop(ITEM_ATTRIBUTES)


def write_item(item: Item, out: Path, image_ext: str | None, tracker: LossTracker) -> str | None:
    """Write ``item``'s image as ``<id><ext>`` under ``out``; its relative path, or None
    when it has no image to write. Its losses go to ``tracker``."""
    count_losses(item, tracker)
    if not can_write(item.media):
        return None
    ext = target_ext(item.media, image_ext)
    rel = safe_out(item.id + ext, f"item {item.id!r}")
    write_image(item.media, out / rel, ext)  # type: ignore[arg-type]
    return rel


def save_image_dir(dataset: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Write every item's image into ``out`` as ``<id><ext>`` (deterministic: bytes are
    copied, or re-encoded when ``--image-ext`` changes the extension)."""
    tracker = LossTracker("image_dir", progress, bool(options.get("strict")))
    image_ext = options.get("image_ext")
    owners: dict[str, tuple[str, str]] = {}
    files: list[str] = []
    missing: list[str] = []
    other_subsets = 0
    with progress.task("image_dir: writing images") as bar:
        for item in dataset:
            other_subsets += item.subset != DEFAULT_SUBSET
            first = owners.setdefault(item.id, item.key)
            if first != item.key:
                raise ExportError(f"item id {item.id!r} appears in subsets {first[0]!r} and {item.subset!r}; "
                                  "image_dir has no subsets")
            rel = write_item(item, out, image_ext, tracker)
            if rel is None:
                missing.append(item.id)
                continue
            files.append(rel)
            bar.advance()
    if other_subsets:
        tracker.drop(SUBSET_NAMES, other_subsets)
    tracker.finish()
    warn_missing(progress, "image_dir", missing)
    return ExportReport(files=tuple(sorted(files)), missing_media=tuple(missing))

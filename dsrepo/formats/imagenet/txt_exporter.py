"""imagenet_txt export: labels file, one ``<subset>.txt`` per subset, images with --save-media.

Lines keep the dataset's item order and each item's label order; an image path with
whitespace is written in double quotes. Newlines are ``\\n``; every file ends with one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.files import atomic_write_text
from dsrepo.formats.common.lossy import ANNOTATION_ATTRIBUTES, UNLABELED, LossTracker
from dsrepo.formats.image_dir.exporter import count_losses, safe_out
from dsrepo.formats.image_dir.media import can_write, target_ext, warn_missing, write_image
from dsrepo.formats.imagenet.txt_importer import DEFAULT_IMAGE_DIR, DEFAULT_LABELS_FILE
from dsrepo.model.annotations import AnnType
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.progress import Progress


def format_path(item_id: str) -> str:
    """The image path as written in a subset file (quoted if it holds whitespace)."""
    if "\n" in item_id or "\r" in item_id:
        raise ExportError(f"item id {item_id!r} contains a line break")
    if any(c.isspace() for c in item_id) or item_id.startswith('"'):
        if '"' in item_id:
            raise ExportError(f"item id {item_id!r} has both spaces and '\"': cannot be written")
        return f'"{item_id}"'
    return item_id


def item_line(item: Item, n_labels: int, tracker: LossTracker) -> str:
    """``<path> <idx>...`` for ``item``; records annotations that cannot be written."""
    count_losses(item, tracker, keep=(AnnType.label,))
    parts = [format_path(item.id)]
    for ann in item.annotations:
        if ann.type is not AnnType.label:
            continue
        if ann.label is None:
            tracker.drop(UNLABELED)
            continue
        if ann.label >= n_labels:
            raise ExportError(f"item {item.id!r}: label index {ann.label} is out of range ({n_labels} labels)")
        if ann.attributes:
            tracker.drop(ANNOTATION_ATTRIBUTES)
        parts.append(str(ann.label))
    return " ".join(parts)


def check_names(names: list[str], labels_file: str) -> None:
    """ExportError for a label name that cannot be one line of the labels file."""
    for name in names:
        if not name.strip() or name != name.strip() or "\n" in name or "\r" in name:
            raise ExportError(f"label {name!r} cannot be written as one line of {labels_file}")


def write_media(item: Item, out: Path, image_dir: str, image_ext: str | None) -> str | None:
    """Write ``item``'s image under ``image_dir`` (``--save-media``); its path, or None if
    it has none."""
    if not can_write(item.media):
        return None
    ext = target_ext(item.media, image_ext)
    rel = safe_out(f"{image_dir}/{item.id}{ext}", f"item {item.id!r}")
    write_image(item.media, out / rel, ext)  # type: ignore[arg-type]
    return rel


def write_lists(out: Path, lines: Mapping[str, list[str]], names: list[str], labels_file: str) -> list[str]:
    """Write one ``<subset>.txt`` per subset and the labels file; their paths."""
    files = []
    for subset in sorted(lines):
        rel = safe_out(subset + ".txt", f"subset {subset!r}")
        if "/" in subset or rel == labels_file:
            raise ExportError(f"subset {subset!r} cannot be written as {rel}")
        atomic_write_text(out / rel, "".join(ln + "\n" for ln in lines[subset]))
        files.append(rel)
    atomic_write_text(out / labels_file, "".join(n + "\n" for n in names))
    files.append(labels_file)
    return files


def output_names(options: Mapping[str, Any]) -> tuple[str, str]:
    """``(labels file, image folder)`` from the options (ExportError if unsafe)."""
    return (safe_out(options.get("labels_file") or DEFAULT_LABELS_FILE, "--labels-file"),
            safe_out(options.get("image_dir") or DEFAULT_IMAGE_DIR, "--image-dir"))


def save_imagenet_txt(dataset: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Write labels file, subset files and (with ``--save-media``) images under ``out``."""
    tracker = LossTracker("imagenet_txt", progress, bool(options.get("strict")))
    labels_file, image_dir = output_names(options)
    save_media = bool(options.get("save_media"))
    image_ext = options.get("image_ext")
    names = dataset.categories.label_names()
    check_names(names, labels_file)
    lines: dict[str, list[str]] = {s: [] for s in dataset.subset_meta}
    files: list[str] = []
    missing: list[str] = []
    with progress.task("imagenet_txt: writing", total=None) as bar:
        for item in dataset:
            lines.setdefault(item.subset, []).append(item_line(item, len(names), tracker))
            if save_media:
                rel = write_media(item, out, image_dir, image_ext)
                if rel is None:
                    missing.append(item.id)
                else:
                    files.append(rel)
            bar.advance()
    tracker.finish()
    files += write_lists(out, lines, names, labels_file)
    warn_missing(progress, "imagenet_txt", missing)
    return ExportReport(files=tuple(sorted(files)), missing_media=tuple(missing))

"""Segments.ai release format spec (light module: heavy code is imported on use)."""

from __future__ import annotations

from pathlib import Path

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_load, lazy_patch, lazy_save
from dsrepo.formats.segments_ai.jsonio import peek

IMPORT_OPTIONS = (
    Option("assets", "str", None, "folder of downloaded images and bitmaps, looked up by the URL's file name "
           "(relative paths are taken from the release file's folder; default: that folder)"),
    Option("labelset", "str", None, "labelset to read (default: ground-truth, or the only labelset present)"),
    Option("status", "list", ("labeled", "reviewed"), "label statuses to import, comma-separated, or 'all' "
           "(e.g. labeled,reviewed,prelabeled,unlabeled)"),
    Option("missing-bitmaps", "choice", "error", "a segmentation bitmap that is not found: error, or skip "
           "(import the sample without its masks)", ("error", "skip")),
)


def looks_like_release(path: Path) -> bool:
    """Cheap check on the first 64 KiB: a JSON object with a dataset and samples."""
    head = peek(path)
    return (head.lstrip()[:1] == b"{" and b'"dataset"' in head
            and (b'"samples"' in head or b'"task_attributes"' in head or b'"tasks"' in head))


def detect(path: Path) -> float:
    """Confidence that ``path`` is a Segments.ai release file or a folder of them."""
    p = Path(path)
    if p.is_file():
        return 0.8 if p.suffix.lower() == ".json" and looks_like_release(p) else 0.0
    if p.is_dir():
        try:
            names = sorted(x for x in p.iterdir() if x.suffix.lower() == ".json")[:20]
        except OSError:
            return 0.0
        return 0.8 if any(looks_like_release(x) for x in names if x.is_file()) else 0.0
    return 0.0


SEGMENTS_AI = FormatSpec(
    name="segments_ai",
    description="Segments.ai release file (JSON) with RGBA instance bitmaps and vector labels",
    detect=detect,
    load=lazy_load("dsrepo.formats.segments_ai.importer:load_segments"),
    save=lazy_save("dsrepo.formats.segments_ai.exporter:save_segments"),
    patch=lazy_patch("dsrepo.formats.segments_ai.patch:patch_segments"),
    import_options=IMPORT_OPTIONS, export_options=COMMON_EXPORT_OPTIONS, extensions=(".json",),
)

"""GT Studio JSON format spec (light module: heavy code is imported on use)."""

from __future__ import annotations

from pathlib import Path

from dsrepo.formats.base import COMMON_EXPORT_OPTIONS, FormatSpec, Option, lazy_load, lazy_patch, lazy_save
from dsrepo.formats.segments_ai.jsonio import peek

IMPORT_OPTIONS = (
    Option("assets", "str", None, "folder of downloaded images and masks, looked up by the URL's file name "
           "(relative paths are taken from the dataset folder; default: that folder)"),
    Option("raster-as", "choice", "mask", "raster masks become: mask (one mask per instance) or polygons "
           "(outer contours)", ("mask", "polygons")),
    Option("missing-masks", "choice", "error", "a raster mask that is not found: error, or skip",
           ("error", "skip")),
)


def looks_like_gt(path: Path) -> bool:
    """Cheap check on the first 64 KiB: a JSON object with GT Studio shape lists."""
    head = peek(path)
    return (head.lstrip()[:1] == b"{" and b'"annotations"' in head
            and any(k in head for k in (b'"rectangles"', b'"polygons"', b'"raster"', b'"landmarks"')))


def detect(path: Path) -> float:
    """Confidence that ``path`` is a GT Studio JSON file or a folder of them."""
    p = Path(path)
    if p.is_file():
        return 0.7 if p.suffix.lower() == ".json" and looks_like_gt(p) else 0.0
    if not p.is_dir():
        return 0.0
    try:
        names = sorted(x for x in p.iterdir() if x.suffix.lower() == ".json")[:20]
        if not names:
            names = sorted(x for d in sorted(p.iterdir()) if d.is_dir() and not d.name.startswith(".")
                           for x in d.glob("*.json"))[:20]
    except OSError:
        return 0.0
    return 0.7 if any(looks_like_gt(x) for x in names if x.is_file()) else 0.0


GT_STUDIO = FormatSpec(
    name="gt_studio",
    description="GT Studio JSON: one file per image with rectangles, polygons and raster masks",
    detect=detect,
    load=lazy_load("dsrepo.formats.gt_studio.importer:load_gt"),
    save=lazy_save("dsrepo.formats.gt_studio.exporter:save_gt"),
    patch=lazy_patch("dsrepo.formats.gt_studio.patch:patch_gt"),
    import_options=IMPORT_OPTIONS, export_options=COMMON_EXPORT_OPTIONS, extensions=(".json",),
)

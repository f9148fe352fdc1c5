"""image_zip export: one ``<subset>.zip`` per subset holding ``<id><ext>`` entries.

Deterministic: entries sorted by name, fixed timestamp (1980-01-01), fixed
permissions and host system, so the same dataset always gives the same bytes.
Images are the content, so they are always written (``--save-media`` is implied):
original bytes when the extension is kept (files or entries of an imported zip),
pixels encoded with OpenCV otherwise (e.g. in-memory images).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import ExportError
from dsrepo.formats.base import ExportReport
from dsrepo.formats.common.lossy import LossTracker
from dsrepo.formats.image_dir.exporter import count_losses, safe_out
from dsrepo.formats.image_dir.media import can_write, image_bytes, target_ext, warn_missing
from dsrepo.model.dataset import Dataset
from dsrepo.model.media import Image
from dsrepo.progress import Progress

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESSION = {"stored": zipfile.ZIP_STORED, "deflated": zipfile.ZIP_DEFLATED}


def archive_name(subset: str) -> str:
    """``<subset>.zip``; ExportError if the subset name cannot be a file name."""
    if "/" in subset or "\\" in subset or subset.startswith("."):
        raise ExportError(f"subset {subset!r} cannot be used as a zip file name")
    return safe_out(subset + ".zip", f"subset {subset!r}")


def write_zip(dest: Path, entries: list[tuple[str, Image, str]], compression: int) -> None:
    """Write ``(entry name, image, ext)`` entries sorted by name to ``dest`` (temp file +
    rename; the temp file is opened normally so the archive gets the usual permissions)."""
    tmp = dest.with_name(f".tmp-{os.getpid()}-{dest.name}")
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name, media, ext in sorted(entries, key=lambda e: e[0]):
                info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
                info.compress_type = compression
                info.create_system = 3
                info.external_attr = 0o644 << 16
                zf.writestr(info, image_bytes(media, ext))
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_image_zip(dataset: Dataset, out: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
    """Write ``out/<subset>.zip`` for every subset (empty subsets give empty archives)."""
    tracker = LossTracker("image_zip", progress, bool(options.get("strict")))
    image_ext = options.get("image_ext")
    compression = COMPRESSION[options.get("compression") or "stored"]
    by_subset: dict[str, list[tuple[str, Image, str]]] = {s: [] for s in dataset.subsets()}
    missing: list[str] = []
    for item in dataset:
        count_losses(item, tracker)
        if not can_write(item.media):
            missing.append(item.id)
            continue
        ext = target_ext(item.media, image_ext)
        name = safe_out(item.id + ext, f"item {item.id!r}")
        by_subset.setdefault(item.subset, []).append((name, item.media, ext))  # type: ignore[arg-type]
    tracker.finish()
    files = []
    with progress.task("image_zip: writing archives", total=len(by_subset)) as bar:
        for subset in sorted(by_subset):
            rel = archive_name(subset)
            write_zip(out / rel, by_subset[subset], compression)
            files.append(rel)
            bar.advance()
    warn_missing(progress, "image_zip", missing)
    return ExportReport(files=tuple(sorted(files)), missing_media=tuple(missing))

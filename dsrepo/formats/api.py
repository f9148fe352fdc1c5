"""Format-level entry points: import, export and convert datasets by format name."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import ExportError, FormatError
from dsrepo.formats.base import ExportReport, parse_options
from dsrepo.formats.registry import detect_formats, get_format
from dsrepo.model.dataset import Dataset
from dsrepo.progress import NULL_PROGRESS, Progress

Options = Sequence[str] | Mapping[str, Any] | None


def resolve_format(path: str | Path, format: str | None) -> str:
    """``format`` if given, else the single best detected format of ``path``."""
    if format:
        get_format(format)
        return format
    found = detect_formats(path)
    if not found:
        raise FormatError(f"{path}: no known format detected (use -f/--format)")
    if len(found) > 1 and found[0][1] == found[1][1]:
        tied = ", ".join(n for n, c in found if c == found[0][1])
        raise FormatError(f"{path}: ambiguous format, candidates: {tied} (use -f/--format)")
    return found[0][0]


def import_dataset(path: str | Path, format: str | None = None, options: Options = None,
                   progress: Progress = NULL_PROGRESS) -> Dataset:
    """Import the dataset at ``path`` (format auto-detected when ``None``)."""
    name = resolve_format(path, format)
    spec = get_format(name)
    if spec.load is None:
        raise FormatError(f"format {name!r} cannot be imported")
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file or directory")
    opts = parse_options(spec.import_options, options, f"{name} import")
    return spec.load(p, opts, progress)


def export_dataset(dataset: Dataset, path: str | Path, format: str, options: Options = None,
                   progress: Progress = NULL_PROGRESS, overwrite: bool = False) -> ExportReport:
    """Write ``dataset`` to folder ``path`` in ``format``.

    Refuses a non-empty folder unless ``overwrite``; never deletes files. The exporter
    writes into a temp folder beside ``path`` whose files are moved into place only when
    it succeeded, so a failed export (bad data, ``--strict``) leaves ``path`` untouched.
    """
    spec = get_format(format)
    if spec.save is None:
        raise FormatError(f"format {format!r} cannot be exported")
    opts = parse_options(spec.export_options, options, f"{format} export")
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ExportError(f"{out}: folder is not empty (use --overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".dsrepo-export-", dir=out.parent))
    try:
        report = spec.save(dataset, tmp, opts, progress)
        _move_tree(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def _move_tree(src: Path, dst: Path) -> None:
    """Move every file under ``src`` to the same relative path under ``dst``."""
    for dirpath, _dirs, files in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        target_dir = dst if rel == os.curdir else dst / rel
        if target_dir.exists() and not target_dir.is_dir():
            raise ExportError(f"{target_dir}: exists and is not a folder")
        target_dir.mkdir(parents=True, exist_ok=True)
        for f in files:
            target = target_dir / f
            if target.is_dir():
                raise ExportError(f"{target}: is a folder; cannot write a file there")
            os.replace(os.path.join(dirpath, f), target)


def convert(src: str | Path, dst: str | Path, output_format: str, input_format: str | None = None,
            import_options: Options = None, export_options: Options = None,
            progress: Progress = NULL_PROGRESS, overwrite: bool = False) -> tuple[Dataset, ExportReport]:
    """Import ``src`` and export it to ``dst``; returns the dataset and the export report."""
    ds = import_dataset(src, input_format, import_options, progress)
    return ds, export_dataset(ds, dst, output_format, export_options, progress, overwrite)

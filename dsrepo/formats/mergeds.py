"""``merge-datasets``: merge datasets without shared history, in any formats.

Each input is ``PATH`` (format detected) or ``PATH:FORMAT``. The inputs are imported,
merged by :func:`dsrepo.model.combine.combine_datasets` and exported; a JSON report is
written (see docs/merge-datasets.md).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from dsrepo.errors import DsrepoError, FormatError, UsageError
from dsrepo.progress import NULL_PROGRESS, Progress

REPORT_SUFFIX = ".merge_report.json"


class MergeConflictError(DsrepoError):
    """``exact`` found items that differ between sources; nothing was exported.
    ``report`` is the merge report (already written to ``report_path`` if one was set)."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


def parse_input(text: str) -> tuple[Path, str | None]:
    """``PATH`` or ``PATH:FORMAT`` -> (path, format or None). An existing path is taken
    whole (so a path may contain ``:``); otherwise the part after the last ``:`` must be
    a registered format."""
    from dsrepo.formats.registry import get_format

    if not text:
        raise UsageError("empty input path")
    if os.path.exists(text) or ":" not in text:
        return Path(text), None
    path, _, fmt = text.rpartition(":")
    if not path:
        raise UsageError(f"input {text!r}: missing path before ':'")
    get_format(fmt)
    return Path(path), fmt


def default_report_path(output: str | Path) -> Path:
    """Where the report goes when none is given: beside ``output``, named
    ``<output name>.merge_report.json`` (never inside the exported dataset)."""
    out = Path(output)
    return out.parent / (out.name.rstrip("/") + REPORT_SUFFIX)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False, default=str)
            f.write("\n")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_paths(output: Path, output_format: str, report_path: Path | None,
                 inputs: Sequence[tuple[Path, str | None]], overwrite: bool) -> None:
    from dsrepo.errors import ExportError
    from dsrepo.formats.registry import get_format

    if get_format(output_format).save is None:
        raise FormatError(f"format {output_format!r} cannot be exported")
    if output.exists() and not output.is_dir():
        raise ExportError(f"{output}: exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise ExportError(f"{output}: folder is not empty (use --overwrite)")
    out = output.resolve()
    for p, _ in inputs:
        src = p.resolve()
        if src == out or out in src.parents or src in out.parents:
            raise UsageError(f"output {output} overlaps input {p}")
    if report_path is not None:
        rp = report_path.resolve()
        if rp == out or out in rp.parents:
            raise UsageError(f"report {report_path} must not be inside the output folder {output}")
        if rp.is_dir():
            raise UsageError(f"report {report_path}: is a folder")


def merge_datasets(inputs: Sequence[str], output: str | Path, output_format: str | None = None,
                   policy: str = "exact", quorum: int = 0, iou: float = 0.5, groups: Sequence[str] = (),
                   export_options: Sequence[str] | Mapping[str, Any] | None = None,
                   import_options: Sequence[str] | Mapping[str, Any] | None = None,
                   report_path: str | Path | None = None, overwrite: bool = False,
                   progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
    """Import every input (``PATH`` or ``PATH:FORMAT``), merge them by ``policy`` and
    export the result to folder ``output`` in ``output_format`` (default: the first
    input's format). Returns the report: the combine report plus ``inputs`` (path and
    format per source), ``output``, ``format``, ``files`` and ``warnings``.

    The report is written to ``report_path`` when given (temp file + rename; it may not
    lie inside ``output``). With policy ``exact``, items that differ between sources
    raise :class:`MergeConflictError` after the report is written and before anything is
    exported. Bad inputs, options or output folders fail before anything is written.
    ``import_options`` apply to every input.
    """
    from dsrepo.formats.api import export_dataset, import_dataset, resolve_format
    from dsrepo.model.combine import POLICIES, combine_datasets

    warnings_before = len(getattr(progress, "warnings", ()))
    if len(inputs) < 2:
        raise UsageError(f"merge-datasets needs at least two inputs, got {len(inputs)}")
    if policy not in POLICIES:
        raise UsageError(f"unknown merge policy {policy!r} (known: {', '.join(POLICIES)})")
    parsed = [parse_input(str(t)) for t in inputs]
    for p, _ in parsed:
        if not p.exists():
            raise FormatError(f"{p}: no such file or directory")
    formats = [resolve_format(p, f) for p, f in parsed]
    out_format = output_format or formats[0]
    out = Path(output)
    rpath = Path(report_path) if report_path is not None else None
    _check_paths(out, out_format, rpath, parsed, overwrite)
    from dsrepo.formats.base import parse_options
    from dsrepo.formats.registry import get_format

    parse_options(get_format(out_format).export_options, export_options, f"{out_format} export")
    datasets = []
    for (p, _), fmt in zip(parsed, formats):
        with progress.task(f"reading {p}"):
            datasets.append(import_dataset(p, fmt, import_options, progress))
    merged, report = combine_datasets(datasets, policy, quorum, iou, groups, progress)
    for entry, (p, _), fmt in zip(report["sources"], parsed, formats):
        entry.update(path=str(p), format=fmt)
    report.update(output=str(out), format=out_format, written=False)
    conflicts = report.get("conflicts")
    if conflicts:
        c = conflicts[0]
        msg = (f"merge exact: {len(conflicts)} item(s) differ between sources, first {c['subset']}/{c['id']} "
               f"(sources {', '.join(map(str, c['sources']))}: {', '.join(c['differs'])}); nothing written")
        report["error"] = msg
        if rpath is not None:
            _write_json(rpath, report)
            msg += f"; see {rpath}"
        raise MergeConflictError(msg, report)
    result = export_dataset(merged, out, out_format, export_options, progress, overwrite)
    report.update(written=True, files=len(result.files), missing_media=len(result.missing_media),
                  warnings=list(getattr(progress, "warnings", ()))[warnings_before:])
    if rpath is not None:
        _write_json(rpath, report)
    return report

"""The contract every format package implements, and option parsing.

A format package exposes one :class:`FormatSpec` object; the registry maps the
format name to ``"module:attr"`` of that object. ``load``/``save`` receive parsed
options (a dict keyed by option ``dest``) and a :class:`~dsrepo.progress.Progress`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from dsrepo.options import Option, parse_options  # noqa: F401  (re-exported)
from dsrepo.progress import Progress

if TYPE_CHECKING:  # (the model is imported by the formats' own modules, when used)
    from dsrepo.model.dataset import Dataset


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export did: files written, plus notes (warnings already went to progress)."""

    files: tuple[str, ...] = ()
    missing_media: tuple[str, ...] = ()


LoadFn = Callable[[Path, Mapping[str, Any], Progress], "Dataset"]
SaveFn = Callable[["Dataset", Path, Mapping[str, Any], Progress], ExportReport]
DetectFn = Callable[[Path], float]
# A per-item row of an incremental export: (files the item owns, JSON-able per-item data).
PatchRow = tuple[tuple[str, ...], Any]
# Optional fast path of incremental export (see docs/patch-export.md):
# ``patch(changed, order, rows, out, options, progress, prev) -> (report, rows) | None``: rows
# of at least the changed items; ``prev`` is the folder of the earlier export ``rows`` describe
# (None when there is none), ``out`` an empty staging folder.
PatchFn = Callable[["Dataset", Sequence[tuple[str, str]], Mapping[tuple[str, str], PatchRow], Path,
                    Mapping[str, Any], Progress, "Path | None"],
                   "tuple[ExportReport, dict[tuple[str, str], PatchRow]] | None"]


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """A format: detection, import, export and their options.

    ``detect(path) -> confidence`` in ``[0, 1]`` (0 = not this format) must be cheap:
    look at names and the first bytes of files, never parse whole datasets.
    """

    name: str
    description: str
    detect: DetectFn | None = None
    load: LoadFn | None = None
    save: SaveFn | None = None
    import_options: tuple[Option, ...] = ()
    export_options: tuple[Option, ...] = ()
    extensions: tuple[str, ...] = field(default=())
    # False when a working copy in this format cannot be rebuilt from stored items
    # (its image bytes live inside an annotation file, e.g. a zip): not usable as a source.
    repo_source: bool = True
    # Optional incremental-export hook (docs/patch-export.md). ``changed`` holds the added and
    # modified items (in export order, with the new categories and subset meta), ``order`` every
    # (subset, id) of the export, ``rows`` the row the hook returned earlier for every other item.
    # The hook writes into the empty folder ``out`` exactly the bytes ``save`` would write for the
    # changed items' files and for every file shared by items (lists, label maps), and returns the
    # report and the rows of the changed items; None declines (a full export is synced instead).
    patch: PatchFn | None = None
    # True when ``patch`` puts every item's records into files shared by all items, copies the
    # unchanged ones from ``prev`` and returns rows for every item (COCO, Datumaro, CVAT): a full export
    # can then be written from two parts, one exported by a forked child (dsrepo/repo/halves.py).
    # The hook must not read the rows of unchanged items before it reaches them in ``order``.
    splits: bool = False
    # True when imported datasets fingerprint their items (``Dataset.stubs``): the repository
    # then also learns the fingerprints of working copies it exports (dsrepo/repo/memo.py).
    fingerprints: bool = False
    # ``annotation_files(folder) -> [relpath] | None``: the files of a dataset folder that
    # an import reads, when an export of that import writes exactly these file names (None:
    # another layout). With it, the repository keeps those files whole in its file cache
    # (dsrepo/repo/filecache.py) and a checkout can place them instead of exporting.
    annotation_files: Callable[[Path], list[str] | None] | None = None


def lazy_call(target: str, *extra: Any) -> Callable[..., Any]:
    """A function that imports ``"module:function"`` when first called and returns
    ``function(*args, *extra)``."""
    module, _, name = target.partition(":")

    def call(*args: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, *extra)

    call.__doc__ = f"Calls {target}."
    return call


def lazy_load(target: str, *extra: Any) -> LoadFn:
    """A :data:`LoadFn` that imports ``"module:function"`` when first called and returns
    ``function(Path(path), options, progress, *extra)``: format modules are imported only
    when used, so listing formats (and ``dsrepo --help``) stays fast."""
    module, _, name = target.partition(":")

    def load(path: Path, options: Mapping[str, Any], progress: Progress) -> Dataset:
        return getattr(importlib.import_module(module), name)(Path(path), options, progress, *extra)

    load.__doc__ = f"Import with {target}."
    return load


def lazy_save(target: str, *extra: Any) -> SaveFn:
    """A :data:`SaveFn` that imports ``"module:function"`` when first called and returns
    ``function(dataset, Path(out_dir), options, progress, *extra)``."""
    module, _, name = target.partition(":")

    def save(dataset: Dataset, out_dir: Path, options: Mapping[str, Any], progress: Progress) -> ExportReport:
        return getattr(importlib.import_module(module), name)(dataset, Path(out_dir), options, progress, *extra)

    save.__doc__ = f"Export with {target}."
    return save



def lazy_patch(target: str, *extra: Any) -> PatchFn:
    """A :data:`PatchFn` that imports ``"module:function"`` when first called and returns
    ``function(changed, order, rows, Path(out), options, progress, prev, *extra)``."""
    module, _, name = target.partition(":")

    def patch(changed: Dataset, order: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], PatchRow],
              out: Path, options: Mapping[str, Any], progress: Progress, prev: Path | None = None) -> Any:
        fn = getattr(importlib.import_module(module), name)
        return fn(changed, order, rows, Path(out), options, progress, prev, *extra)

    patch.__doc__ = f"Incremental export (docs/patch-export.md) with {target}."
    return patch


# Options every exporter accepts.
SAVE_MEDIA = Option("save-media", "flag", False, "copy (or re-encode) images into the export")
IMAGE_EXT = Option("image-ext", "str", None, "extension for saved images, e.g. .png (default: keep original)")
STRICT = Option("strict", "flag", False, "fail instead of warning when annotations cannot be represented")
COMMON_EXPORT_OPTIONS = (SAVE_MEDIA, IMAGE_EXT, STRICT)

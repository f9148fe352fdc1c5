"""Dataset transforms: one explicit table of named transforms, loaded lazily.

``TRANSFORMS`` maps a transform name to ``"module:attr"`` of its
:class:`~dsrepo.model.transforms.spec.TransformSpec`. Modules are imported only
when a transform is used, so listing names costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Sequence

from dsrepo.errors import UsageError
from dsrepo.options import parse_options

if TYPE_CHECKING:
    from dsrepo.model.dataset import Dataset
    from dsrepo.model.transforms.spec import TransformSpec

_P = "dsrepo.model.transforms."

TRANSFORMS: dict[str, str] = {
    "remap_labels": _P + "labels:REMAP_LABELS",
    "project_labels": _P + "labels:PROJECT_LABELS",
    "anns_to_labels": _P + "labels:ANNS_TO_LABELS",
    "rename": _P + "items:RENAME",
    "map_subsets": _P + "items:MAP_SUBSETS",
    "reindex": _P + "items:REINDEX",
    "id_from_image_name": _P + "items:ID_FROM_IMAGE_NAME",
    "sort": _P + "items:SORT",
    "remove_items": _P + "removal:REMOVE_ITEMS",
    "remove_annotations": _P + "removal:REMOVE_ANNOTATIONS",
    "remove_attributes": _P + "removal:REMOVE_ATTRIBUTES",
    "random_split": _P + "splits:RANDOM_SPLIT",
    "split": _P + "splits:SPLIT",
    "boxes_to_masks": _P + "shapes:BOXES_TO_MASKS",
    "polygons_to_masks": _P + "shapes:POLYGONS_TO_MASKS",
    "masks_to_polygons": _P + "shapes:MASKS_TO_POLYGONS",
    "shapes_to_boxes": _P + "shapes:SHAPES_TO_BOXES",
    "merge_instance_segments": _P + "segments:MERGE_INSTANCE_SEGMENTS",
    "crop_covered_segments": _P + "segments:CROP_COVERED_SEGMENTS",
    "resize": _P + "resize:RESIZE",
}


def transform_names() -> list[str]:
    """Every transform name, sorted."""
    return sorted(TRANSFORMS)


def get_transform(name: str) -> "TransformSpec":
    """The spec of transform ``name``; :class:`UsageError` listing known names if unknown."""
    target = TRANSFORMS.get(name)
    if target is None:
        raise UsageError(f"unknown transform {name!r} (known: {', '.join(transform_names())})")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def parse_transform_args(name: str, args: Sequence[str]) -> dict[str, Any]:
    """Parse CLI-style ``--param value`` arguments of transform ``name`` into params
    (every option present, defaults filled in). Bad options raise :class:`UsageError`."""
    spec = get_transform(name)
    return parse_options(spec.options, _join_repeated(spec, list(args)), context=f"transform {name}")


def _join_repeated(spec: "TransformSpec", args: list[str]) -> list[str]:
    """Fold repeated list options (``--label a:b --label c:d``) into one comma-joined
    value, since :func:`parse_options` keeps only the last occurrence."""
    lists = {o.name for o in spec.options if o.kind == "list"}
    out: list[str] = []
    slot: dict[str, int] = {}
    i = 0
    while i < len(args):
        tok = args[i]
        name, eq, val = tok[2:].partition("=")
        if not tok.startswith("--") or name not in lists or (not eq and i + 1 >= len(args)):
            out.append(tok)
            i += 1
            continue
        if not eq:
            val = args[i + 1]
            i += 1
        i += 1
        if name in slot:
            out[slot[name]] += "," + val
        else:
            out += ["--" + name, val]
            slot[name] = len(out) - 1
    return out


def apply_transform(dataset: "Dataset", name: str, **params: Any) -> "Dataset":
    """Apply transform ``name`` to ``dataset``. ``params`` are keyword options (dest
    names, e.g. ``dst_labels=["cat"]``); missing ones take their defaults, unknown or
    invalid ones raise :class:`UsageError`; ``None`` means the default. Returns a new
    (usually lazy) dataset."""
    spec = get_transform(name)
    given = {k: v for k, v in params.items() if v is not None}
    parsed = parse_options(spec.options, given, context=f"transform {name}")
    return spec.fn(dataset, parsed)

"""Segment transforms working on the pixels of an item: merge_instance_segments and
crop_covered_segments.

Rasters use the item's image size (stored, else read from the file header); when it
is unknown the first mask's size is used, and an item with only polygons fails with a
:class:`DatasetError` naming it.
"""

from __future__ import annotations

from typing import Any, Mapping

from dsrepo.errors import DatasetError
from dsrepo.model.annotations import AnnType, Annotation, Mask, Polygon
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.transforms.shapes import common, contours, rasterize
from dsrepo.model.transforms.spec import TransformSpec, where
from dsrepo.options import Option


def canvas_size(item: Item, segments: list[Annotation], what: str) -> tuple[int, int]:
    """``(h, w)`` to rasterise ``segments`` of ``item`` on."""
    size = item.media.header_size() if item.media is not None else None
    if size is not None:
        return size
    for a in segments:
        if a.type is AnnType.mask:
            return a.size  # type: ignore[union-attr]
    raise DatasetError(f"{what}: image size of item {where(item)} is unknown")


def _merge_item(item: Item, types: frozenset[AnnType]) -> Item:
    instances: dict[Any, list[int]] = {}
    for i, a in enumerate(item.annotations):
        if a.type in types:
            key = ("g", a.group, a.label) if a.group else ("i", i)
            instances.setdefault(key, []).append(i)
    replace: dict[int, Annotation] = {}
    drop: set[int] = set()
    for idx in instances.values():
        parts = [item.annotations[i] for i in idx]
        if len(parts) == 1 and parts[0].type is AnnType.mask:
            continue
        import numpy as np

        h, w = canvas_size(item, parts, "merge_instance_segments")
        union = np.zeros((h, w), np.uint8)
        for a in parts:
            union |= rasterize(a, h, w)
        first = parts[0]
        fields = common(first)
        fields["z_order"] = max(a.z_order for a in parts)
        replace[idx[0]] = Mask.from_array(union, **fields)
        drop.update(idx[1:])
    if not replace:
        return item
    anns = tuple(replace.get(i, a) for i, a in enumerate(item.annotations) if i not in drop)
    return item.with_(annotations=anns)


def merge_instance_segments(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Merge the masks of one instance (same non-zero group and label) into a single
    mask; with ``--include-polygons`` polygons join too (a lone polygon becomes a mask)."""
    types = frozenset({AnnType.mask, AnnType.polygon} if p["include_polygons"] else {AnnType.mask})
    return dataset.map_items(lambda it: _merge_item(it, types))


def _crop_item(item: Item) -> Item:
    seg = [i for i, a in enumerate(item.annotations) if a.type in (AnnType.mask, AnnType.polygon)]
    if len(seg) < 2:
        return item
    import numpy as np

    anns = item.annotations
    h, w = canvas_size(item, [anns[i] for i in seg], "crop_covered_segments")
    # Top-most first: higher z_order covers lower; on a tie the later annotation is on top.
    order = sorted(seg, key=lambda i: (anns[i].z_order, i), reverse=True)
    covered = np.zeros((h, w), bool)
    result: dict[int, list[Annotation]] = {}
    for i in order:
        a = anns[i]
        raster = rasterize(a, h, w).astype(bool)
        hidden = raster & covered
        covered |= raster
        if not hidden.any():
            continue
        visible = raster & ~hidden
        if a.type is AnnType.mask:
            result[i] = [Mask.from_array(visible, **common(a))] if visible.any() else []
        else:
            result[i] = [Polygon(points=pts, **common(a)) for pts in contours(visible)]
    if not result:
        return item
    out: list[Annotation] = []
    for i, a in enumerate(anns):
        out.extend(result.get(i, (a,)))
    return item.with_(annotations=tuple(out))


def crop_covered_segments(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Remove from each mask/polygon the pixels covered by segments above it (higher
    z_order, or later in the list on a tie). Fully covered segments are removed, cut
    polygons are re-traced as polygons (one per remaining part)."""
    return dataset.map_items(_crop_item)


MERGE_INSTANCE_SEGMENTS = TransformSpec(
    name="merge_instance_segments",
    description="Merge the masks (and optionally polygons) of each instance into one mask",
    version=1,
    options=(Option("include-polygons", "flag", False, "also merge polygons (converted to masks)"),),
    fn=merge_instance_segments,
)

CROP_COVERED_SEGMENTS = TransformSpec(
    name="crop_covered_segments",
    description="Cut from masks and polygons the parts covered by segments above them",
    version=1,
    options=(),
    fn=crop_covered_segments,
)

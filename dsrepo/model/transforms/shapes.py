"""Shape conversions: boxes_to_masks, polygons_to_masks, masks_to_polygons,
shapes_to_boxes.

Converted annotations keep ``id``, ``group``, ``label``, ``z_order`` and
``attributes``; their format-private ``meta`` is dropped (the geometry changed).
Masks are as large as the item's image (stored size, else the file header).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from dsrepo.model.annotations import AnnType, Annotation, Bbox, Mask, Polygon
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.transforms.spec import TransformSpec, image_size

MIN_POLYGON_POINTS = 3


def common(ann: Annotation) -> dict[str, Any]:
    """The fields a converted annotation inherits (everything but geometry and meta)."""
    return dict(id=ann.id, group=ann.group, label=ann.label, z_order=ann.z_order, attributes=ann.attributes)


def box_points(x: float, y: float, w: float, h: float) -> list[float]:
    """The four corners of a box as flat polygon coordinates."""
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def contours(array: Any) -> list[tuple[float, ...]]:
    """Outer contours of a binary mask as flat polygons (``cv2.findContours``, external
    contours, simple chain approximation), ordered top-to-bottom then left-to-right.
    Contours with fewer than 3 points (1-2 pixel wide specks) are skipped; holes are
    not represented."""
    import cv2
    import numpy as np

    a = np.ascontiguousarray(np.asarray(array) != 0, dtype=np.uint8)
    found, _ = cv2.findContours(a, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polys = []
    for c in found:
        pts = c.reshape(-1, 2)
        if len(pts) < MIN_POLYGON_POINTS:
            continue
        polys.append(tuple(float(v) for v in pts.flatten()))
    polys.sort(key=lambda p: (min(p[1::2]), min(p[0::2]), p))
    return polys


def convert_item(item: Item, types: frozenset[AnnType],
                 fn: Callable[[Annotation, Item], list[Annotation]]) -> Item:
    """Replace each annotation of ``types`` with ``fn(ann, item)`` (in place)."""
    if not any(a.type in types for a in item.annotations):
        return item
    anns: list[Annotation] = []
    for a in item.annotations:
        anns.extend(fn(a, item) if a.type in types else (a,))
    return item.with_(annotations=tuple(anns))


def rasterize(ann: Annotation, h: int, w: int):
    """A ``uint8`` ``(h, w)`` 0/1 array of a box, polygon, ellipse or mask."""
    import numpy as np

    from dsrepo.model import masks

    t = ann.type
    if t is AnnType.mask:
        img = ann.image  # type: ignore[union-attr]
        if img.shape == (h, w):
            return img
        canvas = np.zeros((h, w), np.uint8)
        hh, ww = min(h, img.shape[0]), min(w, img.shape[1])
        canvas[:hh, :ww] = img[:hh, :ww]
        return canvas
    if t is AnnType.bbox:
        return masks.decode(masks.from_polygons([box_points(*ann.get_bbox())], h, w))  # type: ignore[union-attr]
    if t is AnnType.polygon:
        return masks.decode(masks.from_polygons([ann.points], h, w))  # type: ignore[union-attr]
    if t is AnnType.ellipse:
        import cv2

        canvas = np.zeros((h, w), np.uint8)
        cx, cy = (ann.x1 + ann.x2) / 2, (ann.y1 + ann.y2) / 2  # type: ignore[union-attr]
        ax, ay = abs(ann.x2 - ann.x1) / 2, abs(ann.y2 - ann.y1) / 2  # type: ignore[union-attr]
        cv2.ellipse(canvas, (round(cx), round(cy)), (round(ax), round(ay)), 0, 0, 360, 1, -1)
        return canvas
    raise ValueError(f"cannot rasterize a {t.value}")


def _to_mask(ann: Annotation, item: Item, what: str) -> list[Annotation]:
    from dsrepo.model import masks

    h, w = image_size(item, what)
    points = box_points(*ann.get_bbox()) if ann.type is AnnType.bbox else ann.points  # type: ignore[union-attr]
    return [Mask(rle=masks.from_polygons([points], h, w), **common(ann))]


def boxes_to_masks(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Replace every box with the mask of the pixels it covers."""
    types = frozenset({AnnType.bbox})
    return dataset.map_items(lambda it: convert_item(it, types, lambda a, i: _to_mask(a, i, "boxes_to_masks")))


def polygons_to_masks(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Replace every polygon with its rasterised mask (pycocotools rules)."""
    types = frozenset({AnnType.polygon})
    return dataset.map_items(lambda it: convert_item(it, types, lambda a, i: _to_mask(a, i, "polygons_to_masks")))


def _mask_to_polygons(ann: Annotation, item: Item) -> list[Annotation]:
    return [Polygon(points=pts, **common(ann)) for pts in contours(ann.image)]  # type: ignore[union-attr]


def masks_to_polygons(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Replace every mask with one polygon per outer contour (same id/group/label);
    masks with no contour of 3+ points disappear."""
    types = frozenset({AnnType.mask})
    return dataset.map_items(lambda it: convert_item(it, types, _mask_to_polygons))


def _to_box(ann: Annotation, item: Item) -> list[Annotation]:
    x, y, w, h = ann.get_bbox()  # type: ignore[union-attr]
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    return [Bbox(x=x, y=y, w=w, h=h, **common(ann))]


def shapes_to_boxes(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Replace polygons, polylines, points, ellipses and masks with their bounding
    boxes (points: visible points only)."""
    types = frozenset({AnnType.polygon, AnnType.polyline, AnnType.points, AnnType.ellipse, AnnType.mask})
    return dataset.map_items(lambda it: convert_item(it, types, _to_box))


BOXES_TO_MASKS = TransformSpec(
    name="boxes_to_masks", description="Convert boxes to masks", version=1, options=(), fn=boxes_to_masks)

POLYGONS_TO_MASKS = TransformSpec(
    name="polygons_to_masks", description="Convert polygons to masks", version=1, options=(),
    fn=polygons_to_masks)

MASKS_TO_POLYGONS = TransformSpec(
    name="masks_to_polygons", description="Convert masks to polygons (outer contours)", version=1, options=(),
    fn=masks_to_polygons)

SHAPES_TO_BOXES = TransformSpec(
    name="shapes_to_boxes", description="Convert every shape to its bounding box", version=1, options=(),
    fn=shapes_to_boxes)

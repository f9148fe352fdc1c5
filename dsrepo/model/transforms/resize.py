"""resize: scale images and every annotation's geometry to a fixed width and height.

Pixels are resized in memory (``cv2.INTER_LINEAR``) and carried as ``Image(data=...)``
with no path or md5 (the item is now identified by the new pixels). An image whose
file is missing keeps no pixels, only the new size. Masks are resized with nearest
neighbour. Items without an image are kept unchanged.
"""

from __future__ import annotations

from typing import Any, Mapping

from dsrepo.errors import UsageError
from dsrepo.model.annotations import AnnType, Annotation
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.model.transforms.spec import TransformSpec, image_size
from dsrepo.options import Option


def scale_annotation(ann: Annotation, sx: float, sy: float) -> Annotation:
    """``ann`` with its geometry scaled by ``sx`` horizontally and ``sy`` vertically
    (format-private meta dropped; labels and captions returned unchanged)."""
    t = ann.type
    if t is AnnType.bbox:
        return ann.with_(x=ann.x * sx, y=ann.y * sy, w=ann.w * sx, h=ann.h * sy, meta={})  # type: ignore[union-attr]
    if t is AnnType.ellipse:
        return ann.with_(x1=ann.x1 * sx, y1=ann.y1 * sy, x2=ann.x2 * sx, y2=ann.y2 * sy,  # type: ignore[union-attr]
                         meta={})
    if t in (AnnType.polygon, AnnType.polyline, AnnType.points):
        pts = ann.points  # type: ignore[union-attr]
        scaled = [v * (sx if k % 2 == 0 else sy) for k, v in enumerate(pts)]
        return ann.with_(points=tuple(scaled), meta={})
    if t is AnnType.mask:
        import cv2

        from dsrepo.model import masks

        mh, mw = ann.size  # type: ignore[union-attr]
        nh, nw = max(1, round(mh * sy)), max(1, round(mw * sx))
        if (mh, mw) == (nh, nw):
            return ann
        img = cv2.resize(ann.image, (nw, nh), interpolation=cv2.INTER_NEAREST)  # type: ignore[union-attr]
        return ann.with_(rle=masks.encode(img), meta={})
    return ann


def _resize_item(item: Item, width: int, height: int) -> Item:
    if item.media is None:
        return item
    h, w = image_size(item, "resize")
    if (h, w) == (height, width):
        return item
    sx, sy = width / w, height / h
    media = item.media
    data = None
    if media.data is not None or media.has_file:
        import cv2

        try:
            pixels = media.load()
        except OSError:
            pixels = None
        if pixels is not None:
            interp = cv2.INTER_AREA if width < w and height < h else cv2.INTER_LINEAR
            data = cv2.resize(pixels, (width, height), interpolation=interp)
    new_media = Image(path=None, size=(height, width), name=media.name, md5=None, data=data)
    anns = tuple(scale_annotation(a, sx, sy) for a in item.annotations)
    return item.with_(media=new_media, annotations=anns)


def resize(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Scale every image to ``--width`` x ``--height`` and its annotations with it."""
    width, height = p["width"], p["height"]
    if width is None or height is None:
        raise UsageError("resize: --width and --height are required")
    if width <= 0 or height <= 0:
        raise UsageError(f"resize: --width and --height must be positive, got {width}x{height}")
    return dataset.map_items(lambda it: _resize_item(it, int(width), int(height)))


RESIZE = TransformSpec(
    name="resize",
    description="Resize images and scale annotations to a fixed width and height",
    version=1,
    options=(
        Option("width", "int", None, "new image width (required)"),
        Option("height", "int", None, "new image height (required)"),
    ),
    fn=resize,
)

"""The rich in-memory dataset the conversion matrix pushes through every format.

Small on purpose (4 items, 4 labels, 12 annotations) so that the full pair matrix stays
fast, but it has one of everything: two subsets, an item without annotations, an id with
a space, a nested id with unicode, image labels, boxes, polygons, a polyline, keypoints
with all three visibility codes and a skeleton, a mask, an ellipse, a caption,
annotation and item attributes, and groups linking a box to its keypoints.

Every coordinate is a multiple of 1/2 and every image side a power of two, so formats
that store normalised coordinates with 6 decimals (YOLO, GT Studio) or ``%.2f`` (CVAT)
represent them exactly; the comparison tolerances in test_matrix.py are still per format.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from dsrepo.model.annotations import Bbox, Caption, Ellipse, Label, Mask, Points, Polygon, Polyline
from dsrepo.model.categories import Categories, LabelCategory, PointsCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image

LABELS = ("cat", "dog", "person", "car")
CAT, DOG, PERSON, CAR = range(4)
KEYPOINT_NAMES = ("nose", "left eye", "right eye")

# (subset, id, (h, w)) of every item, in dataset order.
ITEMS = (
    ("train", "img 1", (64, 64)),
    ("train", "nested/ünïcödé", (32, 32)),
    ("val", "empty", (32, 32)),
    ("val", "street view", (32, 64)),
)


def write_png(path: Path, size: tuple[int, int], seed: int) -> None:
    """Write a small deterministic 3-channel PNG of ``size`` (h, w) at ``path``."""
    h, w = size
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    path.write_bytes(buf.tobytes())


def dog_mask(size: tuple[int, int]) -> np.ndarray:
    """The dog's mask on ``img 1``: a 6x8 block at rows 36..41, columns 48..55."""
    a = np.zeros(size, dtype=np.uint8)
    a[36:42, 48:56] = 1
    return a


def categories() -> Categories:
    """Four labels; ``person`` has a keypoint schema with a skeleton; ``car`` declares
    the ``color`` attribute."""
    return Categories(
        labels=(LabelCategory("cat"), LabelCategory("dog"), LabelCategory("person"),
                LabelCategory("car", attributes=("color",))),
        points={PERSON: PointsCategory(labels=KEYPOINT_NAMES, joints=((1, 2), (1, 3)))},
    )


def annotations() -> dict[str, tuple]:
    """The annotations of each item id (ids and groups set, as a tool would)."""
    return {
        "img 1": (
            Label(id=1, label=CAT),
            Bbox(id=2, group=1, label=CAT, x=8, y=4, w=16, h=12.5, attributes={"occluded": True}),
            Polygon(id=3, group=2, label=DOG, points=(32, 8, 56, 8, 44, 30)),
            Mask.from_array(dog_mask((64, 64)), id=4, group=3, label=DOG, attributes={"color": "brown"}),
            Caption(id=5, caption="a cat next to a dog"),
        ),
        "nested/ünïcödé": (
            Bbox(id=1, group=1, label=PERSON, x=4, y=2, w=20, h=26),
            Points(id=2, group=1, label=PERSON, points=(10, 8, 14, 8, 18, 9.5), visibility=(2, 1, 0)),
            Polyline(id=3, label=CAR, points=(2, 30, 16, 28.5, 30, 30)),
            Bbox(id=4, group=2, label=CAR, x=24, y=20, w=6, h=8, attributes={"color": "red"}),
        ),
        "empty": (),
        "street view": (
            Label(id=1, label=DOG),
            Ellipse(id=2, group=1, label=CAT, x1=4, y1=4, x2=20, y2=20),
            Bbox(id=3, group=2, label=DOG, x=36, y=6, w=20, h=18),
        ),
    }


def flat_twin(ds: Dataset) -> Dataset:
    """``ds`` with "/" in item ids and image names replaced by "_" (for ImageNet)."""
    return Dataset.from_items(
        [it.with_(id=it.id.replace("/", "_"), media=it.media.with_(name=it.media.name.replace("/", "_")))
         for it in ds], ds.categories)


def make_rich(root: Path) -> Dataset:
    """The rich dataset, with its PNG images written under ``root/src_images``."""
    anns = annotations()
    items = []
    for n, (subset, item_id, size) in enumerate(ITEMS):
        name = item_id + ".png"
        path = root / "src_images" / subset / name
        write_png(path, size, seed=n)
        attrs = {"weather": "sunny"} if item_id == "img 1" else {}
        items.append(Item(id=item_id, subset=subset, media=Image(path=str(path), size=size, name=name),
                          annotations=anns[item_id], attributes=attrs))
    return Dataset.from_items(items, categories())


# -- comparable forms ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Form:
    """What the matrix compares of one annotation: kind, label name and geometry.

    ``approx`` forms come from a conversion (e.g. a polygon rasterised to a mask): their
    ``geom`` is only the ``x, y, w, h`` extent, compared within one pixel. ``extra`` is
    the keypoint visibility or the caption text. ``group`` links annotations of one
    object (used by the projections, not compared); ``attrs`` must survive as a subset;
    ``tag`` marks the box a COCO import gave a keypoint object (not compared).
    """

    kind: str
    label: str | None
    geom: tuple[float, ...] = ()
    approx: bool = False
    extra: tuple = ()
    group: int = 0
    attrs: tuple = ()
    tag: str = ""

    def extent(self) -> tuple[float, ...]:
        """``x, y, w, h`` of the shape (what an approximate conversion keeps)."""
        if self.approx or self.kind == "bbox":
            return self.geom[:4]
        if self.kind == "mask":
            return self.geom[:4]
        if self.kind == "ellipse":
            x1, y1, x2, y2 = self.geom
            return (x1, y1, x2 - x1, y2 - y1)
        pts = self.geom
        if self.kind == "points":
            pts = tuple(c for i, v in enumerate(self.extra) if v for c in pts[2 * i:2 * i + 2])
        xs, ys = pts[0::2], pts[1::2]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def form_of(ann, names: list[str]) -> Form:
    """The comparable form of a model annotation (label index resolved to its name)."""
    label = names[ann.label] if ann.label is not None else None
    kind = ann.type.value
    common = dict(group=ann.group, attrs=tuple(sorted(ann.attributes.items())))
    if kind == "bbox":
        return Form(kind, label, (ann.x, ann.y, ann.w, ann.h), **common)
    if kind in ("polygon", "polyline"):
        return Form(kind, label, ann.points, **common)
    if kind == "points":
        return Form(kind, label, ann.points, extra=ann.visibility, **common)
    if kind == "mask":
        return Form(kind, label, tuple(ann.get_bbox()) + (ann.get_area(),), **common)
    if kind == "ellipse":
        return Form(kind, label, (ann.x1, ann.y1, ann.x2, ann.y2), **common)
    if kind == "caption":
        return Form(kind, None, extra=(ann.caption,), **common)
    return Form(kind, label, **common)


# -- what formats do to forms (used by the projections of test_matrix.py) ------------


def points_as(mode: str, f: Form) -> list[Form]:
    if mode == "exact":
        return [f]
    if mode == "all-visible":
        return [replace(f, extra=(2,) * len(f.extra))]
    kept = [i for i, v in enumerate(f.extra) if v]
    if mode == "drop-absent":
        return [replace(f, geom=tuple(c for i in kept for c in f.geom[2 * i:2 * i + 2]), extra=(2,) * len(kept))]
    return [replace(f, geom=f.geom[2 * i:2 * i + 2], extra=(2,)) for i in kept]


def coco_objects(forms: list[Form]) -> list[Form]:
    """COCO: the shapes of one group form one object (a box beside a mask, polygon or
    ellipse is not kept apart); keypoints come back with their object's box (the box of
    their group, else their extent). Returns the forms with one group per object."""
    out: list[Form] = []
    boxes = {f.group: f for f in forms if f.kind == "bbox" and f.group}
    kp_groups = {f.group for f in forms if f.kind == "points" and f.group}
    segs = {f.group for f in forms if f.kind in ("polygon", "mask", "ellipse") and f.group}
    seen: dict[int, int] = {}
    n = 0
    for f in forms:
        if f.kind in ("label", "caption"):
            out.append(replace(f, group=0))
        elif f.kind == "points":
            n += 1
            box = boxes.get(f.group) if f.group else None
            box = box or Form("bbox", f.label, f.extent(), approx=True)
            out += [replace(f, group=n), replace(box, group=n, attrs=(), tag="coco_kp")]
        elif f.kind == "bbox" and f.group in segs:
            continue
        elif f.kind == "bbox" and f.group in kp_groups:
            continue
        elif f.group and f.group in seen:
            out.append(replace(f, group=seen[f.group]))
        else:
            n += 1
            seen[f.group] = n
            out.append(replace(f, group=n, tag=""))
    return out


def boxes_for_masks(forms: list[Form]) -> list[Form]:
    """VOC: a labelled mask without a box of its (non-zero) group gets its extent as a
    box, which carries the mask's attributes (mask PNGs have none)."""
    boxed = {f.group for f in forms if f.kind == "bbox" and f.group}
    out = []
    n = max([f.group for f in forms] + [0])
    for f in forms:
        if f.kind == "mask":
            if f.label is not None and not (f.group and f.group in boxed):
                n += 1
                out.append(Form("bbox", f.label, f.extent(), approx=True, group=n, attrs=f.attrs))
                f = replace(f, group=n)
            f = replace(f, attrs=())
        out.append(f)
    return out


# -- expectations and comparison -------------------------------------------------------


@dataclass(slots=True)
class Expected:
    """Items (key -> forms, item attributes) and label names expected after a chain."""

    items: dict[tuple[str, str], tuple[list[Form], dict, tuple[int, int]]]
    labels: set[str]
    tol: float = 1e-9


def source_expected(ds: Dataset) -> Expected:
    """The rich dataset as forms."""
    names = ds.categories.label_names()
    items = {it.key: ([form_of(a, names) for a in it.annotations], dict(it.attributes), it.media.size)
             for it in ds}
    return Expected(items, set(names))


def _close(a: tuple, b: tuple, tol: float) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def _matches(e: Form, a: Form, tol: float) -> bool:
    if e.kind != a.kind or e.label != a.label:
        return False
    if e.approx:
        return _close(e.extent(), a.extent(), 1.0)
    return a.extra == e.extra and _close(e.geom, a.geom, tol)


def differences(exp: Expected, ds: Dataset) -> list[str]:
    """Every way ``ds`` differs from ``exp`` (empty when it survived as expected)."""
    out = []
    names = ds.categories.label_names()
    if set(names) != exp.labels:
        out.append(f"labels {sorted(names)} != expected {sorted(exp.labels)}")
    got = {it.key: it for it in ds}
    if len(got) != len(ds) or set(got) != set(exp.items):
        return out + [f"items {sorted(got)} != expected {sorted(exp.items)}"]
    for key, (want, attrs, size) in exp.items.items():
        item = got[key]
        if item.media is None or item.media.size != size:
            out.append(f"{key}: media size {item.media and item.media.size} != {size}")
        if attrs.items() - dict(item.attributes).items():
            out.append(f"{key}: item attributes {dict(item.attributes)} lack {attrs}")
        actual = [form_of(a, names) for a in item.annotations]
        for e in want:
            hit = next((a for a in actual if _matches(e, a, exp.tol)), None)
            if hit is None:
                out.append(f"{key}: missing {e}")
                continue
            actual.remove(hit)
            if set(e.attrs) - set(hit.attrs):
                out.append(f"{key}: {e.kind} attributes {hit.attrs} lack {e.attrs}")
        out += [f"{key}: unexpected {a}" for a in actual]
    return out

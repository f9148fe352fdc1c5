"""Exporting other datasets to GT Studio: normalised shapes, raster colours, honest losses."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.annotations import Bbox, Caption, Mask, Points, Polygon, Polyline
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

from .gt_data import write_image


def _mask(ys, xs, **kw):
    a = np.zeros((4, 8), np.uint8)
    a[ys, xs] = 1
    return Mask.from_array(a, **kw)


def _dataset(tmp_path):
    img = write_image(tmp_path / "src" / "p.jpg", 4, 8)
    cats = Categories.from_names(["cat", "dog"])
    items = [
        Item("nested/p", "train", Image(path=str(img), name="p.jpg"), attributes={"time": "day"}, annotations=(
            Bbox(x=2, y=1, w=4, h=2, label=0, attributes={"big": False}),
            Polygon(points=(0, 0, 8, 0, 8, 4), label=1),
            _mask(slice(0, 2), slice(0, 4), label=0, attributes={"occluded": True}),
            _mask(slice(1, 4), slice(2, 8), label=1, z_order=2),
            _mask(slice(2, 4), slice(4, 8), label=0, z_order=1),  # under the dog: fully covered
            Points(points=(1, 1)), Polyline(points=(0, 0, 1, 1)), Caption(caption="c"),
        )),
        Item("nosize", "val", Image(name="nosize.jpg"), annotations=(Bbox(x=0, y=0, w=1, h=1, label=0),)),
    ]
    return Dataset.from_items(items, cats)


def test_fresh_export(tmp_path):
    progress = NullProgress()
    report = export_dataset(_dataset(tmp_path), tmp_path / "out", "gt_studio", ["--save-media"], progress)
    assert report.files == ("images/nested/p.jpg", "masks/nested/p.png", "nested/p.json", "nosize.json")
    assert report.missing_media == ("nosize",)
    assert progress.warnings == [
        "gt_studio cannot hold annotation attributes: 1 dropped",  # of the cat's mask
        "gt_studio cannot hold annotations on images of unknown size: 1 dropped",
        "gt_studio cannot hold captions: 1 dropped",
        "gt_studio cannot hold covered pixels: 1 shapes cropped",  # the cat's mask, under the dog's
        "gt_studio cannot hold fully covered shapes: 1 dropped",
        "gt_studio cannot hold item attributes: 1 dropped",
        "gt_studio cannot hold points: 1 dropped",
        "gt_studio cannot hold polylines: 1 dropped",
        "gt_studio cannot hold subset names: 2 dropped",
        "gt_studio: 1 images not saved (no image file): nosize",
    ]
    doc = json.loads((tmp_path / "out" / "nested" / "p.json").read_text())
    anns = doc["annotations"]
    assert doc["image_url"] == "images/nested/p.jpg"
    assert list(anns) == ["rectangles", "lines", "landmarks", "cuboids", "polygons", "raster"]
    assert anns["rectangles"] == [{"label": "cat", "attributes": {"big": False}, "coordinates": [
        {"x": 0.25, "y": 0.25}, {"x": 0.75, "y": 0.25}, {"x": 0.75, "y": 0.75}, {"x": 0.25, "y": 0.75}]}]
    assert anns["polygons"] == [{"type": "polygon", "label": "dog",
                                 "edges": {"e1": ["p1", "p2"], "e2": ["p2", "p3"], "e3": ["p3", "p1"]},
                                 "points": {"p1": {"x": 0.0, "y": 0.0}, "p2": {"x": 1.0, "y": 0.0},
                                            "p3": {"x": 1.0, "y": 1.0}}, "attributes": {}}]
    raster = anns["raster"]
    c1, c2 = (i["color"] for i in raster["instances"])
    assert raster["url"] == "masks/nested/p.png" and raster["legend"] == {c1: "cat", c2: "dog"}
    assert raster["instances"] == [{"color": c1, "value": "cat #1"}, {"color": c2, "value": "dog #1"}]
    png = cv2.imread(str(tmp_path / "out" / "masks" / "nested" / "p.png"), cv2.IMREAD_UNCHANGED)
    assert png.shape == (4, 8, 4) and (png[:, :, 3] == 255).all()
    hexes = [f"#{r:02x}{g:02x}{b:02x}" for b, g, r, _a in png.reshape(-1, 4).tolist()]
    assert hexes[0] == c1 and hexes[8 + 2] == c2 and hexes[3 * 8] == "#000000"
    back = list(import_dataset(tmp_path / "out", "gt_studio"))
    assert [i.id for i in back] == ["nested/p", "nosize"]
    b, poly, m1, m2 = back[0].annotations
    assert (b.x, b.y, b.w, b.h) == (2.0, 1.0, 4.0, 2.0) and poly.points == (0.0, 0.0, 8.0, 0.0, 8.0, 4.0)
    assert [int(m.get_area()) for m in (m1, m2)] == [6, 18] and (m1.label, m2.label) == (0, 1)


def test_same_id_in_two_subsets(tmp_path):
    ds = Dataset.from_items([Item("a", "train"), Item("a", "val")])
    with pytest.raises(ExportError, match="item id 'a' is in subsets 'train' and 'val'; gt_studio has no subsets"):
        export_dataset(ds, tmp_path / "out", "gt_studio")


def test_strict(tmp_path):
    with pytest.raises(ExportError, match=r"^gt_studio cannot hold annotation attributes: 1 dropped; "
                                          r"gt_studio cannot hold annotations on images of unknown size: 1 dropped; "
                                          r".*; gt_studio cannot hold subset names: 2 dropped \(--strict\)$"):
        export_dataset(_dataset(tmp_path), tmp_path / "out", "gt_studio", ["--strict"])


def test_export_is_deterministic(tmp_path):
    ds = _dataset(tmp_path)
    a = export_dataset(ds, tmp_path / "a", "gt_studio", ["--save-media"])
    b = export_dataset(ds, tmp_path / "b", "gt_studio", ["--save-media"])
    assert a.files == b.files
    for rel in a.files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel

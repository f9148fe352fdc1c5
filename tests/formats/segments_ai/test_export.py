"""Exporting datasets from other formats to Segments.ai: layout, ids, bitmaps, honest losses."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.annotations import Bbox, Caption, Ellipse, Label, Mask, Points, Polygon
from dsrepo.model.categories import Categories, LabelCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

from .segments_data import write_image


def _mask(h, w, ys, xs, **kw):
    a = np.zeros((h, w), np.uint8)
    a[ys, xs] = 1
    return Mask.from_array(a, **kw)


def _dataset(tmp_path):
    img = write_image(tmp_path / "src" / "a b.png", 6, 8)
    cats = Categories(labels=(LabelCategory("cat", attributes=("tame",)), LabelCategory("dog")),
                      colormap={1: (10, 20, 30)})
    items = [
        Item("a b", "train", Image(path=str(img), name="a b.png"), annotations=(
            _mask(6, 8, slice(0, 3), slice(0, 4), id=7, label=0, attributes={"tame": True}),
            _mask(6, 8, slice(3, 6), slice(3, 8), id=5, label=0),  # fully under the next one: dropped
            _mask(6, 8, slice(2, 6), slice(2, 8), id=0, label=1, z_order=1),  # covers part of id 7
            Bbox(x=1, y=2, w=3, h=0.5, id=7, label=1),                         # id 7 is taken
            Label(label=0), Caption(caption="hi"), Ellipse(x1=0, y1=0, x2=1, y2=1, label=0),
        )),
        Item("x/y", "val", Image(name="x/y.jpg"), annotations=(
            Points(points=(1, 1, 2, 2, 3, 3), visibility=(2, 0, 1), label=1),
            Polygon(points=(0, 0, 4, 0, 4, 4), label=5),  # label index outside the categories
        )),
        Item("empty", "val"),
    ]
    return Dataset.from_items(items, cats)


def test_fresh_export_layout_and_losses(tmp_path):
    progress = NullProgress()
    report = export_dataset(_dataset(tmp_path), tmp_path / "out", "segments_ai", None, progress)
    assert report.files == ("bitmaps/train/a b.png", "release_train.json", "release_val.json")
    assert progress.warnings == [
        "segments_ai: 1 points with several points written as one annotation per point",
        "segments_ai cannot hold annotations with a label index outside the categories: 1 written without "
        "category_id",
        "segments_ai cannot hold captions: 1 dropped",
        "segments_ai cannot hold covered pixels: 1 shapes cropped",
        "segments_ai cannot hold ellipses: 1 dropped",
        "segments_ai cannot hold fully covered shapes: 1 dropped",
        "segments_ai cannot hold image labels: 1 dropped",
    ]
    doc = json.loads((tmp_path / "out" / "release_train.json").read_text())
    ds = doc["dataset"]
    assert ds["task_type"] == "segmentation-bitmap" and ds["labelsets"] == [{"name": "ground-truth",
                                                                            "description": ""}]
    assert ds["task_attributes"]["categories"] == [
        {"name": "cat", "id": 1, "attributes": [{"name": "tame", "input_type": "text"}]},
        {"name": "dog", "id": 2, "color": [10, 20, 30]}]
    (sample,) = ds["samples"]
    assert sample["name"] == "a b.png" and sample["attributes"] == {"image": {"url": "images/a b.png"}}
    label = sample["labels"]["ground-truth"]
    assert label["label_status"] == "LABELED"
    assert label["attributes"] == {
        "format_version": "0.1",
        "annotations": [{"id": 7, "category_id": 1, "attributes": {"tame": True}}, {"id": 8, "category_id": 2},
                        {"id": 9, "category_id": 2, "type": "bbox", "points": [[1.0, 2.0], [4.0, 2.5]]}],
        "segmentation_bitmap": {"url": "bitmaps/train/a b.png"}}
    bgra = cv2.imread(str(tmp_path / "out" / "bitmaps" / "train" / "a b.png"), cv2.IMREAD_UNCHANGED)
    assert bgra.shape == (6, 8, 4) and (bgra[:, :, 3] == 255).all()
    b = bgra.astype(np.int64)
    ids = b[:, :, 2] + 256 * b[:, :, 1] + 65536 * b[:, :, 0]
    assert ids[0, 0] == 7 and ids[2, 3] == 8 and ids[5, 7] == 8 and ids[5, 0] == 0
    val = json.loads((tmp_path / "out" / "release_val.json").read_text())["dataset"]
    assert val["task_type"] == "vector"
    anns = val["samples"][0]["labels"]["ground-truth"]["attributes"]["annotations"]
    assert anns == [{"id": 1, "category_id": 2, "type": "point", "points": [[1.0, 1.0]]},
                    {"id": 3, "category_id": 2, "type": "point", "points": [[3.0, 3.0]]},  # absent point skipped
                    {"id": 2, "type": "polygon", "points": [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0]]}]
    assert val["samples"][1]["name"] == "empty"
    assert val["samples"][1]["labels"]["ground-truth"]["attributes"]["annotations"] == []


def test_fresh_export_reimports(tmp_path):
    export_dataset(_dataset(tmp_path), tmp_path / "out", "segments_ai", ["--save-media"])
    ds = import_dataset(tmp_path / "out", "segments_ai")
    items = list(ds)
    assert [(i.subset, i.id) for i in items] == [("train", "a b"), ("val", "x/y"), ("val", "empty")]
    masks = items[0].annotations[:2]
    assert [int(m.get_area()) for m in masks] == [10, 24]  # 3 x 4 minus 2 covered pixels, and 4 x 6
    assert items[0].media.size == (6, 8)
    assert [c.name for c in ds.categories.labels] == ["cat", "dog"]
    assert dict(ds.categories.colormap) == {1: (10, 20, 30)}


def test_strict_refuses_losses(tmp_path):
    with pytest.raises(ExportError, match=r"^segments_ai cannot hold annotations with a label index outside the "
                                          r"categories: 1 written without category_id; segments_ai cannot hold "
                                          r"captions: 1 dropped; .* \(--strict\)$"):
        export_dataset(_dataset(tmp_path), tmp_path / "out", "segments_ai", ["--strict"])


def test_bad_subset_name(tmp_path):
    ds = Dataset.from_items([Item("a", "../up")])
    with pytest.raises(ExportError, match=r"subset name '../up' cannot be used in a file name"):
        export_dataset(ds, tmp_path / "out", "segments_ai")


def test_convert_from_coco_and_back(tmp_path):
    from dsrepo.formats.api import convert

    root = tmp_path / "seg"
    convert(_sample_coco(tmp_path), root, "segments_ai", "coco")
    ds, _ = convert(root, tmp_path / "coco2", "coco", "segments_ai")
    items = list(ds)
    assert [i.id for i in items] == ["a"]
    assert [type(a).__name__ for a in items[0].annotations] == ["Polygon", "Bbox"]


def _sample_coco(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 8, "height": 6}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [0, 0, 4, 4], "area": 8,
                            "segmentation": [[0, 0, 4, 0, 4, 4]], "iscrowd": 0},
                           {"id": 2, "image_id": 1, "category_id": 3, "bbox": [1, 1, 2, 2], "area": 4,
                            "segmentation": [], "iscrowd": 0}],
           "categories": [{"id": 3, "name": "cat"}]}
    p = tmp_path / "coco" / "annotations" / "instances_default.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps(doc))
    return tmp_path / "coco"


def test_box_far_corner_reads_back_exactly():
    """Boxes read from corners always come back exactly; other boxes within one ulp."""
    import math

    from dsrepo.formats.segments_ai.exporter import _far

    rng = np.random.default_rng(5)
    for x0, x1, w in zip(rng.uniform(0, 4000, 2000), rng.uniform(0, 4000, 2000), rng.uniform(0, 900, 2000)):
        x0, x1, w = float(x0), float(x1), float(w)
        lo, hi = min(x0, x1), max(x0, x1)
        assert _far(lo, hi - lo) - lo == hi - lo
        assert abs((_far(x0, w) - x0) - w) <= math.ulp(x0 + w)

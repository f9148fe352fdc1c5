"""Segments.ai import: layout, bitmaps, vector labels, options."""

from __future__ import annotations

import numpy as np
import pytest

from dsrepo.formats.api import import_dataset
from dsrepo.model.annotations import Bbox, Mask, Points, Polygon, Polyline
from dsrepo.progress import NullProgress

from .segments_data import (S3, bitmap_ids, make_reference, make_vector, reference_doc, vector_doc, write_bitmap,
                            write_image, write_json)


def test_reference_release_bitmap_instances(tmp_path):
    root = make_reference(tmp_path / "ref")
    ds = import_dataset(root, "segments_ai")
    assert [c.name for c in ds.categories.labels] == ["person", "donut"]
    assert [dict(c.meta) for c in ds.categories.labels] == [{"segments_ai": {"id": 0}}, {"segments_ai": {"id": 1}}]
    items = list(ds)
    assert [(i.id, i.subset) for i in items] == [("donuts", "default"), ("empty", "default")]  # todo: unlabeled
    donuts = items[0]
    assert donuts.media.path == str(root / "3b8b3da2.jpg")
    assert donuts.media.size == (8, 10) and donuts.media.name == "donuts.jpg"
    ids = bitmap_ids()
    assert [type(a) for a in donuts.annotations] == [Mask, Mask, Mask]
    assert [(a.id, a.label) for a in donuts.annotations] == [(1, 1), (300, 0), (70000, 1)]
    for a in donuts.annotations:
        assert a.size == (8, 10)
        assert np.array_equal(a.image, (ids == a.id).astype(np.uint8))
    assert dict(donuts.meta["segments_ai"]["label"]) == {"label_status": "LABELED",
                                                         "label_type": "segmentation-bitmap"}
    assert items[1].annotations == () and items[1].media.size == (6, 5)
    assert ds.media_root == str(root)


def test_instance_id_uses_all_three_channels_and_ignores_alpha(tmp_path):
    root = make_reference(tmp_path / "ref")
    write_bitmap(root / "504e7633.png", bitmap_ids(), alpha=0)
    donuts = next(iter(import_dataset(root, "segments_ai")))
    assert [int(a.get_area()) for a in donuts.annotations] == [12, 16, 14]
    assert donuts.annotations[2].get_bbox() == (2.0, 6.0, 7.0, 2.0)


def test_status_filter(tmp_path):
    root = make_reference(tmp_path / "ref")
    ds = import_dataset(root, "segments_ai", ["--status", "all"])
    todo = list(ds)[2]
    assert todo.id == "todo" and todo.annotations == ()
    assert todo.media.path is None and todo.media.size is None and todo.media.name == "todo.jpg"
    assert "label" not in todo.meta["segments_ai"]
    assert [i.id for i in import_dataset(root, "segments_ai", ["--status", "reviewed"])] == ["empty"]
    assert [i.id for i in import_dataset(root, "segments_ai", ["--status", "unlabeled"])] == ["todo"]


def test_vector_release_with_assets_folder(tmp_path):
    root = make_vector(tmp_path / "v")
    progress = NullProgress()
    ds = import_dataset(root / "release.json", "segments_ai", ["--assets", "assets"], progress)
    assert progress.warnings == []
    cats = ds.categories
    assert [c.name for c in cats.labels] == ["car", "pedestrian", "straße schild"]
    assert cats.labels[0].attributes == ("color",)
    assert dict(cats.colormap) == {0: (255, 0, 0), 1: (0, 255, 0)}
    items = list(ds)
    assert [i.id for i in items] == ["city/street 1", "no image"]  # PRELABELED skipped
    it = items[0]
    assert it.media.path == str(root / "assets" / "street 1.jpg") and it.media.size == (12, 16)
    assert it.media.name == "city/street 1.jpg"
    assert dict(it.attributes) == {"scene": "urban"}
    box, poly, line, point = it.annotations
    assert isinstance(box, Bbox) and (box.x, box.y, box.w, box.h) == (1.5, 2.25, 5.625, 6.75)
    assert box.label == 0 and dict(box.attributes) == {"color": "blue"} and box.id == 1
    assert isinstance(poly, Polygon) and poly.points == (0.0, 0.0, 4.5, 0.0, 4.5, 3.3333333333333335)
    assert dict(poly.meta) == {"segments_ai": {"track_id": 9}}
    assert isinstance(line, Polyline) and line.label == 2 and line.points == (1.0, 1.0, 2.0, 2.0, 3.0, 1.5)
    assert isinstance(point, Points) and point.points == (6.5, 1.25) and point.visibility == (2,)
    meta = it.meta["segments_ai"]
    assert meta["sample"] == {"uuid": "u-1", "metadata": {"weather": "rain"}}
    assert meta["label"] == {"label_status": "REVIEWED", "score": None}
    missing = items[1]
    assert missing.media.path is None and missing.media.name == "no image.jpg"


def test_other_labelset_and_absolute_assets(tmp_path):
    root = make_vector(tmp_path / "v")
    opts = ["--labelset", "predictions", "--status", "prelabeled", "--assets", str(root / "assets")]
    items = list(import_dataset(root, "segments_ai", opts))
    assert [(i.id, i.annotations) for i in items] == [("city/street 1", ())]
    assert items[0].media.size == (12, 16)


def test_single_other_labelset_is_chosen(tmp_path):
    doc = reference_doc()  # labels keyed by the task name "segmentation"
    root = tmp_path / "r"
    write_json(root / "x.json", doc)
    write_bitmap(root / "504e7633.png", bitmap_ids())
    ds = import_dataset(root / "x.json", "segments_ai")
    assert ds.subset_meta["default"]["segments_ai"]["labelset"] == "segmentation"
    assert len(list(ds)[0].annotations) == 3


def test_several_files_are_subsets(tmp_path):
    make_vector(tmp_path / "v")
    doc = vector_doc()
    write_json(tmp_path / "v" / "release_train.json", doc)
    (tmp_path / "v" / "release.json").rename(tmp_path / "v" / "release_val.json")
    ds = import_dataset(tmp_path / "v", "segments_ai")
    assert [(i.subset, i.id) for i in ds] == [("train", "city/street 1"), ("train", "no image"),
                                              ("val", "city/street 1"), ("val", "no image")]
    assert len(ds.categories.labels) == 3


def test_missing_bitmap_skip_option(tmp_path):
    root = make_reference(tmp_path / "ref")
    (root / "504e7633.png").unlink()
    progress = NullProgress()
    items = list(import_dataset(root, "segments_ai", ["--missing-bitmaps", "skip"], progress))
    assert items[0].annotations == ()
    assert progress.warnings == ["segments_ai: 1 segmentation bitmaps not found; those samples are imported "
                                 "without their masks"]


def test_grayscale_bitmap_and_jpeg_image(tmp_path):
    doc = reference_doc()
    doc["dataset"]["samples"] = doc["dataset"]["samples"][:1]
    doc["dataset"]["samples"][0]["labels"]["segmentation"]["attributes"]["annotations"] = [
        {"id": 1, "category_id": 0}, {"id": 2, "category_id": 1}]
    root = tmp_path / "g"
    write_json(root / "r.json", doc)
    write_image(root / "3b8b3da2.jpg", 3, 4)
    import cv2

    gray = np.array([[0, 1, 1, 2], [0, 0, 2, 2], [1, 0, 0, 0]], dtype=np.uint8)
    cv2.imwrite(str(root / "504e7633.png"), gray)
    it = next(iter(import_dataset(root, "segments_ai")))
    assert [int(a.get_area()) for a in it.annotations] == [3, 3]


@pytest.mark.parametrize("url, found", [(S3 + "a%20b.jpg?sig=1#x", "a b.jpg"), ("local/c.jpg", "local/c.jpg")])
def test_url_rule(tmp_path, url, found):
    doc = {"dataset": {"samples": [{"name": "s.jpg", "attributes": {"image": {"url": url}},
                                    "labels": {"ground-truth": {"label_status": "LABELED"}}}]}}
    write_json(tmp_path / "r.json", doc)
    write_image(tmp_path / found, 2, 3)
    it = next(iter(import_dataset(tmp_path, "segments_ai")))
    assert it.media.path == str(tmp_path / found) and it.media.size == (2, 3)

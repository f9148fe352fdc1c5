"""LabelMe import: values field by field."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import numpy as np
import pytest

from dsrepo.formats.api import import_dataset
from dsrepo.model.annotations import Bbox, Ellipse, Mask, Points, Polygon, Polyline

from .labelme_data import MASK_CROP, doc, image_bytes, make_rich, shape, write_doc, write_image


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    return make_rich(tmp_path / "src")


def _items(path: Path, options=None) -> dict:
    return {(it.subset, it.id): it for it in import_dataset(path, "labelme", options)}


def test_items_ordered_by_path_with_ids_without_extension(rich):
    ds = import_dataset(rich, "labelme")
    assert [(it.subset, it.id) for it in ds] == [
        ("default", "cat 1"), ("default", "embedded"), ("default", "empty"), ("default", "missing"),
        ("default", "nested/deep/dog"),
    ]
    assert len(ds) == 5
    assert ds.media_root == str(rich)


def test_categories_sorted_labels_with_shape_flags(rich):
    cats = import_dataset(rich, "labelme").categories
    assert cats.label_names() == ["cat", "dog", "eye", "fur", "tail", "whisker"]
    assert cats.labels[0].attributes == ("occluded", "truncated")
    assert cats.labels[2].attributes == ("visible",)
    assert cats.labels[1].attributes == ()


def test_every_shape_type(rich):
    it = _items(rich)[("default", "cat 1")]
    rect, circle, poly, line, strip, point, points, mask, unlabeled = it.annotations
    assert isinstance(rect, Bbox) and rect.get_bbox() == (2.0, 3.25, 28.5, 21.75)
    assert rect.label == 0 and rect.group == 1
    assert dict(rect.attributes) == {"occluded": True, "truncated": False, "description": "left cat"}
    assert rect.meta["labelme"] == {"p": [[30.5, 25.0], [2.0, 3.25]]}  # reversed corners kept
    assert isinstance(circle, Ellipse) and (circle.x1, circle.y1, circle.x2, circle.y2) == (5.0, 5.0, 15.0, 15.0)
    assert circle.group == 0 and circle.meta["labelme"]["g0"] == 1
    assert isinstance(poly, Polygon) and poly.points == (1.0, 1.0, 5.0, 1.0, 5.0, 6.0, 1.0, 6.0)
    assert poly.label == 4 and poly.meta["labelme"] == {"x": {"score": 0.75}}
    assert isinstance(line, Polyline) and line.points == (0.0, 0.0, 4.0, 4.0)
    assert line.meta["labelme"] == {"int": 1, "st": "line"}
    assert isinstance(strip, Polyline) and strip.points == (0.5, 0.5, 2.5, 2.5, 3.0, 8.0) and not strip.meta
    assert not strip.attributes  # description null -> nothing
    assert isinstance(point, Points) and point.points == (7.0, 8.0) and point.visibility == (2,)
    assert dict(point.attributes) == {"visible": True}
    assert isinstance(points, Points) and points.points == (9.0, 8.0, 11.0, 8.0) and not points.meta
    assert isinstance(mask, Mask) and mask.size == (30, 40) and mask.label == 3
    expected = np.zeros((30, 40), dtype=np.uint8)
    expected[5:8, 20:24] = MASK_CROP
    assert np.array_equal(mask.image, expected)
    assert mask.get_bbox() == (20.0, 5.0, 4.0, 3.0)
    assert not mask.meta  # box corners are the tight box
    assert isinstance(unlabeled, Polygon) and unlabeled.label is None


def test_item_fields_media_and_unknown_keys(rich):
    it = _items(rich)[("default", "cat 1")]
    assert dict(it.attributes) == {"indoor": True, "blurry": False}
    assert it.meta["labelme"] == {"v": "5.4.1", "x": {"imageData_note": "kept", "custom": {"z": 1, "a": [1, 2]}}}
    assert it.media.path == str(rich / "cat 1.jpg") and it.media.has_file
    assert it.media.name == "cat 1.jpg" and it.media.size == (30, 40)


def test_image_outside_json_folder_and_unicode_name(rich):
    it = _items(rich)[("default", "nested/deep/dog")]
    assert it.media.name == "images/dög.png"
    assert it.media.path == str(rich / "images" / "dög.png")
    assert "ip" not in it.meta["labelme"]


def test_embedded_image_decoded_in_memory(rich):
    it = _items(rich)[("default", "embedded")]
    raw = image_bytes(8, 10, ".png", seed=3)
    assert it.media.path is None and it.media.name == "embedded.png" and it.media.size == (8, 10)
    assert it.media.md5 == hashlib.md5(raw).hexdigest()
    assert it.media.data.shape == (8, 10, 3)
    assert it.meta["labelme"]["img"] == base64.b64encode(raw).decode("ascii")


def test_embedded_data_ignored_when_file_present(tmp_path):
    write_image(tmp_path / "a.png", 4, 6)
    other = base64.b64encode(image_bytes(9, 9)).decode("ascii")
    write_doc(tmp_path / "a.json", doc([], "a.png", 4, 6, image_data=other))
    it = next(iter(import_dataset(tmp_path, "labelme")))
    assert it.media.path == str(tmp_path / "a.png") and it.media.data is None
    assert "img" not in it.meta["labelme"]


def test_missing_image_is_not_an_error(rich):
    it = _items(rich)[("default", "missing")]
    assert it.media.path is None and it.media.name == "missing.jpg" and it.media.size == (20, 30)
    assert it.annotations[0].meta["labelme"] == {"int": 1}


def test_old_style_file_sizes_from_image_header(rich):
    it = _items(rich)[("default", "empty")]
    assert it.annotations == () and it.media.size == (6, 5)
    assert it.meta["labelme"] == {"v": None, "x": {"lineColor": [0, 255, 0, 128],
                                                   "fillColor": [255, 0, 0, 128]}}


def test_windows_and_absolute_image_paths(tmp_path):
    write_image(tmp_path / "sub" / "x.jpg", 5, 5)
    write_doc(tmp_path / "sub" / "x.json", doc([], "C:\\Users\\me\\data\\x.jpg", 5, 5))
    write_image(tmp_path / "imgs" / "y.png", 5, 5)
    write_doc(tmp_path / "ann" / "y.json", doc([], "..\\imgs\\y.png", 5, 5))
    write_doc(tmp_path / "z.json", doc([], "/etc/passwd", 5, 5))
    items = _items(tmp_path)
    x = items[("default", "sub/x")]
    assert x.media.name == "sub/x.jpg" and x.media.path == str(tmp_path / "sub" / "x.jpg")
    assert x.meta["labelme"]["ip"] == "C:\\Users\\me\\data\\x.jpg"
    y = items[("default", "ann/y")]
    assert y.media.name == "imgs/y.png" and y.meta["labelme"]["ip"] == "..\\imgs\\y.png"
    z = items[("default", "z")]
    assert z.media.name == "passwd" and z.media.path is None  # never read outside the dataset


def test_empty_image_path_finds_image_by_stem(tmp_path):
    write_image(tmp_path / "q.PNG", 3, 4)
    write_doc(tmp_path / "q.json", doc([], "", None, None))
    it = next(iter(import_dataset(tmp_path, "labelme")))
    assert it.media.name == "q.PNG" and it.media.size == (3, 4)
    assert "ip" not in it.meta["labelme"]


def test_subset_folders_option(tmp_path):
    write_doc(tmp_path / "train" / "a.json", doc([shape("x", [[0, 0], [1, 1]], "rectangle")], "a.jpg", 4, 4))
    write_doc(tmp_path / "train" / "deep" / "b.json", doc([], "../b.jpg", 4, 4))
    write_doc(tmp_path / "val" / "a.json", doc([], "a.jpg", 4, 4))
    write_doc(tmp_path / "root.json", doc([], "root.jpg", 4, 4))
    assert sorted(_items(tmp_path, ["--subset-folders"])) == [
        ("default", "root"), ("train", "a"), ("train", "deep/b"), ("val", "a")]
    b = _items(tmp_path, ["--subset-folders"])[("train", "deep/b")]
    assert b.media.name == "b.jpg"
    assert sorted(_items(tmp_path)) == [("default", "root"), ("default", "train/a"),
                                        ("default", "train/deep/b"), ("default", "val/a")]
    assert _items(tmp_path)[("default", "train/deep/b")].media.name == "train/b.jpg"


def test_single_file_import(rich):
    ds = import_dataset(rich / "nested" / "deep" / "dog.json", "labelme")
    (it,) = list(ds)
    # the dataset folder is the file's folder: ../../images is outside it, not read
    assert it.id == "dog" and it.media.name == "dög.png" and it.media.path is None
    assert it.meta["labelme"]["ip"] == "../../images/dög.png"
    assert ds.categories.label_names() == ["dog"]


def test_mask_crop_clipped_at_image_border(tmp_path):
    crop = np.ones((4, 4), dtype=np.uint8)
    from .labelme_data import mask_png_b64

    write_doc(tmp_path / "m.json", doc([shape("m", [[8.0, -2.0], [11.0, 1.0]], "mask", mask=mask_png_b64(crop))],
                                       "m.png", 5, 10))
    ann = next(iter(import_dataset(tmp_path, "labelme"))).annotations[0]
    expected = np.zeros((5, 10), dtype=np.uint8)
    expected[0:2, 8:10] = 1
    assert np.array_equal(ann.image, expected)
    assert ann.meta["labelme"] == {"p": [[8.0, -2.0], [11.0, 1.0]]}


def test_missing_shape_type_is_polygon_and_hidden_files_skipped(tmp_path):
    d = doc([{"label": "a", "points": [[0, 0], [2, 0], [2, 2]]}], "a.jpg", 3, 3)
    write_doc(tmp_path / "a.json", d)
    write_doc(tmp_path / ".cache" / "junk.json", {"not": "labelme"})
    write_doc(tmp_path / ".hidden.json", {"not": "labelme"})
    (it,) = list(import_dataset(tmp_path, "labelme"))
    assert isinstance(it.annotations[0], Polygon) and it.annotations[0].points == (0.0, 0.0, 2.0, 0.0, 2.0, 2.0)
    assert it.annotations[0].meta["labelme"] == {"int": 1}

"""Datumaro import: every field of the hand-written datasets, layouts and variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsrepo.formats.api import import_dataset
from dsrepo.model.annotations import Bbox, Caption, Ellipse, Label, Mask, Points, Polygon, Polyline
from dsrepo.progress import NullProgress

from .dm_data import CATEGORIES, rle_counts, subset_doc, train_items, write_image, write_json


def _items(root: Path, progress: NullProgress | None = None) -> dict:
    return {(it.subset, it.id): it for it in import_dataset(root, "datumaro", None, progress or NullProgress())}


def test_categories(rich):
    cats = import_dataset(rich, "datumaro").categories
    assert [(c.name, c.parent, c.attributes) for c in cats.labels] == [
        ("cat", "", ()), ("dog", "animal", ("age", "breed")), ("person", "", ())]
    assert cats.attributes == ("occluded",)
    assert dict(cats.colormap) == {0: (10, 20, 30), 1: (200, 0, 0)}
    assert cats.points[2].labels == ("head", "l_hand", "r_hand")
    assert cats.points[2].joints == ((1, 2), (1, 3))


def test_subsets_order_and_meta(rich):
    ds = import_dataset(rich, "datumaro")
    assert [it.key for it in ds] == [("train", "img 1"), ("train", "nested/dir/ünï"), ("train", "no_anns"),
                                     ("val", "b"), ("val", "c")]
    assert len(ds) == 5
    assert ds.subsets() == ["train", "val", "test"]  # test.json is empty but kept
    assert ds.subset_meta["test"]["datumaro"]["infos"] == {"author": "tests"}
    assert ds.subset_meta["train"]["datumaro"]["categories"]["label_groups"] == [
        {"name": "pets", "group_type": "exclusive", "labels": ["cat", "dog"]}]


def test_every_annotation_type(rich):
    progress = NullProgress()
    it = _items(rich, progress)[("train", "img 1")]
    assert dict(it.attributes) == {"frame": 3, "note": "first"}
    a = it.annotations
    assert [type(x) for x in a] == [Bbox, Polygon, Polyline, Points, Mask, Label, Caption, Ellipse, Bbox]
    box = a[0]
    assert (box.id, box.label, box.group, box.z_order) == (1, 0, 0, 1)
    assert (box.x, box.y, box.w, box.h) == (1.5, 2.0, 3.25, 4.0)
    assert dict(box.attributes) == {"occluded": False, "score": 0.75}
    assert a[1].points == (0.0, 0.0, 5.0, 0.0, 5.0, 5.0) and a[1].group == 7 and a[1].label == 1
    assert a[2].points == (1.0, 1.0, 2.0, 3.5) and a[2].z_order == 2 and dict(a[2].attributes) == {"age": 3}
    assert a[3].points == (1.0, 2.0, 3.0, 4.0, 0.0, 0.0) and a[3].visibility == (2, 1, 0) and a[3].label == 2
    assert a[4].rle["counts"] == rle_counts() and a[4].size == (6, 5) and a[4].z_order == 3
    assert a[4].image.sum() == 6 and a[4].get_bbox() == (1.0, 1.0, 3.0, 2.0)
    assert a[5].label == 2 and dict(a[5].attributes) == {"confidence": 0.5}
    assert a[6].caption == "a cat, ünïcode ☕" and a[6].label is None
    assert (a[7].x1, a[7].y1, a[7].x2, a[7].y2) == (1.0, 2.0, 6.0, 8.0)
    assert a[8].label is None and a[8].meta["datumaro"]["x"] == {"object_id": 42}
    # the cuboid is kept whole, with its position in the list
    pos, raw = it.meta["datumaro"]["opaque"][0]
    assert pos == 8 and raw["type"] == "cuboid_3d" and raw["position"] == [1.0, 2.0, 3.0]
    assert progress.warnings == [
        "datumaro: 1 cuboid_3d annotations kept as opaque item data (dsrepo has no such type)"]


def test_media(rich):
    items = _items(rich)
    m = items[("train", "img 1")].media
    assert m.path == str(rich / "images" / "train" / "img 1.jpg") and m.size == (10, 20) and m.name == "img 1.jpg"
    m = items[("train", "nested/dir/ünï")].media  # no size in the file: read from the PNG header
    assert m.size == (12, 16) and m.name == "nested/dir/ünï.png" and m.has_file
    assert items[("train", "no_anns")].media is None
    assert items[("train", "no_anns")].annotations == ()
    m = items[("val", "b")].media  # missing image: not an error
    assert m.path is None and m.size == (8, 8) and m.name == "b.jpg"
    m = items[("val", "c")].media  # older layout: images/<path> without the subset folder
    assert m.path == str(rich / "images" / "c.jpg") and m.size == (7, 9)


@pytest.mark.parametrize("target", ["root", "annotations", "file"])
def test_import_targets(rich, target):
    path = {"root": rich, "annotations": rich / "annotations", "file": rich / "annotations" / "train.json"}[target]
    ds = import_dataset(path, "datumaro")
    subsets = {it.subset for it in ds}
    assert subsets == ({"train"} if target == "file" else {"train", "val"})
    img = next(it for it in ds if it.id == "img 1").media
    assert img.has_file  # the image root is found from the file's location


def test_legacy_file_and_numeric_types(tmp_path):
    """No dm_format_version/media_type (Datumaro < 1.0); numeric types read with 1.x numbering."""
    doc = {"info": {}, "categories": {"label": {"labels": [{"name": "a", "parent": ""}], "attributes": []}},
           "items": [{"id": "x", "annotations": [
               {"id": 1, "type": 6, "attributes": {}, "group": 0, "label_id": 0, "z_order": 0, "bbox": [1, 2, 3, 4]},
               {"id": 2, "type": 1, "label_id": 0},
               {"id": 3, "type": 4, "label_id": 0, "points": [0, 0, 1, 0, 1, 1]}]}]}
    write_json(tmp_path / "d" / "annotations" / "default.json", doc)
    ds = import_dataset(tmp_path / "d", "datumaro")
    (it,) = list(ds)
    assert [type(a) for a in it.annotations] == [Bbox, Label, Polygon]
    assert it.annotations[0].get_bbox() == (1.0, 2.0, 3.0, 4.0)
    assert it.subset == "default" and it.media is None
    assert ds.subset_meta["default"]["datumaro"]["x"] == {"info": {}}


def test_absolute_and_generic_media_paths(tmp_path):
    doc = subset_doc([
        {"id": "abs", "annotations": [], "image": {"path": "/data/src/abs.png", "size": [4, 5]}},
        {"id": "gen", "annotations": [], "media": {"path": "gen.jpg"}},
        {"id": "nopath", "annotations": [], "image": {"size": [3, 3]}},
    ])
    write_json(tmp_path / "d" / "annotations" / "default.json", doc)
    write_image(tmp_path / "d" / "images" / "default" / "gen.jpg", 6, 7)
    items = {it.id: it for it in import_dataset(tmp_path / "d", "datumaro")}
    a = items["abs"]
    assert a.media.path is None and a.media.name == "abs.png" and a.media.size == (4, 5)
    assert a.meta["datumaro"]["abs_path"] == "/data/src/abs.png"  # never read outside the dataset
    g = items["gen"]
    assert g.media.has_file and g.media.size == (6, 7) and g.meta["datumaro"]["media_key"] == "media"
    assert items["nopath"].media.name == "nopath.jpg"  # Datumaro's default: <id>.jpg


def test_unknown_keys_are_kept(tmp_path):
    cats = {"label": {"labels": [{"name": "a", "parent": "", "attributes": [], "color": "#fff"}],
                      "attributes": [], "extra": 1}, "future_kind": {"v": 2}}
    doc = subset_doc([{"id": "x", "annotations": [], "flags": {"done": True}}], categories=cats)
    doc["stats"] = {"n": 1}
    write_json(tmp_path / "d" / "annotations" / "default.json", doc)
    ds = import_dataset(tmp_path / "d", "datumaro")
    assert ds.categories.labels[0].meta["datumaro"]["x"] == {"color": "#fff"}
    native = ds.subset_meta["default"]["datumaro"]
    assert native["x"] == {"stats": {"n": 1}}
    assert native["categories"] == {"label_x": {"extra": 1}, "x": {"future_kind": {"v": 2}}}
    assert next(iter(ds)).meta["datumaro"]["x"] == {"flags": {"done": True}}


def test_dataset_meta_used_when_files_have_no_labels(tmp_path):
    write_json(tmp_path / "d" / "annotations" / "default.json", subset_doc(
        [{"id": "x", "annotations": [{"id": 0, "type": "label", "label_id": 1}]}], categories={}))
    write_json(tmp_path / "d" / "dataset_meta.json",
               {"label_map": {"1": "dog", "0": "cat"}, "segmentation_colors": [[0, 0, 0], [1, 2, 3]]})
    ds = import_dataset(tmp_path / "d", "datumaro")
    assert ds.categories.label_names() == ["cat", "dog"]
    assert dict(ds.categories.colormap) == {0: (0, 0, 0), 1: (1, 2, 3)}
    assert next(iter(ds)).annotations[0].label == 1


def test_files_without_categories_share_the_others(tmp_path):
    write_json(tmp_path / "d" / "annotations" / "a.json", subset_doc([], categories={}))
    write_json(tmp_path / "d" / "annotations" / "b.json", subset_doc(train_items()[1:2]))
    ds = import_dataset(tmp_path / "d", "datumaro")
    assert ds.categories.label_names() == [c["name"] for c in CATEGORIES["label"]["labels"]]
    assert ds.subsets() == ["b", "a"]


def test_missing_visibility_means_visible_and_null_fields(tmp_path):
    doc = subset_doc([{"id": "x", "annotations": [
        {"id": None, "type": "points", "attributes": None, "group": None, "label_id": 2, "points": [1, 1, 2, 2]}],
        "attr": None}])
    write_json(tmp_path / "d" / "annotations" / "default.json", doc)
    (it,) = list(import_dataset(tmp_path / "d", "datumaro"))
    p = it.annotations[0]
    assert p.visibility == (2, 2) and p.id == 0 and p.group == 0 and dict(p.attributes) == {}
    assert dict(it.attributes) == {}

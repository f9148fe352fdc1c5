"""LabelMe export of datasets made in memory (conversions from other formats)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model import (
    Bbox, Caption, Categories, Dataset, Ellipse, Image, Item, Label, Mask, Points, Polygon, Polyline,
)
from dsrepo.progress import NullProgress

from .labelme_data import write_image


def _ds(items, names=("car", "person")) -> Dataset:
    return Dataset.from_items(items, Categories.from_names(names))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_fresh_dataset_every_annotation_kind(tmp_path):
    img = write_image(tmp_path / "img" / "a.png", 10, 12)
    mask = np.zeros((10, 12), dtype=np.uint8)
    mask[2:4, 5:9] = 1
    item = Item("dir/a", media=Image(path=str(tmp_path / "img" / "a.png"), name="a.png"), annotations=(
        Bbox(x=1, y=2, w=3, h=4, label=0, group=5, attributes={"occluded": False}),
        Ellipse(x1=0, y1=0, x2=4, y2=4, label=1),
        Polygon(points=(0, 0, 3, 0, 3, 3), label=1, attributes={"description": "a triangle"}),
        Polyline(points=(1, 1, 2, 2), label=0),
        Points(points=(5, 5, 6, 6, 7, 7), visibility=(2, 0, 1), label=1),
        Points(points=(1, 1), label=1),
        Mask.from_array(mask, label=0),
    ), attributes={"reviewed": True})
    progress = NullProgress()
    report = export_dataset(_ds([item]), tmp_path / "out", "labelme", None, progress)
    assert report.files == ("dir/a.json",) and report.missing_media == ()
    d = _load(tmp_path / "out" / "dir" / "a.json")
    assert list(d) == ["version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth"]
    assert d["version"] == "5.5.0" and d["flags"] == {"reviewed": True}
    assert d["imagePath"] == "../a.png" and d["imageData"] is None
    assert (d["imageHeight"], d["imageWidth"]) == (10, 12)
    s = d["shapes"]
    assert [x["shape_type"] for x in s] == ["rectangle", "circle", "polygon", "linestrip", "points", "point", "mask"]
    assert s[0] == {"label": "car", "points": [[1.0, 2.0], [4.0, 6.0]], "group_id": 5, "description": "",
                    "shape_type": "rectangle", "flags": {"occluded": False}, "mask": None}
    assert s[1]["points"] == [[2.0, 2.0], [4.0, 2.0]]
    assert s[2]["description"] == "a triangle" and s[2]["flags"] == {}
    assert s[4]["points"] == [[5.0, 5.0], [7.0, 7.0]]
    assert s[6]["points"] == [[5.0, 2.0], [8.0, 3.0]]
    assert not (tmp_path / "out" / "a.png").exists() and img  # no --save-media: images not copied
    assert progress.warnings == [
        "labelme cannot hold absent keypoints: 1 dropped",
        "labelme cannot hold hidden keypoint visibility (written as visible): 1 dropped",
    ]
    back = next(iter(import_dataset(tmp_path / "out", "labelme")))
    assert back.annotations[0].get_bbox() == (1.0, 2.0, 3.0, 4.0)
    assert (back.annotations[1].x1, back.annotations[1].y2) == (0.0, 4.0)
    assert np.array_equal(back.annotations[6].image, mask)


def test_lossy_kinds_are_counted_and_strict_fails(tmp_path):
    item = Item("a", media=Image(name="a.jpg", size=(5, 5)), annotations=(
        Label(label=0), Caption(caption="hi"), Caption(caption="ho"),
        Ellipse(x1=0, y1=0, x2=4, y2=2, label=0), Bbox(x=0, y=0, w=1, h=1, label=0, z_order=2),
    ))
    progress = NullProgress()
    export_dataset(_ds([item]), tmp_path / "out", "labelme", None, progress)
    assert progress.warnings == [
        "labelme cannot hold captions: 2 dropped",
        "labelme cannot hold image labels: 1 dropped",
        "labelme cannot hold non-circular ellipses: 1 dropped",
        "labelme cannot hold z_order values (kept as shape order): 1 dropped",
    ]
    assert [s["shape_type"] for s in _load(tmp_path / "out" / "a.json")["shapes"]] == ["rectangle"]
    with pytest.raises(ExportError, match=r"labelme cannot hold captions: 2 dropped; .* \(--strict\)"):
        export_dataset(_ds([item]), tmp_path / "strict", "labelme", ["--strict"])


def test_z_order_becomes_shape_order(tmp_path):
    item = Item("a", annotations=(Bbox(x=0, y=0, w=1, h=1, label=0, z_order=3),
                                  Bbox(x=1, y=1, w=1, h=1, label=1, z_order=-1),
                                  Bbox(x=2, y=2, w=1, h=1, label=0)))
    export_dataset(_ds([item]), tmp_path / "out", "labelme")
    d = _load(tmp_path / "out" / "a.json")
    assert [s["points"][0][0] for s in d["shapes"]] == [1.0, 2.0, 0.0]
    assert d["imagePath"] == "" and d["imageHeight"] is None


def test_subsets_become_folders_and_unlabeled_shapes(tmp_path):
    items = [Item("x", subset="train", media=Image(name="x.jpg", size=(4, 4)),
                  annotations=(Polygon(points=(0, 0, 1, 0, 1, 1)),)),
             Item("x", subset="val", media=Image(name="pics/x.jpg", size=(4, 4))),
             Item("y", media=Image(name="y.jpg", size=(4, 4)))]
    report = export_dataset(_ds(items), tmp_path / "out", "labelme")
    assert report.files == ("train/x.json", "val/x.json", "y.json")
    assert _load(tmp_path / "out" / "train" / "x.json")["shapes"][0]["label"] == ""
    assert _load(tmp_path / "out" / "val" / "x.json")["imagePath"] == "pics/x.jpg"
    back = {it.key: it for it in import_dataset(tmp_path / "out", "labelme", ["--subset-folders"])}
    assert sorted(back) == [("default", "y"), ("train", "x"), ("val", "x")]
    assert back[("train", "x")].annotations[0].label is None


def test_save_media_image_ext_and_embed(tmp_path):
    write_image(tmp_path / "src" / "a.png", 6, 7, seed=5)
    in_memory = np.full((3, 4, 3), 200, dtype=np.uint8)
    items = [Item("a", media=Image(path=str(tmp_path / "src" / "a.png"), name="a.png")),
             Item("b", media=Image(data=in_memory, name="b.png")),
             Item("gone", media=Image(path=str(tmp_path / "nope.jpg"), name="gone.jpg", size=(2, 2)))]
    report = export_dataset(_ds(items), tmp_path / "out", "labelme", ["--save-media", "--image-ext", ".bmp"])
    assert report.files == ("a.bmp", "a.json", "b.bmp", "b.json", "gone.json")
    assert report.missing_media == ("gone.bmp",)
    d = _load(tmp_path / "out" / "a.json")
    assert d["imagePath"] == "a.bmp" and d["imageData"] is None and (d["imageHeight"], d["imageWidth"]) == (6, 7)
    import cv2

    assert cv2.imread(str(tmp_path / "out" / "b.bmp")).shape == (3, 4, 3)
    report = export_dataset(_ds(items), tmp_path / "emb", "labelme", ["--embed-images"])
    assert report.files == ("a.json", "b.json", "gone.json") and report.missing_media == ("gone.jpg",)
    a = _load(tmp_path / "emb" / "a.json")
    assert base64.b64decode(a["imageData"]) == (tmp_path / "src" / "a.png").read_bytes()
    b = next(it for it in import_dataset(tmp_path / "emb", "labelme") if it.id == "b")
    assert b.media.path is None and np.array_equal(b.media.data, in_memory)
    assert _load(tmp_path / "emb" / "gone.json")["imageData"] is None


def test_same_image_referenced_twice_written_once(tmp_path):
    write_image(tmp_path / "src" / "p.jpg", 4, 4)
    media = Image(path=str(tmp_path / "src" / "p.jpg"), name="p.jpg")
    report = export_dataset(_ds([Item("p", media=media), Item("p_v2", media=media)]), tmp_path / "out",
                            "labelme", ["--save-media"])
    assert report.files == ("p.jpg", "p.json", "p_v2.json")
    assert _load(tmp_path / "out" / "p_v2.json")["imagePath"] == "p.jpg"


def test_bad_export_targets(tmp_path):
    with pytest.raises(ExportError, match=r"items 'a' \(x\) and 'x/a' \(default\) would both be written to x/a.json"):
        export_dataset(_ds([Item("a", subset="x"), Item("x/a")]), tmp_path / "o1", "labelme")
    with pytest.raises(ExportError, match=r"item '\.\./evil' of subset 'default': unsafe file name"):
        export_dataset(_ds([Item("../evil")]), tmp_path / "o2", "labelme")
    with pytest.raises(ExportError, match=r"item 'a': label index 7 is not in the categories \(2 labels\)"):
        export_dataset(_ds([Item("a", annotations=(Bbox(label=7),))]), tmp_path / "o3", "labelme")
    assert not (tmp_path / "evil.json").exists()


def test_stale_round_trip_meta_is_ignored_after_edits(tmp_path):
    """Points kept from the original file are written only while they still describe
    the annotation; an edited annotation is written from its geometry."""
    kept = {"labelme": {"p": [[5.0, 5.0], [1.0, 1.0]], "ip": "old/name.jpg"}}
    item = Item("a", media=Image(name="a.jpg", size=(9, 9)), meta=kept,
                annotations=(Bbox(x=2, y=2, w=1, h=1, label=0, meta=kept),))
    export_dataset(_ds([item]), tmp_path / "out", "labelme")
    d = _load(tmp_path / "out" / "a.json")
    assert d["shapes"][0]["points"] == [[2.0, 2.0], [3.0, 3.0]]
    assert d["imagePath"] == "a.jpg"


def test_nested_default_ids_beside_subset_folders_are_reported(tmp_path):
    """``a/b`` of subset default and subset folders cannot both be read back: counted
    (an error with --strict); alone, either one is fine."""
    items = [Item("a/b", annotations=(Bbox(x=0, y=0, w=1, h=1, label=0),)), Item("c/d é"),
             Item("x", subset="train"), Item("top")]
    progress = NullProgress()
    report = export_dataset(_ds(items), tmp_path / "out", "labelme", None, progress)
    assert report.files == ("a/b.json", "c/d é.json", "top.json", "train/x.json")
    assert progress.warnings == [
        "labelme cannot hold nested ids of subset default beside subset folders: 2 written as they are "
        "(with --subset-folders their first folder reads as a subset)"]
    back = {(it.subset, it.id) for it in import_dataset(tmp_path / "out", "labelme", ["--subset-folders"])}
    assert back == {("a", "b"), ("c", "d é"), ("train", "x"), ("default", "top")}
    with pytest.raises(ExportError, match=r"^labelme cannot hold nested ids of subset default beside subset "
                                          r"folders: 2 written as they are \(with --subset-folders their first "
                                          r"folder reads as a subset\) \(--strict\)$"):
        export_dataset(_ds(items), tmp_path / "strict", "labelme", ["--strict"])
    assert list((tmp_path / "strict").iterdir()) == []
    for alone in ([items[0], items[1], items[3]], [items[2], items[3]]):
        progress = NullProgress()
        export_dataset(_ds(alone), tmp_path / f"alone{len(alone)}", "labelme", ["--strict"], progress)
        assert progress.warnings == []

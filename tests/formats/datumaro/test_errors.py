"""Bad Datumaro input: one DatasetError naming the file, the item and the annotation."""

from __future__ import annotations

import copy
import json
import re

import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.api import import_dataset

from .dm_data import rle_counts, subset_doc

BASE = subset_doc([{"id": "a", "annotations": [
    {"id": 1, "type": "bbox", "attributes": {}, "group": 0, "label_id": 0, "z_order": 0, "bbox": [0, 0, 1, 1]}],
    "image": {"path": "a.jpg", "size": [4, 4]}}])


def _doc(change=None) -> str:
    d = copy.deepcopy(BASE)
    if change:
        change(d)
    return json.dumps(d, ensure_ascii=False)


def _ann(**kw):
    return lambda d: d["items"][0]["annotations"][0].update(kw)


def _item(**kw):
    return lambda d: d["items"][0].update(kw)


def _cat(kind: str, key: str, i: int, **kw):
    return lambda d: d["categories"][kind][key][i].update(kw)


A0 = "item 'a': annotation #0: "
CASES = [
    ("truncated", lambda: _doc()[:90], "invalid JSON: Unterminated string starting at (line 1, column 85)"),
    ("binary", lambda: b"\x89PNG\r\n\x1a\n\x00", "not UTF-8 text (byte 0)"),
    ("not json", lambda: "hello", "invalid JSON: Expecting value (line 1, column 1)"),
    ("a list", lambda: "[1, 2]", "expected a JSON object with 'items', got a list"),
    ("no items", lambda: '{"categories": {}}', "no 'items' list (not a Datumaro annotation file?)"),
    ("items type", lambda: '{"items": {"a": 1}}', "'items' must be a list, got an object"),
    ("NaN", lambda: _doc().replace("[0, 0, 1, 1]", "[0, NaN, 1, 1]"), "invalid JSON: NaN is not a valid JSON number"),
    ("item type", lambda: '{"items": [1]}', "item #0: expected an object, got a number"),
    ("no id", lambda: '{"items": [{"annotations": []}]}', "item #0: id must be a string, got null"),
    ("duplicate id", lambda: '{"items": [{"id": "a"}, {"id": "a"}]}', "item id 'a' is listed twice (items #0 and #1)"),
    ("version", lambda: _doc(lambda d: d.update(dm_format_version="2.0")),
     'dm_format_version "2.0" is not supported (expected 1.x)'),
    ("point clouds", lambda: _doc(lambda d: d.update(media_type=6)), "media_type 6 is not supported (only images: 2)"),
    ("categories type", lambda: _doc(lambda d: d.update(categories=[])), "'categories' must be an object, got a list"),
    ("label name", lambda: _doc(_cat("label", "labels", 0, name=3)),
     "categories.label.labels[0]: name must be a string, got 3"),
    ("colormap label", lambda: _doc(_cat("mask", "colormap", 0, label_id=9)),
     "categories.mask.colormap[0]: label_id 9 is out of range (3 labels)"),
    ("colormap color", lambda: _doc(_cat("mask", "colormap", 1, g=256)),
     "categories.mask.colormap[1]: r, g, b must be integers 0-255, got [200,256,0]"),
    ("joints", lambda: _doc(_cat("points", "items", 0, joints=[[1]])),
     "categories.points.items[0]: joints must be a list of [int, int] pairs, got [[1]]"),
    ("label out of range", lambda: _doc(_ann(label_id=3)), A0 + "label_id 3 is out of range (3 labels)"),
    ("no labels", lambda: _doc(lambda d: (d.update(categories={}), _ann(label_id=0)(d))),
     A0 + "label_id 0 is out of range (no labels defined)"),
    ("negative label", lambda: _doc(_ann(label_id=-1)), A0 + "label_id must be a non-negative integer, got -1"),
    ("string label", lambda: _doc(_ann(label_id="1")), A0 + 'label_id must be a non-negative integer, got "1"'),
    ("bbox type", lambda: _doc(_ann(bbox="abc")), A0 + 'bbox must be a list of 4 numbers, got "abc"'),
    ("bbox length", lambda: _doc(_ann(bbox=[1, 2, 3])), A0 + "bbox must be a list of 4 numbers, got [1,2,3]"),
    ("bbox coordinate", lambda: _doc(_ann(bbox=[0, "x", 1, 1])),
     A0 + 'bbox must be a list of 4 numbers, got "x" in [0,"x",1,1]'),
    ("bbox bool", lambda: _doc(_ann(bbox=[0, True, 1, 1])),
     A0 + "bbox must be a list of 4 numbers, got true in [0,true,1,1]"),
    ("negative size", lambda: _doc(_ann(bbox=[0, 0, -1, 1])), A0 + "bbox has negative size: w=-1.0, h=1.0"),
    ("unknown type", lambda: _doc(_ann(type="blob")), A0 + 'unknown annotation type "blob"'),
    ("type number", lambda: _doc(_ann(type=99)), A0 + "unknown annotation type 99"),
    ("no type", lambda: _doc(_ann(type=None)), A0 + "type must be an annotation type name, got null"),
    ("odd points", lambda: _doc(_ann(type="polygon", points=[1, 2, 3])),
     A0 + "points must be a list of numbers (x, y pairs), got [1,2,3]"),
    ("ellipse", lambda: _doc(_ann(type="ellipse", points=[1, 2])),
     A0 + "points must be a list of 4 numbers, got [1,2]"),
    ("visibility value", lambda: _doc(_ann(type="points", points=[1, 2], visibility=[5])),
     A0 + "points: visibility must be 0, 1 or 2, got (5,)"),
    ("visibility length", lambda: _doc(_ann(type="points", points=[1, 2], visibility=[2, 2])),
     A0 + "points: 1 points but 2 visibility values"),
    ("rle list", lambda: _doc(_ann(type="mask", rle={"counts": [1, 2], "size": [1, 3]})),
     A0 + "rle.counts must be a compressed COCO RLE string, got [1,2]"),
    ("rle size", lambda: _doc(_ann(type="mask", rle={"counts": "abc", "size": [1]})),
     A0 + "rle.size must be [height, width], got [1]"),
    ("rle wrong size", lambda: _doc(_ann(type="mask", rle={"counts": rle_counts(), "size": [6, 6]})),
     A0 + "rle.counts does not describe a 6x6 mask (runs summing to 30)"),
    ("rle cut", lambda: _doc(_ann(type="mask", rle={"counts": "1d", "size": [6, 5]})),
     A0 + "rle.counts does not describe a 6x5 mask (a malformed string)"),
    ("rle chars", lambda: _doc(_ann(type="mask", rle={"counts": "a b", "size": [6, 5]})),
     A0 + 'rle.counts must be a compressed COCO RLE string, got "a b"'),
    ("caption", lambda: _doc(_ann(type="caption", caption=5)), A0 + "caption must be a string, got 5"),
    ("group", lambda: _doc(_ann(group=1.5)), A0 + "group must be an integer, got 1.5"),
    ("attributes", lambda: _doc(_ann(attributes=[1])), A0 + "attributes must be an object, got a list"),
    ("annotation type", lambda: _doc(lambda d: d["items"][0]["annotations"].append(3)),
     "item 'a': annotation #1: expected an object, got a number"),
    ("annotations type", lambda: _doc(_item(annotations={})), "item 'a': annotations must be a list, got an object"),
    ("escaping path", lambda: _doc(_item(image={"path": "../../etc/passwd"})),
     "item 'a': path '../../etc/passwd' escapes the dataset folder"),
    ("path type", lambda: _doc(_item(image={"path": 5})), "item 'a': image.path must be a string, got 5"),
    ("image size", lambda: _doc(_item(image={"path": "a.jpg", "size": [0, 4]})),
     "item 'a': image.size must be [height, width], got [0,4]"),
    ("attr", lambda: _doc(_item(attr="x")), "item 'a': attr must be an object, got a string"),
    ("private", lambda: _doc(_item(dsrepo={"meta": 1})), "item 'a': dsrepo.meta must be an object, got a number"),
]


@pytest.mark.parametrize("name,make,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input(tmp_path, name, make, message):
    path = tmp_path / "d" / "annotations" / "default.json"
    path.parent.mkdir(parents=True)
    data = make()
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    with pytest.raises(DatasetError, match="^" + re.escape(f"{path}: {message}") + "$"):
        for _ in import_dataset(tmp_path / "d", "datumaro"):  # items are checked as they are built
            pass


def test_categories_must_agree_between_subsets(tmp_path):
    ann = tmp_path / "d" / "annotations"
    ann.mkdir(parents=True)
    (ann / "a.json").write_text(_doc())
    other = copy.deepcopy(BASE)
    other["categories"]["label"]["labels"][0]["name"] = "lion"
    (ann / "b.json").write_text(json.dumps(other))
    message = f"{ann / 'b.json'}: categories differ from those of a.json"
    with pytest.raises(DatasetError, match="^" + re.escape(message) + "$"):
        import_dataset(tmp_path / "d", "datumaro")


def test_folder_without_annotation_files(tmp_path):
    (tmp_path / "d" / "annotations").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no annotations/<subset>.json files"):
        import_dataset(tmp_path / "d", "datumaro")


def test_bad_dataset_meta(tmp_path):
    ann = tmp_path / "d" / "annotations"
    ann.mkdir(parents=True)
    (ann / "default.json").write_text('{"items": []}')
    (tmp_path / "d" / "dataset_meta.json").write_text('{"label_map": {"x": "cat"}}')
    with pytest.raises(DatasetError, match=re.escape("label_map keys must be integers, got ['x']")):
        import_dataset(tmp_path / "d", "datumaro")


def test_error_is_raised_on_every_iteration_not_swallowed(tmp_path):
    path = tmp_path / "d" / "annotations" / "default.json"
    path.parent.mkdir(parents=True)
    path.write_text(_doc(_ann(label_id=7)))
    ds = import_dataset(tmp_path / "d", "datumaro")
    assert len(ds) == 1
    for _ in range(2):
        with pytest.raises(DatasetError, match="label_id 7 is out of range"):
            list(ds)

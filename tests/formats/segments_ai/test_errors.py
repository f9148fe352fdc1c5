"""Bad Segments.ai input: one DatasetError naming the file and the sample, never a traceback."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.api import import_dataset

from .segments_data import bitmap_ids, make_reference, reference_doc, vector_doc, write_bitmap, write_json


def _first_sample(d):
    return d["dataset"]["samples"][0]


def _anns(d):
    return _first_sample(d)["labels"]["ground-truth"]["attributes"]["annotations"]


def _change(fn):
    def make():
        d = copy.deepcopy(vector_doc())
        fn(d)
        return json.dumps(d)
    return make


CASES = [
    ("not json", lambda: "hello", "invalid JSON: Expecting value (line 1, column 1)"),
    ("truncated", lambda: json.dumps(vector_doc())[:40], "invalid JSON: Unterminated string starting at (line 1, column 33)"),
    ("binary", lambda: b"\xff\xfe{", "not UTF-8 text (byte 0)"),
    ("NaN", lambda: '{"dataset": {"samples": [NaN]}}', "invalid JSON: NaN is not valid JSON"),
    ("a list", lambda: "[1]", "expected a release object with a 'dataset', got a list"),
    ("no dataset", lambda: '{"name": "x"}', "no 'dataset' object (not a Segments.ai release file?)"),
    ("samples type", _change(lambda d: d["dataset"].update(samples={"a": 1})),
     "dataset: samples must be a list, got an object"),
    ("sample type", _change(lambda d: d["dataset"]["samples"].insert(0, 7)), "sample #0: must be an object, got an integer"),
    ("no name", _change(lambda d: _first_sample(d).pop("name")),
     "sample #0: name must be a non-empty string, got null"),
    ("unsafe name", _change(lambda d: _first_sample(d).update(name="../x.jpg")),
     "sample '../x.jpg': path '../x.jpg' escapes the dataset folder"),
    ("labels type", _change(lambda d: _first_sample(d).update(labels=[])),
     "sample 'city/street 1.jpg': labels must be an object, got a list"),
    ("status type", _change(lambda d: _first_sample(d)["labels"]["ground-truth"].update(label_status=3)),
     "sample 'city/street 1.jpg': label_status must be a string, got 3"),
    ("url type", _change(lambda d: _first_sample(d)["attributes"]["image"].update(url=5)),
     "sample 'city/street 1.jpg': image url must be a non-empty string, got 5"),
    ("unknown category", _change(lambda d: _anns(d)[0].update(category_id=99)),
     "sample 'city/street 1.jpg': annotation id 1: category_id 99 is not in the categories"),
    ("category type", _change(lambda d: _anns(d)[0].update(category_id="car")),
     "sample 'city/street 1.jpg': annotation id 1: category_id must be an integer, got \"car\""),
    ("bad id", _change(lambda d: _anns(d)[1].update(id=0)),
     "sample 'city/street 1.jpg': annotation #1: id must be a positive integer, got 0"),
    ("duplicate id", _change(lambda d: _anns(d)[1].update(id=1)),
     "sample 'city/street 1.jpg': annotation id 1 is listed twice"),
    ("non-numeric point", _change(lambda d: _anns(d)[1].update(points=[[0, "a"], [1, 1], [2, 2]])),
     "sample 'city/street 1.jpg': annotation id 2: points must be a list of [x, y] numbers, got [[0, \"a\"], [1, 1], [2, 2]]"),
    ("bbox with 3 points", _change(lambda d: _anns(d)[0].update(points=[[0, 0], [1, 1], [2, 2]])),
     "sample 'city/street 1.jpg': annotation id 1: a bbox needs 2 points, got 3"),
    ("unknown type", _change(lambda d: _anns(d)[0].update(type="cuboid")),
     "sample 'city/street 1.jpg': annotation id 1: unsupported annotation type \"cuboid\" (supported: bbox, polygon, polyline, point)"),
    ("attributes type", _change(lambda d: _anns(d)[0].update(attributes=[1])),
     "sample 'city/street 1.jpg': annotation id 1: attributes must be an object, got a list"),
    ("categories type", _change(lambda d: d["dataset"]["task_attributes"].update(categories={})),
     "categories must be a list, got an object"),
    ("category name", _change(lambda d: d["dataset"]["task_attributes"]["categories"][0].update(name=None)),
     "category id 1: name must be a string, got null"),
    ("category color", _change(lambda d: d["dataset"]["task_attributes"]["categories"][0].update(color=[300, 0, 0])),
     "category id 1: color must be [r, g, b] or [r, g, b, a] with values 0-255, got [300, 0, 0]"),
    ("duplicate category", _change(lambda d: d["dataset"]["task_attributes"]["categories"][1].update(id=1)),
     "category id 1: listed twice"),
    ("duplicate item", _change(lambda d: d["dataset"]["samples"][1].update(name="city/street 1.png")),
     "sample 'city/street 1.png': name gives item id 'city/street 1' like sample 'city/street 1.jpg'"),
    ("untyped without bitmap", _change(lambda d: _anns(d)[0].pop("type")),
     "sample 'city/street 1.jpg': annotation id 1 has no type and the label has no segmentation_bitmap"),
    ("two labelsets", _change(lambda d: (d["dataset"].pop("labelsets"), [
        s["labels"].update({"a": None, "b": None}) or s["labels"].pop("ground-truth") for s in d["dataset"]["samples"]])),
     "several labelsets (a, b, predictions): choose one with --labelset"),
]


@pytest.mark.parametrize("name, content, message", CASES, ids=[c[0] for c in CASES])
def test_bad_release(tmp_path, name, content, message):
    data = content()
    path = tmp_path / "release.json"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    with pytest.raises(DatasetError) as e:
        list(import_dataset(path, "segments_ai", ["--status", "all"]))
    assert str(e.value) == f"{path}: {message}"


def _ref(tmp_path, change=None):
    root = make_reference(tmp_path / "ref")
    if change:
        d = reference_doc()
        change(d)
        write_json(root / "flowers-v1.0.json", d)
    return root


def test_bitmap_with_unknown_instance(tmp_path):
    root = _ref(tmp_path)
    ids = bitmap_ids()
    ids[7, 9] = 5
    write_bitmap(root / "504e7633.png", ids)
    with pytest.raises(DatasetError, match=r"flowers-v1.0.json: sample 'donuts.jpg': segmentation bitmap "
                                           r"504e7633.png has instance id 5 that is not in the label's annotations"):
        list(import_dataset(root, "segments_ai"))


def test_missing_bitmap(tmp_path):
    root = _ref(tmp_path)
    (root / "504e7633.png").unlink()
    with pytest.raises(DatasetError, match=r"sample 'donuts.jpg': segmentation bitmap 'https://.*/504e7633.png' "
                                           r"not found \(looked for .*504e7633.png; use --assets DIR or "
                                           r"--missing-bitmaps skip\)"):
        import_dataset(root, "segments_ai")


def test_undecodable_bitmap(tmp_path):
    root = _ref(tmp_path)
    (root / "504e7633.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="sample 'donuts.jpg': cannot decode segmentation bitmap 504e7633.png"):
        list(import_dataset(root, "segments_ai"))


def test_sixteen_bit_bitmap(tmp_path):
    import cv2

    root = _ref(tmp_path)
    cv2.imwrite(str(root / "504e7633.png"), np.zeros((2, 2), dtype=np.uint16))
    with pytest.raises(DatasetError, match="bitmap 504e7633.png must have 8 bits per channel, got uint16"):
        list(import_dataset(root, "segments_ai"))


def test_bitmap_url_escaping_the_folder(tmp_path):
    def change(d):
        d["dataset"]["samples"][0]["labels"]["segmentation"]["attributes"]["segmentation_bitmap"]["url"] = "../x.png"
    root = _ref(tmp_path, change)
    with pytest.raises(DatasetError, match="sample 'donuts.jpg': path '../x.png' escapes the dataset folder"):
        import_dataset(root, "segments_ai")


def test_category_conflict_between_files(tmp_path):
    root = _ref(tmp_path)
    d = reference_doc()
    d["dataset"]["tasks"][0]["attributes"]["categories"][1]["name"] = "bagel"
    d["dataset"]["samples"] = []
    write_json(root / "release_b.json", d)
    (root / "flowers-v1.0.json").rename(root / "release_a.json")
    with pytest.raises(DatasetError, match=r"release_b.json: category id 1 is 'bagel' here but 'donut' in "
                                           r"release_a.json"):
        import_dataset(root, "segments_ai")


def test_empty_folder(tmp_path):
    (tmp_path / "notes.json").write_text('{"a": 1}')
    with pytest.raises(DatasetError, match=r"no Segments.ai release file \(\*.json with a 'dataset'\) in this folder"):
        import_dataset(tmp_path, "segments_ai")

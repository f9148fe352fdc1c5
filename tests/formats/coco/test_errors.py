"""Bad COCO input: one DatasetError naming the file and the record, never a traceback."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.api import import_dataset

BASE = {"images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10}],
        "annotations": [{"id": 17, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                         "segmentation": [[0, 0, 1, 0, 1, 1]], "area": 1}],
        "categories": [{"id": 1, "name": "a"}]}


def _doc(change=None) -> str:
    d = copy.deepcopy(BASE)
    if change:
        change(d)
    return json.dumps(d)


def _error(path: Path, fmt: str = "coco_instances") -> str:
    with pytest.raises(DatasetError) as e:
        ds = import_dataset(path, fmt)
        for it in ds:  # geometry is checked when items are built; polygon points when first read
            for a in it.annotations:
                getattr(a, "points", None)
    return str(e.value)


CASES = [
    ("truncated", lambda: _doc()[:70], "invalid JSON: Expecting ',' delimiter (line 1, column 71)"),
    ("binary", lambda: b"\x89PNG\r\n\x1a\n\x00", "not UTF-8 text (byte 0)"),
    ("not json", lambda: "hello", "invalid JSON: Expecting value (line 1, column 1)"),
    ("a list", lambda: "[1, 2]",
     "expected a JSON object with 'images', 'annotations' and 'categories', got a list"),
    ("no images", lambda: '{"annotations": []}', "no 'images' list (not a COCO annotation file?)"),
    ("image id type", lambda: _doc(lambda d: d["images"][0].update(id=1.5)),
     "image #0: id must be an integer or a string, got 1.5"),
    ("no image_id", lambda: _doc(lambda d: d["annotations"][0].pop("image_id")),
     "annotation id 17: missing image_id"),
    ("bbox type", lambda: _doc(lambda d: d["annotations"][0].update(bbox="abc")),
     'annotation id 17: bbox must be a list of 4 numbers, got "abc"'),
    ("annotations type", lambda: _doc(lambda d: d.update(annotations={"a": 1})),
     "'annotations' must be a list, got an object"),
    ("missing image", lambda: _doc(lambda d: d["annotations"][0].update(image_id=99)),
     "annotation id 17: image_id 99 is not in images"),
    ("missing category", lambda: _doc(lambda d: d["annotations"][0].update(category_id=5)),
     "annotation id 17: category_id 5 is not in categories"),
    ("negative width", lambda: _doc(lambda d: d["annotations"][0].update(bbox=[0, 0, -1, 1])),
     "annotation id 17: bbox has negative width"),
    ("negative height", lambda: _doc(lambda d: d["annotations"][0].update(bbox=[0, 0, 1, -2])),
     "annotation id 17: bbox has negative height"),
    ("NaN box", lambda: _doc(lambda d: d["annotations"][0].update(bbox=[0, float("nan"), 1, 1])),
     "annotation id 17: bbox contains a non-finite number"),
    ("Infinity elsewhere", lambda: _doc(lambda d: d.update(info={"x": float("inf")})),
     "NaN or Infinity is not valid JSON (at $.info.x)"),
    ("RLE sum", lambda: _doc(lambda d: d["annotations"][0].update(segmentation={"counts": [1, 2, 3], "size": [10, 20]})),
     "annotation id 17: RLE counts sum to 6, expected height*width = 200"),
    ("RLE size", lambda: _doc(lambda d: d["annotations"][0].update(segmentation={"counts": "abc", "size": [10]})),
     "annotation id 17: RLE size must be [height, width]"),
    ("odd polygon", lambda: _doc(lambda d: d["annotations"][0].update(segmentation=[[0, 0, 1, 0, 1]])),
     "annotation id 17: segmentation polygon 0 has an odd number of coordinates (5)"),
    ("segmentation type", lambda: _doc(lambda d: d["annotations"][0].update(segmentation="x")),
     "annotation id 17: segmentation must be a list of polygons or an RLE object, got a string"),
    ("dot-dot file name", lambda: _doc(lambda d: d["images"][0].update(file_name="../x.jpg")),
     "image id 1: path '../x.jpg' escapes the dataset folder"),
    ("absolute file name", lambda: _doc(lambda d: d["images"][0].update(file_name="/etc/x.jpg")),
     "image id 1: absolute path '/etc/x.jpg' is not allowed"),
    ("windows absolute", lambda: _doc(lambda d: d["images"][0].update(file_name="C:\\x.jpg")),
     "image id 1: absolute path 'C:\\\\x.jpg' is not allowed"),
    ("duplicate image id", lambda: _doc(lambda d: d["images"].append(dict(d["images"][0], file_name="b.jpg"))),
     "image id 1: listed twice"),
    ("duplicate category", lambda: _doc(lambda d: d["categories"].append({"id": 1, "name": "b"})),
     "category id 1: listed twice"),
    ("same item id", lambda: _doc(lambda d: d["images"].append(dict(d["images"][0], id=2, file_name="a.png"))),
     "image id 2: file_name 'a.png' gives item id 'a' like image id 1 ('a.jpg')"),
    ("category name", lambda: _doc(lambda d: d["categories"][0].update(name=3)),
     "category id 1: name must be a string, got 3"),
    ("zero width", lambda: _doc(lambda d: d["images"][0].update(width=0)),
     "image id 1: width must be a positive integer, got 0"),
    ("annotation id type", lambda: _doc(lambda d: d["annotations"][0].update(id="x")),
     "annotation #0: id must be an integer, got \"x\""),
]


@pytest.mark.parametrize("name,content,message", CASES, ids=[c[0] for c in CASES])
def test_bad_instances_file(tmp_path, name, content, message):
    data = content()
    p = tmp_path / "annotations" / "instances_train.json"
    p.parent.mkdir(parents=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    assert _error(p) == f"{p}: {message}"


def test_bad_keypoint_visibility(tmp_path):
    p = tmp_path / "kp.json"
    p.write_text(_doc(lambda d: d["annotations"][0].update(keypoints=[1, 1, 3])))
    assert _error(p, "coco_person_keypoints") == f"{p}: annotation id 17: keypoint visibility must be 0, 1 or 2, got 3"


def test_combined_format_needs_task_in_file_name(tmp_path):
    p = tmp_path / "labels.json"
    p.write_text(_doc())
    assert _error(p, "coco") == (f"{p}: cannot tell the COCO task from the file name (expected "
                                 "<task>_<subset>.json); use a coco_<task> format")


def test_folder_without_annotation_files(tmp_path):
    assert _error(tmp_path, "coco") == (f"{tmp_path}: no COCO annotation files found "
                                        "(expected annotations/<task>_<subset>.json)")


def test_panoptic_png_missing(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
           "annotations": [{"image_id": 1, "file_name": "a.png",
                            "segments_info": [{"id": 5, "category_id": 1, "area": 1, "bbox": [0, 0, 1, 1],
                                               "iscrowd": 0}]}],
           "categories": [{"id": 1, "name": "a", "isthing": 1}]}
    p = tmp_path / "annotations" / "panoptic_val.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps(doc))
    assert _error(tmp_path, "coco") == (f"{p}: image id 1: segment map 'a.png' not found "
                                        "(looked in no panoptic folder)")


def test_keep_original_ids_conflict(tmp_path):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_a.json").write_text(_doc())
    (tmp_path / "annotations" / "instances_b.json").write_text(
        _doc(lambda d: d["categories"][0].update(name="other")))
    with pytest.raises(DatasetError) as e:
        import_dataset(tmp_path, "coco", ["--keep-original-category-ids"])
    assert str(e.value) == (f"{tmp_path / 'annotations' / 'instances_b.json'}: category id 1 is 'a' in "
                            f"{tmp_path / 'annotations' / 'instances_a.json'} but 'other' here; "
                            "--keep-original-category-ids needs consistent ids")


def test_cli_prints_one_line_and_exit_code(tmp_path):
    p = tmp_path / "annotations" / "instances_train.json"
    p.parent.mkdir(parents=True)
    p.write_text(_doc(lambda d: d["annotations"][0].update(image_id=99)))
    r = subprocess.run([sys.executable, "-m", "dsrepo", "convert", "-i", str(tmp_path), "-if", "coco",
                        "-o", str(tmp_path / "out"), "-f", "coco"], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parents[3])
    assert r.returncode == 3
    assert r.stderr.strip().splitlines() == [f"error: {p}: annotation id 17: image_id 99 is not in images"]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_failed_export_leaves_nothing_behind(tmp_path):
    from dsrepo.formats.api import export_dataset

    p = tmp_path / "src" / "annotations" / "instances_train.json"
    p.parent.mkdir(parents=True)
    p.write_text(_doc(lambda d: d["annotations"].append(
        {"id": 18, "image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1]})))
    ds = import_dataset(tmp_path / "src", "coco")
    out = tmp_path / "out"
    with pytest.raises(DatasetError):
        export_dataset(ds, out, "coco", ["--save-media"])
    assert list(out.iterdir()) == []

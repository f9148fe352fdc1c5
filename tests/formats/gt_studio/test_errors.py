"""Bad GT Studio input: one DatasetError naming the file and the record."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.api import import_dataset

from .gt_data import make_dataset, raster_doc, raster_rgb, shapes_doc, write_json, write_raster


def _shapes(fn):
    def make():
        d = copy.deepcopy(shapes_doc())
        fn(d["annotations"])
        return json.dumps(d)
    return make


def _raster(fn):
    def make():
        d = copy.deepcopy(raster_doc())
        fn(d["annotations"]["raster"])
        return json.dumps(d)
    return make


CASES = [
    ("not json", lambda: "{oops", "invalid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
    ("annotations type", lambda: '{"annotations": [1]}', "annotations must be an object of shape lists, got a list"),
    ("image_url type", lambda: '{"annotations": {}, "image_url": 3}', "image_url must be a non-empty string, got 3"),
    ("kind type", _shapes(lambda a: a.update(rectangles={"x": 1})), "annotations: rectangles must be a list, got an object"),
    ("rectangle type", _shapes(lambda a: a["rectangles"].append("r")), "rectangle #2: must be an object, got a string"),
    ("no coordinates", _shapes(lambda a: a["rectangles"][0].pop("coordinates")),
     "rectangle #0: coordinates must be a non-empty list, got null"),
    ("non-numeric x", _shapes(lambda a: a["rectangles"][0]["coordinates"][1].update(x="0.3")),
     'rectangle #0: point must be {"x": number, "y": number}, got {"x": "0.3", "y": 0.2}'),
    ("label type", _shapes(lambda a: a["rectangles"][0].update(label=["car"])),
     'rectangle #0: label must be a string, got ["car"]'),
    ("attributes type", _shapes(lambda a: a["polygons"][1].update(attributes="x")),
     "polygon #1: attributes must be an object, got a string"),
    ("two points", _shapes(lambda a: a["polygons"][1]["points"].pop("p3")),
     'polygon #1: points must be an object of at least 3 named points, got {"p1": {"x": 0, "y": 0}, "p2": {"x": 1, "y": 0}}'),
    ("bad point", _shapes(lambda a: a["polygons"][1]["points"].update(p2={"x": None, "y": 1})),
     "polygon #1: point 'p2': point must be {\"x\": number, \"y\": number}, got {\"x\": null, \"y\": 1}"),
    ("raster url", _raster(lambda r: r.pop("url")), "raster: url must be a non-empty string, got null"),
    ("instance colour", _raster(lambda r: r["instances"][0].update(color="red")),
     'raster instance #0: colour must be #rrggbb, got "red"'),
    ("duplicate colour", _raster(lambda r: r["instances"][1].update(color="#FF0000")),
     "raster instance #1: colour #FF0000 is used by an earlier instance"),
    ("legend key", _raster(lambda r: r["legend"].update({"ff0000": "car"})), 'raster: legend colour must be #rrggbb, got "ff0000"'),
]


@pytest.mark.parametrize("name, content, message", CASES, ids=[c[0] for c in CASES])
def test_bad_file(tmp_path, name, content, message):
    root = make_dataset(tmp_path / "gt")
    path = root / "frame_0001.json"
    path.write_text(content(), encoding="utf-8")
    with pytest.raises(DatasetError) as e:
        list(import_dataset(root, "gt_studio", ["--assets", "downloads"]))
    assert str(e.value) == f"{path}: {message}"


def test_unknown_raster_colour(tmp_path):
    root = make_dataset(tmp_path / "gt")
    rgb = raster_rgb()
    rgb[4, 4] = (1, 2, 3)
    write_raster(root / "downloads" / "mask-0001.png", rgb)
    with pytest.raises(DatasetError) as e:
        list(import_dataset(root, "gt_studio", ["--assets", "downloads"]))
    assert str(e.value) == (f"{root / 'frame_0001.json'}: raster: mask mask-0001.png has colour #010203 that is "
                            "not in the raster's instances or legend")


def test_legend_entry_that_is_not_a_label(tmp_path):
    root = make_dataset(tmp_path / "gt")
    d = raster_doc()
    d["annotations"]["raster"]["legend"]["#5a5a5a"] = {"name": "road"}
    write_json(root / "frame_0001.json", d)
    with pytest.raises(DatasetError, match=r"raster: legend entry #5a5a5a must be a label name, got \{'name': 'road'\}"):
        list(import_dataset(root, "gt_studio", ["--assets", "downloads"]))


def test_missing_mask(tmp_path):
    root = make_dataset(tmp_path / "gt")
    with pytest.raises(DatasetError) as e:
        import_dataset(root, "gt_studio")  # masks are in downloads/, not in the dataset folder
    assert str(e.value) == (f"{root / 'frame_0001.json'}: raster: mask "
                            "'https://gt-studio-assets.s3.amazonaws.com/projects/p1/masks/mask-0001.png' not found "
                            f"(looked for {root / 'mask-0001.png'}; use --assets DIR or --missing-masks skip)")


def test_undecodable_mask(tmp_path):
    root = make_dataset(tmp_path / "gt")
    (root / "downloads" / "mask-0001.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DatasetError, match="frame_0001.json: raster: cannot decode mask mask-0001.png"):
        list(import_dataset(root, "gt_studio", ["--assets", "downloads"]))


def test_image_url_escaping_the_folder(tmp_path):
    write_json(tmp_path / "a.json", {"annotations": {}, "image_url": "../../etc/x.jpg"})
    with pytest.raises(DatasetError, match="a.json: image_url: path '../../etc/x.jpg' escapes the dataset folder"):
        import_dataset(tmp_path, "gt_studio")


def test_single_file_that_is_not_gt(tmp_path):
    write_json(tmp_path / "a.json", {"images": []})
    with pytest.raises(DatasetError, match=r"a.json: not a GT Studio annotation file \(no 'annotations' object\)"):
        import_dataset(tmp_path / "a.json", "gt_studio")


def test_folder_without_gt_files(tmp_path):
    write_json(tmp_path / "a.json", [1])
    with pytest.raises(DatasetError, match=r"no GT Studio annotation file \(\*.json with an 'annotations' object\) "
                                           "in this folder"):
        import_dataset(tmp_path, "gt_studio")


def test_grey_16_bit_mask(tmp_path):
    import cv2

    root = make_dataset(tmp_path / "gt")
    cv2.imwrite(str(root / "downloads" / "mask-0001.png"), np.zeros((3, 3), np.uint16))
    with pytest.raises(DatasetError, match="mask mask-0001.png must have 8 bits per channel, got uint16"):
        list(import_dataset(root, "gt_studio", ["--assets", "downloads"]))

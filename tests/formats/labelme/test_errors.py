"""Bad LabelMe input: one DatasetError naming the file and the shape."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.api import import_dataset

from .labelme_data import doc, shape, write_doc


def _fails(tmp_path: Path, content, message: str, where: str | None = None) -> None:
    path = tmp_path / "bad.json"
    if isinstance(content, (bytes, str)):
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    else:
        write_doc(path, content)
    prefix = f"{path}: " + (f"{where}: " if where else "")
    with pytest.raises(DatasetError, match="^" + re.escape(prefix + message) + "$") as e:
        list(import_dataset(tmp_path, "labelme"))
    assert e.value.path == str(path) and e.value.where == where


def _one(s) -> dict:
    return doc([shape("ok", [[0, 0], [1, 1]], "rectangle"), s], "a.jpg", 10, 10)


@pytest.mark.parametrize("content, message", [
    ("{\"shapes\": [", "not valid JSON: unexpected end of data (line 1, column 13)"),
    ("xyz", "not valid JSON: unexpected character, expected a JSON value (line 1, column 1)"),
    ('{"shapes": [], "imageHeight": NaN}',
     "not valid JSON: unexpected character, expected a JSON value (line 1, column 31)"),
    ("[1, 2]", "expected a JSON object at the top level"),
    ('{"version": "5.0.1", "imagePath": "a.jpg"}', "missing 'shapes' (not a labelme file?)"),
    ('{"shapes": {}}', "'shapes' must be a list"),
    ('{"shapes": [], "flags": []}', "'flags' must be an object"),
    ('{"shapes": [], "imagePath": 3}', "'imagePath' must be a string or null, got 3"),
    ('{"shapes": [], "imageData": 3}', "'imageData' must be a base64 string or null"),
    ('{"shapes": [], "imageHeight": -5}', "'imageHeight' must be a positive integer or null, got -5"),
    ('{"shapes": [], "imageWidth": "12"}', "'imageWidth' must be a positive integer or null, got '12'"),
])
def test_bad_files(tmp_path, content, message):
    _fails(tmp_path, content, message)


@pytest.mark.parametrize("bad, message", [
    ("just text", "expected an object"),
    ({"points": [[0, 0]]}, "missing 'label'"),
    (shape(3, [[0, 0], [1, 1]], "rectangle"), "'label' must be a string, got 3"),
    (shape("a", [[0, 0], [1, 1]], "cuboid"),
     "unsupported shape_type 'cuboid' (expected one of circle, line, linestrip, mask, point, points, polygon, "
     "rectangle)"),
    ({"label": "a", "shape_type": "point"}, "missing 'points'"),
    (shape("a", "0,0,1,1", "rectangle"), "'points' must be a list of [x, y] pairs"),
    (shape("a", [[0, 0], ["1", 2]], "rectangle"), "points[1] is not a pair of finite numbers: ['1', 2]"),
    (shape("a", [[0, 0], [1, True]], "rectangle"), "points[1] is not a pair of finite numbers: [1, True]"),
    (shape("a", [[0, 0], [1, 2, 3]], "rectangle"), "points[1] is not a pair of finite numbers: [1, 2, 3]"),
    (shape("a", [[0, 0]], "rectangle"), "rectangle needs at least 2 points, got 1"),
    (shape("a", [[0, 0], [1, 1], [2, 2]], "circle"), "circle needs 2 points, got 3"),
    (shape("a", [[0, 0], [1, 1]], "polygon"), "polygon needs at least 3 points, got 2"),
    (shape("a", [], "point"), "point needs 1 point, got 0"),
    (shape("a", [[0, 0], [1, 1]], "rectangle", group_id="2"), "'group_id' must be an integer or null, got '2'"),
    (shape("a", [[0, 0], [1, 1]], "rectangle", flags=["x"]), "'flags' must be an object"),
    (shape("a", [[0, 0], [1, 1]], "rectangle", description=5), "'description' must be a string or null, got 5"),
    (shape("a", [[0, 0], [3, 3]], "mask"), "mask shape needs a base64 PNG in 'mask'"),
    (shape("a", [[0, 0], [3, 3]], "mask", mask="@@@"), "'mask' is not valid base64"),
    (shape("a", [[0, 0], [3, 3]], "mask", mask=base64.b64encode(b"not a png").decode()),
     "'mask' is not a readable PNG image"),
])
def test_bad_shapes(tmp_path, bad, message):
    _fails(tmp_path, _one(bad), message, "shapes[1]")


def test_mask_without_image_size(tmp_path):
    d = doc([shape("a", [[0, 0], [1, 1]], "mask", mask="iVBORw0KGgo=")], "nowhere.png", None, None)
    _fails(tmp_path, d, "mask shape needs the image size (imageHeight/imageWidth or a readable image)",
           "shapes[0]")


def test_bad_image_data(tmp_path):
    _fails(tmp_path, doc([], "gone.png", 3, 3, image_data="%%%"), "'imageData' is not valid base64")
    _fails(tmp_path, doc([], "gone.png", None, None, image_data=base64.b64encode(b"plain text").decode()),
           "'imageData' is not a readable image")


def test_error_names_nested_file_and_duplicate_items(tmp_path):
    write_doc(tmp_path / "ok.json", doc([], "ok.jpg", 2, 2))
    bad = write_doc(tmp_path / "a" / "b c.json", doc([shape("x", [[0, "y"]], "point")], "b c.jpg", 2, 2))
    with pytest.raises(DatasetError, match=re.escape(f"{bad}: shapes[0]: points[0] is not a pair")):
        import_dataset(tmp_path, "labelme")
    bad.unlink()
    write_doc(tmp_path / "default" / "ok.json", doc([], "ok.jpg", 2, 2))
    with pytest.raises(DatasetError, match=re.escape(
            f"{tmp_path / 'ok.json'}: item 'ok' of subset 'default' is also defined by default/ok.json")):
        import_dataset(tmp_path, "labelme", ["--subset-folders"])


def test_non_labelme_json_in_folder_is_reported(tmp_path):
    write_doc(tmp_path / "a.json", doc([], "a.jpg", 2, 2))
    write_doc(tmp_path / "classes.json", {"names": ["a", "b"]})
    with pytest.raises(DatasetError, match=re.escape(
            f"{tmp_path / 'classes.json'}: missing 'shapes' (not a labelme file?)")):
        import_dataset(tmp_path, "labelme")

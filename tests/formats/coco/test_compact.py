"""Spaced COCO files are compacted before decoding: tokens kept exactly, errors unchanged."""

from __future__ import annotations

import json

import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.coco.parse import compact, parse_file


def test_compact_keeps_every_token_as_spelled():
    spaced = b'{"a": [1.50, 1e5, -0.0, 2E-3],\n "s": "two  spaces, \\u00e9", "n": null}'
    assert compact(spaced) == b'{"a":[1.50,1e5,-0.0,2E-3],"s":"two  spaces, \\u00e9","n":null}'


def test_compact_leaves_compact_or_invalid_data_alone():
    data = b'{"a":[1,2],"s":"x y"}'
    assert compact(data) is data
    broken = b'{"images": [1, 2}'
    assert compact(broken) is broken


def test_spaced_file_parses_to_compact_raw_fields(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1.50, 2, 3, 4],
                            "segmentation": [[1, 2, 3, 4, 5, 6]], "area": 2.0, "iscrowd": 0}],
           "categories": [{"id": 1, "name": "cat"}]}
    (tmp_path / "spaced.json").write_text(json.dumps(doc, indent=2))
    (tmp_path / "compact.json").write_text(json.dumps(doc, separators=(",", ":")))
    a = parse_file(tmp_path / "spaced.json", "instances", "default").anns[0]
    b = parse_file(tmp_path / "compact.json", "instances", "default").anns[0]
    assert bytes(a.bbox) == bytes(b.bbox) == b"[1.5,2,3,4]"
    assert bytes(a.segmentation) == b"[[1,2,3,4,5,6]]"


def test_error_in_a_spaced_file_still_points_into_it(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"images": [\n  {"id": 1, "file_name": "a.jpg"},\n  oops\n]}')
    with pytest.raises(DatasetError, match=r"line 3"):
        parse_file(path, "instances", "default")

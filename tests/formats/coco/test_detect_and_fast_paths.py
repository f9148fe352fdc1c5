"""Detection confidences, and the fast construction path used by the importer."""

from __future__ import annotations

import dataclasses
import json

import pytest

from dsrepo.formats.coco import spec
from dsrepo.formats.coco.annconv import fast_polygon
from dsrepo.model import Polygon

from .coco_data import captions_doc, instances_doc, write_json

ALL = {"coco": spec.COCO, "coco_instances": spec.COCO_INSTANCES, "coco_person_keypoints": spec.COCO_PERSON_KEYPOINTS,
       "coco_captions": spec.COCO_CAPTIONS, "coco_labels": spec.COCO_LABELS, "coco_panoptic": spec.COCO_PANOPTIC,
       "coco_stuff": spec.COCO_STUFF, "coco_image_info": spec.COCO_IMAGE_INFO}


def _scores(path):
    return {name: s.detect(path) for name, s in ALL.items() if s.detect(path) > 0}


def test_detect_dataset_folder(rich):
    assert _scores(rich) == {"coco": 0.9, "coco_instances": 0.6, "coco_person_keypoints": 0.6, "coco_captions": 0.6}
    assert _scores(rich / "annotations") == {"coco": 0.9, "coco_instances": 0.6, "coco_person_keypoints": 0.6,
                                             "coco_captions": 0.6}


def test_detect_named_json_file(rich):
    assert _scores(rich / "annotations" / "captions_val.json") == {"coco": 0.7, "coco_captions": 0.8}


def test_detect_any_json_file_by_its_first_bytes(tmp_path):
    assert _scores(write_json(tmp_path / "a.json", instances_doc())) == {"coco_instances": 0.5}
    assert _scores(write_json(tmp_path / "b.json", captions_doc())) == {"coco_captions": 0.5}
    assert _scores(write_json(tmp_path / "c.json", {"images": [{"file_name": "x.jpg", "id": 1}]})) == {
        "coco_instances": 0.4}
    assert _scores(write_json(tmp_path / "d.json", {"items": [], "categories": {}})) == {}
    (tmp_path / "e.json").write_text("not json at all")
    assert _scores(tmp_path / "e.json") == {}
    assert _scores(tmp_path) == {}  # a folder of loose json files is not claimed


def test_detect_reads_only_the_head(tmp_path):
    p = tmp_path / "big.json"
    head = json.dumps(instances_doc())[:-1]
    p.write_bytes(head.encode() + b"," + b" " * (1 << 20) + b"GARBAGE")
    assert spec.COCO_INSTANCES.detect(p) == 0.5


def test_spec_names_and_options():
    assert {n: s.name for n, s in ALL.items()} == {n: n for n in ALL}
    assert [o.name for o in spec.COCO.export_options] == [
        "save-media", "image-ext", "strict", "segmentation-mode", "crop-covered", "allow-attributes", "reindex",
        "merge-images", "save-dataset-meta", "tasks"]
    assert "tasks" not in [o.name for o in spec.COCO_INSTANCES.export_options]
    assert [o.name for o in spec.COCO.import_options] == ["keep-original-category-ids"]


@pytest.mark.parametrize("points", [(0.0, 1.5, 2.0, 3.0, 4.0, 5.0), (), (1e300, -2.5)])
def test_fast_polygon_equals_the_validating_constructor(points):
    from types import MappingProxyType

    attrs = MappingProxyType({"is_crowd": True})
    meta = MappingProxyType({"coco": {"g": 1}})
    fast = fast_polygon(points, 7, 7, 2, attrs, meta)
    slow = Polygon(points=points, id=7, group=7, label=2, attributes={"is_crowd": True}, meta={"coco": {"g": 1}})
    assert fast == slow
    for f in dataclasses.fields(Polygon):
        assert getattr(fast, f.name) == getattr(slow, f.name), f.name
    assert fast.with_(label=3) == slow.with_(label=3)

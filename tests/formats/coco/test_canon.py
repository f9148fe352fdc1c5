"""Items written to canonical bytes straight from their COCO records (formats/coco/canon.py)
give exactly the bytes of building them and encoding the result, and the same errors."""

from __future__ import annotations

import copy

import pytest

from dsrepo.formats.api import import_dataset
from dsrepo.formats.coco import canon
from dsrepo.formats.coco.canon import ItemBuild
from dsrepo.model.encoding import encode_item

from .coco_data import CATEGORIES, IMAGES, instances_doc, make_rich, write_json

MD5 = "0123456789abcdef0123456789abcdef"


def _stubs(root):
    stubs = list(import_dataset(root, "coco").stubs(lazy=True))
    assert stubs and all(isinstance(s[4], ItemBuild) for s in stubs)
    return stubs


def _assert_same_bytes(stubs) -> int:
    """Compare every item both ways (with and without an image md5); returns how many
    items took the direct route."""
    direct = 0
    for s in stubs:
        b = s[4]
        for md5 in (None, MD5):
            assert b.encode(md5) == encode_item(b(), checksum=lambda _m, v=md5: v), (s[0], s[1])
        try:
            canon._direct(b.builder, b.k, None)
            direct += 1
        except canon._Other:
            pass
    return direct


def _instances_only(tmp_path, anns, images=None):
    doc = {"images": copy.deepcopy(images or IMAGES), "annotations": anns, "categories": copy.deepcopy(CATEGORIES)}
    write_json(tmp_path / "ds" / "annotations" / "instances_val.json", doc)
    return tmp_path / "ds"


def _poly(aid, image_id, **kw):
    rec = {"id": aid, "image_id": image_id, "category_id": 7, "segmentation": [[1.5, 1.0, 10.25, 1.0, 10.0, 8.0]],
           "area": 30.5, "bbox": [1.5, 1.0, 8.75, 7.0], "iscrowd": 0}
    rec.update(kw)
    return rec


def test_every_case_of_the_rich_instances_file(tmp_path):
    doc = instances_doc()
    root = _instances_only(tmp_path, doc["annotations"], doc["images"])
    stubs = _stubs(root)
    assert _assert_same_bytes(stubs) == len(stubs)  # (instances only: every item direct, odd records built)


def test_subsets_with_keypoints_and_captions(tmp_path):
    stubs = _stubs(make_rich(tmp_path))  # (a keypoints record shares an instances record)
    assert _assert_same_bytes(stubs) == len(stubs)


def test_generated_three_task_file(tmp_path):
    from benchmarks.coco_gen import generate

    generate(tmp_path / "gen", 200, seed=3)  # instances, person_keypoints, captions
    stubs = _stubs(tmp_path / "gen")
    assert _assert_same_bytes(stubs) == len(stubs)


@pytest.mark.parametrize("anns", [
    pytest.param([_poly(1, 11, segmentation=[[-0.0, 1.0, 4.0, -0.0, 4.0, 4.0]], bbox=[-0.0, 0.0, 4.0, 4.0],
                        area=-0.0)], id="negative-zero"),
    pytest.param([_poly(1, 11, segmentation=[[1, 2.5, 3, 4, 5, 6.0], [0, 0, 2, 0, 2, 2]], bbox=[0, 0, 5, 6],
                        area=7)], id="integers-mixed"),
    pytest.param([_poly(1, 11, iscrowd=1), _poly(2, 11, iscrowd=True)], id="crowd-polygons"),
    pytest.param([_poly(3, 5), _poly(1, 11), _poly(2, 5)], id="records-not-in-image-order"),
    pytest.param([_poly(1, 11), _poly(1, 11), _poly(2, 11)], id="duplicate-ids"),
    pytest.param([{k: v for k, v in _poly(1, 11).items() if k != "id"}, _poly(0, 11)], id="missing-and-zero-id"),
    pytest.param([{k: v for k, v in _poly(2, 11).items() if k != "category_id"}], id="missing-category"),
    pytest.param([{k: v for k, v in _poly(1, 11).items() if k not in ("area", "bbox")}], id="no-area-no-bbox"),
    pytest.param([_poly(1, 11, segmentation=[]), _poly(2, 11, segmentation={"counts": [30, 10, 5, 10, 5, 140],
                                                                             "size": [10, 20]})],
                 id="box-only-and-rle"),
    pytest.param([_poly(1, 11, score=0.5), _poly(2, 11, attributes={"occluded": True}), _poly(3, 11, note="x"),
                  _poly(4, 11, num_keypoints=0)], id="score-attributes-extra-fields"),
    pytest.param([_poly(1, 11, area=1e-7, bbox=[1e20, 0.1, 2.5e-3, 3])], id="exponents"),
])
def test_edge_records(tmp_path, anns):
    images = copy.deepcopy(IMAGES) + [{"id": 9, "file_name": "ünï/çødé.jpg", "width": 3, "height": 2,
                                       "extra_field": {"a": [1, -0.0]}}]
    stubs = _stubs(_instances_only(tmp_path, anns + [_poly(50, 9)], images))
    assert _assert_same_bytes(stubs) == len(stubs)


def test_generated_train_shaped_file(tmp_path):
    from benchmarks.coco_gen import generate

    generate(tmp_path / "gen", 300, seed=5, tasks=("instances",))
    stubs = _stubs(tmp_path / "gen")
    assert _assert_same_bytes(stubs) == len(stubs)


def test_a_record_that_fails_on_its_own_sends_the_item_through_the_builder(tmp_path, monkeypatch):
    anns = [_poly(1, 11), _poly(2, 11, segmentation=[]), _poly(3, 5)]
    stubs = _stubs(_instances_only(tmp_path, anns))
    want = {s[1]: encode_item(s[4](), checksum=lambda _m: MD5) for s in stubs}

    def refuse(_ann):
        raise ValueError("refused")

    monkeypatch.setattr(canon, "annotation_to_dict", refuse)  # (the box-only record is built on its own)
    (b,) = [s[4] for s in stubs if s[1] == "img_a"]
    with pytest.raises(canon._Other):
        canon._direct(b.builder, b.k, MD5)
    assert {s[1]: s[4].encode(MD5) for s in stubs} == want

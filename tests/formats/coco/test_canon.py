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


def test_keypoints_and_captions_of_a_generated_file_are_written_without_objects(tmp_path, monkeypatch):
    from benchmarks.coco_gen import generate
    from dsrepo.formats.coco import annconv

    generate(tmp_path / "gen", 60, seed=4)  # every keypoints record describes an instances polygon
    stubs = _stubs(tmp_path / "gen")
    want = {s[1]: encode_item(s[4](), checksum=lambda _m: MD5) for s in stubs}
    calls = []
    for name in ("keypoints_object", "caption"):
        real = getattr(annconv, name)
        monkeypatch.setattr(annconv, name, lambda *a, _r=real, _n=name, **k: calls.append(_n) or _r(*a, **k))
    assert {s[1]: s[4].encode(MD5) for s in stubs} == want
    assert calls == []


def _kp(aid, image_id, **kw):
    rec = {"id": aid, "image_id": image_id, "category_id": 1, "segmentation": [[1.5, 1.0, 10.25, 1.0, 10.0, 8.0]],
           "area": 30.5, "bbox": [1.5, 1.0, 8.75, 7.0], "iscrowd": 0, "keypoints": [2, 3, 2, 4.5, 5, 1, 0, 0, 0],
           "num_keypoints": 2}
    rec.update(kw)
    return rec


def _three_tasks(tmp_path, inst, kps, caps):
    person = [{"id": 1, "name": "person", "keypoints": ["a", "b", "c"], "skeleton": [[1, 2]]}]
    root = tmp_path / "ds"
    for task, anns, cats in (("instances", inst, person), ("person_keypoints", kps, person),
                             ("captions", caps, None)):
        doc = {"images": copy.deepcopy(IMAGES), "annotations": anns}
        if cats is not None:
            doc["categories"] = cats
        write_json(root / "annotations" / f"{task}_val.json", doc)
    return root


@pytest.mark.parametrize("kps", [
    pytest.param([_kp(1, 11)], id="shared"),
    pytest.param([_kp(1, 11, num_keypoints=3)], id="num-keypoints-disagrees"),
    pytest.param([_kp(1, 11, iscrowd=1)], id="crowd"),
    pytest.param([_kp(1, 11, keypoints=[-0.0, 1.5, 2, 3, 4, 0], bbox=[-0.0, 0, 8, 7])], id="negative-zero-and-ints"),
    pytest.param([_kp(1, 11, keypoints=[2.5, 3.5, 2.0])], id="all-floats"),
    pytest.param([_kp(9, 11)], id="shared-by-geometry-not-id"),
    pytest.param([_kp(1, 11, segmentation=[[0, 0, 1, 0, 1, 1]])], id="not-shared"),
    pytest.param([_kp(1, 11), _kp(2, 11)], id="two-records-one-instance"),
    pytest.param([_kp(1, 11, score=0.9), _kp(2, 11, attributes={"pose": "up"}), _kp(3, 11, caption="x")],
                 id="score-attributes-extra-fields"),
    pytest.param([{k: v for k, v in _kp(1, 11).items() if k != "num_keypoints"}], id="no-num-keypoints"),
    pytest.param([_kp(1, 11), _kp(1, 11)], id="duplicate-ids"),
    pytest.param([_kp(0, 11)], id="zero-id"),
])
def test_keypoints_records(tmp_path, kps):
    inst = [_poly(1, 11, category_id=1), _poly(2, 11, category_id=1, segmentation=[[0, 0, 9, 0, 9, 9]])]
    stubs = _stubs(_three_tasks(tmp_path, inst, kps, []))
    assert _assert_same_bytes(stubs) == len(stubs)


@pytest.mark.parametrize("caps", [
    pytest.param([{"id": 1, "image_id": 11, "caption": "a dog"}, {"id": 2, "image_id": 5, "caption": ""}], id="plain"),
    pytest.param([{"id": 2, "image_id": 11, "caption": "b"}, {"id": 1, "image_id": 11, "caption": "a"}],
                 id="not-in-id-order"),
    pytest.param([{"id": 1, "image_id": 11, "caption": "café ☕ \"quoted\"\n"}], id="unicode-and-escapes"),
    pytest.param([{"id": 1, "image_id": 11}], id="no-caption"),
    pytest.param([{"image_id": 11, "caption": "no id"}, {"id": 0, "image_id": 11, "caption": "zero id"}],
                 id="missing-and-zero-id"),
    pytest.param([{"id": 1, "image_id": 11, "caption": "a", "score": 0.5},
                  {"id": 2, "image_id": 11, "caption": "b", "category_id": 3},
                  {"id": 3, "image_id": 11, "caption": "c", "lang": "en"}], id="score-category-extra"),
    pytest.param([{"id": 1, "image_id": 11, "caption": "a"}, {"id": 1, "image_id": 11, "caption": "b"}],
                 id="duplicate-ids"),
])
def test_caption_records(tmp_path, caps):
    stubs = _stubs(_three_tasks(tmp_path, [_poly(1, 11, category_id=1)], [], caps))
    assert _assert_same_bytes(stubs) == len(stubs)


@pytest.mark.parametrize(("kp", "message"), [
    ({"keypoints": [1, 2, 3]}, "annotation id 1: keypoint visibility must be 0, 1 or 2, got 3"),
    ({"keypoints": [1, 2, 2, 5, 5, -1]}, "annotation id 1: keypoint visibility must be 0, 1 or 2, got -1"),
])
def test_a_bad_keypoints_record_fails_as_the_builder_fails(tmp_path, kp, message):
    from dsrepo.errors import DatasetError

    root = _three_tasks(tmp_path, [_poly(1, 11, category_id=1)], [_kp(1, 11, **kp)], [])
    (b,) = [s[4] for s in _stubs(root) if s[1] == "img_a"]
    with pytest.raises((DatasetError, ValueError)) as built:
        b()
    with pytest.raises(built.type) as encoded:
        b.encode(MD5)
    assert message in str(built.value)
    assert str(encoded.value) == str(built.value)

"""Lossless COCO -> dsrepo -> COCO round trips, compared field by field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dsrepo.formats.api import export_dataset, import_dataset

from .coco_data import captions_doc, instances_doc, keypoints_doc, write_json
from .coco_helpers import assert_same_files, roundtrip, strict_diff, through_encoding

SAMPLE = Path(__file__).resolve().parents[3] / "dsrepo" / "data" / "sample"


@pytest.mark.parametrize("name", ["coco", "coco_edited"])
@pytest.mark.parametrize("encode", [False, True])
def test_sample_dataset_round_trip(tmp_path, name, encode):
    ds, progress = roundtrip(SAMPLE / name, tmp_path / "out", encode=encode)
    assert progress.warnings == []
    assert_same_files(SAMPLE / name / "annotations", tmp_path / "out" / "annotations")


@pytest.mark.parametrize("encode", [False, True])
def test_rich_dataset_round_trip(rich, tmp_path, encode):
    ds, progress = roundtrip(rich, tmp_path / "out", encode=encode)
    assert progress.warnings == []
    assert_same_files(rich / "annotations", tmp_path / "out" / "annotations")


def test_round_trip_preserves_order_of_images_and_annotations(rich, tmp_path):
    roundtrip(rich, tmp_path / "out")
    for n in ("instances_val.json", "person_keypoints_val.json", "captions_val.json"):
        a = json.loads((rich / "annotations" / n).read_text())
        b = json.loads((tmp_path / "out" / "annotations" / n).read_text())
        assert [i["id"] for i in a["images"]] == [i["id"] for i in b["images"]]
        assert [x["id"] for x in a["annotations"]] == [x["id"] for x in b["annotations"]]
        assert list(a) == list(b)  # top-level key order


def test_images_follow_the_dataset_order(rich, tmp_path):
    """The images list is written in the dataset's order (the import order, which the
    repository keeps): no per-image position is stored, so adding or removing one image
    leaves every other item unchanged; a reordered dataset (e.g. by the `sort` transform)
    is written in its new order."""
    from dsrepo.model.dataset import Dataset

    ds = through_encoding(import_dataset(rich, "coco"))
    assert all("o" not in it.meta.get("coco", {}) for it in ds)
    shuffled = Dataset(ds.categories, sorted(ds, key=lambda it: it.id, reverse=True), ds.subset_meta)
    export_dataset(shuffled, tmp_path / "out", "coco")
    written = json.loads((tmp_path / "out" / "annotations" / "instances_val.json").read_text())
    names = {it.id: it.media.name for it in shuffled}
    assert [i["file_name"] for i in written["images"]] == [names[it.id] for it in shuffled]
    export_dataset(Dataset(ds.categories, sorted(shuffled, key=lambda it: [x.id for x in ds].index(it.id)),
                           ds.subset_meta), tmp_path / "back", "coco")
    assert_same_files(rich / "annotations", tmp_path / "back" / "annotations")


@pytest.mark.parametrize("task", ["captions", "instances", "person_keypoints"])
def test_adding_an_image_changes_no_other_item(rich, tmp_path, task):
    from dsrepo.model.encoding import item_hash

    before = {it.id: item_hash(it) for it in import_dataset(rich, "coco")}
    f = rich / "annotations" / f"{task}_val.json"
    doc = json.loads(f.read_text())
    doc["images"].insert(0, {"id": 99999, "file_name": "new.jpg", "width": 4, "height": 3})
    f.write_text(json.dumps(doc))
    ds = import_dataset(rich, "coco")
    after = {it.id: item_hash(it) for it in ds}
    assert sorted(k for k in after if before.get(k) != after[k]) == ["new"]
    export_dataset(ds, tmp_path / "out", "coco")  # and every file comes back in its order
    assert_same_files(rich / "annotations", tmp_path / "out" / "annotations")


def test_export_is_byte_identical(rich, tmp_path):
    ds = import_dataset(rich, "coco")
    export_dataset(ds, tmp_path / "a", "coco", ["--save-media"])
    export_dataset(through_encoding(ds), tmp_path / "b", "coco", ["--save-media"])
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and files_a
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_task_format_round_trip_with_any_file_name(tmp_path):
    src = write_json(tmp_path / "src" / "my labels.json", instances_doc())
    ds, progress = roundtrip(src, tmp_path / "out", fmt="coco_instances")
    assert {it.subset for it in ds} == {"default"}
    a = json.loads(src.read_text())
    b = json.loads((tmp_path / "out" / "annotations" / "instances_default.json").read_text())
    assert strict_diff(a, b) is None


def test_files_without_info_licenses_or_categories(tmp_path):
    doc = instances_doc()
    del doc["info"], doc["licenses"], doc["categories"]
    src = write_json(tmp_path / "src" / "annotations" / "instances_x.json", doc)
    ds, progress = roundtrip(tmp_path / "src", tmp_path / "out")
    names = ds.categories.label_names()
    assert sorted(names) == ["1", "42", "7"]  # synthesized from the ids in use (0 means "no label")
    b = json.loads((tmp_path / "out" / "annotations" / "instances_x.json").read_text())
    assert strict_diff(json.loads(src.read_text()), b) is None


def test_minimal_records_keep_their_missing_keys(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg"}],
           "annotations": [{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
                           {"image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1, 0, 1, 1]]}],
           "categories": [{"id": 1, "name": "x"}]}
    write_json(tmp_path / "src" / "annotations" / "instances_t.json", doc)
    roundtrip(tmp_path / "src", tmp_path / "out")
    b = json.loads((tmp_path / "out" / "annotations" / "instances_t.json").read_text())
    assert strict_diff(doc, b) is None


def test_pretty_printed_and_compact_inputs_give_the_same_dataset(tmp_path):
    from dsrepo.model.encoding import encode_item

    write_json(tmp_path / "a" / "annotations" / "instances_v.json", instances_doc())
    write_json(tmp_path / "b" / "annotations" / "instances_v.json", instances_doc(), indent=4)
    a = [encode_item(i, lambda m: None) for i in import_dataset(tmp_path / "a", "coco")]
    b = [encode_item(i, lambda m: None) for i in import_dataset(tmp_path / "b", "coco")]
    assert a == b


def test_generated_coco_2017_shaped_data_round_trips(tmp_path):
    from benchmarks.coco_gen import generate

    files = generate(tmp_path / "gen", 40, seed=3)
    ds, progress = roundtrip(tmp_path / "gen", tmp_path / "out", encode=True)
    assert progress.warnings == []
    assert len(ds) == 40
    assert_same_files(tmp_path / "gen" / "annotations", tmp_path / "out" / "annotations")
    assert set(files) == {"instances", "person_keypoints", "captions"}


def test_combined_export_of_a_subset_of_tasks(rich, tmp_path):
    ds = import_dataset(rich, "coco")
    export_dataset(ds, tmp_path / "out", "coco", ["--tasks", "captions,person_keypoints"])
    assert sorted(p.name for p in (tmp_path / "out" / "annotations").iterdir()) == [
        "captions_val.json", "person_keypoints_val.json"]
    assert_same_files(rich / "annotations", tmp_path / "out" / "annotations",
                      ["captions_val.json", "person_keypoints_val.json"])


def test_keypoints_only_dataset_round_trips(tmp_path):
    write_json(tmp_path / "src" / "annotations" / "person_keypoints_train.json", keypoints_doc())
    write_json(tmp_path / "src" / "annotations" / "captions_train.json", captions_doc())
    roundtrip(tmp_path / "src", tmp_path / "out")
    assert_same_files(tmp_path / "src" / "annotations", tmp_path / "out" / "annotations")


def test_round_trip_of_export_is_stable(rich, tmp_path):
    """Exporting an exported dataset again changes nothing."""
    roundtrip(rich, tmp_path / "one")
    shutil.copytree(rich / "images", tmp_path / "one" / "images")
    roundtrip(tmp_path / "one", tmp_path / "two")
    for p in (tmp_path / "one" / "annotations").glob("*.json"):
        assert p.read_bytes() == (tmp_path / "two" / "annotations" / p.name).read_bytes()


def test_task_files_listing_images_in_different_orders_round_trip(rich, tmp_path):
    f = rich / "annotations" / "captions_val.json"
    doc = json.loads(f.read_text())
    doc["images"].reverse()
    f.write_text(json.dumps(doc))
    ds = import_dataset(rich, "coco")
    assert all("o" in it.meta["coco"] for it in ds)  # positions kept: the files disagree
    export_dataset(through_encoding(ds), tmp_path / "out", "coco")
    assert_same_files(rich / "annotations", tmp_path / "out" / "annotations")

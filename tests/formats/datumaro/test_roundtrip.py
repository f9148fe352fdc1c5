"""The key invariant (import -> export -> import gives equal items and categories), byte
stability of exports, and lossless COCO -> Datumaro -> COCO conversion."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import encode_categories, encode_item
from dsrepo.progress import NullProgress

from coco.coco_data import captions_doc, keypoints_doc, make_rich as make_coco_rich, write_json as coco_json
from coco.coco_helpers import assert_same_files, through_encoding
from .dm_data import make_rich, subset_doc, write_image, write_json

SAMPLE = Path(__file__).resolve().parents[3] / "dsrepo" / "data" / "sample"


def _legacy(tmp: Path) -> Path:
    doc = {"categories": {"label": {"labels": [{"name": "a", "parent": ""}], "attributes": []}},
           "items": [{"id": "x", "annotations": [{"id": 1, "type": 6, "label_id": 0, "bbox": [1, 2, 3, 4]}],
                      "image": {"path": "x.png"}}], "info": {"k": [1, 2]}}
    write_json(tmp / "legacy" / "annotations" / "default.json", doc)
    write_image(tmp / "legacy" / "images" / "x.png", 5, 6)
    return tmp / "legacy"


def _odd(tmp: Path) -> Path:
    """Absolute and generic media paths, unknown keys everywhere, uncommon label_id/z_order use."""
    cats = {"label": {"labels": [{"name": "a", "parent": "", "attributes": [], "color": "#fff"}],
                      "attributes": [], "extra": 1}, "future_kind": {"v": 2}}
    doc = subset_doc([
        {"id": "abs", "annotations": [{"id": 1, "type": "caption", "caption": "c", "label_id": 0, "z_order": 4},
                                      {"id": 2, "type": "hash_key", "hash_key": [1, 2, 3]},
                                      {"id": 3, "type": "label", "label_id": 0, "z_order": -1}],
         "image": {"path": "/data/src/abs.png", "size": [4, 5]}, "flags": {"b": 1, "a": 2}},
        {"id": "gen", "annotations": [], "media": {"path": "gen.jpg"}},
    ], categories=cats)
    doc["stats"] = {"n": 1}
    write_json(tmp / "odd" / "annotations" / "default.json", doc)
    write_image(tmp / "odd" / "images" / "default" / "gen.jpg", 6, 7)
    return tmp / "odd"


def _dataset_meta(tmp: Path) -> Path:
    write_json(tmp / "dmeta" / "annotations" / "default.json", subset_doc(
        [{"id": "x", "annotations": [{"id": 0, "type": "label", "label_id": 1}]}], categories={}))
    write_json(tmp / "dmeta" / "dataset_meta.json", {"label_map": {"0": "cat", "1": "dog"}})
    return tmp / "dmeta"


FIXTURES = {"rich": make_rich, "legacy": _legacy, "odd": _odd, "dataset_meta": _dataset_meta}


def _encoded(ds: Dataset) -> list[bytes]:
    return [encode_item(it, checksum=lambda m: None) for it in ds]


@pytest.mark.parametrize("encode", [False, True])
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_import_export_import_is_identity(tmp_path, name, encode):
    src = FIXTURES[name](tmp_path)
    first = import_dataset(src, "datumaro")
    if encode:  # what the repository stores and reads back
        first = through_encoding(first)
    progress = NullProgress()
    export_dataset(first, tmp_path / "out", "datumaro", None, progress)
    again = import_dataset(tmp_path / "out", "datumaro")
    assert _encoded(again) == _encoded(first)
    assert encode_categories(again.categories) == encode_categories(first.categories)
    assert again.subsets() == first.subsets()
    assert [w for w in progress.warnings if "opaque" not in w] == []


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_second_export_is_byte_identical(tmp_path, name):
    src = FIXTURES[name](tmp_path)
    export_dataset(import_dataset(src, "datumaro"), tmp_path / "one", "datumaro")
    export_dataset(import_dataset(tmp_path / "one", "datumaro"), tmp_path / "two", "datumaro")
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*")
                                     if p.is_file())
    for rel in files:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel


def test_export_is_deterministic_with_media(rich, tmp_path):
    ds = import_dataset(rich, "datumaro")
    rep_a = export_dataset(ds, tmp_path / "a", "datumaro", ["--save-media"])
    rep_b = export_dataset(through_encoding(ds), tmp_path / "b", "datumaro", ["--save-media"])
    assert rep_a == rep_b
    assert rep_a.files == ("annotations/test.json", "annotations/train.json", "annotations/val.json",
                           "images/train/img 1.jpg", "images/train/nested/dir/ünï.png", "images/val/c.jpg")
    assert rep_a.missing_media == ("b",)
    for rel in rep_a.files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert (tmp_path / "a" / "images/val/c.jpg").read_bytes() == (rich / "images/c.jpg").read_bytes()


def test_media_round_trip_keeps_checksums(rich, tmp_path):
    ds = import_dataset(rich, "datumaro")
    export_dataset(ds, tmp_path / "out", "datumaro", ["--save-media"])
    again = import_dataset(tmp_path / "out", "datumaro")
    with_files = [it for it in ds if it.media is not None and it.media.has_file]
    assert len(with_files) == 3
    assert [encode_item(it) for it in again if it.media is not None and it.media.has_file] == \
        [encode_item(it) for it in with_files]


@pytest.mark.parametrize("encode", [False, True])
def test_coco_to_datumaro_to_coco_is_lossless(tmp_path, encode):
    coco = make_coco_rich(tmp_path)
    progress = NullProgress()
    ds = import_dataset(coco, "coco")
    export_dataset(through_encoding(ds) if encode else ds, tmp_path / "dm", "datumaro", None, progress)
    back = import_dataset(tmp_path / "dm", "datumaro", None, progress)
    assert _encoded(back) == _encoded(ds)
    export_dataset(through_encoding(back) if encode else back, tmp_path / "coco2", "coco", None, progress)
    assert progress.warnings == []
    assert_same_files(coco / "annotations", tmp_path / "coco2" / "annotations")


@pytest.mark.parametrize("name", ["coco", "coco_edited"])
def test_coco_sample_datasets_convert_losslessly(tmp_path, name):
    ds = import_dataset(SAMPLE / name, "coco")
    export_dataset(ds, tmp_path / "dm", "datumaro", ["--save-media"])
    back = import_dataset(tmp_path / "dm", "datumaro")
    assert [encode_item(it) for it in back] == [encode_item(it) for it in ds]  # media bytes included
    export_dataset(back, tmp_path / "coco2", "coco")
    assert_same_files(SAMPLE / name / "annotations", tmp_path / "coco2" / "annotations")


def test_coco_keypoints_and_captions_convert_losslessly(tmp_path):
    coco_json(tmp_path / "src" / "annotations" / "person_keypoints_train.json", keypoints_doc())
    coco_json(tmp_path / "src" / "annotations" / "captions_train.json", captions_doc())
    export_dataset(import_dataset(tmp_path / "src", "coco"), tmp_path / "dm", "datumaro")
    export_dataset(import_dataset(tmp_path / "dm", "datumaro"), tmp_path / "coco2", "coco")
    assert_same_files(tmp_path / "src" / "annotations", tmp_path / "coco2" / "annotations")

"""The key invariant: import -> export (no media) -> import gives the same items and categories."""

from __future__ import annotations

import json

import pytest

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.progress import NullProgress

from .helpers import assert_invariant, through_encoding
from .segments_data import make_reference, make_vector, vector_doc, write_json


@pytest.mark.parametrize("encode", [False, True])
def test_reference_release(tmp_path, encode):
    root = make_reference(tmp_path / "ref")
    back = assert_invariant(root, tmp_path / "out", "segments_ai", encode=encode)
    assert [i.id for i in back] == ["donuts", "empty"]
    assert (tmp_path / "out" / "bitmaps" / "default" / "donuts.png").is_file()


@pytest.mark.parametrize("encode", [False, True])
def test_reference_release_all_statuses(tmp_path, encode):
    root = make_reference(tmp_path / "ref")
    back = assert_invariant(root, tmp_path / "out", "segments_ai", ["--status", "all"], encode=encode)
    assert [i.id for i in back] == ["donuts", "empty", "todo"]
    doc = json.loads((tmp_path / "out" / "flowers-v1.0.json").read_text())
    assert doc["dataset"]["samples"][2]["labels"] == {"segmentation": None}


@pytest.mark.parametrize("encode", [False, True])
def test_vector_release(tmp_path, encode):
    root = make_vector(tmp_path / "v")
    back = assert_invariant(root, tmp_path / "out", "segments_ai", ["--assets", "assets"], encode=encode)
    assert list(back)[0].media.size == (12, 16)


def test_vector_release_written_back_as_it_was(tmp_path):
    """Beyond the items: the release file itself comes back with the same content."""
    root = make_vector(tmp_path / "v")
    ds = import_dataset(root, "segments_ai", ["--status", "all"])
    export_dataset(through_encoding(ds), tmp_path / "out", "segments_ai")
    a = vector_doc()
    b = json.loads((tmp_path / "out" / "release.json").read_text())
    for s in a["dataset"]["samples"]:
        s["labels"].pop("predictions", None)  # only the imported labelset is kept
    assert b == a


def test_several_subsets(tmp_path):
    root = make_vector(tmp_path / "v")
    write_json(root / "release_train.json", vector_doc())
    (root / "release.json").rename(root / "release_val.json")
    back = assert_invariant(root, tmp_path / "out", "segments_ai", ["--assets", "assets"])
    assert sorted(p.name for p in (tmp_path / "out").glob("*.json")) == ["release_train.json", "release_val.json"]
    assert [i.subset for i in back] == ["train", "train", "val", "val"]


def test_export_is_deterministic(tmp_path):
    root = make_reference(tmp_path / "ref")
    ds = import_dataset(root, "segments_ai")
    ra = export_dataset(ds, tmp_path / "a", "segments_ai", ["--save-media"])
    rb = export_dataset(through_encoding(ds), tmp_path / "b", "segments_ai", ["--save-media"])
    assert ra.files == rb.files == ("bitmaps/default/donuts.png", "flowers-v1.0.json", "images/donuts.jpg",
                                    "images/empty.png")
    for rel in ra.files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_save_media_makes_a_self_contained_folder(tmp_path):
    root = make_vector(tmp_path / "v")
    ds = import_dataset(root, "segments_ai", ["--assets", "assets"])
    progress = NullProgress()
    report = export_dataset(ds, tmp_path / "out", "segments_ai", ["--save-media"], progress)
    assert report.missing_media == ("no image",)
    assert progress.warnings == ["segments_ai: 1 images not saved (no image file): no image"]
    doc = json.loads((tmp_path / "out" / "release.json").read_text())
    urls = [s["attributes"]["image"]["url"] for s in doc["dataset"]["samples"]]
    assert urls == ["images/city/street 1.jpg", "https://segmentsai-prod.s3.eu-west-2.amazonaws.com/assets/"
                    "segments/gone.jpg"]
    back = list(import_dataset(tmp_path / "out", "segments_ai"))
    assert back[0].media.path == str(tmp_path / "out" / "images" / "city" / "street 1.jpg")
    assert back[0].media.checksum() == list(ds)[0].media.checksum()

"""The key invariant (import -> export -> import is identical) and file fidelity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset

from .helpers import assert_key_invariant, through_encoding
from .labelme_data import doc, make_rich, mask_png_b64, shape, write_doc


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    return make_rich(tmp_path / "src")


@pytest.mark.parametrize("encode", [False, True])
def test_rich_dataset_key_invariant(rich, tmp_path, encode):
    assert_key_invariant(rich, tmp_path / "out", encode=encode)


def test_subset_folders_key_invariant(tmp_path):
    src = tmp_path / "src"
    write_doc(src / "train" / "a.json", doc([shape("x", [[3, 4], [1, 1]], "rectangle")], "a.jpg", 8, 8))
    write_doc(src / "train" / "deep" / "b.json", doc([shape("y", [[1.5, 2.0]], "point")], "../b.jpg", 8, 8))
    write_doc(src / "val" / "a.json", doc([], "a.jpg", 8, 8))
    write_doc(src / "default" / "c.json", doc([], "c.jpg", 8, 8))
    write_doc(src / "top.json", doc([], "top.jpg", 8, 8))
    ds = assert_key_invariant(src, tmp_path / "out", ["--subset-folders"])
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.json")) == [
        "c.json", "top.json", "train/a.json", "train/deep/b.json", "val/a.json"]
    assert {it.subset for it in ds} == {"default", "train", "val"}


def test_unusual_values_key_invariant(tmp_path):
    src = tmp_path / "src"
    shapes = [
        shape("a", [[0, 0], [2, 0], [2, 2], [0, 2]], "rectangle"),   # 4 corners
        shape("a", [[1.1, 2.2], [3.3, 4.4]], "circle"),              # float noise in radius
        shape("b", [[5.0, 5.0]], "points"),                          # "points" with one point
        shape("b", [[1, 2.5], [3, 4]], "linestrip"),                 # mixed int / float
        shape("c", [[0, 0], [1, 0], [1, 1]], flags={"description": True}, description="text"),
        shape("c", [[0, 0], [1, 0], [1, 1]], flags={"x": "str", "n": 3}, group_id=-4,
              extra={"nested": {"b": 1, "a": [True, None]}}),
        shape("d", [[0.0, 0.0], [3.0, 2.0]], "mask", mask=mask_png_b64(np.ones((3, 4)))),
        shape("d", [[1.0, 1.0], [2.0, 2.0]], "mask", mask=mask_png_b64(np.zeros((2, 2)))),
        {"label": "e", "points": [[0, 0], [1, 1]], "shape_type": "line", "mask": "not-for-a-line"},
    ]
    write_doc(src / "unicode ünï" / "имя файла.json",
              doc(shapes, "имя файла.jpg", 10, 12, flags={"z": 1.5}, version=None, other=[1, {"k": "v"}]))
    ds = assert_key_invariant(src, tmp_path / "out")
    anns = next(iter(ds)).annotations
    assert anns[2].meta["labelme"] == {"st": "points"}
    assert anns[3].meta["labelme"] == {"p": [[1, 2.5], [3, 4]]}
    assert dict(anns[4].attributes) == {"description": True} and anns[4].meta["labelme"] == {"d": "text", "int": 1}
    assert anns[5].group == -4
    assert anns[8].meta["labelme"] == {"int": 1, "st": "line", "x": {"mask": "not-for-a-line"}}
    out = json.loads((tmp_path / "out" / "unicode ünï" / "имя файла.json").read_text(encoding="utf-8"))
    assert "version" not in out
    assert out["shapes"][4]["description"] == "text" and out["shapes"][4]["flags"] == {"description": True}
    assert out["shapes"][8]["mask"] == "not-for-a-line"


def test_exported_json_matches_original(rich, tmp_path):
    """Every value labelme reads comes back as written; only normalisations listed here
    differ (mask PNG bytes re-encoded, null description written as "", old files gain
    the standard keys)."""
    export_dataset(import_dataset(rich, "labelme"), tmp_path / "out", "labelme")
    for rel in ("missing.json", "nested/deep/dog.json"):
        assert json.loads((tmp_path / "out" / rel).read_text()) == json.loads((rich / rel).read_text())
    a = json.loads((rich / "cat 1.json").read_text())
    b = json.loads((tmp_path / "out" / "cat 1.json").read_text())
    a["shapes"][4]["description"] = ""
    assert a["shapes"][7]["mask"] != b["shapes"][7]["mask"]
    a["shapes"][7]["mask"] = b["shapes"][7]["mask"]
    assert a == b
    # embedded-only image: imageData written back (it is the only copy of the image)
    a = json.loads((rich / "embedded.json").read_text())
    b = json.loads((tmp_path / "out" / "embedded.json").read_text())
    assert a == b
    old = json.loads((tmp_path / "out" / "empty.json").read_text())
    assert old == {"flags": {}, "shapes": [], "imagePath": "empty.png", "imageData": None, "imageHeight": 6,
                   "imageWidth": 5, "fillColor": [255, 0, 0, 128], "lineColor": [0, 255, 0, 128]}


def test_repository_style_rebuild_keeps_embedded_image(rich, tmp_path):
    """After the canonical encoding (pixels not kept), the exporter still writes the
    embedded image back from meta, and the image decodes to the same pixels."""
    ds = through_encoding(import_dataset(rich, "labelme"))
    emb = ds.get("embedded")
    assert emb.media.data is None and emb.media.path is None
    export_dataset(ds, tmp_path / "out", "labelme")
    again = import_dataset(tmp_path / "out", "labelme").get("embedded")
    assert again.media.md5 == emb.media.md5 and again.media.data.shape == (8, 10, 3)


def test_export_is_byte_identical(rich, tmp_path):
    ds = import_dataset(rich, "labelme")
    export_dataset(ds, tmp_path / "a", "labelme", ["--save-media"])
    export_dataset(through_encoding(ds), tmp_path / "b", "labelme", ["--save-media"])
    export_dataset(ds, tmp_path / "c", "labelme", ["--save-media"])
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert len(files) == 9
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes() == \
            (tmp_path / "c" / rel).read_bytes(), rel


def test_round_trip_with_save_media_finds_images_again(rich, tmp_path):
    ds = import_dataset(rich, "labelme")
    report = export_dataset(ds, tmp_path / "out", "labelme", ["--save-media"])
    assert report.files == ("cat 1.jpg", "cat 1.json", "embedded.json", "embedded.png", "empty.json", "empty.png",
                            "images/dög.png", "missing.json", "nested/deep/dog.json")
    assert report.missing_media == ("missing.jpg",)
    assert (tmp_path / "out" / "cat 1.jpg").read_bytes() == (rich / "cat 1.jpg").read_bytes()
    back = {it.id: it for it in import_dataset(tmp_path / "out", "labelme")}
    assert back["embedded"].media.path == str(tmp_path / "out" / "embedded.png")
    assert "img" not in back["embedded"].meta["labelme"]
    assert back["nested/deep/dog"].media.path == str(tmp_path / "out" / "images" / "dög.png")


def test_order_in_memory_does_not_matter(rich, tmp_path):
    ds = import_dataset(rich, "labelme")
    shuffled = Dataset(ds.categories, sorted(ds, key=lambda it: it.id, reverse=True))
    export_dataset(shuffled, tmp_path / "a", "labelme")
    export_dataset(ds, tmp_path / "b", "labelme")
    for p in (tmp_path / "a").rglob("*.json"):
        assert p.read_bytes() == (tmp_path / "b" / p.relative_to(tmp_path / "a")).read_bytes()

"""The key invariant: VOC -> dsrepo -> VOC -> dsrepo gives identical items and categories."""

from __future__ import annotations

import numpy as np
import pytest

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.voc.png import read_mask_png

from .voc_data import class_map, make_custom, make_voc2012, object_map, write
from .voc_helpers import assert_invariant, through_encoding, tree

FORMATS = ["voc", "voc_classification", "voc_detection", "voc_segmentation", "voc_action", "voc_layout"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("encode", [False, True])
def test_voc2012_round_trip(tmp_path, fmt, encode):
    src = make_voc2012(tmp_path / "src")
    ds = assert_invariant(src, tmp_path / "out", fmt, encode)
    expected = {"voc": 3, "voc_classification": 2, "voc_detection": 2, "voc_segmentation": 2,
                "voc_action": 1, "voc_layout": 1}[fmt]
    assert len(list(ds)) == expected


@pytest.mark.parametrize("fmt", ["voc", "voc_detection", "voc_classification"])
@pytest.mark.parametrize("encode", [False, True])
def test_custom_label_map_round_trip(tmp_path, fmt, encode):
    src = make_custom(tmp_path / "src")
    ds = assert_invariant(src, tmp_path / "out", fmt, encode)
    assert [it.id for it in ds] == ["frame 001", "sub/ünï", "sub/deep/x"]
    assert (tmp_path / "out" / "labelmap.txt").read_text() == (src / "labelmap.txt").read_text()


def test_combined_export_rebuilds_the_same_files(voc2012, tmp_path):
    """List membership, empty subsets, label files, boundary pixels and unmodelled XML
    elements all come back; only the per-action list files are not rewritten."""
    export_dataset(through_encoding(import_dataset(voc2012, "voc")), tmp_path / "out", "voc")
    got = tree(tmp_path / "out")
    src = {k: v for k, v in tree(voc2012).items() if not k.startswith("JPEGImages/")}
    assert sorted(set(src) - set(got)) == ["ImageSets/Action/jumping_train.txt"]
    assert sorted(set(got) - set(src)) == ["labelmap.txt"]
    for name in ("ImageSets/Main/train.txt", "ImageSets/Main/val.txt", "ImageSets/Main/person_train.txt",
                 "ImageSets/Main/tvmonitor_train.txt", "ImageSets/Segmentation/train.txt",
                 "ImageSets/Action/train.txt"):
        assert got[name] == src[name], name
    assert got["ImageSets/Layout/train.txt"] == b"2007_000032\n"  # the object index column is not kept
    out = tmp_path / "out"
    assert np.array_equal(read_mask_png(out / "SegmentationClass" / "2007_000032.png").values, class_map())
    assert np.array_equal(read_mask_png(out / "SegmentationObject" / "2007_000032.png").values, object_map())
    xml = got["Annotations/2007_000032.xml"].decode()
    assert "<folder>VOC2012</folder>" in xml and "<database>The VOC2007 Database</database>" in xml
    assert "<point>\n      <x>4</x>\n      <y>3</y>\n    </point>" in xml
    assert "<xmin>9.5</xmin>" in xml and "<xmax>15.25</xmax>" in xml
    assert "<pose>" not in xml.split("<name>tvmonitor</name>")[1]  # empty <pose/> is not invented


def test_export_is_deterministic_and_byte_identical(voc2012, tmp_path):
    ds = import_dataset(voc2012, "voc")
    export_dataset(ds, tmp_path / "a", "voc", ["--save-media"])
    export_dataset(through_encoding(ds), tmp_path / "b", "voc", ["--save-media"])
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a == b and "JPEGImages/2007_000032.jpg" in a


def test_second_export_is_identical_to_the_first(voc2012, tmp_path):
    export_dataset(import_dataset(voc2012, "voc"), tmp_path / "one", "voc")
    export_dataset(import_dataset(tmp_path / "one", "voc"), tmp_path / "two", "voc")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_inexact_float_corners_round_trip(tmp_path):
    """0.2 + (0.9 - 0.2) != 0.9 in floats: the original xmax text is kept so the box stays exact."""
    src = tmp_path / "src"
    write(src / "Annotations" / "a.xml", "<annotation><size><width>4</width><height>4</height></size>"
          "<object><name>cat</name><bndbox><xmin>0.2</xmin><ymin>0.35</ymin><xmax>0.9</xmax>"
          "<ymax>1.7</ymax></bndbox></object></annotation>")
    ds = assert_invariant(src, tmp_path / "out", "voc")
    box = [a for a in next(iter(ds)).annotations][0]
    assert list(box.meta["voc_max"]) == ["0.9", "1.7"]
    assert box.x + box.w != 0.9
    assert "<xmax>0.9</xmax>" in (tmp_path / "out" / "Annotations" / "a.xml").read_text()


def test_items_without_objects_keep_their_xml(tmp_path):
    src = tmp_path / "src"
    write(src / "Annotations" / "empty.xml", "<annotation><filename>empty.jpg</filename><size><width>5</width>"
          "<height>3</height></size></annotation>")
    write(src / "ImageSets" / "Main" / "train.txt", "empty\n")
    ds = assert_invariant(src, tmp_path / "out", "voc_detection")
    item = next(iter(ds))
    assert item.annotations == () and item.media.size == (3, 5)
    assert (tmp_path / "out" / "Annotations" / "empty.xml").is_file()

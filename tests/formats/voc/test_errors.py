"""Bad input fails with one DatasetError naming the file and the record."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dsrepo.errors import DatasetError, ExportError, UsageError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.annotations import Bbox
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item

from .voc_data import grey_png, palette_png, rgb_png, write

OBJ = "<object><name>{name}</name><bndbox><xmin>{x}</xmin><ymin>1</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object>"


def _xml(tmp_path, text, labelmap=None):
    root = tmp_path / "ds"
    write(root / "Annotations" / "a.xml", text)
    if labelmap is not None:
        write(root / "labelmap.txt", labelmap)
    return root, re.escape(str(root / "Annotations" / "a.xml"))


@pytest.mark.parametrize("text, message", [
    ("<annotation>\n<object>\n<name>cat</name>\n</annotation>",
     ": line 4: malformed XML: Opening and ending tag mismatch: object line 2 and annotation"),
    ("<foo/>", ": root element is <foo>, expected <annotation>"),
    ("<annotation><object><name>cat</name></object></annotation>", r": object #1 \(line 1\): object has no bndbox"),
    ("<annotation><object><bndbox/></object></annotation>", r": object #1 \(line 1\): object has no name"),
    ("<annotation>" + OBJ.format(name="cat", x="abc") + "</annotation>",
     r": object #1 \(line 1\): xmin is not a number: 'abc'$"),
    ("<annotation>" + OBJ.format(name="cat", x="1") + "\n" + OBJ.format(name="cat", x="") + "</annotation>",
     r": object #2 \(line 2\): bndbox has no xmin$"),
    ("<annotation>" + OBJ.format(name="cat", x="nan") + "</annotation>", r": object #1 \(line 1\): xmin is not a number: 'nan'$"),
    ("<annotation>" + OBJ.format(name="cat", x="5") + "</annotation>",
     r": object #1 \(line 1\): bndbox has xmax < xmin or ymax < ymin \(5.0, 1.0, 3.0, 4.0\)"),
    ("<annotation><size><width>ab</width></size></annotation>", r": line 1: size/width is not a number: 'ab'"),
    ("<annotation><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>4</ymax>"
     "</bndbox><part><bndbox/></part></object></annotation>", r": object #1 \(line 1\): part #1: part has no name$"),
])
def test_bad_xml(tmp_path, text, message):
    root, path = _xml(tmp_path, text)
    with pytest.raises(DatasetError, match="^" + path + message):
        import_dataset(root, "voc")


def test_entity_bomb_is_refused(tmp_path):
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>\n<annotation><filename>&lol3;</filename></annotation>')
    root, path = _xml(tmp_path, bomb)
    with pytest.raises(DatasetError, match=f"^{path}: DOCTYPE and ENTITY declarations are not allowed in VOC XML$"):
        import_dataset(root, "voc")


def test_external_entity_in_utf16_is_refused(tmp_path):
    root = tmp_path / "ds"
    p = root / "Annotations" / "a.xml"
    p.parent.mkdir(parents=True)
    p.write_bytes(('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   '\n<annotation><filename>&x;</filename></annotation>').encode("utf-16"))
    with pytest.raises(DatasetError, match="DOCTYPE and ENTITY declarations are not allowed"):
        import_dataset(root, "voc")


def test_unknown_label_with_a_label_map(tmp_path):
    root, path = _xml(tmp_path, "<annotation>\n" + OBJ.format(name="dog", x=1) + "</annotation>", "cat:::\n")
    with pytest.raises(DatasetError, match=f"^{path}: object #1 \\(line 2\\): label 'dog' is not in the label map "
                                          "labelmap.txt$"):
        import_dataset(root, "voc")


def test_unknown_part_with_a_label_map(tmp_path):
    xml = ("<annotation><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>4</ymax>"
           "</bndbox><part><name>tail</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>4</ymax>"
           "</bndbox></part></object></annotation>")
    root, path = _xml(tmp_path, xml, "cat::paw:\n")
    with pytest.raises(DatasetError, match=f"^{path}: object #1 \\(line 1\\): part #1: label 'tail' is not in"):
        import_dataset(root, "voc")


@pytest.mark.parametrize("labelmap, message", [
    ("cat:1,2:\n", r"line 1: bad colour '1,2' \(expected r,g,b with values 0..255\)"),
    ("# header\ncat:0,0,300::\n", "line 2: bad colour '0,0,300'"),
    ("cat:::\ncat:::\n", "line 2: label 'cat' is listed twice"),
    (":1,1,1::\n", "line 1: empty label name"),
    ("a:::x:y\n", r"line 1: too many ':' fields \(5, expected name:color:parts:actions\)"),
])
def test_bad_label_map(tmp_path, labelmap, message):
    root = tmp_path / "ds"
    write(root / "labelmap.txt", labelmap)
    write(root / "ImageSets" / "Main" / "train.txt", "a\n")
    with pytest.raises(DatasetError, match=re.escape(str(root / "labelmap.txt")) + ": " + message):
        import_dataset(root, "voc")


def test_bad_classification_value(tmp_path):
    root = tmp_path / "ds"
    write(root / "ImageSets" / "Main" / "train.txt", "a\nb\n")
    write(root / "ImageSets" / "Main" / "cat_train.txt", "a  1\nb  yes\n")
    with pytest.raises(DatasetError, match=re.escape(str(root / "ImageSets/Main/cat_train.txt"))
                       + ": line 2: expected '<id> 1|0|-1', got 'b  yes'$"):
        import_dataset(root, "voc")


def test_list_path_escaping_the_dataset(tmp_path):
    root = tmp_path / "ds"
    write(root / "ImageSets" / "Main" / "train.txt", "ok\n../../etc/passwd\n")
    with pytest.raises(DatasetError, match=re.escape(str(root / "ImageSets/Main/train.txt"))
                       + ": line 2: path '../../etc/passwd' escapes the dataset folder"):
        import_dataset(root, "voc")


def test_unterminated_quoted_id(tmp_path):
    root = tmp_path / "ds"
    write(root / "ImageSets" / "Main" / "train.txt", '"my image\n')
    with pytest.raises(DatasetError, match="train.txt: line 1: unterminated quoted id"):
        import_dataset(root, "voc")


def test_mask_value_that_is_not_a_label(tmp_path):
    root = tmp_path / "ds"
    write(root / "labelmap.txt", "background:0,0,0::\ncat:1,1,1::\n")
    values = np.zeros((2, 2), np.uint8)
    values[0, 0] = 7
    p = palette_png(root / "SegmentationClass" / "a.png", values)
    with pytest.raises(DatasetError, match=re.escape(str(p)) + r": pixel value 7 is not a label index "
                                                              r"\(the label map has 2 labels\)$"):
        list(import_dataset(root, "voc"))


def test_rgb_mask_colour_not_in_the_label_map(tmp_path):
    root = tmp_path / "ds"
    write(root / "labelmap.txt", "background:0,0,0::\ncat:1,1,1::\n")
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[1, 1] = (5, 6, 7)
    p = rgb_png(root / "SegmentationClass" / "a.png", rgb)
    with pytest.raises(DatasetError, match=re.escape(str(p)) + r": colour \(5, 6, 7\) is not in the label map$"):
        list(import_dataset(root, "voc"))


def test_class_and_instance_masks_of_different_sizes(tmp_path):
    root = tmp_path / "ds"
    grey_png(root / "SegmentationClass" / "a.png", np.zeros((2, 2)))
    p = grey_png(root / "SegmentationObject" / "a.png", np.zeros((3, 2)))
    with pytest.raises(DatasetError, match=re.escape(str(p)) + ": instance mask is 2x3 but the class mask a.png is 2x2"):
        list(import_dataset(root, "voc"))


def test_broken_png(tmp_path):
    root = tmp_path / "ds"
    p = write(root / "SegmentationClass" / "a.png", "not a png")
    with pytest.raises(DatasetError, match=re.escape(str(p)) + ": not a PNG file$"):
        list(import_dataset(root, "voc"))


def test_not_a_voc_folder(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(DatasetError, match="no VOC dataset found"):
        import_dataset(tmp_path / "x", "voc")


def test_export_refuses_unwritable_names(tmp_path):
    ds = Dataset.from_items([Item("a", annotations=(Bbox(label=0, x=0, y=0, w=1, h=1),))],
                            Categories.from_names(["a:b"]))
    with pytest.raises(ExportError, match="label name 'a:b' cannot be written to a VOC label map"):
        export_dataset(ds, tmp_path / "o1", "voc")
    ds = Dataset.from_items([Item('say "hi" now')], Categories.from_names(["x"]))
    with pytest.raises(ExportError, match="cannot be written to a VOC list"):
        export_dataset(ds, tmp_path / "o2", "voc")
    assert list((tmp_path / "o2").iterdir()) == []  # nothing half-written


def test_bad_export_options(tmp_path):
    ds = Dataset.from_items([Item("a")], Categories.from_names(["x"]))
    with pytest.raises(UsageError, match="option --tasks: expected names from classification"):
        export_dataset(ds, tmp_path / "o1", "voc", ["--tasks", "detection,nope"])
    with pytest.raises(UsageError, match="option --label-map: expected voc, source or a label map file"):
        export_dataset(ds, tmp_path / "o2", "voc", ["--label-map", str(tmp_path / "missing.txt")])

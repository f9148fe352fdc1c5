"""VOC import, checked field by field."""

from __future__ import annotations

import numpy as np
import pytest

from dsrepo.formats.api import import_dataset
from dsrepo.formats.voc.labelmap import VOC_ACTIONS, VOC_LABELS
from dsrepo.model.annotations import Bbox, Label, Mask
from dsrepo.progress import NullProgress

from .voc_data import (
    class_map, grey_png, image, palette_png, rgb_png, write,
)
from .voc_helpers import assert_invariant


def _items(path, fmt="voc"):
    return {(it.subset, it.id): it for it in import_dataset(path, fmt)}


def test_default_label_map_without_labelmap_file(voc2012):
    cats = import_dataset(voc2012, "voc").categories
    names = cats.label_names()
    assert names == list(VOC_LABELS) + ["head", "hand", "foot"]
    person = cats.labels[15]
    assert person.attributes == VOC_ACTIONS["person"]
    assert list(person.meta["voc_parts"]) == ["head", "hand", "foot"]
    assert cats.labels[21].meta["voc_part"] is True
    assert cats.colormap[0] == (0, 0, 0) and cats.colormap[15] == (192, 128, 128) and cats.colormap[20] == (0, 64, 128)
    assert 21 not in cats.colormap


def test_voc2012_objects_parts_actions_and_flags(voc2012):
    it = _items(voc2012)[("train", "2007_000032")]
    assert it.media.size == (12, 16)
    assert it.media.name == "2007_000032.jpg" and it.media.path.endswith("JPEGImages/2007_000032.jpg")
    labels = [a for a in it.annotations if isinstance(a, Label)]
    assert [(a.label, dict(a.attributes)) for a in labels] == [(15, {}), (20, {})]
    person, head, tv = [a for a in it.annotations if isinstance(a, Bbox)]
    assert (person.id, person.group, person.label) == (1, 1, 15)
    assert (person.x, person.y, person.w, person.h) == (1.0, 2.0, 7.0, 9.0)
    assert dict(person.attributes) == {"truncated": True, "occluded": False, "difficult": False,
                                       "pose": "Frontal", "jumping": True, "reading": False}
    assert list(person.meta["voc_extra"]) == ["<point><x>4</x><y>3</y></point>"]
    assert (head.id, head.group, head.label) == (0, 1, 21)
    assert (head.x, head.y, head.w, head.h) == (3.0, 2.0, 3.0, 2.0)
    assert (tv.id, tv.group, tv.label) == (2, 2, 20)
    assert (tv.x, tv.y, tv.w) == (9.5, 0.1, 5.75) and tv.y + tv.h == 0.3
    assert dict(tv.attributes) == {"truncated": False, "occluded": False, "difficult": False}  # <pose/>, <difficult/>
    assert list(it.meta["voc_sets"]) == ["Main", "Segmentation", "Layout"]


def test_instance_and_class_masks_are_linked_to_boxes(voc2012):
    it = _items(voc2012)[("train", "2007_000032")]
    m1, m2 = [a for a in it.annotations if isinstance(a, Mask)]
    assert (m1.id, m1.group, m1.label) == (1, 1, 15)
    assert (m2.id, m2.group, m2.label) == (2, 2, 20)
    expected = np.zeros((12, 16), np.uint8)
    expected[2:11, 1:8] = 1
    assert np.array_equal(m1.image, expected)
    assert m2.get_area() == 5.0
    void = it.meta["voc_void"]
    assert set(void) == {"class", "object"}
    from dsrepo.model.masks import decode
    assert np.array_equal(decode(void["class"]), (class_map() == 255).astype(np.uint8))


def test_class_only_masks_and_size_from_image_header(voc2012):
    it = _items(voc2012)[("train", "2008_000100")]
    assert it.media.size == (12, 16)  # no XML: read from the JPEG header
    (m,) = it.annotations
    assert isinstance(m, Mask) and (m.id, m.group, m.label) == (0, 0, 12) and m.get_area() == 16.0
    assert list(it.meta["voc_sets"]) == ["Segmentation"]


def test_classification_values_and_missing_image(voc2012):
    it = _items(voc2012)[("train", "2007_000039")]
    assert it.media.path is None and it.media.name == "2007_000039.jpg" and it.media.size == (12, 16)
    labels = [(a.label, dict(a.attributes)) for a in it.annotations if isinstance(a, Label)]
    assert labels == [(15, {"difficult": True})]  # 0 = difficult; -1 = absent


def test_empty_subset_is_kept_in_subset_meta(voc2012):
    ds = import_dataset(voc2012, "voc")
    assert {it.subset for it in ds} == {"train"}
    assert dict(ds.subset_meta["val"]["voc"]) == {"lists": ["Main"]}
    assert list(ds.subset_meta["train"]["voc"]["cls"]) == ["person", "tvmonitor"]
    assert ds.subsets() == ["train", "val"]


def test_task_formats_read_their_lists_only(voc2012):
    assert sorted(_items(voc2012, "voc_segmentation")) == [("train", "2007_000032"), ("train", "2008_000100")]
    det = _items(voc2012, "voc_detection")
    assert sorted(det) == [("train", "2007_000032"), ("train", "2007_000039")]
    assert not any(isinstance(a, (Mask, Label)) for it in det.values() for a in it.annotations)
    cls = _items(voc2012, "voc_classification")
    assert all(isinstance(a, Label) for it in cls.values() for a in it.annotations)
    assert sorted(_items(voc2012, "voc_action")) == [("train", "2007_000039")]
    assert sorted(_items(voc2012, "voc_layout")) == [("train", "2007_000032")]


def test_import_of_one_list_file(voc2012):
    ds = import_dataset(voc2012 / "ImageSets" / "Segmentation" / "train.txt", "voc_segmentation")
    assert [it.id for it in ds] == ["2007_000032", "2008_000100"]
    ds = import_dataset(voc2012 / "ImageSets" / "Main" / "train.txt")  # detected as the combined format
    assert [it.id for it in ds] == ["2007_000032", "2007_000039"]


def test_custom_label_map_attributes_unicode_and_nested_ids(custom):
    ds = import_dataset(custom, "voc")
    cats = ds.categories
    assert cats.label_names() == ["background", "car", "person", "road", "wheel", "mirror", "head"]
    assert cats.labels[2].attributes == ("waving", "sitting")
    assert dict(cats.colormap) == {0: (0, 0, 0), 1: (255, 0, 0), 2: (0, 0, 255)}
    items = list(ds)
    assert [it.id for it in items] == ["frame 001", "sub/ünï", "sub/deep/x"]
    assert [it.media.size for it in items] == [(10, 20), (11, 20), None]  # 0 in XML: header; no image: None
    assert [it.media.name for it in items] == ["frame 001.png", "sub/ünï.png", "sub/deep/x.png"]
    (box,) = items[1].annotations
    assert (box.label, box.x, box.y, box.w, box.h) == (1, 2.25, 1.0, 5.5, 4.5)
    assert dict(box.attributes) == {"truncated": False, "occluded": True, "difficult": False,
                                    "color": "dark blue", "speed": 12.5, "count": 3, "parked": True}


def test_vocdevkit_nesting_and_no_imagesets(tmp_path):
    root = tmp_path / "VOCdevkit" / "VOC2007"
    write(root / "Annotations" / "b.xml", "<annotation><object><name>robot</name><bndbox><xmin>1</xmin>"
          "<ymin>1</ymin><xmax>2</xmax><ymax>3</ymax></bndbox><part><name>arm</name><bndbox><xmin>1</xmin>"
          "<ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part></object></annotation>")
    write(root / "Annotations" / "a.xml", "<annotation/>")
    ds = import_dataset(tmp_path / "VOCdevkit", "voc")
    assert [(it.subset, it.id) for it in ds] == [("default", "a"), ("default", "b")]
    names = ds.categories.label_names()
    assert names[21:] == ["robot", "head", "hand", "foot", "arm"]  # found labels extend the VOC map
    assert list(ds.categories.labels[21].meta["voc_parts"]) == ["arm"]
    assert_invariant(root, tmp_path / "out", "voc")


def _seg_dataset(tmp_path, writer, labelmap=None):
    root = tmp_path / "seg"
    if labelmap:
        write(root / "labelmap.txt", labelmap)
    write(root / "ImageSets" / "Segmentation" / "train.txt", "x\n")
    writer(root / "SegmentationClass" / "x.png")
    return root


def test_grey_class_masks_without_background_label(tmp_path):
    """Grey PNGs hold label indices; with no 'background' label, value 0 is a label too."""
    values = np.zeros((4, 5), np.uint8)
    values[1:3, 1:4] = 2
    values[0, 0] = 255
    root = _seg_dataset(tmp_path, lambda p: grey_png(p, values), "car:0,128,0::\naeroplane:10,10,128::\nboat:1,2,3::\n")
    it = next(iter(import_dataset(root, "voc_segmentation")))
    assert it.media.size == (4, 5) and it.media.path is None
    assert [(m.label, m.get_area()) for m in it.annotations] == [(0, 13.0), (2, 6.0)]
    assert_invariant(root, tmp_path / "out", "voc_segmentation")


def test_palette_with_repeated_colours_and_transparency(tmp_path):
    """Indices are read from the pixels, not from colours: two indices with the same
    palette colour stay apart."""
    values = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    colors = {1: (9, 9, 9), 2: (9, 9, 9)}
    root = _seg_dataset(tmp_path, lambda p: palette_png(p, values, colors, n_colors=16, trns=True))
    it = next(iter(import_dataset(root, "voc")))
    assert [(m.label, m.get_area()) for m in it.annotations] == [(1, 2.0), (2, 2.0)]


def test_rgb_class_masks_are_mapped_through_the_label_colours(tmp_path):
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[0, :] = (0, 0, 255)
    rgb[2, 0] = (224, 224, 192)
    root = _seg_dataset(tmp_path, lambda p: rgb_png(p, rgb), "background:0,0,0::\nsky:0,0,255::\n")
    it = next(iter(import_dataset(root, "voc")))
    (m,) = it.annotations
    assert (m.label, m.get_area()) == (1, 4.0)
    assert "class" in it.meta["voc_void"]
    assert_invariant(root, tmp_path / "out", "voc")


def test_instance_masks_without_class_masks(tmp_path):
    root = tmp_path / "inst"
    values = np.zeros((3, 3), np.uint8)
    values[0] = 1
    values[2] = 3
    palette_png(root / "SegmentationObject" / "i.png", values)
    image(root / "JPEGImages" / "i.jpg", 3, 3)
    it = next(iter(import_dataset(root, "voc")))
    assert [(m.id, m.group, m.label, m.get_area()) for m in it.annotations] == [(1, 1, None, 3.0), (3, 3, None, 3.0)]
    assert_invariant(root, tmp_path / "out", "voc")


def test_import_reports_progress_without_warnings(voc2012):
    progress = NullProgress()
    assert len(import_dataset(voc2012, "voc", None, progress)) == 3
    assert progress.warnings == []


@pytest.mark.parametrize("fmt", ["voc", "voc_detection"])
def test_dataset_length_is_known_without_iterating(voc2012, fmt):
    ds = import_dataset(voc2012, fmt)
    assert repr(ds).endswith("items=3)" if fmt == "voc" else "items=2)")

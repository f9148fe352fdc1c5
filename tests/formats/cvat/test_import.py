"""CVAT XML import: every field of every element kind, checked value by value."""

from __future__ import annotations

import numpy as np
import pytest

from dsrepo.formats.api import import_dataset
from dsrepo.model.annotations import AnnType
from dsrepo.progress import NullProgress

from .cvat_data import (IMAGES_BODY, images_xml, make_images_task, make_project, make_video_task, task_meta,
                        video_xml, write_image)


def _items(path, options=None):
    return list(import_dataset(path, "cvat", options))


def test_images_task_items_and_media(tmp_path):
    root = make_images_task(tmp_path / "ds")
    items = _items(root)
    assert [(it.id, it.subset) for it in items] == [("street 1", "default"), ("nested/dir/b", "default"),
                                                    ("été/ü ñ", "default")]
    a, b, c = items
    assert a.media.name == "street 1.jpg" and a.media.size == (8, 10)
    assert a.media.path == str((root / "images" / "street 1.jpg").resolve())
    assert b.media.path is None and b.media.name == "nested/dir/b.png" and b.media.size == (8, 10)
    assert c.media.path == str((root / "images" / "été" / "ü ñ.jpg").resolve()) and c.media.size == (6, 12)
    assert [it.attributes["frame"] for it in items] == [0, 1, 2]
    assert b.annotations == ()


def test_categories_with_attribute_specs(tmp_path):
    ds = import_dataset(make_images_task(tmp_path / "ds"), "cvat")
    labels = ds.categories.labels
    assert [lab.name for lab in labels] == ["car", "person", "road sign"]
    assert labels[0].attributes == ("color", "parked", "speed")
    m = labels[0].meta["cvat"]
    assert m["color"] == "#fa3253" and m["type"] == "any"
    assert m["attrs"][0] == {"name": "color", "mutable": False, "input_type": "select",
                             "default_value": "red", "values": ["red", "blue"]}
    assert m["attrs"][2] == {"name": "speed", "mutable": True, "input_type": "number",
                             "default_value": "0", "values": ["0", "200", "1"]}
    assert labels[1].attributes == () and labels[1].meta["cvat"]["attrs"] == []


def test_every_shape_kind(tmp_path):
    anns = _items(make_images_task(tmp_path / "ds"))[0].annotations
    assert [a.type for a in anns] == [AnnType.bbox, AnnType.bbox, AnnType.polygon, AnnType.polyline,
                                      AnnType.points, AnnType.ellipse, AnnType.mask, AnnType.label]
    box, rbox, poly, line, pts, ell, mask, tag = anns
    assert (box.label, box.x, box.y, box.w, box.h) == (0, 1.0, 2.5, 6.33 - 1.0, 7.10 - 2.5)
    assert (box.group, box.z_order) == (3, 1)
    assert dict(box.attributes) == {"color": "blue", "parked": True, "speed": 42, "occluded": False,
                                    "source": "manual"}
    assert rbox.attributes["rotation"] == 15.5 and rbox.attributes["occluded"] is True
    assert rbox.attributes["source"] == "auto" and rbox.group == 0
    assert poly.label == 2 and poly.points == (1.0, 1.0, 5.5, 1.0, 5.5, 4.25) and poly.z_order == 2
    assert line.points == (0.0, 0.0, 9.99, 7.99)
    assert pts.points == (2.0, 3.0, 4.123, 5.5) and pts.visibility == (2, 2)
    assert pts.attributes["source"] == "semi-auto"
    assert (ell.x1, ell.y1, ell.x2, ell.y2) == (5.10 - 2.30, 4.20 - 1.70, 5.10 + 2.30, 4.20 + 1.70)
    assert tag.label == 2 and dict(tag.attributes) == {"source": "manual"}


def test_mask_rle_is_row_major_over_the_box_starting_with_background(tmp_path):
    mask = _items(make_images_task(tmp_path / "ds"))[0].annotations[6]
    img = mask.image
    assert img.shape == (8, 10)
    expected = np.zeros((8, 10), np.uint8)
    # box left=3 top=2 width=4 height=2; runs 1 bg, 2 fg, 2 bg, 2 fg, 1 bg over rows [0110][0110]
    expected[2:4, 4:6] = 1
    assert np.array_equal(img, expected)
    assert mask.meta["cvat"]["box"] == [3, 2, 4, 2]


def test_video_tracks_become_per_frame_annotations(tmp_path):
    items = _items(make_video_task(tmp_path / "v"))
    assert [it.id for it in items] == ["frame_000000", "frame_000001", "frame_000002", "frame_000003",
                                       "frame_000004"]
    assert [it.attributes["frame"] for it in items] == [0, 1, 2, 3, 4]
    assert items[0].media.name == "frame_000000.PNG" and items[0].media.path is not None
    assert items[4].media.name == "frame_000004.PNG" and items[4].media.path is None
    assert all(it.media.size == (8, 10) for it in items)
    f1 = items[1].annotations
    assert [(a.type, a.attributes["track_id"]) for a in f1] == [(AnnType.bbox, 0), (AnnType.polygon, 1)]
    assert dict(f1[0].attributes) == {"color": "red", "parked": False, "speed": 12, "occluded": True,
                                      "source": "manual", "keyframe": False, "outside": False, "track_id": 0}
    assert f1[1].group == 4 and f1[1].z_order == 1 and f1[1].attributes["source"] == "auto"
    assert items[2].annotations[0].attributes["outside"] is True
    assert items[4].annotations == ()


def test_skip_outside_option(tmp_path):
    items = _items(make_video_task(tmp_path / "v"), ["--skip-outside"])
    assert items[2].annotations == ()
    assert len(items[1].annotations) == 2


def test_project_with_subsets(tmp_path):
    root = make_project(tmp_path / "p")
    ds = import_dataset(root, "cvat")
    items = list(ds)
    assert [(it.subset, it.id) for it in items] == [("Train", "a"), ("Train", "b"), ("Validation", "a")]
    assert items[0].media.path == str((root / "images" / "Train" / "a.jpg").resolve())
    assert items[2].media.path == str((root / "images" / "Validation" / "a.jpg").resolve())
    assert items[1].media.path is None
    assert items[0].meta["cvat"]["x"] == {"task_id": "7"}
    assert sorted(ds.subset_meta) == ["Train", "Validation"]
    assert ds.subset_meta["Train"]["cvat"]["file"] == "annotations.xml"


@pytest.mark.parametrize("layout", ["files", "dirs"])
def test_one_file_per_subset(tmp_path, layout):
    body = '  <image id="0" name="x.jpg" width="4" height="3">\n  </image>\n'
    root = tmp_path / "ds"
    for subset in ("train", "val"):
        path = root / f"{subset}.xml" if layout == "files" else root / subset / "annotations.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(images_xml(task_meta(size=1), body), encoding="utf-8")
    img = write_image((root / "images" / "val" / "x.jpg") if layout == "files" else (root / "val" / "images" / "x.jpg"))
    items = _items(root)
    assert [(it.subset, it.id) for it in items] == [("train", "x"), ("val", "x")]
    assert items[0].media.path is None and items[1].media.path == str(img.resolve())


def test_task_subset_from_meta(tmp_path):
    p = tmp_path / "annotations.xml"
    p.write_text(images_xml(task_meta(subset="Test"), '  <image id="4" name="a.png"/>\n'), encoding="utf-8")
    items = _items(p)
    assert [(it.subset, it.id, it.attributes["frame"]) for it in items] == [("Test", "a", 4)]


def test_size_from_image_header_when_not_in_xml(tmp_path):
    write_image(tmp_path / "images" / "a.png", 5, 7)
    (tmp_path / "annotations.xml").write_text(images_xml(body='  <image id="0" name="a.png"/>\n'), encoding="utf-8")
    assert _items(tmp_path)[0].media.size == (5, 7)


def test_labels_collected_when_there_is_no_meta(tmp_path):
    body = ('  <image id="0" name="a.jpg" width="4" height="4">\n'
            '    <box label="zebra" occluded="0" xtl="0" ytl="0" xbr="1" ybr="1">\n'
            '      <attribute name="age">3</attribute>\n    </box>\n'
            '    <tag label="day"/>\n  </image>\n')
    p = tmp_path / "a.xml"
    p.write_text(images_xml(meta="", body=body), encoding="utf-8")
    ds = import_dataset(p, "cvat")
    assert [(lab.name, lab.attributes) for lab in ds.categories.labels] == [("zebra", ("age",)), ("day", ())]
    box, tag = list(ds)[0].annotations
    assert dict(box.attributes) == {"age": "3", "occluded": False, "source": "manual"}
    assert tag.label == 1


def test_undeclared_attribute_is_added_as_text(tmp_path):
    body = ('  <image id="0" name="a.jpg" width="4" height="4">\n'
            '    <box label="person" source="manual" occluded="0" xtl="0" ytl="0" xbr="1" ybr="1" z_order="0">\n'
            '      <attribute name="mood">happy</attribute>\n    </box>\n  </image>\n')
    p = tmp_path / "a.xml"
    p.write_text(images_xml(body=body), encoding="utf-8")
    ds = import_dataset(p, "cvat")
    assert ds.categories.labels[1].attributes == ("mood",)
    assert ds.categories.labels[1].meta["cvat"]["attrs"][0]["input_type"] == "text"


def test_unknown_elements_and_xml_attributes_are_kept(tmp_path):
    body = ('  <image id="0" name="a.jpg" width="4" height="4" extra="yes">\n'
            '    <cuboid label="car" occluded="0" xtl1="1"/>\n'
            '    <box label="person" source="manual" occluded="0" xtl="0" ytl="0" xbr="1" ybr="1" z_order="0" '
            'annotation_type="shape"/>\n  </image>\n')
    p = tmp_path / "a.xml"
    p.write_text(images_xml(body=body), encoding="utf-8")
    progress = NullProgress()
    item = list(import_dataset(p, "cvat", progress=progress))[0]
    assert item.meta["cvat"]["x"] == {"extra": "yes"}
    assert item.meta["cvat"]["raw"] == ['<cuboid label="car" occluded="0" xtl1="1"/>']
    assert item.annotations[0].meta["cvat"]["x"] == {"annotation_type": "shape"}
    assert progress.warnings == ["cvat: unsupported <cuboid> elements (kept as XML, not as annotations): 1"]


def test_mask_past_the_image_is_clipped_with_a_warning(tmp_path):
    body = ('  <image id="0" name="a.jpg" width="3" height="2">\n'
            '    <mask label="car" source="manual" occluded="0" rle="0, 8" left="1" top="0" width="4" height="2" '
            'z_order="0"/>\n  </image>\n')
    p = tmp_path / "a.xml"
    p.write_text(images_xml(body=body), encoding="utf-8")
    progress = NullProgress()
    mask = list(import_dataset(p, "cvat", progress=progress))[0].annotations[0]
    assert mask.image.tolist() == [[0, 1, 1], [0, 1, 1]]
    assert mask.meta["cvat"]["box"] == [1, 0, 2, 2]
    assert progress.warnings == ["cvat: masks extending past the image (clipped): 1"]


def test_empty_task(tmp_path):
    p = tmp_path / "annotations.xml"
    p.write_text(images_xml(body=""), encoding="utf-8")
    ds = import_dataset(p, "cvat")
    assert list(ds) == [] and list(ds.subset_meta) == ["default"]
    assert len(ds.categories.labels) == 3


def test_images_body_constant_is_what_the_fixture_writes(tmp_path):
    root = make_images_task(tmp_path / "ds", with_images=False)
    assert IMAGES_BODY in (root / "annotations.xml").read_text(encoding="utf-8")
    assert video_xml().count("<track ") == 2

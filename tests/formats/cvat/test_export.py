"""Export of datasets from other formats: exact XML, honest losses, options."""

from __future__ import annotations

import numpy as np
import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.annotations import Bbox, Caption, Ellipse, Label, Mask, Points, Polygon
from dsrepo.model.categories import Categories, LabelCategory, PointsCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

from .cvat_data import write_image


def _foreign(tmp_path) -> Dataset:
    img = write_image(tmp_path / "src" / "img" / "a.png", 4, 6)
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:4] = 1
    cats = Categories(labels=(LabelCategory("cat", attributes=("score",)), LabelCategory("dog")))
    items = [
        Item("a", "train", Image(path=str(img), name="a.png"), annotations=(
            Bbox(x=1, y=1, w=2.5, h=1, label=0, group=2, attributes={"score": 0.5, "is_crowd": False}),
            Polygon(points=(0, 0, 1, 0, 1, 1), label=1, z_order=3),
            Mask.from_array(mask, label=1),
            Label(label=0),
        )),
        Item("b c", "val", Image(name="b c.jpg", size=(10, 20)), annotations=(
            Ellipse(x1=1, y1=2, x2=5, y2=4, label=0, attributes={"score": 1}),
        )),
    ]
    return Dataset.from_items(items, cats)


EXPECTED = '''<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <project>
      <name>dsrepo export</name>
      <labels>
        <label>
          <name>cat</name>
          <attributes>
            <attribute>
              <name>score</name>
              <mutable>False</mutable>
              <input_type>number</input_type>
              <default_value>0.5</default_value>
              <values>0.5
1
0.01</values>
            </attribute>
            <attribute>
              <name>is_crowd</name>
              <mutable>False</mutable>
              <input_type>checkbox</input_type>
              <default_value>false</default_value>
              <values>false</values>
            </attribute>
          </attributes>
        </label>
        <label>
          <name>dog</name>
          <attributes>
          </attributes>
        </label>
      </labels>
      <tasks>
        <task>
          <name>train</name>
          <size>1</size>
          <mode>annotation</mode>
          <subset>train</subset>
        </task>
        <task>
          <name>val</name>
          <size>1</size>
          <mode>annotation</mode>
          <subset>val</subset>
        </task>
      </tasks>
    </project>
  </meta>
  <image id="0" name="a.png" subset="train" width="6" height="4">
    <box label="cat" source="manual" occluded="0" xtl="1.00" ytl="1.00" xbr="3.50" ybr="2.00" z_order="0" group_id="2">
      <attribute name="score">0.5</attribute>
      <attribute name="is_crowd">false</attribute>
    </box>
    <polygon label="dog" source="manual" occluded="0" points="0.00,0.00;1.00,0.00;1.00,1.00" z_order="3"/>
    <mask label="dog" source="manual" occluded="0" rle="0, 4" left="2" top="1" width="2" height="2" z_order="0"/>
    <tag label="cat" source="manual"/>
  </image>
  <image id="1" name="b c.jpg" subset="val" width="20" height="10">
    <ellipse label="cat" source="manual" occluded="0" cx="3.00" cy="3.00" rx="2.00" ry="1.00" z_order="0">
      <attribute name="score">1</attribute>
    </ellipse>
  </image>
</annotations>
'''


def test_foreign_dataset_gives_exact_xml(tmp_path):
    progress = NullProgress()
    report = export_dataset(_foreign(tmp_path), tmp_path / "out", "cvat", None, progress)
    assert report.files == ("annotations.xml",) and report.missing_media == ()
    assert (tmp_path / "out" / "annotations.xml").read_text(encoding="utf-8") == EXPECTED
    assert progress.warnings == []


def test_foreign_export_reads_back_with_typed_attributes(tmp_path):
    export_dataset(_foreign(tmp_path), tmp_path / "out", "cvat")
    ds = import_dataset(tmp_path / "out", "cvat")
    a, b = list(ds)
    assert (a.subset, a.id, b.subset, b.id) == ("train", "a", "val", "b c")
    box = a.annotations[0]
    assert dict(box.attributes) == {"score": 0.5, "is_crowd": False, "occluded": False, "source": "manual"}
    assert (box.x, box.y, box.w, box.h, box.group) == (1.0, 1.0, 2.5, 1.0, 2)
    assert a.annotations[2].image[1:3, 2:4].tolist() == [[1, 1], [1, 1]] and int(a.annotations[2].image.sum()) == 4
    assert b.annotations[0].attributes["score"] == 1
    assert (b.annotations[0].x1, b.annotations[0].y2) == (1.0, 4.0)


def test_losses_are_counted_and_strict_fails(tmp_path):
    cats = Categories(labels=(LabelCategory("person", parent="animal"),),
                      points={0: PointsCategory(labels=("nose", "eye"), joints=((1, 2),))})
    items = [Item("a", media=Image(name="a.jpg", size=(4, 4)), annotations=(
        Caption(caption="hello"), Bbox(x=0, y=0, w=1, h=1), Bbox(x=0, y=0, w=1, h=1, label=7),
        Points(points=(1, 1, 2, 2), visibility=(2, 0), label=0),
        Mask(rle={"size": [4, 4], "counts": [16]}, label=0),
    ), attributes={"weather": "rain"})]
    ds = Dataset.from_items(items, cats)
    progress = NullProgress()
    export_dataset(ds, tmp_path / "out", "cvat", None, progress)
    assert progress.warnings == [
        "cvat cannot hold annotations with a label index outside the categories: 1 dropped",
        "cvat cannot hold annotations without a label: 1 dropped",
        "cvat cannot hold captions: 1 dropped",
        "cvat cannot hold empty masks: 1 dropped",
        "cvat cannot hold item attributes: 1 dropped",
        "cvat cannot hold keypoint schemas (point names and joints): 1 dropped",
        "cvat cannot hold keypoint visibility flags (points written as visible): 1 dropped",
        "cvat cannot hold label parents: 1 dropped",
    ]
    text = (tmp_path / "out" / "annotations.xml").read_text(encoding="utf-8")
    assert text.count("<points ") == 1 and "<box " not in text and "<mask " not in text
    with pytest.raises(ExportError, match=r"^cvat cannot hold annotations with a label index outside the "
                                          r"categories: 1 dropped; .* \(--strict\)$"):
        export_dataset(ds, tmp_path / "strict", "cvat", ["--strict"])


def test_save_media_and_image_ext(tmp_path):
    ds = _foreign(tmp_path)
    report = export_dataset(ds, tmp_path / "out", "cvat", ["--save-media", "--image-ext", ".jpg"])
    assert report.files == ("annotations.xml", "images/train/a.jpg")
    assert report.missing_media == ("b c",)
    assert '<image id="0" name="a.jpg" subset="train" width="6" height="4">' in \
        (tmp_path / "out" / "annotations.xml").read_text(encoding="utf-8")
    back = list(import_dataset(tmp_path / "out", "cvat"))
    assert back[0].media.path == str((tmp_path / "out" / "images" / "train" / "a.jpg").resolve())


def test_single_subset_writes_a_task_and_images_folder(tmp_path):
    img = write_image(tmp_path / "src" / "x.jpg", 3, 3)
    ds = Dataset.from_items([Item("x", "default", Image(path=str(img), name="x.jpg"))], Categories.from_names(["a"]))
    report = export_dataset(ds, tmp_path / "out", "cvat", ["--save-media"])
    assert report.files == ("annotations.xml", "images/x.jpg")
    text = (tmp_path / "out" / "annotations.xml").read_text(encoding="utf-8")
    assert "<task>\n      <name>default</name>\n      <size>1</size>\n      <mode>annotation</mode>" in text
    assert "<subset>" not in text


def test_video_mode_for_a_foreign_dataset(tmp_path):
    items = [Item(f"frame_{i:06d}", media=Image(name=f"f{i}.png", size=(4, 5)), attributes={"frame": i},
                  annotations=(Bbox(x=i, y=0, w=1, h=1, label=0),)) for i in range(2)]
    ds = Dataset.from_items(items, Categories.from_names(["car"]))
    progress = NullProgress()
    export_dataset(ds, tmp_path / "out", "cvat", ["--mode", "video"], progress)
    assert progress.warnings == ["cvat: 2 shapes without a consistent track_id written as one-frame tracks "
                                 "(0 of them split from a track)"]
    text = (tmp_path / "out" / "annotations.xml").read_text(encoding="utf-8")
    assert "<mode>interpolation</mode>" in text
    assert "<original_size>\n        <width>5</width>\n        <height>4</height>" in text
    back = list(import_dataset(tmp_path / "out", "cvat"))
    assert [it.id for it in back] == ["frame_000000", "frame_000001"]
    assert [(a.x, a.attributes["track_id"]) for it in back for a in it.annotations] == [(0.0, 0), (1.0, 1)]


def test_export_to_non_empty_folder_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    with pytest.raises(ExportError, match="folder is not empty"):
        export_dataset(_foreign(tmp_path), tmp_path / "out", "cvat")


def test_xml_special_characters_are_escaped(tmp_path):
    cats = Categories.from_names(['a<b>&"c"'])
    items = [Item("q&a", media=Image(name="q&a.jpg", size=(2, 2)),
                  annotations=(Label(label=0, attributes={"note": 'x < y & "z"\nline2'}),))]
    export_dataset(Dataset.from_items(items, cats), tmp_path / "out", "cvat")
    back = import_dataset(tmp_path / "out", "cvat")
    assert back.categories.labels[0].name == 'a<b>&"c"'
    item = list(back)[0]
    assert item.id == "q&a" and item.annotations[0].attributes["note"] == 'x < y & "z"\nline2'

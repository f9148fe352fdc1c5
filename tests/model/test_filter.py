"""XPath filters: item and annotation modes, the XML representation, errors."""

import cv2
import numpy as np
import pytest

from dsrepo.errors import UsageError
from dsrepo.model import Bbox, Caption, Categories, Dataset, Image, Item, Label, Mask, Points, Polygon
from dsrepo.model.filter import filter_dataset, item_to_xml

CATS = Categories.from_names(["cat", "person", "dog"])


def sample():
    return Dataset.from_items([
        Item(id="t1", subset="train", media=Image(size=(100, 50), name="t1.jpg"), annotations=(
            Bbox(id=1, x=0, y=0, w=10, h=10, label=0, attributes={"occluded": True}),
            Bbox(id=2, x=0, y=0, w=5, h=5, label=1, attributes={"occluded": False}),
            Label(id=3, label=2),
        )),
        Item(id="t2", subset="train", media=Image(size=(40, 80), name="t2.jpg"), annotations=(
            Polygon(id=1, points=(0, 0, 20, 0, 20, 10, 0, 10), label=1),
            Bbox(id=2, x=1, y=1, w=20, h=5, label=0),
        )),
        Item(id="v 1", subset="val", attributes={"frame": 7}),
    ], CATS, {"train": {"k": 1}})


def ids(ds):
    return [it.id for it in ds]


def test_items_mode():
    d = sample()
    assert ids(filter_dataset(d, '/item[subset="train"]')) == ["t1", "t2"]
    assert ids(d.filter('/item[image/width < image/height]')) == ["t1"]
    assert ids(d.filter('/item[count(annotation) = 0]')) == ["v 1"]
    assert ids(d.filter('/item[attributes/frame > 5]')) == ["v 1"]
    assert ids(d.filter('/item/annotation[type="polygon"]')) == ["t2"]
    assert ids(d.filter('count(/item/annotation) > 2')) == ["t1"]
    assert ids(d.filter('/item[subset="train"]', remove_empty=True)) == ["t1", "t2"]
    assert ids(d.filter('/item', remove_empty=True)) == ["t1", "t2"]
    out = d.filter('/item[id="nothing"]')
    assert ids(out) == [] and out.categories is CATS and dict(out.subset_meta) == {"train": {"k": 1}}


def test_annotations_mode():
    d = sample()
    out = list(d.filter('/item/annotation[(label="cat" and area > 99.5) or label!="person"]', mode="annotations"))
    assert [(it.id, [a.id for a in it.annotations]) for it in out] == [("t1", [1, 3]), ("t2", [2]), ("v 1", [])]
    out = list(d.filter('/item/annotation[type="bbox" and occluded="True"]', mode="items+annotations"))
    assert [(it.id, [a.id for a in it.annotations]) for it in out] == [("t1", [1])]
    assert out[0].annotations[0] is list(d)[0].annotations[0]
    out = list(d.filter('/item/annotation[label_id=1]', mode="a", remove_empty=True))
    assert [(it.id, [a.id for a in it.annotations]) for it in out] == [("t1", [2]), ("t2", [1])]
    # selecting items (not annotations) keeps no annotation
    out = list(d.filter('/item[subset="train"]', mode="annotations"))
    assert [len(it.annotations) for it in out] == [0, 0, 0]
    out = list(d.filter('/item/annotation[area >= 200]|/item/annotation[type="label"]', mode="i+a"))
    assert [(it.id, [a.id for a in it.annotations]) for it in out] == [("t1", [3]), ("t2", [1])]


def test_points_captions_masks_and_unicode():
    m = np.zeros((4, 4), np.uint8)
    m[1:3, 1:4] = 1
    item = Item(id="ünï cödé/x", annotations=(
        Points(id=1, points=(1, 2, 3, 4), visibility=(2, 0), label=1),
        Caption(id=2, caption="a <big> & \"small\" dog"),
        Mask.from_array(m, id=3, label=2, attributes={"is crowd": 1, "score": 0.25, "tags": ["a", "b"]}),
    ))
    d = Dataset.from_items([item], CATS)
    assert ids(d.filter('/item[id="ünï cödé/x"]')) == ["ünï cödé/x"]
    sel = lambda e: [a.id for it in d.filter(e, mode="annotations") for a in it.annotations]
    assert sel('/item/annotation[points/point[2]/visibility = 0]') == [1]
    assert sel('/item/annotation[contains(caption, "<big>")]') == [2]
    assert sel('/item/annotation[area = 6 and x = 1 and w = 3]') == [3]
    assert sel('/item/annotation[attributes/attribute[@name="is crowd"] = "1"]') == [3]
    assert sel('/item/annotation[score < 0.5]') == [3]
    assert sel('/item/annotation[tags=\'["a", "b"]\']') == [3]


def test_item_to_xml_exact():
    item = Item(id="a&b", subset="train", media=Image(size=(3, 4), name="a&b.png"),
                attributes={"frame": 2},
                annotations=(Bbox(id=5, group=1, x=1, y=2, w=3, h=4, label=0, attributes={"occluded": True}),
                             Label(label=9)))
    assert item_to_xml(item, CATS) == """<item>
  <id>a&amp;b</id>
  <subset>train</subset>
  <image>
    <width>4</width>
    <height>3</height>
    <path>a&amp;b.png</path>
    <name>a&amp;b.png</name>
  </image>
  <attributes>
    <frame>2</frame>
  </attributes>
  <annotation>
    <id>5</id>
    <type>bbox</type>
    <label>cat</label>
    <label_id>0</label_id>
    <group>1</group>
    <z_order>0</z_order>
    <x>1.0</x>
    <y>2.0</y>
    <w>3.0</w>
    <h>4.0</h>
    <area>12.0</area>
    <attributes>
      <occluded>True</occluded>
    </attributes>
    <occluded>True</occluded>
  </annotation>
  <annotation>
    <id>0</id>
    <type>label</type>
    <label></label>
    <label_id>9</label_id>
    <group>0</group>
    <z_order>0</z_order>
  </annotation>
</item>
"""


def test_image_size_from_header(tmp_path):
    path = tmp_path / "tall.png"
    cv2.imwrite(str(path), np.zeros((30, 10), np.uint8))
    d = Dataset.from_items([Item(id="tall", media=Image(path=str(path), name="tall.png")),
                            Item(id="nomedia"), Item(id="gone", media=Image(path=str(tmp_path / "x.png")))])
    assert ids(d.filter('/item[image/width < image/height]')) == ["tall"]
    assert ids(d.filter('/item[not(image)]')) == ["nomedia"]
    assert "<width>10</width>" in item_to_xml(list(d)[0], Categories())


def test_control_characters_are_replaced():
    item = Item(id="x", annotations=(Caption(caption="bell\x07"),))
    assert "<caption>bell\ufffd</caption>" in item_to_xml(item, CATS)


def test_errors():
    d = sample()
    with pytest.raises(UsageError, match=r"^filter: bad XPath expression '/item\[': Invalid expression$"):
        d.filter("/item[")
    with pytest.raises(UsageError, match=r"filter: bad XPath expression 'foo\(\)': Unregistered function"):
        d.filter("foo()")
    with pytest.raises(UsageError, match=r"filter: bad XPath expression '\$v': Undefined variable"):
        d.filter("$v")
    with pytest.raises(UsageError, match=r"filter: empty XPath expression ' '"):
        d.filter(" ")
    with pytest.raises(UsageError,
                       match=r"filter: unknown mode 'both' \(known: items, annotations, items\+annotations\)"):
        d.filter("/item", mode="both")
    with pytest.raises(UsageError, match=r"filter: expression 'count\(/item/annotation\)' must select annotation "
                                         r"elements in annotations mode, it gives a float"):
        list(d.filter("count(/item/annotation)", mode="annotations"))

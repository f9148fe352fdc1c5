"""Model objects pickle, copy and deep-copy (for multiprocessing data loaders, caches):
their read-only mappings travel as dicts and come back read-only, equal in every field.
They hash by value too."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from types import MappingProxyType

import pytest

from dsrepo.formats.api import import_dataset
from dsrepo.model import (
    Bbox, Caption, Categories, Ellipse, Item, Label, LabelCategory, Mask, Points, PointsCategory, Polygon, Polyline,
)
from dsrepo.model.encoding import encode_categories, encode_item
from dsrepo.model.media import Image

SAMPLE = Path(__file__).resolve().parents[2] / "dsrepo" / "data" / "sample" / "coco"
NESTED = {"coco": MappingProxyType({"g": "ab", "bbox": [1, 2, 3, 4], "x": {"deep": MappingProxyType({"k": 1})}})}

ANNOTATIONS = [
    Label(label=0, attributes={"score": 0.5}),
    Caption(caption="a cat", id=3),
    Bbox(x=1, y=2, w=3, h=4, label=1, group=2, z_order=1, attributes={"occluded": True}, meta=NESTED),
    Ellipse(x1=0, y1=0, x2=4, y2=2, label=0),
    Polygon(points=(0, 0, 4, 0, 4, 4), label=1, meta={"coco": {"o": 3}}),
    Polyline(points=(0, 0, 1, 1), label=0),
    Points(points=(1, 1, 2, 2), visibility=(2, 1), label=0),
    Mask(rle={"size": [4, 4], "counts": [0, 8, 8]}, label=1, attributes={"is_crowd": True}),
]


@pytest.mark.parametrize("ann", ANNOTATIONS, ids=lambda a: type(a).__name__)
@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
def test_annotations_travel(ann, how):
    back = {"pickle": lambda a: pickle.loads(pickle.dumps(a)), "copy": copy.copy, "deepcopy": copy.deepcopy}[how](ann)
    assert type(back) is type(ann) and back == ann
    assert isinstance(back.attributes, MappingProxyType) and isinstance(back.meta, MappingProxyType)
    with pytest.raises(TypeError):
        back.meta["new"] = 1  # still read-only


def test_items_and_categories_pickle():
    cats = Categories(labels=(LabelCategory("cat", meta={"coco": {"id": 7}}), LabelCategory("dog", "animal")),
                      points={0: PointsCategory(("nose", "eye"), ((1, 2),))}, colormap={1: (255, 0, 0)},
                      attributes=("occluded",))
    item = Item(id="a/b", subset="val", media=Image(path="/x/a.jpg", size=(4, 6), name="a.jpg", md5="0" * 32),
                annotations=tuple(ANNOTATIONS), attributes={"frame": 3}, meta=NESTED)
    back_cats, back_item = pickle.loads(pickle.dumps((cats, item)))
    assert back_cats == cats and encode_categories(back_cats) == encode_categories(cats)
    assert back_item == item and encode_item(back_item) == encode_item(item)
    assert isinstance(back_cats.points, MappingProxyType) and isinstance(back_item.meta, MappingProxyType)


def test_imported_items_pickle_exactly():
    ds = import_dataset(SAMPLE, "coco")  # (polygons decoded lazily: a lazy part pickles as its decoded self)
    items = list(ds)
    back = pickle.loads(pickle.dumps(items))
    assert back == items and [encode_item(i) for i in back] == [encode_item(i) for i in items]
    assert copy.deepcopy(items) == items


def test_equal_objects_hash_equal():
    a = Bbox(x=1, y=2, w=3, h=4, label=1, meta={"coco": {"bbox": [1, 2, 3, 4], "x": {"k": 1}}})
    b = Bbox(x=1.0, y=2.0, w=3.0, h=4.0, label=1, meta=MappingProxyType({"coco": {"x": {"k": 1}, "bbox": [1, 2, 3, 4]}}))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert len(set(ANNOTATIONS) | set(pickle.loads(pickle.dumps(ANNOTATIONS)))) == len(ANNOTATIONS)
    assert Bbox(x=1, y=2, w=3, h=4, label=2) not in {a}
    item = Item(id="x", annotations=(a,), meta=NESTED)
    assert {item: 1}[pickle.loads(pickle.dumps(item))] == 1
    cats = Categories.from_names(["cat", "dog"])
    assert hash(cats) == hash(Categories.from_names(["cat", "dog"])) and cats in {cats}
    import numpy as np

    with pytest.raises(TypeError):
        hash(Label(label=0, meta={"m": np.zeros(2)}))  # an unhashable value inside

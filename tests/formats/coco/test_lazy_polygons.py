"""COCO polygon parts decoded on first use (dsrepo.formats.coco.lazyseg): unread parts
behave exactly like eagerly built Polygons, errors surface on first read, and the
exporter copies an unread segmentation's JSON as it was spelled."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from pathlib import Path

import orjson
import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.coco.lazyseg import LazyPolygon
from dsrepo.formats.coco.meta import fp_bytes
from dsrepo.model import Polygon
from dsrepo.model.encoding import encode_item


def _file(tmp_path: Path, segmentation: str, name: str = "instances_default.json") -> Path:
    # written by hand so that the segmentation keeps its exact spelling
    text = ('{"images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 40}], "annotations": '
            '[{"id": 17, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 10], "area": 50.5, "iscrowd": 0, '
            f'"segmentation": {segmentation}}}], "categories": [{{"id": 1, "name": "cat"}}]}}')
    path = tmp_path / name
    path.write_text(text)
    return path


def _polys(path: Path) -> list:
    (item,) = list(import_dataset(path, "coco_instances"))
    return list(item.annotations)


def test_unread_parts_equal_eager_polygons(tmp_path):
    seg = "[[1,2,11.5,2,11.5,12],[20,20,30,20,30,30,20,30]]"
    parts = _polys(_file(tmp_path, seg))
    assert [type(p) for p in parts] == [LazyPolygon, LazyPolygon]
    floats = [(1.0, 2.0, 11.5, 2.0, 11.5, 12.0), (20.0, 20.0, 30.0, 20.0, 30.0, 30.0, 20.0, 30.0)]
    lead_meta = {"coco": {"area": 50.5, "bbox": [1, 2, 10, 10], "g": fp_bytes(orjson.dumps(floats)),
                          "ints": {"segmentation": parts[0].meta["coco"]["ints"]["segmentation"]}}}
    eager = [Polygon(points=floats[0], id=17, group=17, label=0, meta=lead_meta),
             Polygon(points=floats[1], id=17, group=17, label=0)]
    fresh = _polys(_file(tmp_path, seg))
    assert fresh == eager and eager == _polys(_file(tmp_path, seg))  # both directions, before any read
    assert all(type(p) is Polygon for p in fresh)  # a read turns a part into a plain Polygon
    assert repr(_polys(_file(tmp_path, seg))[1]) == repr(eager[1])
    assert set(parts[0].meta["coco"]) == {"area", "bbox", "g", "ints"}


def test_copy_pickle_replace_and_encoding_of_unread_parts(tmp_path):
    seg = "[[0.5,0.5,9.25,0.5,9.25,7.75]]"
    eager = _polys(_file(tmp_path, seg))
    eager[0].points  # read: a plain Polygon
    for op in (copy.copy, copy.deepcopy, lambda p: pickle.loads(pickle.dumps(p)),
               lambda p: dataclasses.replace(p, label=0), lambda p: p.with_(z_order=0)):
        (p,) = _polys(_file(tmp_path, seg))
        out = op(p)
        assert type(out) is Polygon and out == eager[0]
        assert dict(out.meta) == dict(eager[0].meta)  # (the lead part's geometry notes included)
    (p,) = _polys(_file(tmp_path, seg))
    assert hash(p) == hash(eager[0]) and {p, eager[0]} == {eager[0]}  # (hashing reads it)
    (item,) = list(import_dataset(_file(tmp_path, seg), "coco_instances"))
    (read,) = list(import_dataset(_file(tmp_path, seg), "coco_instances"))
    read.annotations[0].points
    assert encode_item(item) == encode_item(read)
    with pytest.raises(dataclasses.FrozenInstanceError):
        _polys(_file(tmp_path, seg))[0].points = (1.0, 2.0)


def test_a_bad_segmentation_is_reported_when_first_read(tmp_path):
    path = _file(tmp_path, "[[1,2,3,4,5]]")
    (part,) = _polys(path)
    with pytest.raises(DatasetError) as e:
        part.points
    assert str(e.value) == f"{path}: annotation id 17: segmentation polygon 0 has an odd number of coordinates (5)"
    with pytest.raises(DatasetError, match=r"annotation id 17: segmentation polygon 0 must be a list of numbers"):
        _polys(_file(tmp_path, '[[1,2,"x",4,5,6]]'))[0].meta
    # not a list of lists: checked when the item is built, as before
    with pytest.raises(DatasetError, match="annotation id 17"):
        _polys(_file(tmp_path, "[1,2,3,4,5,6]"))


@pytest.mark.parametrize("seg, written", [
    ("[[1,2,11.50,2,11.5,12]]", "[[1,2,11.50,2,11.5,12]]"),   # unread: copied as spelled
    ("[[1,2,-0.0,2,11.5,12]]", "[[1,2,0.0,2,11.5,12]]"),      # -0 goes through the decoded form
    ("[[1, 2, 11.5, 2, 11.5, 12]]", "[[1,2,11.5,2,11.5,12]]"),  # so does whitespace
])
def test_export_copies_an_unread_segmentation(tmp_path, seg, written):
    ds = import_dataset(_file(tmp_path, seg), "coco_instances")
    out = tmp_path / "out"
    export_dataset(ds, out, "coco_instances")
    text = (out / "annotations" / "instances_default.json").read_text()
    assert f'"segmentation":{written}' in text
    ann = json.loads(text)["annotations"][0]
    assert (ann["area"], ann["bbox"]) == (50.5, [1, 2, 10, 10])  # the record's own values, kept
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = json.loads(text)
    coco.createIndex()
    assert coco.annToMask(coco.anns[17]).sum() > 0


def test_read_parts_are_written_from_their_points(tmp_path):
    ds = import_dataset(_file(tmp_path, "[[1,2,11.50,2,11.5,12]]"), "coco_instances")
    items = list(ds)
    items[0].annotations[0].points  # read: written from the decoded floats
    from dsrepo.model import Dataset

    out = tmp_path / "out"
    export_dataset(Dataset.from_items(items, ds.categories, subset_meta=ds.subset_meta), out, "coco_instances")
    assert '"segmentation":[[1,2,11.5,2,11.5,12]]' in (out / "annotations" / "instances_default.json").read_text()

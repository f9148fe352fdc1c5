"""coco_panoptic export of overlapping shapes: one segment id per pixel, losses counted."""

from __future__ import annotations

import json

import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model import Bbox, Categories, Image, Item, Polygon
from dsrepo.model.dataset import Dataset
from dsrepo.progress import NullProgress


def _dataset() -> Dataset:
    anns = (Bbox(x=0, y=0, w=10, h=10, label=0, id=1),
            Bbox(x=6, y=6, w=2, h=2, label=0, id=3),  # under the next box: nothing left
            Bbox(x=5, y=5, w=10, h=10, label=1, id=2),  # covers a corner of box 1
            Polygon(points=(16, 0, 20, 0, 20, 4, 16, 4), label=1, id=4))  # alone
    return Dataset.from_items([Item("a b", "val", media=Image(size=(20, 20), name="a b.png"), annotations=anns)],
                              Categories.from_names(["wall", "car"]))


def test_covered_pixels_and_fully_covered_shapes_are_counted(tmp_path):
    progress = NullProgress()
    export_dataset(_dataset(), tmp_path / "out", "coco_panoptic", progress=progress)
    assert progress.warnings == ["coco_panoptic cannot hold covered pixels: 1 shapes cropped",
                                 "coco_panoptic cannot hold fully covered shapes: 1 dropped"]
    doc = json.loads((tmp_path / "out" / "annotations" / "panoptic_val.json").read_text())
    (rec,) = doc["annotations"]
    assert [(s["id"], s["area"], s["bbox"]) for s in rec["segments_info"]] == [
        (1, 75, [0, 0, 10, 10]), (2, 100, [5, 5, 10, 10]), (4, 16, [16, 0, 4, 4])]
    (item,) = import_dataset(tmp_path / "out", "coco_panoptic")
    assert [(a.id, a.label, int(a.get_area())) for a in item.annotations] == [(1, 0, 75), (2, 1, 100), (4, 1, 16)]


def test_strict_refuses_overlaps_and_writes_nothing(tmp_path):
    with pytest.raises(ExportError, match=r"^coco_panoptic cannot hold covered pixels: 1 shapes cropped; "
                                          r"coco_panoptic cannot hold fully covered shapes: 1 dropped \(--strict\)$"):
        export_dataset(_dataset(), tmp_path / "out", "coco_panoptic", ["--strict"])
    assert list((tmp_path / "out").iterdir()) == []


def test_panoptic_round_trip_is_warning_free(tmp_path):
    export_dataset(_dataset(), tmp_path / "a", "coco_panoptic")
    progress = NullProgress()
    export_dataset(import_dataset(tmp_path / "a", "coco_panoptic"), tmp_path / "b", "coco_panoptic", ["--strict"],
                   progress)
    assert progress.warnings == []
    assert (tmp_path / "a" / "annotations" / "panoptic_val.json").read_bytes() == \
        (tmp_path / "b" / "annotations" / "panoptic_val.json").read_bytes()

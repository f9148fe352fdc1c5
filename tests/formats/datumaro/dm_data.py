"""Hand-written Datumaro datasets, laid out exactly as Datumaro 1.x writes them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

RLE_SIZE = [6, 5]

CATEGORIES = {
    "label": {
        "labels": [
            {"name": "cat", "parent": "", "attributes": []},
            {"name": "dog", "parent": "animal", "attributes": ["age", "breed"]},
            {"name": "person", "parent": "", "attributes": []},
        ],
        "label_groups": [{"name": "pets", "group_type": "exclusive", "labels": ["cat", "dog"]}],
        "attributes": ["occluded"],
    },
    "mask": {"colormap": [{"label_id": 0, "r": 10, "g": 20, "b": 30},
                          {"label_id": 1, "r": 200, "g": 0, "b": 0}]},
    "points": {"items": [{"label_id": 2, "labels": ["head", "l_hand", "r_hand"], "joints": [[1, 2], [1, 3]]}]},
}


def rle_counts() -> str:
    """The compressed counts of the test mask, computed with pycocotools."""
    from pycocotools import mask as mu

    a = np.zeros(RLE_SIZE, dtype=np.uint8, order="F")
    a[1:3, 1:4] = 1
    return mu.encode(a)["counts"].decode("ascii")


def train_items() -> list[dict]:
    """Items of train.json: every annotation type, unicode/space/nested ids, no-media item."""
    anns = [
        {"id": 1, "type": "bbox", "attributes": {"occluded": False, "score": 0.75}, "group": 0, "label_id": 0,
         "z_order": 1, "bbox": [1.5, 2.0, 3.25, 4.0]},
        {"id": 2, "type": "polygon", "attributes": {}, "group": 7, "label_id": 1, "points": [0, 0, 5, 0, 5, 5],
         "z_order": 0},
        {"id": 3, "type": "polyline", "attributes": {"age": 3}, "group": 7, "label_id": 1,
         "points": [1.0, 1.0, 2.0, 3.5], "z_order": 2},
        {"id": 4, "type": "points", "attributes": {}, "group": 0, "label_id": 2,
         "points": [1.0, 2.0, 3.0, 4.0, 0.0, 0.0], "z_order": 0, "visibility": [2, 1, 0]},
        {"id": 5, "type": "mask", "attributes": {}, "group": 0, "label_id": 0,
         "rle": {"counts": rle_counts(), "size": RLE_SIZE}, "z_order": 3},
        {"id": 6, "type": "label", "attributes": {"confidence": 0.5}, "group": 0, "label_id": 2},
        {"id": 7, "type": "caption", "attributes": {}, "group": 0, "caption": "a cat, ünïcode ☕"},
        {"id": 8, "type": "ellipse", "attributes": {}, "group": 0, "label_id": 1, "points": [1.0, 2.0, 6.0, 8.0],
         "z_order": 0},
        {"id": 9, "type": "cuboid_3d", "attributes": {}, "group": 0, "label_id": 0,
         "position": [1.0, 2.0, 3.0], "rotation": [0.0, 0.0, 0.5], "scale": [1.0, 1.0, 2.0]},
        {"id": 10, "type": "bbox", "attributes": {}, "group": 0, "label_id": None, "z_order": 0,
         "bbox": [0, 0, 2, 2], "object_id": 42},
    ]
    return [
        {"id": "img 1", "annotations": anns, "attr": {"frame": 3, "note": "first"},
         "image": {"path": "img 1.jpg", "size": [10, 20]}},
        {"id": "nested/dir/ünï", "annotations": [
            {"id": 0, "type": "label", "attributes": {}, "group": 0, "label_id": 0}],
         "image": {"path": "nested/dir/ünï.png"}},
        {"id": "no_anns", "annotations": []},
    ]


def val_items() -> list[dict]:
    """Items of val.json: a missing image, and an image in the older images/ layout."""
    return [
        {"id": "b", "annotations": [{"id": 0, "type": "bbox", "attributes": {}, "group": 0, "label_id": 1,
                                     "z_order": 0, "bbox": [1.0, 1.0, 2.0, 2.0]}],
         "image": {"path": "b.jpg", "size": [8, 8]}},
        {"id": "c", "annotations": [], "image": {"path": "c.jpg"}},
    ]


def subset_doc(items: list[dict], categories: dict | None = None, infos: dict | None = None) -> dict:
    """One ``<subset>.json`` document as Datumaro writes it."""
    return {"dm_format_version": "1.0", "media_type": 2, "infos": infos or {},
            "categories": copy.deepcopy(CATEGORIES if categories is None else categories), "items": items}


def write_json(path: Path, doc: object) -> Path:
    """Compact UTF-8 JSON, like Datumaro's writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


def write_image(path: Path, h: int, w: int, seed: int = 0) -> Path:
    """A small random image encoded by extension (PNG/JPEG)."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(path.suffix, img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def make_rich(tmp_path: Path) -> Path:
    """train (3 items), val (2 items, one image missing, one in images/), test (empty)."""
    root = tmp_path / "dm"
    write_json(root / "annotations" / "train.json", subset_doc(train_items(), infos={"author": "tests"}))
    write_json(root / "annotations" / "val.json", subset_doc(val_items(), infos={"author": "tests"}))
    write_json(root / "annotations" / "test.json", subset_doc([], infos={"author": "tests"}))
    write_image(root / "images" / "train" / "img 1.jpg", 10, 20, 1)
    write_image(root / "images" / "train" / "nested" / "dir" / "ünï.png", 12, 16, 2)
    write_image(root / "images" / "c.jpg", 7, 9, 3)
    return root

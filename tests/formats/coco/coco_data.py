"""Shared builders for COCO tests: small hand-made datasets written into tmp_path."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

INFO = {"description": "rich test set", "version": "2", "year": 2024, "contributor": "tests",
        "date_created": "2024-01-02"}
LICENSES = [{"id": 3, "name": "CC0", "url": "http://example/cc0"}]

# Categories: non-contiguous ids, one starting at 0, extra keys.
CATEGORIES = [
    {"id": 0, "name": "background", "supercategory": ""},
    {"id": 1, "name": "person", "supercategory": "person", "isthing": 1},
    {"id": 7, "name": "car", "supercategory": "vehicle"},
    {"id": 42, "name": "tree", "supercategory": "plant", "color": [0, 128, 0]},
]

IMAGES = [
    {"id": 11, "file_name": "img_a.jpg", "width": 40, "height": 30, "license": 3,
     "date_captured": "2024-01-01 00:00:00", "custom_flag": True},
    {"id": 5, "file_name": "sub/dir/img_b.png", "width": 20, "height": 10},
    {"id": 200, "file_name": "img_c.jpg", "width": 16, "height": 12, "coco_url": "http://x/c.jpg"},
    {"id": 7, "file_name": "img_d.jpg", "width": 8, "height": 8},
]

RLE_UNCOMPRESSED = {"counts": [30, 10, 5, 10, 5, 140], "size": [10, 20]}


def _compressed_rle(h: int, w: int) -> dict:
    from pycocotools import mask as mu

    a = np.zeros((h, w), dtype=np.uint8, order="F")
    a[2:5, 3:9] = 1
    r = mu.encode(a)
    return {"size": [h, w], "counts": r["counts"].decode("ascii")}


def instances_doc() -> dict:
    """An instances file exercising every supported case; annotations not grouped by image."""
    anns = [
        # two-part polygon, float coordinates, score + custom attributes + unknown key
        {"id": 100, "image_id": 11, "category_id": 7,
         "segmentation": [[1.5, 1.0, 10.25, 1.0, 10.0, 8.0], [20.0, 20.0, 25.0, 20.0, 25.0, 26.0, 20.0, 26.0]],
         "area": 77.5, "bbox": [1.5, 1.0, 23.5, 25.0], "iscrowd": 0, "score": 0.9,
         "attributes": {"occluded": True, "color": "red"}, "review": {"by": "ann", "ok": 1}},
        # crowd, uncompressed RLE (image 5 is 10x20)
        {"id": 101, "image_id": 5, "category_id": 1, "segmentation": RLE_UNCOMPRESSED, "area": 20,
         "bbox": [1, 0, 2, 10], "iscrowd": 1},
        # integer polygon coordinates, category id 0
        {"id": 102, "image_id": 11, "category_id": 0, "segmentation": [[0, 0, 4, 0, 4, 4, 0, 4]],
         "area": 16, "bbox": [0, 0, 4, 4], "iscrowd": 0},
        # compressed RLE string
        {"id": 103, "image_id": 200, "category_id": 42, "segmentation": _compressed_rle(12, 16), "area": 18.0,
         "bbox": [3.0, 2.0, 6.0, 3.0], "iscrowd": 0},
        # box only: empty segmentation
        {"id": 104, "image_id": 11, "category_id": 1, "segmentation": [], "area": 12.0, "bbox": [5, 6, 3, 4],
         "iscrowd": 0},
        # box only, no segmentation/area keys, large id
        {"id": 900100000123, "image_id": 200, "category_id": 7, "bbox": [1.25, 2.5, 3.0, 4.0], "iscrowd": 0},
        # area that disagrees with the geometry, must survive unchanged
        {"id": 105, "image_id": 5, "category_id": 7, "segmentation": [[2.0, 2.0, 8.0, 2.0, 8.0, 6.0]],
         "area": 999.0, "bbox": [0.0, 0.0, 1.0, 1.0], "iscrowd": 0, "attributes": {}},
        # a person whose keypoints record (same id, same segmentation) is in person_keypoints
        {"id": 106, "image_id": 11, "category_id": 1, "segmentation": [[12.0, 12.0, 18.0, 12.0, 18.0, 20.0]],
         "area": 24.0, "bbox": [12.0, 12.0, 6.0, 8.0], "iscrowd": 0},
    ]
    return {"info": INFO, "licenses": LICENSES, "images": copy.deepcopy(IMAGES), "annotations": anns,
            "categories": copy.deepcopy(CATEGORIES)}


def keypoints_doc() -> dict:
    """person_keypoints: one object sharing ids with instances, one solitary."""
    person = {"id": 1, "name": "person", "supercategory": "person", "isthing": 1,
              "keypoints": ["nose", "l_eye", "r_eye"], "skeleton": [[1, 2], [1, 3]]}
    anns = [
        {"id": 106, "image_id": 11, "category_id": 1, "segmentation": [[12.0, 12.0, 18.0, 12.0, 18.0, 20.0]],
         "area": 24.0, "bbox": [12.0, 12.0, 6.0, 8.0], "iscrowd": 0, "keypoints": [13, 13, 2, 15, 14, 2, 0, 0, 0],
         "num_keypoints": 2},
        {"id": 300, "image_id": 11, "category_id": 1, "segmentation": [[5.0, 5.0, 9.0, 5.0, 9.0, 9.0]],
         "area": 8.0, "bbox": [5.0, 5.0, 4.0, 4.0], "iscrowd": 0, "keypoints": [6, 6, 2, 0, 0, 0, 8, 7, 1],
         "num_keypoints": 2},
        {"id": 301, "image_id": 7, "category_id": 1, "segmentation": [], "area": 4.0,
         "bbox": [1.0, 1.0, 2.0, 2.0], "iscrowd": 0, "keypoints": [1.5, 1.5, 2, 2.5, 2.5, 2, 0, 0, 0],
         "num_keypoints": 3},  # disagrees with the visibilities (2): kept as given
    ]
    return {"info": INFO, "licenses": LICENSES, "images": copy.deepcopy(IMAGES), "annotations": anns,
            "categories": [person]}


def captions_doc() -> dict:
    """captions: no categories, an image missing from the list, a score."""
    return {"info": INFO, "images": copy.deepcopy(IMAGES[:3]),
            "annotations": [{"id": 2, "image_id": 5, "caption": "a small thing"},
                            {"id": 1, "image_id": 11, "caption": "two cars", "score": 0.5},
                            {"id": 3, "image_id": 11, "caption": "unicode: café ☕"}]}


def write_json(path: Path, doc: dict, indent: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=indent, ensure_ascii=False), encoding="utf-8")
    return path


def write_image(path: Path, h: int, w: int, seed: int = 0) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(path.suffix, img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def make_rich(tmp_path: Path) -> Path:
    """A combined dataset: annotations/{instances,person_keypoints,captions}_val.json and
    some images under images/val/ (img_d.jpg deliberately missing)."""
    root = tmp_path / "rich"
    write_json(root / "annotations" / "instances_val.json", instances_doc(), indent=1)
    write_json(root / "annotations" / "person_keypoints_val.json", keypoints_doc())
    write_json(root / "annotations" / "captions_val.json", captions_doc())
    write_image(root / "images" / "val" / "img_a.jpg", 30, 40, 1)
    write_image(root / "images" / "val" / "sub" / "dir" / "img_b.png", 10, 20, 2)
    write_image(root / "images" / "val" / "img_c.jpg", 12, 16, 3)
    return root

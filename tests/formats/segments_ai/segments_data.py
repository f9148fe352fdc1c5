"""Hand-made Segments.ai releases, written as the Segments.ai web app writes them."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

S3 = "https://segmentsai-prod.s3.eu-west-2.amazonaws.com/assets/segments/"


def write_image(path: Path, h: int, w: int, seed: int = 0) -> Path:
    """A small random image (PNG or JPEG by extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(path.suffix, img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def write_bitmap(path: Path, ids: np.ndarray, alpha: int = 255) -> Path:
    """A 32-bit RGBA bitmap whose RGB holds ``id = R + 256*G + 256**2*B``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = ids.astype(np.uint32)
    bgra = np.stack([(ids >> 16) & 255, (ids >> 8) & 255, ids & 255, np.full_like(ids, alpha)], axis=-1)
    ok, buf = cv2.imencode(".png", bgra.astype(np.uint8))
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def write_json(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def bitmap_ids() -> np.ndarray:
    """8x10 bitmap: instance 1 top-left, 300 (G channel used) right, 70000 (B used) bottom."""
    ids = np.zeros((8, 10), dtype=np.uint32)
    ids[0:3, 0:4] = 1
    ids[0:4, 6:10] = 300
    ids[6:8, 2:9] = 70000
    return ids


def reference_doc() -> dict:
    """A release laid out as on the reference page: dataset.tasks, labels keyed by task."""
    return {
        "name": "first release",
        "description": "This is a first release",
        "created_at": "2020-07-09 10:20:19.888887+00:00",
        "dataset": {
            "name": "flowers",
            "tasks": [{"name": "segmentation", "description": "", "task_type": "segmentation-bitmap",
                       "attributes": {"categories": [{"name": "person", "id": 0}, {"name": "donut", "id": 1}]}}],
            "samples": [
                {"name": "donuts.jpg", "data_type": "IMAGE",
                 "attributes": {"image": {"url": S3 + "3b8b3da2.jpg"}},
                 "labels": {"segmentation": {
                     "label_status": "LABELED", "label_type": "segmentation-bitmap",
                     "attributes": {"format_version": "0.1",
                                    "annotations": [{"id": 1, "category_id": 1}, {"id": 300, "category_id": 0},
                                                    {"id": 70000, "category_id": 1}],
                                    "segmentation_bitmap": {"url": S3 + "504e7633.png"}}}}},
                {"name": "empty.png", "data_type": "IMAGE",
                 "attributes": {"image": {"url": S3 + "c0ffee.png"}},
                 "labels": {"segmentation": {"label_status": "REVIEWED", "label_type": "segmentation-bitmap",
                                             "attributes": {"format_version": "0.1", "annotations": []}}}},
                {"name": "todo.jpg", "data_type": "IMAGE", "attributes": {"image": {"url": S3 + "todo.jpg"}},
                 "labels": {"segmentation": None}},
            ],
        },
    }


def make_reference(root: Path) -> Path:
    """Release + images + bitmap in one folder (the files downloaded next to the JSON)."""
    write_json(root / "flowers-v1.0.json", reference_doc())
    write_image(root / "3b8b3da2.jpg", 8, 10, seed=1)
    write_image(root / "c0ffee.png", 6, 5, seed=2)
    write_bitmap(root / "504e7633.png", bitmap_ids())
    return root


CATEGORIES = [
    {"id": 1, "name": "car", "color": [255, 0, 0], "attributes": [
        {"name": "color", "input_type": "select", "values": ["red", "blue"], "default_value": "red"}]},
    {"id": 2, "name": "pedestrian", "color": [0, 255, 0, 128]},
    {"id": 5, "name": "straße schild"},
]


def vector_doc() -> dict:
    """A current-style release (task_attributes, labelsets) with vector labels."""
    return {
        "name": "v0.2", "description": "vectors", "release_type": "JSON", "created_at": "2024-05-01T10:00:00Z",
        "dataset": {
            "name": "streets", "task_type": "vector",
            "task_attributes": {"format_version": "0.1", "categories": CATEGORIES},
            "labelsets": [{"name": "ground-truth", "description": ""}, {"name": "predictions"}],
            "samples": [
                {"uuid": "u-1", "name": "city/street 1.jpg", "metadata": {"weather": "rain"},
                 "attributes": {"image": {"url": S3 + "street%201.jpg?X-Amz-Expires=3600"}},
                 "labels": {"ground-truth": {
                     "label_status": "REVIEWED", "score": None,
                     "attributes": {"format_version": "0.1", "image_attributes": {"scene": "urban"},
                                    "annotations": [
                                        {"id": 1, "category_id": 1, "type": "bbox",
                                         "points": [[1.5, 2.25], [7.125, 9.0]], "attributes": {"color": "blue"}},
                                        {"id": 2, "category_id": 2, "type": "polygon",
                                         "points": [[0, 0], [4.5, 0], [4.5, 3.3333333333333335]],
                                         "track_id": 9},
                                        {"id": 3, "category_id": 5, "type": "polyline",
                                         "points": [[1, 1], [2, 2], [3, 1.5]]},
                                        {"id": 4, "category_id": 2, "type": "point", "points": [[6.5, 1.25]]},
                                    ]}},
                     "predictions": {"label_status": "PRELABELED", "attributes": {"annotations": []}}}},
                {"uuid": "u-2", "name": "unlabeled.jpg", "attributes": {"image": {"url": S3 + "unl.jpg"}},
                 "labels": {"ground-truth": {"label_status": "PRELABELED",
                                             "attributes": {"format_version": "0.1", "annotations": []}}}},
                {"uuid": "u-3", "name": "no image.jpg", "attributes": {"image": {"url": S3 + "gone.jpg"}},
                 "labels": {"ground-truth": {"label_status": "LABELED",
                                             "attributes": {"format_version": "0.1", "annotations": []}}}},
            ],
        },
    }


def make_vector(root: Path) -> Path:
    """Vector release with its images in ``root/assets`` (the third image is missing)."""
    write_json(root / "release.json", vector_doc())
    write_image(root / "assets" / "street 1.jpg", 12, 16, seed=3)
    write_image(root / "assets" / "unl.jpg", 4, 4, seed=4)
    return root

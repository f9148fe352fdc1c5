"""Hand-made GT Studio JSON exports (one file per image, normalised coordinates)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

CDN = "https://gt-studio-assets.s3.amazonaws.com/projects/p1/"


def write_image(path: Path, h: int, w: int, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(path.suffix, img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def write_raster(path: Path, rgb: np.ndarray) -> Path:
    """An RGBA PNG (what GT Studio's raster tool saves) from an (h, w, 3) RGB array."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bgra = np.concatenate([rgb[:, :, ::-1], np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    ok, buf = cv2.imencode(".png", bgra)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def write_json(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _pts(*xy):
    return {f"p{i + 1}": {"x": x, "y": y} for i, (x, y) in enumerate(xy)}


def shapes_doc() -> dict:
    """Rectangles and a polygon with 11 points stored out of order (p10 after p1)."""
    poly_pts = [(0.1 * (i % 5) + 0.05, 0.08 * i) for i in range(11)]
    points = {f"p{i + 1}": {"x": x, "y": y} for i, (x, y) in enumerate(poly_pts)}
    shuffled = {k: points[k] for k in sorted(points)}  # p1, p10, p11, p2, ... as a plain sort gives
    edges = {f"e{i + 1}": [f"p{i + 1}", f"p{(i + 1) % 11 + 1}"] for i in range(11)}
    return {
        "annotations": {
            "rectangles": [
                {"_id": "r1", "label": "car", "attributes": {"occluded": "no"}, "state": "editable",
                 "coordinates": [{"x": 0.1, "y": 0.2}, {"x": 0.35, "y": 0.2}, {"x": 0.35, "y": 0.7},
                                 {"x": 0.1, "y": 0.7}]},
                {"_id": "r2", "label": "Fußgänger", "attributes": {},
                 "coordinates": [{"x": 0.9, "y": 0.95}, {"x": 0.6, "y": 0.15}]},
            ],
            "lines": [{"_id": "l1", "label": "lane", "points": {"p1": {"x": 0, "y": 0}}}],
            "landmarks": [],
            "cuboids": [],
            "polygons": [
                {"_id": "g1", "type": "polygon", "state": "editable", "label": "tree", "color": None,
                 "edges": edges, "points": shuffled, "attributes": {"kind": "oak"}},
                {"_id": "g2", "type": "polygon", "label": "car", "points": _pts((0, 0), (1, 0), (1, 1))},
            ],
        },
        "image_url": CDN + "street%20view.jpg",
    }


RED, GREEN, BLUE, GREY = (255, 0, 0), (0, 200, 0), (0, 0, 255), (90, 90, 90)


def raster_rgb() -> np.ndarray:
    """10x12 raster: two car instances (red, green), one person (blue), a 'road' legend colour."""
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[0:3, 0:4] = RED
    rgb[5:9, 1:5] = GREEN
    rgb[0:2, 8:12] = BLUE
    rgb[9, :] = GREY
    return rgb


def raster_doc() -> dict:
    return {
        "annotations": {
            "rectangles": [], "lines": [], "landmarks": [], "cuboids": [], "polygons": [],
            "raster": {"url": CDN + "masks/mask-0001.png",
                       "legend": {"#ff0000": "car", "#00c800": "car", "#0000ff": "person", "#5a5a5a": "road"},
                       "instances": [{"_id": "i1", "color": "#ff0000", "value": "car #1"},
                                     {"_id": "i2", "color": "#00c800", "value": "car #2"},
                                     {"_id": "i3", "color": "#0000FF", "value": "person #1"}]},
        },
        "image_url": CDN + "frame_0001.png",
    }


def make_dataset(root: Path) -> Path:
    """Two annotation files (one nested), their images and mask in root/downloads."""
    write_json(root / "batch 1" / "street view.json", shapes_doc())
    write_json(root / "frame_0001.json", raster_doc())
    write_image(root / "downloads" / "street view.jpg", 20, 40, seed=1)
    write_image(root / "downloads" / "frame_0001.png", 10, 12, seed=2)
    write_raster(root / "downloads" / "mask-0001.png", raster_rgb())
    return root

"""Hand-written LabelMe datasets for tests, laid out as the labelme tool writes them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np


def image_bytes(h: int, w: int, ext: str = ".png", seed: int = 0) -> bytes:
    """Encoded bytes of a small deterministic colour image."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def write_image(path: Path, h: int, w: int, seed: int = 0) -> bytes:
    """Write a small image (format from the extension); returns its bytes."""
    data = image_bytes(h, w, path.suffix, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def mask_png_b64(crop: np.ndarray) -> str:
    """A mask crop as labelme stores it: base64 PNG (bool data written as 0/1)."""
    ok, buf = cv2.imencode(".png", crop.astype(np.uint8))
    assert ok
    return base64.b64encode(buf.tobytes()).decode("ascii")


def shape(label: str, points: list, shape_type: str = "polygon", group_id: Any = None,
          description: str | None = "", flags: dict | None = None, mask: str | None = None, **extra) -> dict:
    """One shape, keys in labelme 5.x order."""
    s = {"label": label, "points": points, "group_id": group_id, "description": description,
         "shape_type": shape_type, "flags": flags if flags is not None else {}, "mask": mask}
    s.update(extra)
    return s


def doc(shapes: list, image_path: str, h: int | None, w: int | None, flags: dict | None = None,
        image_data: str | None = None, version: str = "5.4.1", **extra) -> dict:
    """One labelme file, keys in labelme 5.x order."""
    d = {"version": version, "flags": flags or {}, "shapes": shapes, "imagePath": image_path,
         "imageData": image_data, "imageHeight": h, "imageWidth": w}
    d.update(extra)
    return d


def write_doc(path: Path, d: dict) -> Path:
    """Write ``d`` exactly as labelme does (UTF-8, indent 2, no trailing newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(d, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


MASK_CROP = np.array([[0, 1, 1, 0],
                      [1, 1, 1, 1],
                      [0, 1, 0, 0]], dtype=np.uint8)


def make_rich(root: Path) -> Path:
    """A folder exercising every shape type and the round-trip corner cases:

    - ``cat 1.json`` + ``cat 1.jpg``: every shape type, flags, group ids (incl. 0),
      descriptions, unknown keys, integer points, reversed rectangle corners;
    - ``nested/deep/dog.json`` referring to ``../../images/dög.png`` (outside its folder);
    - ``embedded.json``: imageData only (no image file beside it);
    - ``empty.json``: an image without shapes, old labelme 3 style file;
    - ``missing.json``: refers to an image that does not exist.
    """
    write_image(root / "cat 1.jpg", 30, 40, seed=1)
    mask = mask_png_b64(MASK_CROP)
    shapes = [
        shape("cat", [[30.5, 25.0], [2.0, 3.25]], "rectangle", group_id=1,
              flags={"occluded": True, "truncated": False}, description="left cat"),
        shape("cat", [[10.0, 10.0], [13.0, 14.0]], "circle", group_id=0),
        shape("tail", [[1.0, 1.0], [5.0, 1.0], [5.0, 6.0], [1.0, 6.0]], "polygon", group_id=1, score=0.75),
        shape("whisker", [[0, 0], [4, 4]], "line"),
        shape("whisker", [[0.5, 0.5], [2.5, 2.5], [3.0, 8.0]], "linestrip", description=None),
        shape("eye", [[7.0, 8.0]], "point", flags={"visible": True}),
        shape("eye", [[9.0, 8.0], [11.0, 8.0]], "points"),
        shape("fur", [[20.0, 5.0], [23.0, 7.0]], "mask", mask=mask),
        shape("", [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]], "polygon"),
    ]
    write_doc(root / "cat 1.json", doc(shapes, "cat 1.jpg", 30, 40, flags={"indoor": True, "blurry": False},
                                       imageData_note="kept", custom={"z": 1, "a": [1, 2]}))
    write_image(root / "images" / "dög.png", 12, 16, seed=2)
    write_doc(root / "nested" / "deep" / "dog.json",
              doc([shape("dog", [[1.0, 2.0], [8.0, 2.0], [8.0, 9.0]])], "../../images/dög.png", 12, 16))
    data = image_bytes(8, 10, ".png", seed=3)
    write_doc(root / "embedded.json",
              doc([shape("cat", [[1.0, 1.0], [4.0, 5.0]], "rectangle")], "embedded.png", 8, 10,
                  image_data=base64.b64encode(data).decode("ascii")))
    write_image(root / "empty.png", 6, 5, seed=4)
    old = {"flags": {}, "shapes": [], "lineColor": [0, 255, 0, 128], "fillColor": [255, 0, 0, 128],
           "imagePath": "empty.png", "imageData": None}
    write_doc(root / "empty.json", old)
    write_doc(root / "missing.json", doc([shape("dog", [[1, 1], [3, 3]], "rectangle")], "missing.jpg", 20, 30))
    return root

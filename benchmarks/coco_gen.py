"""Generator of COCO-2017-shaped datasets for benchmarks and large-data tests.

The output mimics the statistics of COCO 2017 that matter for parsing speed and
memory: ~7.3 instance annotations per image, 80 categories with non-contiguous ids
in 1..90, 1-3 polygon parts of 4-24 points per object, ~1 % crowd objects with
uncompressed RLE, person keypoints (same annotation ids as the instances, as in
COCO), 5 captions per image, and annotation lists ordered by category rather than
by image (COCO's files are not grouped by image).

    python -m benchmarks.coco_gen OUT --images 5000 [--media] [--seed 0]
    from benchmarks.coco_gen import generate
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import orjson

# 80 category ids in 1..90 with COCO's gaps (12, 26, 29, 30, 45, 66, 68, 69, 71, 83 unused).
_GAPS = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}
CATEGORY_IDS = [i for i in range(1, 91) if i not in _GAPS]
_SUPER = ["person", "vehicle", "outdoor", "animal", "accessory", "sports", "kitchen", "food",
          "furniture", "electronic", "appliance", "indoor"]
KEYPOINT_NAMES = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
                  "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
                  "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
            [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]
_WORDS = ("a man woman dog cat sitting standing on the in of with next to table street car bus red "
          "small large white black playing riding holding group people field road").split()


def _categories() -> list[dict]:
    cats = []
    for i, cid in enumerate(CATEGORY_IDS):
        name = "person" if cid == 1 else f"class_{cid}"
        cats.append({"supercategory": "person" if cid == 1 else _SUPER[1 + i % (len(_SUPER) - 1)],
                     "id": cid, "name": name})
    return cats


def _header() -> dict:
    return {
        "info": {"description": "dsrepo synthetic COCO-2017-shaped data", "url": "", "version": "1.0",
                 "year": 2017, "contributor": "dsrepo benchmarks", "date_created": "2017/09/01"},
        "licenses": [{"url": "http://creativecommons.org/licenses/by/2.0/", "id": i, "name": f"License {i}"}
                     for i in range(1, 9)],
    }


def _r2(v: np.ndarray) -> list[float]:
    return [float(x) for x in np.round(v, 2)]


def _polygon_parts(rng: np.random.Generator, x: float, y: float, w: float, h: float) -> list[list[float]]:
    parts = []
    for _ in range(int(rng.integers(1, 4))):
        n = int(rng.integers(4, 25))
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(0.3, 0.5, n)
        cx, cy = x + w / 2, y + h / 2
        pts = np.empty(2 * n)
        pts[0::2] = np.clip(cx + np.cos(ang) * rad * w, x, x + w)
        pts[1::2] = np.clip(cy + np.sin(ang) * rad * h, y, y + h)
        parts.append(_r2(pts))
    return parts


def _crowd_rle(rng: np.random.Generator, iw: int, ih: int, x: float, y: float, w: float, h: float) -> dict:
    # Column-major runs of a filled rectangle: zeros before column x0, then per column
    # a run of background above y0, foreground rows, background below.
    x0, y0 = int(x), int(y)
    x1, y1 = min(iw, max(x0 + 1, int(x + w))), min(ih, max(y0 + 1, int(y + h)))
    counts = [x0 * ih + y0]
    for c in range(x0, x1):
        counts.append(y1 - y0)
        counts.append((ih - y1) + (y0 if c + 1 < x1 else 0))
    counts[-1] += (iw - x1) * ih
    return {"counts": counts, "size": [ih, iw]}


def _write_jpeg(path: Path, rng: np.random.Generator, w: int, h: int) -> None:
    import cv2

    base = rng.integers(0, 255, (h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_LINEAR)
    noise = rng.integers(0, 40, img.shape, dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.add(img, noise), [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    path.write_bytes(buf.tobytes())


def generate(out_dir: str | os.PathLike, n_images: int, *, seed: int = 0, with_media: bool = False,
             tasks: tuple[str, ...] = ("instances", "person_keypoints", "captions"),
             subset: str = "train2017") -> dict[str, str]:
    """Write a COCO-shaped dataset under ``out_dir`` and return ``{task: file path}``
    (plus ``"images"``: the image folder when ``with_media``).

    Layout: ``out_dir/annotations/<task>_<subset>.json`` and, with ``with_media``, small
    random JPEGs (~9 KB, 160x120) in ``out_dir/<subset>/``. Deterministic for a seed.
    """
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    cats = _categories()
    images, instances, keypoints, captions = [], [], [], []
    ann_id = 0
    cap_id = 0
    small = with_media
    for i in range(n_images):
        image_id = 100000 + i * 7
        iw, ih = (160, 120) if small else (int(rng.integers(320, 641)), int(rng.integers(240, 481)))
        images.append({"license": int(rng.integers(1, 9)), "file_name": f"{image_id:012d}.jpg",
                       "coco_url": f"http://images.example/{subset}/{image_id:012d}.jpg",
                       "height": ih, "width": iw, "date_captured": "2013-11-14 17:02:52",
                       "flickr_url": f"http://farm.example/{image_id}.jpg", "id": image_id})
        for _ in range(int(rng.poisson(7.3))):
            ann_id += 1
            w = float(np.round(rng.uniform(4, iw / 2), 2))
            h = float(np.round(rng.uniform(4, ih / 2), 2))
            x = float(np.round(rng.uniform(0, iw - w), 2))
            y = float(np.round(rng.uniform(0, ih - h), 2))
            cid = 1 if rng.random() < 0.3 else CATEGORY_IDS[int(rng.integers(1, 80))]
            crowd = rng.random() < 0.01
            if crowd:
                seg: object = _crowd_rle(rng, iw, ih, x, y, w, h)
                area = int(sum(seg["counts"][1::2]))  # type: ignore[index]
                aid = 900100000000 + ann_id
            else:
                seg = _polygon_parts(rng, x, y, w, h)
                area = float(np.round(w * h * 0.6, 4))
                aid = ann_id
            ann = {"segmentation": seg, "area": area, "iscrowd": int(crowd), "image_id": image_id,
                   "bbox": [x, y, w, h], "category_id": cid, "id": aid}
            instances.append(ann)
            if cid == 1:
                kp = []
                nk = 0
                for _k in range(17):
                    v = int(rng.choice((0, 1, 2), p=(0.4, 0.1, 0.5)))
                    if v:
                        nk += 1
                        kp += [int(x + rng.uniform(0, w)), int(y + rng.uniform(0, h)), v]
                    else:
                        kp += [0, 0, 0]
                keypoints.append({**ann, "num_keypoints": nk, "keypoints": kp})
        for _c in range(5):
            cap_id += 1
            words = rng.choice(_WORDS, int(rng.integers(6, 14)))
            captions.append({"image_id": image_id, "id": cap_id, "caption": " ".join(words).capitalize() + "."})
    # COCO's annotation lists are ordered by category, not grouped by image.
    instances.sort(key=lambda a: (a["category_id"], a["id"]))
    keypoints.sort(key=lambda a: a["id"])
    rng.shuffle(captions)  # type: ignore[arg-type]
    written: dict[str, str] = {}
    head = _header()
    person = dict(cats[0], keypoints=KEYPOINT_NAMES, skeleton=SKELETON)
    payloads = {
        "instances": {**head, "images": images, "annotations": instances, "categories": cats},
        "person_keypoints": {**head, "images": images, "annotations": keypoints, "categories": [person]},
        "captions": {**head, "images": images, "annotations": captions},
        "image_info": {**head, "images": images, "categories": cats},
    }
    for task in tasks:
        if task not in payloads:
            raise ValueError(f"coco_gen: unsupported task {task!r}")
        path = out / "annotations" / f"{task}_{subset}.json"
        path.write_bytes(orjson.dumps(payloads[task]))
        written[task] = str(path)
    if with_media:
        img_dir = out / subset
        img_dir.mkdir(parents=True, exist_ok=True)
        for im in images:
            _write_jpeg(img_dir / im["file_name"], rng, im["width"], im["height"])
        written["images"] = str(img_dir)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m benchmarks.coco_gen OUT --images N [--media]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--images", type=int, required=True)
    ap.add_argument("--media", action="store_true", help="also write small JPEGs into OUT/<subset>/")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--subset", default="train2017")
    ap.add_argument("--tasks", default="instances,person_keypoints,captions")
    args = ap.parse_args(argv)
    files = generate(args.out, args.images, seed=args.seed, with_media=args.media,
                     tasks=tuple(t for t in args.tasks.split(",") if t), subset=args.subset)
    for k, v in files.items():
        size = os.path.getsize(v) if os.path.isfile(v) else 0
        print(f"{k}: {v}" + (f" ({size / 1e6:.1f} MB)" if size else ""))


if __name__ == "__main__":
    main()

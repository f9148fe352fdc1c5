"""Hand-written YOLO fixture datasets, laid out as CVAT / Ultralytics / Roboflow write them."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset
from dsrepo.model.encoding import encode_categories, encode_item
from dsrepo.progress import NullProgress


def write_image(path: Path, h: int, w: int) -> Path:
    """A tiny image (PNG or JPEG by extension) of size ``h x w``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2, : w // 2] = (10, 200, 30)
    ok, buf = cv2.imencode(path.suffix or ".png", img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def make_darknet(root: Path) -> Path:
    """CVAT "YOLO 1.1" export: train and valid subsets, unicode/space names, a nested
    folder, a missing image with an empty label file, an image without label file, and
    one label file written with other precision."""
    write(root / "obj.data", "classes = 3\ntrain = data/train.txt\nvalid = data/valid.txt\n"
                             "names = data/obj.names\nbackup = backup/\n")
    write(root / "obj.names", "car\nperson\nfeu rouge ☂\n")
    write_image(root / "obj_train_data" / "img_1.jpg", 30, 40)
    write_image(root / "obj_train_data" / "street scene" / "café.png", 20, 50)
    write_image(root / "obj_train_data" / "no_label.png", 8, 8)
    write(root / "obj_train_data" / "img_1.txt",
          "0 0.250000 0.400000 0.300000 0.400000\n2 0.600000 0.400000 0.400000 0.266667\n")
    write(root / "obj_train_data" / "street scene" / "café.txt", "1 0.5 0.5 0.2 0.25\n")
    write(root / "obj_train_data" / "gone.txt", "")
    write(root / "train.txt", "data/obj_train_data/img_1.jpg\ndata/obj_train_data/street scene/café.png\n"
                              "data/obj_train_data/gone.jpg\ndata/obj_train_data/no_label.png\n")
    write_image(root / "obj_valid_data" / "v1.jpg", 10, 10)
    write(root / "obj_valid_data" / "v1.txt", "")
    write(root / "valid.txt", "data/obj_valid_data/v1.jpg\n")
    return root


def make_ultralytics(root: Path) -> Path:
    """Ultralytics detect+segment dataset: names as a mapping, comments, nested folder,
    an image without labels, an empty val split, a declared but absent test split."""
    write(root / "data.yaml", "# Example dataset\npath: ../datasets/example  # dataset root dir\n"
                              "train: images/train  # train images\nval: images/val\ntest:  # optional\n\n"
                              "# Classes\nnames:\n  0: person\n  1: bicycle\n  2: 'no'\n")
    write_image(root / "images" / "train" / "a.jpg", 40, 80)
    write_image(root / "images" / "train" / "deep" / "b 1.png", 10, 20)
    write_image(root / "images" / "train" / "bg.jpg", 12, 12)
    write(root / "labels" / "train" / "a.txt",
          "0 0.500000 0.500000 0.250000 0.500000\n1 0.100000 0.100000 0.500000 0.100000 0.500000 0.500000\n")
    write(root / "labels" / "train" / "deep" / "b 1.txt", "2 0.25 0.5 0.5 1\n")
    (root / "images" / "val").mkdir(parents=True)
    return root


def make_pose(root: Path) -> Path:
    """Ultralytics pose dataset with kpt_shape [3, 3] and names as a list."""
    write(root / "data.yaml", "train: images/train\nval: images/val\nkpt_shape: [3, 3]\n"
                              "flip_idx: [0, 2, 1]\nnames: [person]\n")
    write_image(root / "images" / "train" / "p.png", 100, 200)
    write(root / "labels" / "train" / "p.txt",
          "0 0.500000 0.500000 0.200000 0.400000 0.450000 0.400000 2 0.550000 0.400000 1 0.000000 0.000000 0\n"
          "0 0.100000 0.100000 0.100000 0.100000 0.100000 0.100000 2 0.000000 0.000000 0 0.000000 0.000000 0\n")
    write_image(root / "images" / "val" / "q.png", 10, 10)
    write(root / "labels" / "val" / "q.txt", "")
    return root


def make_list_split(root: Path) -> Path:
    """Ultralytics COCO layout: splits given as .txt image lists (``./images/...``)."""
    write(root / "coco.yaml", "path: ../datasets/coco\ntrain: train2017.txt\nval: val2017.txt\n"
                              "names:\n  0: person\n  1: car\n")
    write_image(root / "images" / "train2017" / "000000000009.jpg", 16, 32)
    write_image(root / "images" / "train2017" / "000000000025.jpg", 16, 16)
    write(root / "labels" / "train2017" / "000000000009.txt", "1 0.5 0.5 0.25 0.25\n")
    write(root / "labels" / "train2017" / "000000000025.txt", "0 0.500000 0.500000 1.000000 1.000000\n")
    write(root / "train2017.txt", "./images/train2017/000000000009.jpg\nimages/train2017/000000000025.jpg\n")
    write(root / "val2017.txt", "")
    return root


def make_roboflow(root: Path) -> Path:
    """Roboflow export: ``train: ../train/images`` next to ``train/images`` and ``train/labels``."""
    write(root / "data.yaml", "train: ../train/images\nval: ../valid/images\n\nnc: 1\nnames: ['ball']\n\n"
                              "roboflow:\n  workspace: ws\n  version: 2\n")
    write_image(root / "train" / "images" / "x_jpg.rf.123.jpg", 20, 20)
    write(root / "train" / "labels" / "x_jpg.rf.123.txt", "0 0.5234375 0.5 0.1015625 0.25\n")
    write_image(root / "valid" / "images" / "y.jpg", 20, 20)
    write(root / "valid" / "labels" / "y.txt", "0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8\n")
    return root


# -- checks ---------------------------------------------------------------------------

def encoded(ds: Dataset) -> list[bytes]:
    """Canonical encodings of every item, in order."""
    return [encode_item(it) for it in ds]


def copy_images(ds: Dataset, src: Path, dst: Path) -> None:
    """Place each item's image at the same relative path (what the repository does)."""
    for it in ds:
        if it.media is not None and it.media.path:
            rel = Path(it.media.path).relative_to(src)
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(it.media.path, dst / rel)


def files_of(root: Path, exclude_images: bool = True) -> dict[str, bytes]:
    """``{relative path: bytes}`` of every file under ``root`` (images left out)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not (exclude_images and p.suffix.lower() in (".jpg", ".png")):
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def assert_round_trip(src: Path, out: Path, fmt: str) -> tuple[Dataset, Dataset]:
    """import -> export (no media) -> images placed -> import: same items, categories and
    subset meta, and the exported annotation files equal the source's byte for byte."""
    progress = NullProgress()
    ds = import_dataset(src, fmt, None, progress)
    export_dataset(ds, out, fmt, None, progress)
    copy_images(ds, src, out)
    ds2 = import_dataset(out, fmt)
    assert encoded(ds) == encoded(ds2)
    assert encode_categories(ds.categories) == encode_categories(ds2.categories)
    assert dict(ds.subset_meta) == dict(ds2.subset_meta)
    return ds, ds2

"""Bad input: every error is a DatasetError naming the file and the line or key."""

from __future__ import annotations

import re

import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.api import import_dataset

from .yolo_data import make_darknet, make_pose, make_ultralytics, write


def _load(root, fmt):
    return list(import_dataset(root, fmt))


def _label_error(tmp_path, line, msg, image=True):
    root = make_darknet(tmp_path / "d")
    label = root / "obj_train_data" / "img_1.txt"
    write(label, ("0 0.5 0.5 0.1 0.1\n\n" if image else "\n\n") + line + "\n")
    if not image:
        (root / "obj_train_data" / "img_1.jpg").unlink()
    with pytest.raises(DatasetError, match="^" + re.escape(f"{label}: line 3: {msg}") + "$"):
        _load(root, "yolo")


@pytest.mark.parametrize("line, msg", [
    ("3 0.5 0.5 0.1 0.1", "class index 3 out of range (3 class names)"),
    ("-1 0.5 0.5 0.1 0.1", "class index -1 out of range (3 class names)"),
    ("1.5 0.5 0.5 0.1 0.1", "class index '1.5' is not an integer"),
    ("car 0.5 0.5 0.1 0.1", "value 'car' is not a number"),
    ("0 0.5 abc 0.1 0.1", "value 'abc' is not a number"),
    ("0 0.5 nan 0.1 0.1", "value 'nan' is not a finite number"),
    ("0 0.5 0.5 0.1", "expected 5 values (class cx cy w h), got 4"),
    ("0 0.1 0.1 0.2 0.1 0.2 0.2", "expected 5 values (class cx cy w h), got 7"),
    ("0 0.5 0.5 -0.1 0.1", "invalid geometry: bbox has negative size: w=-4.0, h=3.0"),
])
def test_darknet_bad_label_lines(tmp_path, line, msg):
    _label_error(tmp_path, line, msg)


def test_missing_image_with_labels_names_the_label_file(tmp_path):
    _label_error(tmp_path, "1 0.5 0.5 0.1 0.1",
                 "image size unknown (image file missing or unreadable); cannot convert normalized coordinates",
                 image=False)


@pytest.mark.parametrize("data, msg", [
    ("classes = 3\ntrain\n", "line 2: expected 'key = value', got 'train'"),
    ("classes = three\n", "line 1: classes 'three' is not an integer"),
    ("classes = 2\nnames = data/obj.names\n", "line 1: classes = 2 but obj.names lists 3 names"),
    ("train = data/train.txt\ntrain = data/valid.txt\n", "line 2: key 'train' given twice"),
    ("train = data/nope.txt\n", "line 1: image list 'nope.txt' of subset 'train' not found"),
    ("names = data/labels.txt\n", "line 1: names file 'labels.txt' not found"),
    ("train = ../../etc/passwd\n", "line 1: path '../../etc/passwd' escapes the dataset folder"),
    ("train = /etc/passwd\n", "line 1: absolute path '/etc/passwd' is not allowed"),
])
def test_bad_obj_data(tmp_path, data, msg):
    root = make_darknet(tmp_path / "d")
    write(root / "obj.data", data)
    with pytest.raises(DatasetError, match="^" + re.escape(f"{root / 'obj.data'}: {msg}") + "$"):
        _load(root, "yolo")


def test_bad_list_and_names_files(tmp_path):
    root = make_darknet(tmp_path / "d")
    write(root / "train.txt", "data/obj_train_data/img_1.jpg\n../outside.jpg\n")
    with pytest.raises(DatasetError, match=re.escape(f"{root / 'train.txt'}: line 2: path '../outside.jpg' "
                                                     "escapes the dataset folder")):
        _load(root, "yolo")
    write(root / "train.txt", "data/obj_train_data/img_1.jpg\ndata/obj_train_data/img_1.png\n")
    with pytest.raises(DatasetError, match=re.escape(
            f"{root / 'train.txt'}: images 'obj_train_data/img_1.jpg' and 'obj_train_data/img_1.png' have the "
            "same item id 'img_1' in subset 'train'")):
        _load(root, "yolo")
    write(root / "obj.names", "car\n\nperson\n")
    with pytest.raises(DatasetError, match=re.escape(f"{root / 'obj.names'}: line 2: empty class name")):
        _load(root, "yolo")
    (root / "obj.names").write_bytes(b"car\xff\n")
    with pytest.raises(DatasetError, match=re.escape(f"{root / 'obj.names'}: names file is not UTF-8 text "
                                                     "(byte 3)")):
        _load(root, "yolo")
    (root / "obj.data").unlink()
    with pytest.raises(DatasetError, match=re.escape(f"{root}: no obj.data found")):
        _load(root, "yolo")


@pytest.mark.parametrize("yaml, msg", [
    ("train: images/train\nnames: {0: a, 2: b}\n", "names: class indices must be 0..1, got [0, 2]"),
    ("train: images/train\nnames: [a, b]\nnc: 3\n", "nc: nc = 3 but 'names' has 2 classes"),
    ("train: images/train\nnames: a\n", "names: 'names' must be a list or a mapping"),
    ("train: images/train\nnames: [a, null]\n", "names[1]: class name None is not a string"),
    ("train: images/train\n", "no 'names' key"),
    ("train: images/train\nnames: [a]\nkpt_shape: [17, 4]\n", "kpt_shape: kpt_shape must be [keypoints, 2 or 3], "
                                                              "got [17, 4]"),
    ("train: 3\nnames: [a]\n", "train: split 'train' must be a path or a list of paths"),
    ("train: /abs/images\nnames: [a]\n", "train: absolute path '/abs/images' is not allowed"),
    ("train: images/train\nnames: [a\n", "invalid YAML: while parsing a flow sequence"),
    ("- a\n- b\n", "expected a YAML mapping at the top level"),
    ("train: t.txt\nnames: [a]\n", "train: image list 't.txt' of split 'train' not found"),
])
def test_bad_data_yaml(tmp_path, yaml, msg):
    root = make_ultralytics(tmp_path / "u")
    write(root / "data.yaml", yaml)
    with pytest.raises(DatasetError, match="^" + re.escape(f"{root / 'data.yaml'}: {msg}") + "$"):
        _load(root, "yolo_ultralytics")


@pytest.mark.parametrize("line, msg", [
    ("0 0.1 0.1 0.2 0.2 0.3", "expected 5 values (box) or class and 3 or more x y pairs (polygon), got 6"),
    ("0 0.1 0.1 0.2 0.2 0.3 0.3 0.4", "expected 5 values (box) or class and 3 or more x y pairs (polygon), got 8"),
    ("0", "expected 5 values (box) or class and 3 or more x y pairs (polygon), got 1"),
    ("3 0.5 0.5 0.1 0.1", "class index 3 out of range (3 class names)"),
    ("0 0.1 0.1 0.2 x 0.3 0.3", "value 'x' is not a number"),
])
def test_ultralytics_bad_lines(tmp_path, line, msg):
    root = make_ultralytics(tmp_path / "u")
    label = root / "labels" / "train" / "a.txt"
    write(label, line + "\n")
    with pytest.raises(DatasetError, match="^" + re.escape(f"{label}: line 1: {msg}") + "$"):
        _load(root, "yolo_ultralytics")


@pytest.mark.parametrize("line, msg", [
    ("0 0.5 0.5 0.2 0.2 0.1 0.1 2", "expected 14 values (class, box, 3 keypoints x 3), got 8"),
    ("0 0.5 0.5 0.2 0.2 0.1 0.1 2 0.1 0.1 3 0.1 0.1 0", "keypoint visibility '3' is not 0, 1 or 2"),
    ("0 0.5 0.5 0.2 0.2 0.1 0.1 2 0.1 0.1 0.5 0.1 0.1 0", "keypoint visibility '0.5' is not 0, 1 or 2"),
])
def test_pose_bad_lines(tmp_path, line, msg):
    root = make_pose(tmp_path / "p")
    label = root / "labels" / "train" / "p.txt"
    write(label, line + "\n")
    with pytest.raises(DatasetError, match="^" + re.escape(f"{label}: line 1: {msg}") + "$"):
        _load(root, "yolo_ultralytics")


def test_ultralytics_duplicate_ids_and_yaml_choice(tmp_path):
    root = make_ultralytics(tmp_path / "u")
    write(root / "images" / "train" / "a.png", "not really an image")
    with pytest.raises(DatasetError, match=re.escape(
            f"{root / 'data.yaml'}: images 'images/train/a.jpg' and 'images/train/a.png' have the same item id 'a' "
            "in subset 'train'")):
        _load(root, "yolo_ultralytics")
    (root / "data.yaml").rename(root / "one.yaml")
    write(root / "two.yaml", "names: [x]\n")
    with pytest.raises(DatasetError, match=re.escape(f"{root}: several dataset YAML files (one.yaml, two.yaml); "
                                                     "import one of them")):
        _load(root, "yolo_ultralytics")

"""imagenet_txt: label lists, labels file, images folder, options, round trips, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dsrepo.errors import DatasetError, ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.registry import detect_formats
from dsrepo.model.annotations import Bbox, Label
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

# tests/formats has no __init__.py: pytest puts it on sys.path, so the sibling test package
# image_dir imports by name.
from image_dir.imgutil import assert_same_dataset, make_image, place_media, through_encoding, tree

SYNSETS = "n01440764 tench\nn01443537 goldfish\nn01484850 great white shark\n"


def write_txt_dataset(root: Path) -> Path:
    """An imagenet_txt dataset as Datumaro writes it (plus a quoted name with spaces,
    a nested image path, an empty subset and a missing image)."""
    root.mkdir(parents=True)
    (root / "synsets.txt").write_text(SYNSETS, encoding="utf-8")
    (root / "train.txt").write_text(
        "img_2 2 0\n"
        "img_1 1\n"
        '"my photo é" 0\n'
        "nested/deep 2\n"
        "unlabeled\n", encoding="utf-8")
    (root / "val.txt").write_text("gone 1\n", encoding="utf-8")
    (root / "test.txt").write_text("", encoding="utf-8")
    make_image(root / "images" / "img_1.jpg", 4, 6, seed=1)
    make_image(root / "images" / "img_2.png", 3, 5, seed=2)
    make_image(root / "images" / "my photo é.png", 2, 2, seed=3)
    make_image(root / "images" / "nested" / "deep.JPG", 5, 5, seed=4)
    make_image(root / "images" / "unlabeled.bmp", 1, 3, seed=5)
    return root


@pytest.fixture
def txt(tmp_path: Path) -> Path:
    return write_txt_dataset(tmp_path / "txt")


def _summary(ds):
    return [(it.subset, it.id, it.media.name if it.media else None, it.media.size if it.media else None,
             [a.label for a in it.annotations]) for it in ds]


def test_import(txt):
    ds = import_dataset(txt, "imagenet_txt")
    assert ds.categories.label_names() == ["n01440764 tench", "n01443537 goldfish", "n01484850 great white shark"]
    assert _summary(ds) == [
        ("train", "img_2", "img_2.png", (3, 5), [2, 0]),
        ("train", "img_1", "img_1.jpg", (4, 6), [1]),
        ("train", "my photo é", "my photo é.png", (2, 2), [0]),
        ("train", "nested/deep", "nested/deep.JPG", (5, 5), [2]),
        ("train", "unlabeled", "unlabeled.bmp", (1, 3), []),
        ("val", "gone", None, None, [1]),
    ]
    assert ds.get("img_1").media.path == str(txt / "images" / "img_1.jpg")
    assert dict(ds.subset_meta) == {"test": {}}


def test_import_of_one_subset_file_and_paths_written_with_extension(txt):
    (txt / "extra.txt").write_text("img_1.jpg 0\n", encoding="utf-8")
    [item] = import_dataset(txt / "extra.txt", "imagenet_txt")
    assert (item.subset, item.id, item.media.name, [a.label for a in item.annotations]) == (
        "extra", "img_1", "img_1.jpg", [0])


def test_custom_labels_file_and_image_dir(tmp_path):
    root = tmp_path / "custom"
    root.mkdir()
    (root / "classes.txt").write_text("cat\ndog\n\n", encoding="utf-8")
    (root / "default.txt").write_text("a 1\n", encoding="utf-8")
    make_image(root / "pics" / "a.png", 2, 4)
    opts = ["--labels-file", "classes.txt", "--image-dir", "pics"]
    ds = import_dataset(root, "imagenet_txt", opts)
    assert ds.categories.label_names() == ["cat", "dog"]
    assert _summary(ds) == [("default", "a", "a.png", (2, 4), [1])]
    report = export_dataset(ds, tmp_path / "out", "imagenet_txt", opts + ["--save-media"])
    assert report.files == ("classes.txt", "default.txt", "pics/a.png")
    assert (tmp_path / "out" / "classes.txt").read_text() == "cat\ndog\n"
    assert_same_dataset(ds, import_dataset(tmp_path / "out", "imagenet_txt", opts))


def test_export_writes_the_same_files(txt, tmp_path):
    ds = import_dataset(txt, "imagenet_txt")
    progress = NullProgress()
    report = export_dataset(ds, tmp_path / "out", "imagenet_txt", None, progress)
    assert report.files == ("synsets.txt", "test.txt", "train.txt", "val.txt")
    assert progress.warnings == []
    assert {k: v for k, v in tree(tmp_path / "out").items()} == {
        k: v for k, v in tree(txt).items() if k.endswith(".txt")}


def test_round_trip_without_media_once_images_are_placed(txt, tmp_path):
    """What the repository does: export annotations, place the stored images, re-import."""
    ds = import_dataset(txt, "imagenet_txt")
    export_dataset(through_encoding(ds), tmp_path / "out", "imagenet_txt")
    place_media(ds, txt, tmp_path / "out")
    assert_same_dataset(ds, import_dataset(tmp_path / "out", "imagenet_txt"))


def test_round_trip_with_media_and_determinism(txt, tmp_path):
    ds = import_dataset(txt, "imagenet_txt")
    progress = NullProgress()
    report = export_dataset(ds, tmp_path / "a", "imagenet_txt", ["--save-media"], progress)
    export_dataset(ds, tmp_path / "b", "imagenet_txt", ["--save-media"])
    assert report.missing_media == ("gone",)
    assert progress.warnings == ["imagenet_txt: 1 images not saved (no image file): gone"]
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert tree(tmp_path / "a") == {k: v for k, v in tree(txt).items()}
    assert_same_dataset(ds, import_dataset(tmp_path / "a", "imagenet_txt"))


def test_losses_and_quoting_on_export(tmp_path):
    img = np.zeros((2, 2, 3), np.uint8)
    ds = Dataset.from_items([
        Item("with space", media=Image(data=img, name="with space.png"),
             annotations=(Label(label=1, attributes={"score": 0.9}), Bbox(x=0, y=0, w=1, h=1, label=0)),
             attributes={"k": 1}),
        Item('say"hi', annotations=(Label(label=0), Label(label=None))),
    ], Categories.from_names(["a", "b"]))
    progress = NullProgress()
    export_dataset(ds, tmp_path / "out", "imagenet_txt", None, progress)
    assert (tmp_path / "out" / "default.txt").read_text() == '"with space" 1\nsay"hi 0\n'
    assert progress.warnings == ["imagenet_txt cannot hold annotation attributes: 1 dropped",
                                 "imagenet_txt cannot hold annotations without a label: 1 dropped",
                                 "imagenet_txt cannot hold boxes: 1 dropped",
                                 "imagenet_txt cannot hold item attributes: 1 dropped"]
    back = import_dataset(tmp_path / "out", "imagenet_txt")
    assert [(it.id, [a.label for a in it.annotations]) for it in back] == [("with space", [1]), ('say"hi', [0])]
    with pytest.raises(ExportError, match=r"^imagenet_txt cannot hold annotation attributes: 1 dropped; .* \(--strict\)$"):
        export_dataset(ds, tmp_path / "strict", "imagenet_txt", ["--strict"])


@pytest.mark.parametrize(("item_id", "labels", "message"), [
    ('"quoted name"', ["a"], "item id '\"quoted name\"' has both spaces and '\"': cannot be written"),
    ("two\nlines", ["a"], "item id 'two\\nlines' contains a line break"),
    ("x", [" padded"], "label ' padded' cannot be written as one line of synsets.txt"),
])
def test_export_errors(tmp_path, item_id, labels, message):
    ds = Dataset.from_items([Item(item_id)], Categories.from_names(labels))
    with pytest.raises(ExportError) as e:
        export_dataset(ds, tmp_path / "out", "imagenet_txt")
    assert str(e.value) == message


def _dataset(tmp_path: Path, subset_text: str, synsets: str = "cat\ndog\n") -> Path:
    root = tmp_path / "bad"
    root.mkdir()
    (root / "synsets.txt").write_text(synsets, encoding="utf-8")
    (root / "train.txt").write_text(subset_text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("text", "where", "message"), [
    ("a 0\nb x1\n", "train.txt: line 2", "label index 'x1' is not an integer"),
    ("a 2\n", "train.txt: line 1", "label index 2 is out of range (2 labels)"),
    ("a -1\n", "train.txt: line 1", "label index -1 is out of range (2 labels)"),
    ('"a b 0\n', "train.txt: line 1", "unterminated quoted image path"),
    ('"a b"0\n', "train.txt: line 1", "expected a space after the quoted image path"),
    ("../x 0\n", "train.txt: line 1", "path '../x' escapes the dataset folder"),
    ("a 0\n\na 1\n", "train.txt: line 3", "image 'a' is listed twice (first on line 1)"),
])
def test_bad_subset_lines(tmp_path, text, where, message):
    root = _dataset(tmp_path, text)
    with pytest.raises(DatasetError) as e:
        import_dataset(root, "imagenet_txt")
    assert str(e.value) == f"{root}/{where}: {message}"


@pytest.mark.parametrize(("synsets", "where", "message"), [
    ("cat\n\ndog\n", "line 2", "empty label name"),
    ("cat\ndog\ncat\n", "line 3", "label 'cat' appears twice (first on line 1)"),
])
def test_bad_labels_file(tmp_path, synsets, where, message):
    root = _dataset(tmp_path, "a 0\n", synsets)
    with pytest.raises(DatasetError) as e:
        import_dataset(root, "imagenet_txt")
    assert str(e.value) == f"{root}/synsets.txt: {where}: {message}"


def test_missing_or_undecodable_files(tmp_path):
    root = _dataset(tmp_path, "a 0\n")
    (root / "synsets.txt").unlink()
    with pytest.raises(DatasetError, match=r"bad/synsets.txt: labels file not found \(see --labels-file\)$"):
        import_dataset(root, "imagenet_txt")
    (root / "synsets.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(DatasetError, match=r"bad/synsets.txt: not UTF-8 text \(byte 3\)$"):
        import_dataset(root, "imagenet_txt")
    (root / "synsets.txt").write_text("cat\n")
    (root / "train.txt").unlink()
    with pytest.raises(DatasetError, match=r"bad: no <subset>.txt files found$"):
        import_dataset(root, "imagenet_txt")
    with pytest.raises(DatasetError, match=r"--image-dir: path '../elsewhere' escapes the dataset folder$"):
        import_dataset(root, "imagenet_txt", ["--image-dir", "../elsewhere"])


def test_detection(txt):
    assert detect_formats(txt)[0] == ("imagenet_txt", 0.8)
    assert detect_formats(txt / "train.txt")[0] == ("imagenet_txt", 0.7)


def test_convert_from_imagenet_folders(tmp_path):
    make_image(tmp_path / "inet" / "dog" / "a.jpg", 3, 3, seed=1)
    make_image(tmp_path / "inet" / "cat" / "a.jpg", 3, 3, seed=1)
    make_image(tmp_path / "inet" / "no_label" / "b.png", 2, 2, seed=2)
    ds = import_dataset(tmp_path / "inet", "imagenet")
    export_dataset(ds, tmp_path / "txt", "imagenet_txt", ["--save-media"])
    assert (tmp_path / "txt" / "synsets.txt").read_text() == "cat\ndog\n"
    assert (tmp_path / "txt" / "default.txt").read_text() == "a 0 1\nb\n"
    export_dataset(import_dataset(tmp_path / "txt", "imagenet_txt"), tmp_path / "inet2", "imagenet")
    assert tree(tmp_path / "inet2") == tree(tmp_path / "inet")

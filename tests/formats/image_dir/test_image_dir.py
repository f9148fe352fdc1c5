"""image_dir: import of image folders, export, round trips, losses, detection."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from dsrepo.errors import DatasetError, ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.registry import detect_formats
from dsrepo.model.annotations import Bbox, Label, Polygon
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

from .imgutil import assert_same_dataset, make_image, roundtrip, through_encoding, tree


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A camera-dump style folder: nested folders, unicode, spaces, mixed case extensions,
    a non-image file and hidden files."""
    root = tmp_path / "photos"
    make_image(root / "b.jpg", 4, 6, seed=1)
    make_image(root / "a.png", 5, 7, seed=2)
    make_image(root / "trip 2023" / "Ünïcode bild.JPG", 3, 9, seed=3)
    make_image(root / "trip 2023" / "deep" / "x.bmp", 2, 2, seed=4)
    (root / "notes.txt").write_text("not an image")
    make_image(root / ".thumbs" / "hidden.png")
    make_image(root / ".hidden.png")
    return root


def test_import_lists_images_recursively_with_ids_names_and_header_sizes(photos):
    ds = import_dataset(photos, "image_dir")
    items = list(ds)
    assert [it.id for it in items] == ["a", "b", "trip 2023/deep/x", "trip 2023/Ünïcode bild"]
    assert [it.subset for it in items] == ["default"] * 4
    assert [it.media.name for it in items] == ["a.png", "b.jpg", "trip 2023/deep/x.bmp",
                                               "trip 2023/Ünïcode bild.JPG"]
    assert [it.media.size for it in items] == [(5, 7), (4, 6), (2, 2), (3, 9)]
    assert items[3].media.path == str(photos / "trip 2023" / "Ünïcode bild.JPG")
    assert all(it.annotations == () for it in items)
    assert ds.categories == Categories()
    assert len(ds) == 4


def test_missing_header_gives_unknown_size(tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    (root / "broken.jpg").write_bytes(b"not really a jpeg")
    [item] = import_dataset(root, "image_dir")
    assert item.id == "broken" and item.media.size is None and item.media.name == "broken.jpg"


def test_empty_folder_is_an_empty_dataset(tmp_path):
    (tmp_path / "empty").mkdir()
    assert list(import_dataset(tmp_path / "empty", "image_dir")) == []


def test_two_images_with_the_same_id_are_rejected(tmp_path):
    make_image(tmp_path / "d" / "a.jpg")
    make_image(tmp_path / "d" / "a.png")
    with pytest.raises(DatasetError, match=r"d: images 'a.jpg' and 'a.png' have the same item id 'a'$"):
        import_dataset(tmp_path / "d", "image_dir")


def test_round_trip_keeps_items_bytes_and_order(photos, tmp_path):
    ds, back, warnings = roundtrip(photos, tmp_path / "out", "image_dir")
    assert warnings == []
    assert_same_dataset(ds, back)
    src = {k: v for k, v in tree(photos).items() if not k.startswith(".") and k != "notes.txt"}
    assert tree(tmp_path / "out") == src


def test_round_trip_of_repository_decoded_items(photos, tmp_path):
    ds = import_dataset(photos, "image_dir")
    report = export_dataset(through_encoding(ds), tmp_path / "out", "image_dir")
    assert report.files == ("a.png", "b.jpg", "trip 2023/deep/x.bmp", "trip 2023/Ünïcode bild.JPG")
    assert_same_dataset(ds, import_dataset(tmp_path / "out", "image_dir"))


def test_export_is_deterministic_and_reencodes_with_image_ext(photos, tmp_path):
    ds = import_dataset(photos, "image_dir")
    export_dataset(ds, tmp_path / "a", "image_dir", ["--image-ext", ".png"])
    export_dataset(ds, tmp_path / "b", "image_dir", ["--image-ext", ".png"])
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert sorted(tree(tmp_path / "a")) == ["a.png", "b.png", "trip 2023/deep/x.png", "trip 2023/Ünïcode bild.png"]
    back = {it.id: it for it in import_dataset(tmp_path / "a", "image_dir")}
    assert back["b"].media.size == (4, 6)
    assert np.array_equal(back["trip 2023/deep/x"].media.load(), ds.get("trip 2023/deep/x").media.load())


def test_export_of_in_memory_and_missing_images(tmp_path):
    arr = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    ds = Dataset.from_items([
        Item("mem", media=Image(data=arr, name="mem.png")),
        Item("gone", media=Image(path=str(tmp_path / "nope.jpg"), name="gone.jpg")),
        Item("none"),
    ])
    progress = NullProgress()
    report = export_dataset(ds, tmp_path / "out", "image_dir", None, progress)
    assert report.files == ("mem.png",)
    assert report.missing_media == ("gone", "none")
    assert progress.warnings == ["image_dir: 2 images not saved (no image file): gone, none"]
    [back] = import_dataset(tmp_path / "out", "image_dir")
    assert np.array_equal(back.media.load(), arr)


def _annotated() -> Dataset:
    return Dataset.from_items([
        Item("x", subset="train", media=Image(data=np.zeros((2, 2, 3), np.uint8), name="x.png"),
             annotations=(Label(label=0), Bbox(x=1, y=1, w=2, h=2, label=0), Bbox(x=0, y=0, w=1, h=1, label=0)),
             attributes={"source": "web"}),
        Item("y", subset="val", media=Image(data=np.zeros((2, 2, 3), np.uint8), name="y.png"),
             annotations=(Polygon(points=[0, 0, 1, 0, 1, 1], label=0),)),
    ], Categories.from_names(["cat"]))


def test_annotations_attributes_and_subsets_are_reported_as_lost(tmp_path):
    progress = NullProgress()
    report = export_dataset(_annotated(), tmp_path / "out", "image_dir", None, progress)
    assert report.files == ("x.png", "y.png")
    assert progress.warnings == [
        "image_dir cannot hold boxes: 2 dropped",
        "image_dir cannot hold image labels: 1 dropped",
        "image_dir cannot hold item attributes: 1 dropped",
        "image_dir cannot hold polygons: 1 dropped",
        "image_dir cannot hold subset names: 2 dropped",
    ]


def test_strict_turns_losses_into_an_error(tmp_path):
    with pytest.raises(ExportError, match=r"^image_dir cannot hold boxes: 2 dropped; .*subset names: 2 dropped "
                                          r"\(--strict\)$"):
        export_dataset(_annotated(), tmp_path / "out", "image_dir", ["--strict"])


def test_same_id_in_two_subsets_cannot_share_one_folder(tmp_path):
    img = np.zeros((2, 2, 3), np.uint8)
    ds = Dataset.from_items([Item("a", "train", Image(data=img, name="a.png")),
                             Item("a", "val", Image(data=img, name="a.png"))])
    with pytest.raises(ExportError, match=r"^item id 'a' appears in subsets 'train' and 'val'; image_dir has no "
                                          r"subsets$"):
        export_dataset(ds, tmp_path / "out", "image_dir")


def test_unsafe_item_id_is_refused_on_export(tmp_path):
    ds = Dataset.from_items([Item("../evil", media=Image(data=np.zeros((2, 2, 3), np.uint8), name="e.png"))])
    with pytest.raises(ExportError, match=r"^item '../evil': path '../evil.png' escapes the dataset folder$"):
        export_dataset(ds, tmp_path / "out", "image_dir")
    assert not (tmp_path / "evil.png").exists()


def test_detection(photos, tmp_path):
    assert dict(detect_formats(photos))["image_dir"] == 0.3
    make_image(tmp_path / "nested" / "sub" / "a.jpg")
    assert dict(detect_formats(tmp_path / "nested"))["image_dir"] == 0.1
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt" / "a.txt").write_text("x")
    assert "image_dir" not in dict(detect_formats(tmp_path / "txt"))


def test_md5_in_encoding_is_the_file_checksum(photos):
    item = import_dataset(photos, "image_dir").get("b")
    assert item.media.checksum() == hashlib.md5((photos / "b.jpg").read_bytes()).hexdigest()

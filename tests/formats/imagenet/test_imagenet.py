"""imagenet (class-per-folder): layouts, multi-label items, no_label, round trips, losses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dsrepo.errors import DatasetError, ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.registry import detect_formats
from dsrepo.model.annotations import Bbox, Label, Mask
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

# tests/formats has no __init__.py: pytest puts it on sys.path, so the sibling test package
# image_dir imports by name.
from image_dir.imgutil import assert_same_dataset, make_image, roundtrip, through_encoding, tree


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    """``<label>/<image>`` as Datumaro writes it: the same image in two label folders,
    an unlabeled image, unicode/space names, an empty label folder."""
    root = tmp_path / "flat"
    make_image(root / "dog" / "n01.jpg", 4, 6, seed=1)
    make_image(root / "cat" / "n01.jpg", 4, 6, seed=1)
    make_image(root / "cat" / "tabby cat é.png", 3, 5, seed=2)
    make_image(root / "no_label" / "x.png", 2, 2, seed=3)
    (root / "bird").mkdir()
    (root / ".DS_Store").write_bytes(b"\0")
    return root


@pytest.fixture
def with_subsets(tmp_path: Path) -> Path:
    root = tmp_path / "subsets"
    make_image(root / "train" / "cat" / "a.jpg", 4, 6, seed=1)
    make_image(root / "train" / "dog" / "b.png", 5, 3, seed=2)
    make_image(root / "val" / "dog" / "c.jpg", 2, 7, seed=3)
    make_image(root / "val" / "no_label" / "d.png", 2, 2, seed=4)
    (root / "test").mkdir()
    return root


def _summary(ds):
    names = ds.categories.label_names()
    return [(it.subset, it.id, it.media.name, it.media.size, [names[a.label] for a in it.annotations]) for it in ds]


def test_flat_import(flat):
    ds = import_dataset(flat, "imagenet")
    assert ds.categories.label_names() == ["bird", "cat", "dog"]
    assert _summary(ds) == [
        ("default", "n01", "n01.jpg", (4, 6), ["cat", "dog"]),
        ("default", "tabby cat é", "tabby cat é.png", (3, 5), ["cat"]),
        ("default", "x", "x.png", (2, 2), []),
    ]
    first = ds.get("n01")
    assert first.media.path == str(flat / "cat" / "n01.jpg")
    assert all(type(a) is Label for a in first.annotations)
    assert dict(ds.subset_meta) == {}


def test_subsets_import_is_detected_from_depth(with_subsets):
    ds = import_dataset(with_subsets, "imagenet")
    assert ds.categories.label_names() == ["cat", "dog"]
    assert _summary(ds) == [
        ("train", "a", "a.jpg", (4, 6), ["cat"]),
        ("train", "b", "b.png", (5, 3), ["dog"]),
        ("val", "c", "c.jpg", (2, 7), ["dog"]),
        ("val", "d", "d.png", (2, 2), []),
    ]
    assert dict(ds.subset_meta) == {"test": {}}


def test_forced_flat_layout_ignores_deeper_images_with_a_warning(with_subsets):
    progress = NullProgress()
    ds = import_dataset(with_subsets, "imagenet", ["--layout", "flat"], progress)
    assert ds.categories.label_names() == ["test", "train", "val"]
    assert list(ds) == []
    assert progress.warnings == [f"imagenet: 4 images outside <label>/ folders ignored in {with_subsets}"]


def test_images_at_the_root_are_ignored_with_a_warning(flat):
    make_image(flat / "stray.jpg")
    progress = NullProgress()
    ds = import_dataset(flat, "imagenet", None, progress)
    assert len(ds) == 3
    assert progress.warnings == [f"imagenet: 1 images outside <label>/ folders ignored in {flat}"]


def test_same_id_twice_in_one_label_folder(tmp_path):
    make_image(tmp_path / "d" / "cat" / "a.jpg")
    make_image(tmp_path / "d" / "cat" / "a.png")
    with pytest.raises(DatasetError, match=r"d/cat: images 'a.jpg' and 'a.png' have the same item id 'a'$"):
        import_dataset(tmp_path / "d", "imagenet")


@pytest.mark.parametrize("fixture", ["flat", "with_subsets"])
def test_round_trip_keeps_items_categories_and_files(request, tmp_path, fixture):
    src = request.getfixturevalue(fixture)
    ds, back, warnings = roundtrip(src, tmp_path / "out", "imagenet")
    assert warnings == []
    assert_same_dataset(ds, back)
    assert dict(back.subset_meta) == dict(ds.subset_meta)
    assert tree(tmp_path / "out") == {k: v for k, v in tree(src).items() if not k.startswith(".")}


def test_repository_decoded_items_rebuild_the_same_tree(flat, tmp_path):
    ds = import_dataset(flat, "imagenet")
    report = export_dataset(through_encoding(ds), tmp_path / "out", "imagenet")
    assert report.files == ("cat/n01.jpg", "cat/tabby cat é.png", "dog/n01.jpg", "no_label/x.png")
    assert (tmp_path / "out" / "bird").is_dir()
    assert_same_dataset(ds, import_dataset(tmp_path / "out", "imagenet"))


def test_export_twice_is_byte_identical_and_image_ext_reencodes(flat, tmp_path):
    ds = import_dataset(flat, "imagenet")
    export_dataset(ds, tmp_path / "a", "imagenet", ["--image-ext", ".png"])
    export_dataset(ds, tmp_path / "b", "imagenet", ["--image-ext", ".png"])
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert sorted(tree(tmp_path / "a")) == ["cat/n01.png", "cat/tabby cat é.png", "dog/n01.png", "no_label/x.png"]


def _converted() -> Dataset:
    img = np.zeros((2, 3, 3), np.uint8)
    return Dataset.from_items([
        Item("a", "default", Image(data=img, name="a.png"),
             (Label(label=1), Label(label=1), Label(label=0, attributes={"score": 0.5}),
              Bbox(x=0, y=0, w=1, h=1, label=0), Mask(rle={"size": [2, 3], "counts": "06"}, label=1))),
        Item("b", "default", Image(data=img, name="b.png"), (Bbox(x=0, y=0, w=1, h=1, label=0),)),
        Item("c", "default", None, (Label(label=0),)),
    ], Categories.from_names(["person", "car"]))


def test_export_of_a_converted_dataset_reports_losses_and_missing_images(tmp_path):
    progress = NullProgress()
    report = export_dataset(_converted(), tmp_path / "out", "imagenet", None, progress)
    assert report.files == ("car/a.png", "no_label/b.png", "person/a.png")
    assert report.missing_media == ("c",)
    assert progress.warnings == [
        "imagenet cannot hold annotation attributes: 1 dropped",
        "imagenet cannot hold boxes: 2 dropped",
        "imagenet cannot hold duplicate image labels: 1 dropped",
        "imagenet cannot hold masks: 1 dropped",
        "imagenet: 1 images not saved (no image file): c",
    ]
    back = import_dataset(tmp_path / "out", "imagenet")
    assert back.categories.label_names() == ["car", "person"]
    assert _summary(back) == [("default", "a", "a.png", (2, 3), ["car", "person"]),
                              ("default", "b", "b.png", (2, 3), [])]


def test_strict_export_fails(tmp_path):
    with pytest.raises(ExportError, match=r"^imagenet cannot hold annotation attributes: 1 dropped; imagenet cannot hold boxes: 2 dropped; .* "
                                          r"\(--strict\)$"):
        export_dataset(_converted(), tmp_path / "out", "imagenet", ["--strict"])


@pytest.mark.parametrize(("items", "labels", "message"), [
    ([Item("a/b", media=Image(data=np.zeros((1, 1, 3), np.uint8), name="b.png"))], ["x"],
     "item id 'a/b' contains '/': imagenet stores plain file names"),
    ([], ["ok", "a/b"], "label 'a/b' cannot be an imagenet folder name"),
    ([], [".hidden"], "label '.hidden' cannot be an imagenet folder name"),
    ([], ["no_label"], "label 'no_label' clashes with the folder of unlabeled images"),
    ([Item("a", media=Image(data=np.zeros((1, 1, 3), np.uint8), name="a.png"), annotations=(Label(label=3),))],
     ["x"], "item 'a': label index 3 is out of range (1 labels)"),
])
def test_export_errors(tmp_path, items, labels, message):
    ds = Dataset.from_items(items, Categories.from_names(labels))
    with pytest.raises(ExportError) as e:
        export_dataset(ds, tmp_path / "out", "imagenet")
    assert str(e.value) == message


def test_detection(flat, with_subsets, tmp_path):
    assert detect_formats(flat)[0] == ("imagenet", 0.5)
    assert detect_formats(with_subsets)[0] == ("imagenet", 0.4)
    make_image(tmp_path / "mixed" / "a.jpg")
    make_image(tmp_path / "mixed" / "cat" / "b.jpg")
    assert "imagenet" not in dict(detect_formats(tmp_path / "mixed"))
    make_image(tmp_path / "coco_like" / "train2017" / "c.jpg")  # image folders beside annotation files
    (tmp_path / "coco_like" / "annotations").mkdir()
    (tmp_path / "coco_like" / "annotations" / "instances_train2017.json").write_text("{}")
    assert dict(detect_formats(tmp_path / "coco_like"))["imagenet"] == 0.1


def test_convert_to_coco_and_back(flat, tmp_path):
    ds = import_dataset(flat, "imagenet")
    export_dataset(ds, tmp_path / "coco", "coco", ["--save-media"])
    back = import_dataset(tmp_path / "coco", "coco")
    names = back.categories.label_names()
    assert sorted((it.id, tuple(sorted(names[a.label] for a in it.annotations))) for it in back) == [
        ("n01", ("cat", "dog")), ("tabby cat é", ("cat",)), ("x", ())]
    export_dataset(back, tmp_path / "again", "imagenet")
    assert sorted(tree(tmp_path / "again")) == ["cat/n01.jpg", "cat/tabby cat é.png", "dog/n01.jpg",
                                                "no_label/x.png"]

"""image_zip: safe import of zip archives, deterministic export, round trips, bad input."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dsrepo.errors import DatasetError, ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.image_dir.media import ZipImage
from dsrepo.formats.registry import detect_formats
from dsrepo.model.annotations import Bbox, Label
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

from .imgutil import assert_same_dataset, image_bytes, make_zip, tree

A = image_bytes(4, 6, ".png", seed=1)
B = image_bytes(3, 5, ".jpg", seed=2)
C = image_bytes(2, 9, ".png", seed=3)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """An archive as an OS archiver writes it: folder entries, unsorted entries, a
    macOS resource fork, a non-image file, unicode and spaces."""
    return make_zip(tmp_path / "photos.zip", {
        "b.jpg": B,
        "sub dir/": b"",
        "sub dir/Ünï c.png": C,
        "a.png": A,
        "readme.txt": b"hello",
        "__MACOSX/._a.png": b"\x00\x05\x16\x07",
    })


def test_import_reads_entries_in_name_order_with_md5_and_header_size(archive):
    ds = import_dataset(archive, "image_zip")
    items = list(ds)
    assert [(it.subset, it.id) for it in items] == [("photos", "a"), ("photos", "b"), ("photos", "sub dir/Ünï c")]
    assert [it.media.name for it in items] == ["a.png", "b.jpg", "sub dir/Ünï c.png"]
    assert [it.media.size for it in items] == [(4, 6), (3, 5), (2, 9)]
    assert [it.media.md5 for it in items] == [hashlib.md5(x).hexdigest() for x in (A, B, C)]
    assert all(isinstance(it.media, ZipImage) and it.media.path is None for it in items)
    assert len(ds) == 3 and ds.categories == Categories()


def test_pixels_are_decoded_on_demand_from_the_entry(archive):
    import cv2

    item = import_dataset(archive, "image_zip").get("a")
    assert Image.__dict__["data"].__get__(item.media, ZipImage) is None  # not decoded by import
    item.media.load()
    assert Image.__dict__["data"].__get__(item.media, ZipImage) is not None  # kept once decoded
    expected = cv2.imdecode(np.frombuffer(A, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(item.media.load(), expected)
    assert item.media.read_bytes() == A


def test_folder_of_zips_gives_one_subset_per_archive_and_keeps_empty_archives(tmp_path):
    make_zip(tmp_path / "ds" / "train.zip", {"x.png": A})
    make_zip(tmp_path / "ds" / "val.zip", {"y.jpg": B})
    make_zip(tmp_path / "ds" / "test.zip", {})
    (tmp_path / "ds" / "notes.md").write_text("x")
    ds = import_dataset(tmp_path / "ds", "image_zip")
    assert [(it.subset, it.id) for it in ds] == [("train", "x"), ("val", "y")]
    assert dict(ds.subset_meta) == {"test": {}}
    report = export_dataset(ds, tmp_path / "out", "image_zip")
    assert report.files == ("test.zip", "train.zip", "val.zip")
    assert zipfile.ZipFile(tmp_path / "out" / "test.zip").namelist() == []
    assert_same_dataset(ds, import_dataset(tmp_path / "out", "image_zip"))


def test_round_trip_is_exact_and_export_deterministic(archive, tmp_path):
    ds = import_dataset(archive, "image_zip")
    progress = NullProgress()
    report = export_dataset(ds, tmp_path / "a", "image_zip", None, progress)
    export_dataset(import_dataset(tmp_path / "a", "image_zip"), tmp_path / "b", "image_zip")
    assert report.files == ("photos.zip",) and progress.warnings == []
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    with zipfile.ZipFile(tmp_path / "a" / "photos.zip") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["a.png", "b.jpg", "sub dir/Ünï c.png"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
        assert zf.read("b.jpg") == B  # original bytes, not re-encoded
    assert_same_dataset(ds, import_dataset(tmp_path / "a", "image_zip"))


def test_archive_gets_the_usual_file_permissions(archive, tmp_path):
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    export_dataset(import_dataset(archive, "image_zip"), tmp_path / "out", "image_zip")
    assert stat.S_IMODE((tmp_path / "out" / "photos.zip").stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["photos.zip"]


def test_deflated_compression_option(archive, tmp_path):
    export_dataset(import_dataset(archive, "image_zip"), tmp_path / "out", "image_zip", ["--compression", "deflated"])
    with zipfile.ZipFile(tmp_path / "out" / "photos.zip") as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
        assert zf.read("a.png") == A


def test_zip_to_image_dir_copies_entry_bytes_and_back(archive, tmp_path):
    ds = import_dataset(archive, "image_zip")
    export_dataset(ds, tmp_path / "dir", "image_dir")
    assert tree(tmp_path / "dir") == {"a.png": A, "b.jpg": B, "sub dir/Ünï c.png": C}
    back = import_dataset(tmp_path / "dir", "image_dir")
    assert [(it.id, it.media.checksum(), it.media.size) for it in back] == [
        (it.id, it.media.md5, it.media.size) for it in ds]


def test_zip_images_can_be_saved_by_other_exporters(archive, tmp_path):
    ds = import_dataset(archive, "image_zip")
    report = export_dataset(ds, tmp_path / "coco", "coco", ["--save-media"])
    assert "images/photos/a.png" in report.files and report.missing_media == ()
    import cv2

    saved = cv2.imread(str(tmp_path / "coco" / "images" / "photos" / "a.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(saved, cv2.imdecode(np.frombuffer(A, np.uint8), cv2.IMREAD_UNCHANGED))


def test_export_encodes_in_memory_images_and_reports_losses(tmp_path):
    arr = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    ds = Dataset.from_items([
        Item("mem", media=Image(data=arr, name="mem.png"),
             annotations=(Label(label=0), Bbox(x=0, y=0, w=1, h=1, label=0))),
        Item("nothing"),
    ], Categories.from_names(["a"]))
    progress = NullProgress()
    report = export_dataset(ds, tmp_path / "out", "image_zip", None, progress)
    assert report.files == ("default.zip",) and report.missing_media == ("nothing",)
    assert progress.warnings == ["image_zip cannot hold boxes: 1 dropped", "image_zip cannot hold image labels: 1 dropped",
                                 "image_zip: 1 images not saved (no image file): nothing"]
    [back] = import_dataset(tmp_path / "out" / "default.zip", "image_zip")
    assert back.id == "mem" and back.subset == "default" and back.media.size == (2, 3)
    assert np.array_equal(back.media.load(), arr)
    with pytest.raises(ExportError, match=r"^image_zip cannot hold boxes: 1 dropped; image_zip cannot hold image "
                                          r"labels: 1 dropped \(--strict\)$"):
        export_dataset(ds, tmp_path / "strict", "image_zip", ["--strict"])


@pytest.mark.parametrize(("entry", "message"), [
    ("../x.jpg", "path '../x.jpg' escapes the dataset folder"),
    ("a/../../x.jpg", "path 'a/../../x.jpg' escapes the dataset folder"),
    ("/etc/x.jpg", "absolute path '/etc/x.jpg' is not allowed"),
    ("C:/x.jpg", "absolute path 'C:/x.jpg' is not allowed"),
])
def test_zip_slip_entries_are_rejected(tmp_path, entry, message):
    z = make_zip(tmp_path / "evil.zip", {"ok.png": A, entry: B})
    with pytest.raises(DatasetError) as e:
        import_dataset(z, "image_zip")
    assert str(e.value) == f"{z}: entry {entry!r}: {message}"


def test_truncated_zip_is_a_dataset_error(archive, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(archive.read_bytes()[:100])
    with pytest.raises(DatasetError, match=r"bad.zip: not a readable zip file: File is not a zip file$"):
        import_dataset(bad, "image_zip")


def test_corrupt_entry_data_is_reported_when_read(tmp_path):
    z = make_zip(tmp_path / "c.zip", {"a.png": A}, zipfile.ZIP_STORED)
    raw = bytearray(z.read_bytes())
    pos = raw.index(A[:16]) + 40
    raw[pos] ^= 0xFF
    z.write_bytes(bytes(raw))
    ds = import_dataset(z, "image_zip")
    with pytest.raises(DatasetError, match=r"c.zip: entry 'a.png': cannot read entry: Bad CRC-32 for file 'a.png'$"):
        list(ds)


def test_same_id_twice_in_an_archive(tmp_path):
    z = make_zip(tmp_path / "d.zip", {"a.png": A, "a.jpg": B})
    with pytest.raises(DatasetError, match=r"d.zip: images 'a.jpg' and 'a.png' have the same item id 'a'$"):
        import_dataset(z, "image_zip")


def test_folder_without_zips_and_clashing_subsets(tmp_path):
    (tmp_path / "none").mkdir()
    with pytest.raises(DatasetError, match=r"none: no .zip files in this folder$"):
        import_dataset(tmp_path / "none", "image_zip")
    make_zip(tmp_path / "two" / "a.zip", {"x.png": A})
    make_zip(tmp_path / "two" / "a.ZIP", {"y.png": A})
    with pytest.raises(DatasetError, match=r"two: archives 'a.ZIP' and 'a.zip' are both subset 'a'$"):
        import_dataset(tmp_path / "two", "image_zip")


def test_subset_name_that_is_not_a_file_name(tmp_path):
    ds = Dataset.from_items([Item("x", "a/b", Image(data=np.zeros((1, 1, 3), np.uint8), name="x.png"))])
    with pytest.raises(ExportError, match=r"^subset 'a/b' cannot be used as a zip file name$"):
        export_dataset(ds, tmp_path / "out", "image_zip")


def test_detection(archive, tmp_path):
    assert detect_formats(archive)[0] == ("image_zip", 0.8)
    assert dict(detect_formats(archive.parent))["image_zip"] == 0.6
    (tmp_path / "fake.zip").write_text("not a zip")
    assert "image_zip" not in dict(detect_formats(tmp_path / "fake.zip"))

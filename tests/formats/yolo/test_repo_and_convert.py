"""YOLO in a repository (rebuilt working copies stay clean) and conversions with COCO."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dsrepo.formats.api import convert, export_dataset, import_dataset
from dsrepo.model.annotations import AnnType
from dsrepo.progress import NullProgress
from dsrepo.repo.repo import Repo

from .yolo_data import encoded, files_of, make_darknet, make_pose, make_roboflow, make_ultralytics, write

SAMPLE = Path(__file__).resolve().parents[3] / "dsrepo" / "data" / "sample"


@pytest.mark.parametrize("maker, fmt", [
    (make_darknet, "yolo"), (make_ultralytics, "yolo_ultralytics"), (make_pose, "yolo_ultralytics"),
    (make_roboflow, "yolo_ultralytics"),
])
def test_checkout_rebuilds_an_identical_clean_working_copy(tmp_path, maker, fmt):
    src = maker(tmp_path / "src")
    repo = Repo.create(tmp_path / "proj")
    repo.add(src, name="ds", format=fmt)
    c1 = repo.commit("import")
    wc = repo.layout.source_dir("ds")
    label = next(p for p in sorted(wc.rglob("*.txt")) if p.read_text().strip() and p.parent.name != wc.name)
    write(label, "")
    assert not repo.status().clean
    repo.commit("clear one label file")
    repo.checkout(c1.id)  # annotation files re-exported from the stored items
    assert repo.status().clean
    assert encoded(import_dataset(wc, fmt)) == encoded(import_dataset(src, fmt)) or fmt == "yolo"
    assert files_of(wc) == files_of(src)


def test_coco_sample_to_yolo_and_back(tmp_path):
    progress = NullProgress()
    coco = import_dataset(SAMPLE / "coco", "coco")
    ds, report = convert(SAMPLE / "coco", tmp_path / "y", "yolo_ultralytics", "coco",
                         export_options=["--save-media"], progress=progress)
    assert sorted({f.split("/")[0] for f in report.files}) == ["data.yaml", "images", "labels"]
    back = import_dataset(tmp_path / "y", "yolo_ultralytics")
    assert back.categories.label_names() == coco.categories.label_names()
    assert len(back) == len(coco)
    by_id = {(it.subset, it.id): it for it in back}
    n_boxes = 0
    for it in coco:
        got = by_id[(it.subset, it.id)]
        assert got.media.size == it.media.size
        want = [a for a in it.annotations if a.type in (AnnType.bbox, AnnType.polygon) and a.label is not None]
        have = [a for a in got.annotations]
        assert [(a.type, a.label) for a in have] == [(a.type, a.label) for a in want]
        for a, b in zip(want, have):
            assert b.get_bbox() == pytest.approx(a.get_bbox(), abs=0.001)
        n_boxes += len(have)
    assert n_boxes > 0
    # and on to COCO: boxes and polygons survive with 6-decimal precision
    export_dataset(back, tmp_path / "c", "coco_instances", None, progress)
    again = import_dataset(tmp_path / "c", "coco_instances")
    assert sum(len(it.annotations) for it in again) >= n_boxes


def test_ultralytics_to_darknet_drops_polygons_honestly(tmp_path):
    src = make_ultralytics(tmp_path / "u")
    progress = NullProgress()
    convert(src, tmp_path / "d", "yolo", "yolo_ultralytics", progress=progress)
    assert progress.warnings == ["yolo cannot hold polygons: 1 dropped"]
    assert (tmp_path / "d" / "obj.data").read_text() == (
        "classes = 3\ntrain = data/train.txt\nval = data/val.txt\nnames = data/obj.names\nbackup = backup/\n")
    assert (tmp_path / "d" / "train.txt").read_text() == (
        "data/obj_train_data/a.jpg\ndata/obj_train_data/bg.jpg\ndata/obj_train_data/deep/b 1.png\n")
    assert (tmp_path / "d" / "obj_train_data" / "deep" / "b 1.txt").read_text() == "2 0.25 0.5 0.5 1\n"
    assert (tmp_path / "d" / "val.txt").read_text() == ""
    shutil.copytree(src / "images" / "train", tmp_path / "d" / "obj_train_data", dirs_exist_ok=True)
    back = import_dataset(tmp_path / "d", "yolo")
    assert [(it.id, len(it.annotations)) for it in back] == [("a", 1), ("bg", 0), ("deep/b 1", 1)]


def test_layout_meta_of_one_flavour_does_not_leak_into_the_other(tmp_path):
    from .yolo_data import make_list_split

    src = make_list_split(tmp_path / "c")
    convert(src, tmp_path / "d", "yolo", "yolo_ultralytics")
    assert (tmp_path / "d" / "train.txt").read_text() == (
        "data/obj_train_data/000000000009.jpg\ndata/obj_train_data/000000000025.jpg\n")
    assert (tmp_path / "d" / "obj_train_data" / "000000000009.txt").read_text() == "1 0.5 0.5 0.25 0.25\n"

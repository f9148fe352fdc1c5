"""Ultralytics YOLO patch hook (incremental export): folder and list-file splits, the
YAML, polygons, media, refusals. Each case compares the patched folder with a full
export of the new revision, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.annotations import Bbox, Polygon
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo
from tests.repo.helpers import tree_digest

from .yolo_data import make_list_split, make_ultralytics


def _edit(ds: Dataset, extra: list[Item] = (), drop: str | None = None) -> Dataset:
    """``ds`` with the first box of its first item moved, ``drop`` removed, ``extra`` added."""
    items = []
    for n, it in enumerate(ds):
        if it.id == drop:
            continue
        if n == 0:
            b = next(a for a in it.annotations if isinstance(a, Bbox))
            it = it.with_(annotations=tuple(a.with_(x=a.x + 1) if a is b else a for a in it.annotations))
        items.append(it)
    return Dataset(ds.categories, items + list(extra), ds.subset_meta)


def _new_item(iid: str, subset: str, like: Item, *anns) -> Item:
    return Item(iid, subset, like.media.with_(name=f"{iid}.jpg"), tuple(anns))


def _repo(tmp_path: Path, src: Path, edit) -> Repo:
    repo = Repo.create(tmp_path / "proj")
    ds = import_dataset(src, "yolo_ultralytics")
    repo.add(ds, name="s", format="datumaro")
    repo.commit("v1")
    repo.update("s", edit(repo.dataset("HEAD", "s")), format="datumaro")
    repo.commit("v2")
    return repo


def _patch(repo: Repo, tmp_path: Path, options=None):
    out = tmp_path / "out"
    repo.patch_export(out, "yolo_ultralytics", "HEAD~1", options=options, incremental=False)
    r = repo.patch_export(out, "yolo_ultralytics", "HEAD", options=options)
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "yolo_ultralytics", options)
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")
    repo.patch_export(tmp_path / "full", "yolo_ultralytics", "HEAD", options=options, incremental=False)
    mine, full = (json.loads((p / MANIFEST).read_text()) for p in (out, tmp_path / "full"))
    assert mine["items"] == full["items"]
    return r


def test_list_file_splits_are_rebuilt_from_rows(tmp_path):
    def edit(ds):
        first = next(iter(ds))
        return _edit(ds, [_new_item("000000000077", "train", first, Bbox(x=1, y=1, w=4, h=4, label=1))])

    repo = _repo(tmp_path, make_list_split(tmp_path / "src"), edit)
    r = _patch(repo, tmp_path)
    assert (r.mode, r.added, r.removed, r.modified) == ("hook", 1, 0, 1)
    # (the new item has no imported path: it goes to the exporter's folder images/<subset>)
    assert r.written == ("labels/train/000000000077.txt", "labels/train2017/000000000009.txt", "train2017.txt")
    # the imported line of 000000000025 (without ./) is kept; the new item's line is the exporter's
    assert (tmp_path / "out" / "train2017.txt").read_text() == (
        "./images/train2017/000000000009.jpg\nimages/train2017/000000000025.jpg\n./images/train/000000000077.jpg\n")
    rows = {e[1]: e[3:] for e in json.loads((tmp_path / "out" / MANIFEST).read_text())["items"]}
    assert rows["000000000025"] == [["labels/train2017/000000000025.txt"],
                                    ["train2017.txt", "images/train2017/000000000025.jpg",
                                     "labels/train2017/000000000025.txt"]]


def test_folder_splits_new_subset_and_removed_item(tmp_path):
    def edit(ds):
        first = next(iter(ds))
        return _edit(ds, [_new_item("t1", "test", first, Polygon(points=(0, 0, 5, 0, 5, 5), label=2))], drop="bg")

    repo = _repo(tmp_path, make_ultralytics(tmp_path / "src"), edit)
    r = _patch(repo, tmp_path)
    assert (r.mode, r.added, r.removed, r.modified) == ("hook", 1, 1, 1)
    assert r.written == ("data.yaml", "labels/test/t1.txt", "labels/train/a.txt")
    assert r.deleted == ()  # bg had no label file (an image without labels)
    assert "test: images/test" in (tmp_path / "out" / "data.yaml").read_text()


@pytest.mark.parametrize("options", [["--save-media"], ["--task", "detect"], ["--image-ext", ".png"]])
def test_options(tmp_path, options):
    repo = _repo(tmp_path, make_ultralytics(tmp_path / "src"), _edit)
    assert _patch(repo, tmp_path, options).mode == "hook"


def test_strict_loss_fails_like_the_full_export_and_writes_nothing(tmp_path):
    def edit(ds):
        first = next(iter(ds))
        return _edit(ds, [_new_item("c", "train", first, Bbox(x=1, y=1, w=2, h=2))])  # no label

    repo = _repo(tmp_path, make_ultralytics(tmp_path / "src"), edit)
    out = tmp_path / "out"
    repo.patch_export(out, "yolo_ultralytics", "HEAD~1", options=["--strict"], incremental=False)
    before = tree_digest(out)
    with pytest.raises(ExportError) as full:
        export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "yolo_ultralytics", ["--strict"])
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "yolo_ultralytics", "HEAD", options=["--strict"])
    assert str(e.value) == str(full.value)
    assert tree_digest(out) == before


def test_items_sharing_a_label_file_fail_like_the_full_export(tmp_path):
    def edit(ds):
        first = next(iter(ds))  # 'x' was imported from images/train/sub/x.jpg, the image of item 'sub/x'
        return _edit(ds, [Item("x", "train", first.media.with_(name="x.jpg"), (),
                               meta={"yolo_ultralytics": {"p": "images/train/sub/x.jpg"}}),
                          Item("sub/x", "train", first.media.with_(name="sub/x.jpg"), ())])

    repo = _repo(tmp_path, make_ultralytics(tmp_path / "src"), edit)
    out = tmp_path / "out"
    repo.patch_export(out, "yolo_ultralytics", "HEAD~1", incremental=False)
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "yolo_ultralytics", "HEAD")
    assert str(e.value) == "items 'x' and 'sub/x' would share label file labels/train/sub/x.txt"

"""VOC patch hook (incremental export): masks, class lists, label map changes, refusals.

Every case patches an export of one revision to the next and compares the folder with a
full export of the new revision, byte for byte (the random-history property test in
tests/repo/test_patch_export.py covers boxes only)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset
from dsrepo.model import masks as rle_ops
from dsrepo.model.annotations import Bbox, Label, Mask, Polygon
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo
from tests.repo.helpers import tree_digest

LABELS = ["cat", "dog", "bird"]
_IMG = np.full((6, 8, 3), 90, np.uint8)


def _mask(x0: int, label: int) -> Mask:
    a = np.zeros((6, 8), np.uint8)
    a[1:4, x0:x0 + 2] = 1
    rle = rle_ops.encode(a)
    return Mask(label=label, group=0, rle=rle)


def _item(iid: str, subset: str, *anns) -> Item:
    return Item(iid, subset, Image(data=_IMG, name=f"{iid}.png"), tuple(anns))


def _v1() -> list[Item]:
    return [
        _item("a", "train", Bbox(x=1, y=1, w=2, h=2, label=0), Label(label=1)),
        _item("b", "train", _mask(2, 1), Polygon(points=(0, 0, 3, 0, 3, 3), label=2)),
        _item("c", "val", Label(label=0, attributes={"difficult": True}), Bbox(x=0, y=0, w=4, h=3, label=2)),
        _item("d", "val"),
    ]


def _v2() -> list[Item]:
    a, b, c, d = _v1()
    return [
        a,
        b.with_(annotations=(_mask(4, 1), Polygon(points=(0, 0, 3, 0, 3, 3), label=2))),  # mask moved
        c,  # unchanged
        _item("e", "val", Label(label=2), _mask(0, 0)),  # added; d removed
    ]


def _repo(tmp_path: Path, v1: list[Item], v2: list[Item], labels=LABELS) -> Repo:
    repo = Repo.create(tmp_path / "proj")
    repo.add(Dataset.from_items(v1, Categories.from_names(labels)), name="s", format="datumaro")
    repo.commit("v1")
    repo.update("s", Dataset.from_items(v2, Categories.from_names(labels)), format="datumaro")
    repo.commit("v2")
    return repo


def _patch(repo: Repo, tmp_path: Path, fmt: str, options=None):
    """Full export of HEAD~1, patch to HEAD; returns the result after checking the folder
    against a plain export of HEAD and the manifest against a full export's."""
    out = tmp_path / "out"
    repo.patch_export(out, fmt, "HEAD~1", options=options, incremental=False)
    r = repo.patch_export(out, fmt, "HEAD", options=options)
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", fmt, options)
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")
    repo.patch_export(tmp_path / "full", fmt, "HEAD", options=options, incremental=False)
    mine, full = (json.loads((p / MANIFEST).read_text()) for p in (out, tmp_path / "full"))
    if r.mode == "hook":
        assert mine["items"] == full["items"]
    else:  # synced: the items record no rows, so the next patch starts over through the hook
        assert mine["items"] == [e[:3] for e in full["items"]]
    return r


def test_voc_patch_writes_changed_items_and_rebuilds_lists(tmp_path):
    repo = _repo(tmp_path, _v1(), _v2())
    r = _patch(repo, tmp_path, "voc")
    assert (r.mode, r.added, r.removed, r.modified) == ("hook", 1, 1, 1)
    assert r.written == ("Annotations/b.xml", "Annotations/e.xml", "ImageSets/Main/bird_val.txt",
                         "ImageSets/Main/cat_val.txt", "ImageSets/Main/dog_val.txt", "ImageSets/Main/val.txt", "ImageSets/Segmentation/val.txt",
                         "SegmentationClass/b.png", "SegmentationClass/e.png", "SegmentationObject/b.png",
                         "SegmentationObject/e.png")
    # b's XML holds the box derived from its moved mask; the train lists did not change;
    # d had no files of its own
    assert r.deleted == ()
    out = tmp_path / "out"
    assert (out / "ImageSets/Main/val.txt").read_text() == "c\ne\n"
    assert (out / "ImageSets/Main/bird_val.txt").read_text() == "c -1\ne  1\n"
    assert (out / "ImageSets/Main/cat_val.txt").read_text() == "c  0\ne -1\n"
    m = json.loads((out / MANIFEST).read_text())
    rows = {e[1]: e[3:] for e in m["items"]}
    assert rows["a"] == [["Annotations/a.xml"], [["Main"], [["dog", 1]], False, False]]
    assert rows["e"] == [["Annotations/e.xml", "SegmentationClass/e.png", "SegmentationObject/e.png"],
                         [["Main", "Segmentation"], [["bird", 1]], True, True]]


@pytest.mark.parametrize("fmt, options", [
    ("voc", ["--save-media", "--keep-empty"]),
    ("voc", ["--tasks", "segmentation,classification", "--no-apply-colormap"]),
    ("voc", ["--label-map", "voc"]),
    ("voc_segmentation", None),
    ("voc_classification", None),
    ("voc_detection", ["--no-allow-attributes"]),
])
def test_voc_patch_options_and_task_formats(tmp_path, fmt, options):
    repo = _repo(tmp_path, _v1(), _v2())
    assert _patch(repo, tmp_path, fmt, options).mode == "hook"


def test_voc_patch_media_files_are_owned_by_their_items(tmp_path):
    repo = _repo(tmp_path, _v1(), _v2())
    r = _patch(repo, tmp_path, "voc", ["--save-media"])
    assert "JPEGImages/e.png" in r.written and "JPEGImages/d.png" in r.deleted
    assert "JPEGImages/a.png" not in r.written


def test_background_entry_added_and_dropped_through_the_hook(tmp_path):
    """The source label map gains 'background' when the first mask appears: unchanged items
    have no masks then, so only the label map and the new item's files change."""
    boxes = [_item("a", "train", Bbox(x=1, y=1, w=2, h=2, label=0)), _item("b", "train")]
    with_mask = [boxes[0], _item("b", "train", _mask(2, 1))]
    repo = _repo(tmp_path, boxes, with_mask)
    r = _patch(repo, tmp_path, "voc")
    assert r.mode == "hook"
    assert "labelmap.txt" in r.written and (tmp_path / "out/labelmap.txt").read_text().splitlines()[1] \
        .startswith("background:")
    repo2 = _repo(tmp_path / "back", with_mask, boxes)
    r = _patch(repo2, tmp_path / "back", "voc")
    assert r.mode == "hook"
    # (no item is in ImageSets/Segmentation any more: its list goes too)
    assert r.deleted == ("Annotations/b.xml", "ImageSets/Segmentation/train.txt", "SegmentationClass/b.png",
                         "SegmentationObject/b.png")


def test_unchanged_masks_painted_with_another_label_map_decline(tmp_path):
    """An item with boundary pixels only (meta voc_void) keeps its mask PNG, painted with the
    label map that had a 'background' entry; when the last mask elsewhere goes away the
    entry goes too, and the hook declines (the whole export is synced) rather than reuse
    that PNG."""
    edge = np.zeros((6, 8), np.uint8)
    edge[0, :] = 1
    rle = rle_ops.encode(edge)
    void_only = Item("v", "train", Image(data=_IMG, name="v.png"), (),
                     meta={"voc_void": {"class": {"size": list(rle["size"]), "counts": rle["counts"]}}})
    v1 = [void_only, _item("b", "train", _mask(2, 1))]
    v2 = [void_only, _item("b", "train")]
    repo = _repo(tmp_path, v1, v2)
    r = _patch(repo, tmp_path, "voc")
    assert (r.mode, r.written) == ("sync", ("labelmap.txt",))
    assert r.deleted == ("Annotations/b.xml", "ImageSets/Segmentation/train.txt", "SegmentationClass/b.png",
                         "SegmentationObject/b.png")


def test_label_map_file_declines_to_a_full_sync(tmp_path):
    lm = tmp_path / "labelmap.txt"
    lm.write_text("# label:color_rgb:parts:actions\nbackground:0,0,0::\ncat:1,2,3::\ndog:4,5,6::\nbird:7,8,9::\n")
    repo = _repo(tmp_path, _v1(), _v2())
    r = _patch(repo, tmp_path, "voc", ["--label-map", str(lm)])
    assert r.mode == "sync"


def test_strict_loss_in_a_changed_item_fails_like_the_full_export(tmp_path):
    from dsrepo.model.annotations import Caption

    v2 = _v1()[:3] + [_item("d", "val", Caption(caption="hi"))]
    repo = _repo(tmp_path, _v1(), v2)
    out = tmp_path / "out"
    repo.patch_export(out, "voc", "HEAD~1", options=["--strict"], incremental=False)
    before = tree_digest(out)
    with pytest.raises(ExportError) as full:
        export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "voc", ["--strict"])
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "voc", "HEAD", options=["--strict"])
    assert str(e.value) == str(full.value)
    assert tree_digest(out) == before

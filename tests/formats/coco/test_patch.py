"""COCO patch hook (incremental export from the earlier export's files).

Every case patches an export of one revision to the next and compares the folder with a
full export of the new revision byte for byte, and the manifest rows (record offsets in
the files) with those of a full export. The data: the rich test set (three tasks,
annotations not grouped by image, large and shared ids, captions of a missing image)
and the bundled sample."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.annotations import AnnType, Bbox, Caption, Label, Polygon, Polyline
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo
from tests.repo.helpers import tree_digest

from .coco_data import make_rich

SAMPLE = Path(__file__).resolve().parents[3] / "dsrepo" / "data" / "sample"


def _move(it: Item) -> Item:
    """The item with its first polygon (or box) moved by one pixel."""
    anns = list(it.annotations)
    for n, a in enumerate(anns):
        if a.type is AnnType.polygon:
            anns[n] = a.with_(points=tuple(v + 1 for v in a.points))
            break
        if a.type is AnnType.bbox:
            anns[n] = a.with_(x=a.x + 1)
            break
    return it.with_(annotations=tuple(anns))


def _new(like: Item, iid: str) -> Item:
    """A new item without COCO data: a box, a polygon and a caption."""
    return Item(iid, like.subset, like.media.with_(name=f"{iid}.jpg"),
                (Bbox(x=1, y=1, w=3, h=2, label=1), Polygon(points=(0, 0, 4, 0, 4, 4), label=2),
                 Caption(caption="new")))


def _edit(ds: Dataset, kind: str, n: int) -> Dataset:
    items = list(ds)
    n %= len(items)
    ids = {it.id for it in items}
    fresh = next(f"new{k}" for k in range(len(items) + 1) if f"new{k}" not in ids)
    if kind == "move":
        items[n] = _move(items[n])
    elif kind == "remove" and len(items) > 1:
        del items[n]
    elif kind == "add_first":
        items.insert(0, _new(items[n], fresh))
    elif kind == "add_last":
        items.append(_new(items[n], fresh))
    elif kind == "dup_id":  # an annotation takes the id of another item's: renumbered on export
        other = next((a.id for it in items if it is not items[n] for a in it.annotations if a.id), 0)
        anns = list(items[n].annotations)
        if anns and other:
            anns[0] = anns[0].with_(id=other)
            items[n] = items[n].with_(annotations=tuple(anns))
    elif kind == "positions":  # stored file positions on every other item (and one per task), reversed
        for k in range(0, len(items), 2):
            m = dict(items[k].meta.get("coco") or {})
            m["o"] = len(items) - k
            if k == n:
                m["t"] = {**(m.get("t") or {}), "instances": {"o": 0}}
            items[k] = items[k].with_(meta={**items[k].meta, "coco": m})
    elif kind == "drop_ann":
        items[n] = items[n].with_(annotations=items[n].annotations[1:])
    return Dataset(ds.categories, items, ds.subset_meta)


def _repo(tmp_path: Path, src: Path, fmt: str = "coco") -> Repo:
    repo = Repo.create(tmp_path / "proj")
    repo.add(import_dataset(src, fmt), name="s", format="datumaro")
    repo.commit("v1")
    return repo


def _step(repo: Repo, ds: Dataset) -> None:
    repo.update("s", ds, format="datumaro")
    repo.commit("step", allow_empty=True)


def _check(repo: Repo, out: Path, ref: Path, fmt: str, options=None):
    """Patch ``out`` to HEAD; the folder must equal a plain export of HEAD and the
    manifest a full export's (rows included)."""
    r = repo.patch_export(out, fmt, "HEAD", options=options)
    export_dataset(repo.dataset("HEAD"), ref, fmt, options)
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(ref)
    repo.patch_export(ref.with_name(ref.name + "-full"), fmt, "HEAD", options=options, incremental=False)
    mine, full = (json.loads((p / MANIFEST).read_text()) for p in (out, ref.with_name(ref.name + "-full")))
    assert mine["items"] == full["items"]
    return r


@pytest.mark.parametrize("fmt, options", [
    ("coco", None),
    ("coco", ["--reindex"]),
    ("coco", ["--save-media", "--merge-images"]),
    ("coco", ["--segmentation-mode", "mask", "--crop-covered", "--save-dataset-meta"]),
    ("coco_instances", None),
    ("coco_person_keypoints", None),
    ("coco_captions", ["--reindex"]),
    ("coco_labels", None),
    ("coco_image_info", None),
])
@pytest.mark.parametrize("kinds", [("move",), ("remove", "add_first"), ("dup_id", "add_last", "drop_ann"),
                                   ("positions", "add_first", "add_last")])
def test_rich_dataset_edits_through_the_hook(tmp_path, fmt, options, kinds):
    repo = _repo(tmp_path, make_rich(tmp_path))
    out = tmp_path / "out"
    repo.patch_export(out, fmt, "HEAD", options=options, incremental=False)
    ds = repo.dataset("HEAD")
    for n, kind in enumerate(kinds):
        ds = _edit(ds, kind, n + 1)
    _step(repo, ds)
    r = _check(repo, out, tmp_path / "ref", fmt, options)
    assert r.mode == "hook"


def test_random_edit_histories(tmp_path):
    """Several patches in a row over the rich set (new items have no COCO ids: their ids
    come after the kept ones and shift with every change before them)."""
    repo = _repo(tmp_path, make_rich(tmp_path))
    runs = iter(range(1000))
    kinds = st.sampled_from(["move", "remove", "add_first", "add_last", "dup_id", "drop_ann", "positions"])

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(steps=st.lists(st.lists(st.tuples(kinds, st.integers(0, 9)), min_size=1, max_size=3), min_size=1,
                          max_size=3),
           options=st.sampled_from([None, ["--reindex"], ["--tasks", "instances,captions"]]))
    def check(steps, options):
        t = tmp_path / f"run{next(runs)}"
        t.mkdir()
        _step(repo, import_dataset(make_rich(t), "coco"))
        out = t / "out"
        repo.patch_export(out, "coco", "HEAD", options=options, incremental=False)
        ds = repo.dataset("HEAD")
        for n, step in enumerate(steps):
            for kind, i in step:
                ds = _edit(ds, kind, i)
            _step(repo, ds)
            assert _check(repo, out, t / f"ref{n}", "coco", options).mode in ("hook", "none")

    check()


def test_sample_patch_serialises_only_the_changed_items(tmp_path):
    repo = Repo.create(tmp_path / "proj")
    repo.add(SAMPLE / "coco", name="coco", format="coco")
    repo.commit("sample")
    repo.update("coco", SAMPLE / "coco_edited", format="coco")
    repo.commit("edited")
    out = tmp_path / "out"
    repo.patch_export(out, "coco", "HEAD~1", incremental=False)
    r = _check(repo, out, tmp_path / "ref", "coco")
    assert (r.mode, r.added, r.removed, r.modified, r.written) == \
        ("hook", 0, 0, 2, ("annotations/instances_train2017.json",))
    m = json.loads((out / MANIFEST).read_text())
    subset, iid, _h, files, (tag, fixed, offset, want, per) = m["items"][0]
    assert (subset, iid, files, tag, fixed, offset, want) == ("train2017", "000000000101", [], "r3", None, 0, 1)
    # (every item is listed in the labels file the sample does not have: that file is not written)
    assert sorted(per) == ["captions", "instances", "labels", "person_keypoints"]
    key, tid, image, wants, pos, omit, aoffs, asizes, abodies, aids, labels = per["instances"]
    assert (key, tid, pos, omit, aids) == (None, None, None, None, None)
    raw = (out / "annotations/instances_train2017.json").read_bytes()
    # the row says where the item's records are in the file, and with which ids
    ioff, isize, ibody, iid = image
    assert iid == 1 and raw[ioff:ioff + isize - ibody] == b'{"id":1,'
    assert json.loads(raw[ioff:ioff + isize]) == {
        "id": 1, "file_name": "000000000101.jpg", "width": 96, "height": 72, "license": 1,
        "date_captured": "2026-11-01 10:00:00"}
    records = [json.loads(raw[o:o + n]) for o, n in zip(aoffs, asizes)]
    assert [raw[o + n - b - 1:o + n - b] for o, n, b in zip(aoffs, asizes, abodies)] == [b","] * len(records)
    ref = json.loads(raw)
    mine = [a for a in ref["annotations"] if a["image_id"] == 1]
    assert wants == [a["id"] for a in mine] and records == mine
    names = {c["id"]: c["name"] for c in ref["categories"]}
    label_names = repo.dataset("HEAD").categories.label_names()
    assert [label_names[i] for i in labels] == sorted({names[a["category_id"]] for a in mine},
                                                      key=label_names.index)
    lab = per["labels"]  # a member of the labels file, which was not written: no places
    assert (lab[2], lab[6], lab[7], lab[8]) == (None, [], [], [])


def test_kept_records_are_copied_not_rebuilt(tmp_path, monkeypatch):
    """After a one-item edit only that item's records go through the record formatting;
    every other record is copied from the earlier file (in runs)."""
    from dsrepo.formats.coco import writer

    repo = _repo(tmp_path, make_rich(tmp_path))
    out = tmp_path / "out"
    repo.patch_export(out, "coco_instances", "HEAD", incremental=False)
    ds = repo.dataset("HEAD")
    _step(repo, _edit(ds, "move", 1))
    formatted = []
    real = writer.TaskFile._ann_records

    def counting(self, pairs, *a):
        for rec in real(self, pairs, *a):
            formatted.append(rec)
            yield rec

    monkeypatch.setattr(writer.TaskFile, "_ann_records", counting)
    r = _check(repo, out, tmp_path / "ref", "coco_instances")
    assert r.mode == "hook" and r.modified == 1
    moved = list(repo.dataset("HEAD"))[1]
    ref = json.loads((tmp_path / f"ref/annotations/instances_{moved.subset}.json").read_text())
    image_id = next(im["id"] for im in ref["images"] if im["file_name"] == moved.media.name)
    mine = [a for a in ref["annotations"] if a["image_id"] == image_id]
    total = len(ref["annotations"])
    # (_check's own full exports format every record: count only the patch's)
    assert len(formatted) - 2 * total == len(mine) and 0 < len(mine) < total


def test_task_file_first_written_now_is_synced(tmp_path):
    """The sample's items are members of a labels file the export did not write (so the
    rows hold no offsets for it); an edit that gives one item a label makes that file
    written: the hook declines and the synced export is still exact."""
    repo = _repo(tmp_path, SAMPLE / "coco")
    out = tmp_path / "out"
    repo.patch_export(out, "coco", "HEAD", incremental=False)
    assert not (out / "annotations/labels_train2017.json").exists()
    ds = repo.dataset("HEAD")
    items = list(ds)
    items[0] = items[0].with_(annotations=items[0].annotations + (Label(label=0),))
    _step(repo, Dataset(ds.categories, items, ds.subset_meta))
    r = repo.patch_export(out, "coco", "HEAD")
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "coco")
    assert (r.modified, r.added, r.removed) == (1, 0, 0)
    assert r.mode == "sync" and "annotations/labels_train2017.json" in r.written
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")


def test_strict_loss_in_a_changed_item_fails_like_the_full_export(tmp_path):
    repo = _repo(tmp_path, make_rich(tmp_path))
    out = tmp_path / "out"
    repo.patch_export(out, "coco", "HEAD", options=["--strict"], incremental=False)
    ds = repo.dataset("HEAD")
    items = list(ds)
    items[0] = items[0].with_(annotations=items[0].annotations + (Polyline(points=(0, 0, 1, 1), label=1),))
    _step(repo, Dataset(ds.categories, items, ds.subset_meta))
    before = tree_digest(out)
    with pytest.raises(ExportError) as full:
        export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "coco", ["--strict"])
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "coco", "HEAD", options=["--strict"])
    assert str(e.value) == str(full.value)
    assert tree_digest(out) == before


def test_panoptic_is_synced(tmp_path):
    repo = _repo(tmp_path, make_rich(tmp_path))
    out = tmp_path / "out"
    opts = ["--tasks", "instances,panoptic"]
    repo.patch_export(out, "coco", "HEAD", options=opts, incremental=False)
    _step(repo, _edit(repo.dataset("HEAD"), "move", 0))
    r = repo.patch_export(out, "coco", "HEAD", options=opts)
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "coco", opts)
    assert r.mode == "sync"
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")


def test_rows_written_by_another_version_are_not_trusted(tmp_path):
    """A row that does not have the fragment layout (hand-edited manifest, older dsrepo)
    makes the hook decline; the synced export is still exact."""
    repo = _repo(tmp_path, make_rich(tmp_path))
    out = tmp_path / "out"
    repo.patch_export(out, "coco", "HEAD", incremental=False)
    m = json.loads((out / MANIFEST).read_text())
    m["items"][1][4] = None
    (out / MANIFEST).write_text(json.dumps(m))
    _step(repo, _edit(repo.dataset("HEAD"), "move", 0))
    r = repo.patch_export(out, "coco", "HEAD")
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "coco")
    assert r.mode == "sync"
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")
    shutil.rmtree(tmp_path / "ref")

"""Datumaro patch hook: unchanged item records are copied from the earlier export.

Every case patches an export of one revision to the next and compares the folder with a
full export of the new revision byte for byte, and the manifest rows (record offsets)
with those of a full export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.annotations import Bbox, Polyline
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo
from tests.repo.helpers import tree_digest


def _repo(tmp_path: Path, ds: Dataset) -> Repo:
    repo = Repo.create(tmp_path / "proj")
    repo.add(ds, name="s", format="datumaro")
    repo.commit("v1")
    return repo


def _step(repo: Repo, items: list[Item], like: Dataset) -> None:
    repo.update("s", Dataset(like.categories, items, like.subset_meta), format="datumaro")
    repo.commit("step", allow_empty=True)


def _check(repo: Repo, out: Path, ref: Path, options=None):
    r = repo.patch_export(out, "datumaro", "HEAD", options=options)
    export_dataset(repo.dataset("HEAD"), ref, "datumaro", options)
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(ref)
    full = ref.with_name(ref.name + "-full")
    repo.patch_export(full, "datumaro", "HEAD", options=options, incremental=False)
    assert json.loads((out / MANIFEST).read_text())["items"] == json.loads((full / MANIFEST).read_text())["items"]
    return r


def _moved(it: Item) -> Item:
    return it.with_(annotations=it.annotations + (Bbox(x=1, y=1, w=2, h=2, label=0),))


@pytest.mark.parametrize("options", [None, ["--save-media"], ["--save-media", "--image-ext", ".png"]])
@pytest.mark.parametrize("edit", ["first", "last", "remove", "add", "every_other", "new_subset"])
def test_edits_through_the_hook(rich, tmp_path, options, edit):
    repo = _repo(tmp_path, import_dataset(rich, "datumaro"))
    out = tmp_path / "out"
    repo.patch_export(out, "datumaro", "HEAD", options=options, incremental=False)
    ds = repo.dataset("HEAD")
    items = list(ds)
    if edit == "first":
        items[0] = _moved(items[0])
    elif edit == "last":
        items[-1] = _moved(items[-1])
    elif edit == "remove":
        del items[1]
    elif edit == "add":
        items.insert(2, Item("fresh", items[2].subset, annotations=(Bbox(x=0, y=0, w=1, h=1, label=1),)))
    elif edit == "every_other":
        items = [_moved(it) if k % 2 else it for k, it in enumerate(items)]
    else:
        items.append(Item("lone", "holdout", annotations=(Bbox(x=0, y=0, w=1, h=1, label=1),)))
    _step(repo, items, ds)
    r = _check(repo, out, tmp_path / "ref", options)
    assert r.mode == "hook"
    changed_files = {"annotations/" + s + ".json" for s in {it.subset for it in items} | {it.subset for it in ds}}
    assert set(r.written) - {f for f in r.written if f.startswith("images/")} <= changed_files


def test_rows_point_at_each_record_and_unchanged_ones_are_copied(rich, tmp_path, monkeypatch):
    from dsrepo.formats.datumaro import exporter

    repo = _repo(tmp_path, import_dataset(rich, "datumaro"))
    out = tmp_path / "out"
    repo.patch_export(out, "datumaro", "HEAD", incremental=False)
    m = json.loads((out / MANIFEST).read_text())
    for subset, iid, _h, files, (off, n) in m["items"]:
        raw = (out / "annotations" / f"{subset}.json").read_bytes()
        assert json.loads(raw[off:off + n])["id"] == iid and raw[off - 1:off] in (b"[", b",")
    ds = repo.dataset("HEAD")
    items = list(ds)
    items[0] = _moved(items[0])
    _step(repo, items, ds)
    serialised = []
    real = exporter._Export.item_json

    def counting(self, item):
        serialised.append(item.id)
        return real(self, item)

    monkeypatch.setattr(exporter._Export, "item_json", counting)
    r = repo.patch_export(out, "datumaro", "HEAD")
    assert r.mode == "hook" and serialised == [items[0].id]
    monkeypatch.undo()
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "datumaro")
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")


def test_rows_of_another_layout_and_strict_losses_sync(rich, tmp_path):
    repo = _repo(tmp_path, import_dataset(rich, "datumaro"))
    out = tmp_path / "out"
    repo.patch_export(out, "datumaro", "HEAD", options=["--strict"], incremental=False)
    m = json.loads((out / MANIFEST).read_text())
    m["items"][1][4] = ["not", "offsets"]
    (out / MANIFEST).write_text(json.dumps(m))
    ds = repo.dataset("HEAD")
    items = list(ds)
    items[0] = _moved(items[0])
    _step(repo, items, ds)
    r = repo.patch_export(out, "datumaro", "HEAD", options=["--strict"])
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "datumaro", ["--strict"])
    assert r.mode == "sync" and tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")


def test_strict_loss_in_a_changed_item_declines(rich, tmp_path):
    """A loss in a changed item under --strict: the hook declines, so the full export
    reports it with every item in view."""
    from dsrepo.formats.datumaro.patch import patch_datumaro
    from dsrepo.progress import NULL_PROGRESS

    ds = import_dataset(rich, "datumaro")
    bad = list(ds)[1].with_(annotations=(Polyline(points=(0, 0, 1, 1), label=99),))
    changed = Dataset(ds.categories, [bad], ds.subset_meta)
    staging = tmp_path / "staging"
    staging.mkdir()
    order = [it.key for it in ds]
    assert patch_datumaro(changed, order, {}, staging, {"strict": True}, NULL_PROGRESS) is None
    assert patch_datumaro(changed, order, {}, staging, {}, NULL_PROGRESS) is None  # (no rows for the others)
    one = Dataset(ds.categories, [bad], ds.subset_meta)
    report, rows = patch_datumaro(one, [bad.key], {}, staging, {}, NULL_PROGRESS)
    assert f"annotations/{bad.subset}.json" in report.files and list(rows) == [bad.key]  # (the loss: a warning)

"""Incremental export (`dsrepo export --incremental`, `dsrepo patch-export`).

The invariant, checked with random edit sequences for every exporting format: a
patch-export over an earlier export gives exactly the files (by md5) of a full export
of the same revision into an empty folder, and the same manifest (timestamps aside)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsrepo.errors import DsrepoError, ExportError
from dsrepo.formats.api import export_dataset
from dsrepo.formats.registry import format_names, get_format
from dsrepo.model import Bbox, Categories, Dataset, Image, Item
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo
from tests.repo.helpers import tree_digest

EXPORTING = [n for n in format_names() if get_format(n).save is not None]
HOOKED = [n for n in EXPORTING if get_format(n).patch is not None]
LABELS = ["cat", "dog", "bird"]
_IMAGES = [np.full((6 + k, 8, 3), 40 * k, np.uint8) for k in range(3)]

# An item spec: (subset, id, image index, ((label, x, y, w, h), ...))
_box = st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 3), st.integers(1, 3), st.integers(1, 3))
_item = st.tuples(st.sampled_from(["train", "val", "default"]), st.sampled_from([f"im{k}" for k in range(8)]),
                  st.integers(0, 2), st.lists(_box, max_size=3).map(tuple))


def _dataset(specs, labels=LABELS) -> Dataset:
    items = {}
    for subset, iid, img, boxes in specs:
        items.setdefault((subset, iid), Item(iid, subset, Image(data=_IMAGES[img], name=f"{iid}.png"),
                                             tuple(Bbox(x=x, y=y, w=w, h=h, label=lab) for lab, x, y, w, h in boxes)))
    return Dataset.from_items(list(items.values()), Categories.from_names(labels))


@st.composite
def _edit(draw, specs):
    """One edit of a dataset spec list: add, remove, relabel, move a box, change a subset, relabel all."""
    specs = list(specs)
    kind = draw(st.sampled_from(["add", "remove", "relabel", "move", "subset", "labels"]))
    if kind == "add" or not specs:
        specs.insert(draw(st.integers(0, len(specs))), draw(_item))
        return specs, LABELS
    i = draw(st.integers(0, len(specs) - 1))
    subset, iid, img, boxes = specs[i]
    if kind == "remove":
        del specs[i]
    elif kind == "relabel" and boxes:
        j = draw(st.integers(0, len(boxes) - 1))
        b = boxes[j]
        specs[i] = (subset, iid, img, boxes[:j] + (((b[0] + 1) % 3, *b[1:]),) + boxes[j + 1:])
    elif kind == "move" and boxes:
        b = boxes[0]
        specs[i] = (subset, iid, img, ((b[0], b[1] + 1, b[2], b[3], b[4]),) + boxes[1:])
    elif kind == "subset":
        specs[i] = ("val" if subset != "val" else "train", iid, img, boxes)
    elif kind == "labels":
        return specs, LABELS[:2] + ["fish", "bird"]
    else:
        specs[i] = (subset, iid, (img + 1) % 3, boxes)
    return specs, LABELS


@st.composite
def _history(draw):
    first = draw(st.lists(_item, min_size=1, max_size=4))
    steps = []
    specs = first
    for _ in range(draw(st.integers(1, 2))):
        for _ in range(draw(st.integers(1, 3))):
            specs, labels = draw(_edit(specs))
        steps.append((list(specs), labels))
    return first, steps


def _manifest(folder: Path) -> dict:
    m = json.loads((folder / MANIFEST).read_text())
    m.pop("time_ns")
    m["files"] = {r: v[:2] for r, v in m["files"].items()}
    return m


def _changed(repo) -> bool:
    a, b = (repo.dataset(r) for r in ("HEAD", "HEAD~1"))
    return [it.key for it in a] != [it.key for it in b] or list(a) != list(b) or a.categories != b.categories


def _through_hook(folder: Path) -> bool:
    """Whether the export in ``folder`` went through the format's patch hook (its items
    record the files they own). A hook declines, and the whole export is synced, when two
    items would own one file (VOC names files by item id alone)."""
    return all(len(e) == 5 for e in json.loads((folder / MANIFEST).read_text())["items"])


def _outcome(fn):
    try:
        return fn(), None
    except DsrepoError as e:
        return None, type(e).__name__


def _check_history(repo: Repo, t: Path, fmt: str, first, steps) -> None:
    """Export ``first``, then patch-export each step over it, comparing with full exports."""
    t.mkdir()
    repo.update("s", _dataset(first), format="datumaro", force=True)
    repo.commit("first", allow_empty=True)
    out = t / "out"
    _r, err = _outcome(lambda: repo.patch_export(out, fmt, "HEAD", incremental=False))
    if err is not None:
        return  # this dataset does not fit the format; nothing to patch
    for n, (specs, labels) in enumerate(steps):
        repo.update("s", _dataset(specs, labels), format="datumaro")
        repo.commit(f"step {n}", allow_empty=True)
        ref, ref_err = None, None
        if fmt in HOOKED:  # a full export of a hooked format goes through the hook: compare with save()
            ref, ref_err = _outcome(lambda: export_dataset(repo.dataset("HEAD"), t / f"ref{n}", fmt))
        full, full_err = _outcome(lambda: repo.patch_export(t / f"full{n}", fmt, "HEAD", incremental=False))
        patched, patch_err = _outcome(lambda: repo.patch_export(out, fmt, "HEAD"))
        assert (ref_err if fmt in HOOKED else full_err, full_err) == (patch_err, patch_err)
        if patch_err is not None:
            return
        digest = tree_digest(out, skip=(MANIFEST,))
        if fmt in HOOKED:
            assert digest == tree_digest(t / f"ref{n}")
        assert digest == tree_digest(t / f"full{n}", skip=(MANIFEST,))
        assert _manifest(out) == _manifest(t / f"full{n}")
        hooked = fmt in HOOKED and _through_hook(t / f"full{n}")
        assert patched.mode == ("none" if not _changed(repo) else "hook" if hooked else "sync")
        assert set(patched.written) <= set(digest)


@pytest.mark.parametrize("fmt,split", [(f, False) for f in EXPORTING]
                         + [(f, True) for f in ("coco", "coco_instances", "datumaro", "cvat")])
def test_patch_export_equals_full_export(fmt, split, tmp_path, monkeypatch):
    """Random edit histories: every patch equals a full export (and save()). With ``split``,
    every full export is made from two parts (a forked child exports the second)."""
    if split:
        from .helpers import split_everything

        split_everything(monkeypatch)
    repo = Repo.create(tmp_path / "proj")
    repo.add(_dataset([("train", "im0", 0, ())]), name="s", format="datumaro")
    runs = iter(range(1000))

    @settings(max_examples=8 if split else 15, deadline=None, suppress_health_check=[HealthCheck.too_slow],
              database=None)
    @given(history=_history())
    def check(history):
        _check_history(repo, tmp_path / f"run{next(runs)}", fmt, *history)

    check()


# -- behaviour on fixed datasets -------------------------------------------------------------------

_V1 = [("train", f"im{k}", k % 3, ((k % 3, 1, 1, 2, 2),)) for k in range(4)]
_V2 = [_V1[0], ("train", "im1", 1, ((1, 2, 1, 2, 2),)), _V1[3], ("train", "im5", 2, ((0, 0, 0, 1, 1),))]


def _two_revisions(repo: Repo, v1=_V1, v2=_V2) -> None:
    repo.add(_dataset(v1), name="s", format="datumaro")
    repo.commit("v1")
    repo.update("s", _dataset(v2), format="datumaro")
    repo.commit("v2")


def _stats(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_labelme_patch_writes_only_the_changed_items(repo, tmp_path):
    _two_revisions(repo)
    out = tmp_path / "out"
    first = repo.patch_export(out, "labelme", "HEAD~1", incremental=False)
    assert (first.mode, first.written, first.deleted) == ("full", tuple(f"train/im{k}.json" for k in range(4)), ())
    before = _stats(out)
    r = repo.patch_export(out, "labelme", "HEAD")
    assert (r.mode, r.added, r.removed, r.modified, r.unchanged) == ("hook", 1, 1, 1, 2)
    assert r.written == ("train/im1.json", "train/im5.json")
    assert r.deleted == ("train/im2.json",)
    after = _stats(out)
    assert after["train/im0.json"] == before["train/im0.json"] and after["train/im3.json"] == before["train/im3.json"]
    assert "train/im2.json" not in after
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "labelme")
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")
    m = json.loads((out / MANIFEST).read_text())
    assert (m["commit"], m["format"], m["target"], m["filter"]) == (repo.resolve("HEAD"), "labelme", "project", None)
    assert [e[:2] + e[3:] for e in m["items"]] == [["train", f"im{k}", [f"train/im{k}.json"], None]
                                                   for k in (0, 1, 3, 5)]
    assert sorted(m["files"]) == ["train/im0.json", "train/im1.json", "train/im3.json", "train/im5.json"]


def test_yolo_patch_rebuilds_only_the_lists_that_changed(repo, tmp_path):
    _two_revisions(repo)
    out = tmp_path / "out"
    repo.patch_export(out, "yolo", "HEAD~1", incremental=False)
    r = repo.patch_export(out, "yolo", "HEAD")
    assert r.mode == "hook"
    assert r.written == ("obj_train_data/im1.txt", "obj_train_data/im5.txt", "train.txt")
    assert r.deleted == ("obj_train_data/im2.txt",)
    assert (out / "train.txt").read_text() == "".join(f"data/obj_train_data/im{k}.png\n" for k in (0, 1, 3, 5))
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "yolo")
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")


def test_coco_patch_rewrites_only_changed_subset_files(repo, coco_sample, coco_edited, tmp_path):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("sample")
    repo.update("coco", coco_edited, format="coco")
    repo.commit("edited")
    out = tmp_path / "out"
    repo.patch_export(out, "coco", "HEAD~1", incremental=False)
    old = tree_digest(out, skip=(MANIFEST,))
    r = repo.patch_export(out, "coco", "HEAD")
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "coco")
    new = tree_digest(tmp_path / "ref")
    assert tree_digest(out, skip=(MANIFEST,)) == new
    assert r.mode == "hook" and (r.added, r.removed, r.modified) == (0, 0, 2)
    assert r.written == tuple(sorted(f for f in new if old.get(f) != new[f]))
    assert r.written == ("annotations/instances_train2017.json",) and r.unchanged == len(new) - 1


def test_nothing_changed_writes_nothing(repo, tmp_path):
    _two_revisions(repo)
    out = tmp_path / "out"
    repo.patch_export(out, "yolo", "HEAD", incremental=False)
    before = _stats(out)
    r = repo.patch_export(out, "yolo", "HEAD")
    assert (r.mode, r.written, r.deleted, r.unchanged) == ("none", (), (), 7)
    after = _stats(out)
    assert {k: v for k, v in after.items() if k != MANIFEST} == {k: v for k, v in before.items() if k != MANIFEST}


def test_hand_edited_or_deleted_file_is_refused(repo, tmp_path):
    _two_revisions(repo)
    out = tmp_path / "out"
    repo.patch_export(out, "labelme", "HEAD~1", incremental=False)
    (out / "train" / "im3.json").write_text("{}")
    before = tree_digest(out)
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "labelme", "HEAD")
    assert str(e.value) == f"{out / 'train/im3.json'}: changed since dsrepo exported it (use --force to overwrite it)"
    assert tree_digest(out) == before
    (out / "train" / "im3.json").unlink()
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "labelme", "HEAD")
    assert str(e.value).startswith(f"{out / 'train/im3.json'}: changed since dsrepo exported it")


def test_force_does_a_full_export_and_keeps_files_dsrepo_did_not_write(repo, tmp_path):
    _two_revisions(repo)
    out = tmp_path / "out"
    repo.patch_export(out, "labelme", "HEAD~1", incremental=False)
    (out / "train" / "im3.json").write_text("{}")
    (out / "notes.txt").write_text("mine")
    r = repo.patch_export(out, "labelme", "HEAD", force=True)
    assert r.mode == "full" and r.deleted == ("train/im2.json",)
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "labelme")
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref") | {"notes.txt": tree_digest(out)["notes.txt"]}
    assert (out / "notes.txt").read_text() == "mine"
    assert repo.patch_export(out, "labelme", "HEAD").mode == "none"  # the forced export left a valid manifest


def test_files_dsrepo_did_not_write_are_never_replaced(repo, tmp_path):
    _two_revisions(repo)
    out = tmp_path / "out"
    repo.patch_export(out, "labelme", "HEAD~1", incremental=False)
    (out / "notes.txt").write_text("mine")
    (out / "train" / "im5.json").write_text("my own file")
    before = tree_digest(out)
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "labelme", "HEAD")
    assert str(e.value) == (f"{out / 'train/im5.json'}: exists and was not written by dsrepo "
                            "(use --force to replace it)")
    assert tree_digest(out) == before  # nothing half-written
    (out / "train" / "im5.json").unlink()
    repo.patch_export(out, "labelme", "HEAD")
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("fmt, options, message", [
    ("yolo", None, "format is 'labelme', not 'yolo'"),
    ("labelme", ["--embed-images"], "option 'embed_images' is False, not True"),
])
def test_manifest_of_another_export_is_refused(repo, tmp_path, fmt, options, message):
    _two_revisions(repo)
    out = tmp_path / "out"
    repo.patch_export(out, "labelme", "HEAD~1", incremental=False)
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, fmt, "HEAD", options=options)
    assert str(e.value) == f"{out / MANIFEST}: {message} (use --force for a full export)"
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "labelme", "HEAD", target="s")
    assert str(e.value) == f"{out / MANIFEST}: target is 'project', not 's' (use --force for a full export)"


def test_folder_without_manifest(repo, tmp_path):
    _two_revisions(repo)
    out = tmp_path / "out"
    r = repo.patch_export(out, "labelme", "HEAD")  # missing folder: a full export
    assert r.mode == "full" and len(r.written) == 4
    (out / MANIFEST).write_text("{")
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "labelme", "HEAD")
    assert str(e.value) == f"{out / MANIFEST}: not valid JSON; use --force for a full export"
    (out / MANIFEST).unlink()
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "labelme", "HEAD")
    assert str(e.value) == (f"{out}: holds no manifest of an earlier export ({MANIFEST}); use --force for a "
                            "full export")


@pytest.mark.parametrize("path", ["../outside.json", "/etc/passwd", "a/../../b", "a//b", "./a", ""])
def test_manifest_naming_a_file_outside_the_folder_is_refused(repo, tmp_path, path):
    """A manifest lists the files an export may delete: one naming a path that is not
    plainly inside the folder is not read (nothing is deleted), even with --force."""
    _two_revisions(repo)
    out = tmp_path / "out"
    repo.patch_export(out, "labelme", "HEAD~1")
    victim = tmp_path / "outside.json"
    victim.write_text("{}")
    m = json.loads((out / MANIFEST).read_text())
    m["files"][path] = ["0" * 32, 2, 0]
    (out / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "labelme", "HEAD")
    assert str(e.value) == (f"{out / MANIFEST}: not a readable dsrepo export manifest (file path {path!r} leaves "
                            "the export folder or is not normalised); use --force for a full export")
    repo.patch_export(out, "labelme", "HEAD", force=True)  # (an unreadable manifest: nothing is deleted)
    assert victim.read_text() == "{}"
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "labelme")
    ref = tree_digest(tmp_path / "ref")
    assert {k: v for k, v in tree_digest(out, skip=(MANIFEST,)).items() if k in ref} == ref


def test_manifest_with_malformed_rows_is_refused(repo, tmp_path):
    _two_revisions(repo)
    out = tmp_path / "out"
    repo.patch_export(out, "labelme", "HEAD~1")
    m = json.loads((out / MANIFEST).read_text())
    m["items"][0] = [m["items"][0][0], 7, m["items"][0][2]]
    (out / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(ExportError) as e:
        repo.patch_export(out, "labelme", "HEAD")
    assert str(e.value).startswith(f"{out / MANIFEST}: not a readable dsrepo export manifest (item [")
    assert str(e.value).endswith("is not [subset, id, hash(, files, data)]); use --force for a full export")


def test_hook_falls_back_when_items_share_a_file(repo, tmp_path, tiny_format):
    shared = [("train", f"im{k}", 0, ((0, 1, 1, 2, 2),)) for k in range(3)]
    ds = _dataset(shared)
    ds = Dataset.from_items([it.with_(media=it.media.with_(name="same.png")) for it in ds], ds.categories)
    repo.add(ds, name="s", format=tiny_format)  # (datumaro's exporter fails on shared image names)
    repo.commit("v1")
    out = tmp_path / "out"
    first = repo.patch_export(out, "labelme", "HEAD", options=["--save-media"], incremental=False)
    assert first.mode == "full" and "train/same.png" in first.written
    m = json.loads((out / MANIFEST).read_text())
    assert all(len(e) == 3 for e in m["items"])  # written by a whole export: no per-item files
    repo.update("s", Dataset.from_items(list(ds)[:2], ds.categories), format=tiny_format)
    repo.commit("v2")
    r = repo.patch_export(out, "labelme", "HEAD", options=["--save-media"])
    assert (r.mode, r.written, r.deleted) == ("sync", (), ("train/im2.json",))
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "labelme", ["--save-media"])
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")


def _run(capsys, *argv) -> tuple[int, str, str]:
    from dsrepo.commands.app import main

    with pytest.raises(SystemExit) as e:
        main(list(argv))
    out, err = capsys.readouterr()
    return e.value.code or 0, out, err


def test_cli_export_incremental_and_patch_export(repo, monkeypatch, capsys):
    _two_revisions(repo)
    monkeypatch.chdir(repo.root)
    c1, c2 = repo.resolve("HEAD~1")[:12], repo.resolve("HEAD")[:12]
    code, out, err = _run(capsys, "-q", "export", "HEAD~1", "-f", "labelme", "-o", "out")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"exported project of {c1}: 4 items, 4 annotations, 4 files to out as labelme"
    assert sorted(json.loads((repo.root / "out" / MANIFEST).read_text())["files"]) == \
        [f"train/im{k}.json" for k in range(4)]
    code, out, _ = _run(capsys, "-q", "export", "HEAD", "-f", "labelme", "-o", "out", "--incremental", "--json")
    d = json.loads(out)
    assert code == 0 and (d["mode"], d["added"], d["removed"], d["modified"], d["unchanged"], d["files"]) == \
        ("hook", 1, 1, 1, 2, 4)
    assert (d["written"], d["deleted"]) == (["train/im1.json", "train/im5.json"], ["train/im2.json"])
    code, out, _ = _run(capsys, "-q", "patch-export", "HEAD", "-f", "labelme", "-o", "out")
    assert code == 0 and out.splitlines()[0] == (
        f"patch-exported project of {c2} to out as labelme (nothing changed): 4 items (0 added, 0 removed, "
        "0 modified); 0 files written, 0 deleted, 4 unchanged")
    (repo.root / "out" / "train" / "im0.json").write_text("{}")
    code, out, err = _run(capsys, "-q", "patch-export", "HEAD~1", "-f", "labelme", "-o", "out")
    assert (code, out) == (5, "")
    assert err == "error: out/train/im0.json: changed since dsrepo exported it (use --force to overwrite it)\n"
    code, out, err = _run(capsys, "-q", "patch-export", "HEAD~1", "-f", "labelme", "-o", "out", "--force")
    assert code == 0 and out.startswith(f"patch-exported project of {c1} to out as labelme (full export: no "
                                        "earlier export to start from): 4 items (4 added, 0 removed, 0 modified); "
                                        "4 files written, 1 deleted, 0 unchanged")
    code, _, err = _run(capsys, "-q", "export", "HEAD", "-f", "labelme", "-o", "out", "--force")
    assert (code, err) == (2, "error: --force goes with --incremental (a plain export never deletes files)\n")


@pytest.mark.parametrize("fmt", ["coco", "datumaro"])
def test_full_export_from_two_halves_equals_a_serial_one(fmt, repo, coco_sample, coco_edited, tmp_path,
                                                         monkeypatch):
    from .helpers import split_everything

    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("sample")
    repo.update("coco", coco_edited, format="coco")
    repo.commit("edited")
    with monkeypatch.context() as m:
        m.setenv("DSREPO_JOBS", "1")
        repo.patch_export(tmp_path / "serial", fmt, "HEAD~1", incremental=False)
    forks = split_everything(monkeypatch)
    split = repo.patch_export(tmp_path / "split", fmt, "HEAD~1", incremental=False)
    assert len(forks) == 1 and split.mode == "full"
    assert tree_digest(tmp_path / "split", skip=(MANIFEST,)) == tree_digest(tmp_path / "serial", skip=(MANIFEST,))
    a, b = (json.loads((tmp_path / d / MANIFEST).read_bytes()) for d in ("split", "serial"))
    assert a["items"] == b["items"]  # the same rows (files differ only in their mtimes)
    assert {f: e[:2] for f, e in a["files"].items()} == {f: e[:2] for f, e in b["files"].items()}
    export_dataset(repo.dataset("HEAD~1"), tmp_path / "ref", fmt)
    assert tree_digest(tmp_path / "split", skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")
    r = repo.patch_export(tmp_path / "split", fmt, "HEAD")  # the rows written from two halves serve a patch
    assert r.mode == "hook" and (r.added, r.removed, r.modified) == (0, 0, 2) and len(forks) == 1
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref2", fmt)
    assert tree_digest(tmp_path / "split", skip=(MANIFEST,)) == tree_digest(tmp_path / "ref2")


def test_full_export_with_media_from_two_halves(repo, coco_sample, tmp_path, monkeypatch):
    from .helpers import split_everything

    (coco_sample / "val2017" / "000000000203.jpg").unlink()  # the last item's image: missing
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("sample")
    with monkeypatch.context() as m:
        m.setenv("DSREPO_JOBS", "1")
        serial = repo.patch_export(tmp_path / "serial", "coco", "HEAD", options=["--save-media"], incremental=False)
    forks = split_everything(monkeypatch)
    split = repo.patch_export(tmp_path / "split", "coco", "HEAD", options=["--save-media"], incremental=False)
    assert len(forks) == 1
    digest = tree_digest(tmp_path / "split", skip=(MANIFEST,))
    assert digest == tree_digest(tmp_path / "serial", skip=(MANIFEST,))
    assert sum(f.startswith("images/") for f in digest) == 7  # the second half's images too
    assert split.written == serial.written
    assert split.missing_media == serial.missing_media and len(serial.missing_media) == 1

"""Checkout re-exports a working copy incrementally when it still holds dsrepo's own
export (rows kept in .dsrepo/cache/rows), and in full otherwise; either way the files
are exactly a full export of the revision. (The file cache, which would place files
it kept instead, is off here: tests/repo/test_filecache.py covers it.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dsrepo.formats.api import export_dataset
from dsrepo.model.annotations import Bbox
from dsrepo.model.dataset import Dataset
from dsrepo.repo import halves, reexport
from dsrepo.repo.repo import Repo

from .helpers import set_file_cache, split_everything


@pytest.fixture(autouse=True)
def _no_file_cache(request):
    if "repo" in request.fixturenames:
        set_file_cache(request.getfixturevalue("repo"), 0)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _expected(repo: Repo, rev: str, source: str, fmt: str, tmp: Path, options=()) -> dict[str, bytes]:
    """A full export of the source at ``rev`` (annotation files only)."""
    out = tmp / f"ref-{rev[:8]}"
    if not out.exists():
        export_dataset(repo.dataset(rev, source), out, fmt, list(options))
    return _files(out)


def _two_revisions(repo: Repo, sample: Path, edited: Path) -> tuple[str, str]:
    repo.add(sample, name="coco", format="coco")
    c1 = repo.commit("sample").id
    repo.update("coco", edited, format="coco")
    return c1, repo.commit("edited").id


@pytest.fixture
def spy(monkeypatch):
    """Records, per checkout, whether the hook ran with rows (incremental) or without."""
    calls: list[tuple[int, bool]] = []
    real = reexport.run_hook

    def wrapped(spec, ds, order, rows, changed, tmp, opts, progress, prev):
        calls.append((len(changed), prev is not None))
        return real(spec, ds, order, rows, changed, tmp, opts, progress, prev)

    monkeypatch.setattr(reexport, "run_hook", wrapped)
    monkeypatch.setattr(halves, "run_hook", wrapped)  # (full exports run the hook from there)
    return calls


def test_coco_checkouts_back_and_forth(repo, coco_sample, coco_edited, tmp_path, spy):
    c1, c2 = _two_revisions(repo, coco_sample, coco_edited)
    wc = repo.layout.source_dir("coco")
    n_items = len(repo.dataset(c1, "coco"))

    repo.checkout(c1)  # the working copy was mirrored from the edited folder: no rows, full export
    assert spy == [(n_items, False)]
    ann = {k: v for k, v in _files(wc).items() if k.startswith("annotations/")}
    assert ann == _expected(repo, c1, "coco", "coco", tmp_path)
    assert (repo.layout.dot / "cache" / "rows" / "coco.json").is_file()

    repo.checkout(c2)  # the folder holds dsrepo's export of c1: only the changed items are exported
    assert spy[1][1] is True and 0 < spy[1][0] < n_items
    ann = {k: v for k, v in _files(wc).items() if k.startswith("annotations/")}
    assert ann == _expected(repo, c2, "coco", "coco", tmp_path)
    assert repo.status().clean

    repo.checkout(c1)
    assert spy[2][1] is True
    assert {k: v for k, v in _files(wc).items() if k.startswith("annotations/")} == \
        _expected(repo, c1, "coco", "coco", tmp_path)
    assert repo.status().clean


def test_edited_working_copy_gets_a_full_export(repo, coco_sample, coco_edited, tmp_path, spy):
    c1, c2 = _two_revisions(repo, coco_sample, coco_edited)
    repo.checkout(c1)
    wc = repo.layout.source_dir("coco")
    cap = wc / "annotations" / "captions_train2017.json"
    cap.write_bytes(cap.read_bytes().replace(b'"caption":"', b'"caption":"edited ', 1))
    repo.checkout(c2, force=True)
    assert [with_rows for _n, with_rows in spy] == [False, False]  # the rows no longer match the folder
    assert {k: v for k, v in _files(wc).items() if k.startswith("annotations/")} == \
        _expected(repo, c2, "coco", "coco", tmp_path)


def test_damaged_rows_cost_a_full_export(repo, coco_sample, coco_edited, tmp_path, spy):
    c1, c2 = _two_revisions(repo, coco_sample, coco_edited)
    repo.checkout(c1)
    (repo.layout.dot / "cache" / "rows" / "coco.json").write_text("{not json")
    repo.checkout(c2)
    assert [with_rows for _n, with_rows in spy] == [False, False]
    wc = repo.layout.source_dir("coco")
    assert {k: v for k, v in _files(wc).items() if k.startswith("annotations/")} == \
        _expected(repo, c2, "coco", "coco", tmp_path)
    repo.remove("coco")
    assert not (repo.layout.dot / "cache" / "rows" / "coco.json").exists()


def test_per_item_format_leaves_unchanged_items_files_alone(repo, coco_sample, tmp_path, spy):
    from dsrepo.formats.api import import_dataset

    ds = import_dataset(coco_sample, "coco")
    boxed = Dataset(ds.categories, [it.with_(annotations=(Bbox(x=1, y=1, w=2, h=2, label=0),)) for it in ds],
                    ds.subset_meta)
    repo.add(boxed, name="y", format="yolo")
    c1 = repo.commit("v1").id
    items = list(boxed)
    items[1] = items[1].with_(annotations=(Bbox(x=2, y=2, w=2, h=2, label=1),))
    del items[2]
    repo.update("y", Dataset(boxed.categories, items, boxed.subset_meta), format="yolo")
    c2 = repo.commit("v2").id
    wc = repo.layout.source_dir("y")
    repo.checkout(c1)
    before = {p.relative_to(wc).as_posix(): p.stat().st_mtime_ns for p in wc.rglob("*.txt")}
    repo.checkout(c2)
    assert spy[-1] == (1, True)  # one modified item (the removed one has nothing to write)
    after = {p.relative_to(wc).as_posix(): p.stat().st_mtime_ns for p in wc.rglob("*.txt")}
    touched = {k for k in after if before.get(k) != after[k]}
    assert touched - {k for k in touched if "/" not in k} == {"obj_train2017_data/000000000102.txt"}
    # (besides the image lists at the top, only the modified item's label file was written)
    assert len(after) == len(before) - 1  # the removed item's label file is gone
    ref = _expected(repo, c2, "y", "yolo", tmp_path)
    assert {k: v for k, v in _files(wc).items() if k in ref} == ref
    assert repo.status().clean


_FORMATS = ["coco", "yolo", "yolo_ultralytics", "datumaro", "voc_detection", "labelme", "cvat", "gt_studio", "imagenet",
            "image_dir", "imagenet_txt", "segments_ai"]


@pytest.mark.parametrize("fmt,split", [(f, False) for f in _FORMATS] + [(f, True) for f in ("coco", "datumaro", "cvat")])
def test_random_checkouts_equal_full_exports(fmt, split, tmp_path, monkeypatch):
    """Random revision histories, then checkouts in random order: after each, status is
    clean and a working copy dsrepo exported is byte for byte what a checkout into an
    empty folder writes - whether the checkout went through the rows or not (with
    ``split``, full exports are made from two halves, one by a forked child)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from dsrepo.errors import DsrepoError
    from dsrepo.repo import halves

    if split:
        monkeypatch.setenv("DSREPO_JOBS", "2")
        monkeypatch.setattr(halves, "MIN_ITEMS", 1)

    from .test_patch_export import _dataset, _history

    runs = iter(range(1000))

    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(history=_history(), picks=st.lists(st.integers(0, 2), min_size=2, max_size=5))
    def check(history, picks):
        first, steps = history
        t = tmp_path / f"run{next(runs)}"
        repo = Repo.create(t / "proj")
        try:
            repo.add(_dataset(first), name="s", format=fmt)
        except DsrepoError:
            return  # this dataset does not fit the format
        revs = [repo.commit("first").id]
        for n, (specs, labels) in enumerate(steps):
            try:
                repo.update("s", _dataset(specs, labels), format=fmt)
            except DsrepoError:
                return
            revs.append(repo.commit(f"step {n}", allow_empty=True).id)
        wc = repo.layout.source_dir("s")
        for k, pick in enumerate(picks):
            rev = revs[pick % len(revs)]
            repo.checkout(rev, force=True)
            assert repo.status().clean
            if not (repo.layout.dot / "cache" / "rows" / "s.json").exists():
                continue  # the folder still holds what update mirrored (not dsrepo's export of it)
            # the same checkout into a copy of the project whose working copy is gone: a full export
            fresh = t / f"fresh{k}"
            shutil.copytree(repo.root, fresh)
            shutil.rmtree(fresh / "s")
            (fresh / ".dsrepo" / "cache" / "rows" / "s.json").unlink()
            Repo.open(fresh).checkout(rev, force=True)
            assert _files(wc) == _files(fresh / "s")

    check()


@pytest.fixture
def split_all(monkeypatch) -> list[int]:
    return split_everything(monkeypatch)


def _full_checkout(repo: Repo, rev: str, source: str) -> tuple[dict[str, bytes], bytes]:
    """Check out ``rev`` with the rows cache gone (a full export); the working copy's
    files and the rows written."""
    rows = repo.layout.dot / "cache" / "rows" / f"{source}.json"
    rows.unlink(missing_ok=True)
    repo.checkout(rev, force=True)
    assert repo.status().clean
    return _files(repo.layout.source_dir(source)), rows.read_bytes()


@pytest.mark.parametrize("fmt", ["coco", "datumaro", "cvat"])
def test_full_export_from_two_halves_is_the_full_export(fmt, repo, coco_sample, coco_edited, tmp_path, split_all,
                                                         monkeypatch):
    from dsrepo.formats.api import import_dataset

    repo.add(import_dataset(coco_sample, "coco"), name="s", format=fmt)
    c1 = repo.commit("sample").id
    repo.update("s", import_dataset(coco_edited, "coco"), format=fmt)
    c2 = repo.commit("edited").id
    before = len(split_all)
    split = {rev: _full_checkout(repo, rev, "s") for rev in (c1, c2)}
    per_checkout = 2 if fmt == "coco" else 1  # the export's halves (+ COCO: reading fingerprints back)
    assert len(split_all) - before == 2 * per_checkout
    with monkeypatch.context() as m:
        m.setenv("DSREPO_JOBS", "1")
        serial = {rev: _full_checkout(repo, rev, "s") for rev in (c1, c2)}
    assert len(split_all) - before == 2 * per_checkout
    assert split == serial
    for rev in (c1, c2):
        ref = _expected(repo, rev, "s", fmt, tmp_path)
        assert {k: v for k, v in split[rev][0].items() if k in ref} == ref


def test_a_failed_half_means_the_ordinary_full_export(repo, coco_sample, coco_edited, tmp_path, split_all,
                                                      monkeypatch):
    import os

    from dsrepo.repo import halves

    c1, c2 = _two_revisions(repo, coco_sample, coco_edited)
    parent = os.getpid()
    real = halves.run_hook

    def failing_in_child(*a, **k):
        if os.getpid() != parent:
            raise RuntimeError("child trouble")
        return real(*a, **k)

    monkeypatch.setattr(halves, "run_hook", failing_in_child)
    before = len(split_all)
    files, _rows = _full_checkout(repo, c1, "coco")
    assert len(split_all) - before == 2  # the export's halves, reading fingerprints back
    ann = {k: v for k, v in files.items() if k.startswith("annotations/")}
    assert ann == _expected(repo, c1, "coco", "coco", tmp_path)
    assert os.listdir(repo.layout.tmp) == []

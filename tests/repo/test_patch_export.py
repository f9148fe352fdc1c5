"""Incremental export (`dsrepo export --incremental`, `dsrepo patch-export`).

The invariant, checked with random edit sequences for every exporting format: a
patch-export over an earlier export gives exactly the files (by md5) of a full export
of the same revision into an empty folder, and the same manifest (timestamps aside)."""

from __future__ import annotations

import json
import os
import tempfile
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
        assert patched.mode == ("none" if not _changed(repo) else "hook" if fmt in HOOKED else "sync")
        assert set(patched.written) <= set(digest)


@pytest.mark.parametrize("fmt", EXPORTING)
def test_patch_export_equals_full_export(fmt, tmp_path):
    repo = Repo.create(tmp_path / "proj")
    repo.add(_dataset([("train", "im0", 0, ())]), name="s", format="datumaro")
    runs = iter(range(1000))

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow],
              database=None)
    @given(history=_history())
    def check(history):
        _check_history(repo, tmp_path / f"run{next(runs)}", fmt, *history)

    check()

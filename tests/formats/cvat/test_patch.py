"""CVAT patch hook: an incremental export writes exactly what a full export writes,
copying unchanged ``<image>`` elements (frame numbers re-spelled when they move) and
inferring attribute specs from every item's values, including unchanged ones."""

from __future__ import annotations


import pytest

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model import Bbox, Categories, Dataset, Item, LabelCategory
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo

from tests.repo.helpers import check_out_like_fresh, tree_digest
from .cvat_data import make_images_task, make_project


def _boxes(k: int, **attrs) -> tuple:
    return (Bbox(x=k, y=1, w=2, h=3, label=k % 2, attributes=attrs),)


def _dataset(items: list[Item]) -> Dataset:
    return Dataset(Categories(labels=(LabelCategory("car"), LabelCategory("person"))), items)


def _items(n: int = 6) -> list[Item]:
    # undeclared attributes: a number whose range makes the spec, a flag, a text
    return [Item(id=f"im{k}", subset="train" if k % 3 else "val",
                 annotations=_boxes(k, speed=k * 10, parked=k % 2 == 0, colour=f"c{k}"),
                 attributes={"frame": k * 2} if k % 2 else {}) for k in range(n)]


@pytest.mark.parametrize("layout", [[], ["--layout", "per-subset"]])
def test_edits_frames_and_inferred_specs(tmp_path, layout, monkeypatch):
    """A revision exported to CVAT from a source in another format: items without frame
    numbers get them in export order, and attribute specs are inferred from the values."""
    from dsrepo.formats.cvat import patch

    replays: list[tuple[int, int, int]] = []  # (frame written before, frame now, attribute values)
    real = patch._replay

    def spy(exp, key, data, src):
        got = real(exp, key, data, src)
        replays.append((data[4], got[3], len(data[6])))
        return got

    monkeypatch.setattr(patch, "_replay", spy)
    repo = Repo.create(tmp_path / "proj")
    items = _items()
    repo.add(_dataset(items), name="s", format="datumaro")
    repo.commit("v1")
    out = tmp_path / "out"
    assert repo.patch_export(out, "cvat", "HEAD", options=layout, incremental=False).mode == "full"

    def step(name: str) -> None:
        repo.update("s", _dataset(items), format="datumaro")
        repo.commit(name)
        r = repo.patch_export(out, "cvat", "HEAD", options=layout)
        assert r.mode == "hook"
        ref = tmp_path / f"ref-{name}"
        export_dataset(repo.dataset("HEAD"), ref, "cvat", layout)
        assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(ref)

    # a value outside the old range widens the inferred number spec; the other items'
    # values come from their rows
    items[2] = items[2].with_(annotations=_boxes(2, speed=999, parked=True, colour="c2"))
    step("v2")
    assert len(replays) == 5 and all(n == 3 for _b, _a, n in replays)
    assert all(before == after for before, after, _n in replays)
    # removing an item without a frame of its own frees its number: a later item without
    # one moves down, and its copied element is re-spelled
    replays.clear()
    del items[2]
    step("v3")
    assert len(replays) == 5 and any(before != after for before, after, _n in replays)


@pytest.mark.parametrize("make", [make_images_task, make_project], ids=["task", "project"])
def test_imported_cvat_source_checkouts(make, tmp_path):
    """A CVAT source (a task, or a project with several subsets and recorded meta): checkouts
    after edits go through the hook and equal a checkout into an empty folder."""
    src = make(tmp_path / "src")
    repo = Repo.create(tmp_path / "proj")
    repo.add(src, name="c", format="cvat")
    c1 = repo.commit("v1").id
    ds = import_dataset(src, "cvat")
    items = list(ds)
    first = items[0]
    items[0] = first.with_(annotations=first.annotations[1:])
    repo.update("c", Dataset(ds.categories, items[:1] + items[2:], ds.subset_meta), format="cvat")
    c2 = repo.commit("v2").id
    for rev in (c1, c2, c1):
        check_out_like_fresh(repo, rev, "c", tmp_path / f"fresh-{rev[:6]}")

"""imagenet_txt patch hook: the lists are rebuilt from the rows of unchanged items and
the lines of changed ones; only files whose bytes change are written."""

from __future__ import annotations

from dsrepo.formats.api import export_dataset
from dsrepo.model import Categories, Dataset, Item, Label
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo
from tests.repo.helpers import tree_digest


def _dataset(items) -> Dataset:
    return Dataset(Categories.from_names(["cat", "dog", "bird"]), items)


def _item(name: str, subset: str, *labels: int) -> Item:
    return Item(id=name, subset=subset, annotations=tuple(Label(label=x) for x in labels))


def test_patch_rebuilds_the_lists_from_rows(tmp_path):
    repo = Repo.create(tmp_path / "proj")
    items = [_item("a", "train", 0), _item("b c", "train", 1, 2), _item("d", "val", 2), _item("e", "val")]
    repo.add(_dataset(items), name="s", format="datumaro")
    repo.commit("v1")
    out = tmp_path / "out"
    repo.patch_export(out, "imagenet_txt", "HEAD", incremental=False)
    assert (out / "train.txt").read_text() == 'a 0\n"b c" 1 2\n'
    items[2] = _item("d", "val", 0)
    items.insert(1, _item("new", "train", 2))
    repo.update("s", _dataset(items), format="datumaro")
    repo.commit("v2")
    r = repo.patch_export(out, "imagenet_txt", "HEAD")
    assert (r.mode, r.added, r.modified, r.written) == ("hook", 1, 1, ("train.txt", "val.txt"))
    assert (out / "train.txt").read_text() == 'a 0\nnew 2\n"b c" 1 2\n' and (out / "val.txt").read_text() == "d 0\ne\n"
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "imagenet_txt")
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")

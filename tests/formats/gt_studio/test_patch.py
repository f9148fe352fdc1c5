"""GT Studio patch hook: an incremental export rewrites only the changed items' files
and leaves the folder exactly as a full export would."""

from __future__ import annotations

from dsrepo.formats.api import export_dataset
from dsrepo.model import Bbox, Categories, Dataset, Item, LabelCategory, Polygon
from dsrepo.model.media import Image
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo
from tests.repo.helpers import tree_digest


def _dataset(items) -> Dataset:
    return Dataset(Categories(labels=(LabelCategory("car"), LabelCategory("person"))), items)


def _item(k: int, dx: float = 0.0) -> Item:
    return Item(id=f"im{k}", media=Image(size=(40, 60), name=f"im{k}.jpg"),
                annotations=(Bbox(x=1 + k + dx, y=2, w=5, h=6, label=k % 2),
                             Polygon(points=(1, 1, 9 + dx, 1, 9, 9), label=0)))


def test_only_the_changed_items_files_are_written(tmp_path):
    repo = Repo.create(tmp_path / "proj")
    items = [_item(k) for k in range(4)]
    repo.add(_dataset(items), name="s", format="datumaro")
    repo.commit("v1")
    out = tmp_path / "out"
    repo.patch_export(out, "gt_studio", "HEAD", incremental=False)
    items[1] = _item(1, dx=2.5)
    del items[3]
    items.append(_item(7))
    repo.update("s", _dataset(items), format="datumaro")
    repo.commit("v2")
    r = repo.patch_export(out, "gt_studio", "HEAD")
    assert (r.mode, r.added, r.removed, r.modified) == ("hook", 1, 1, 1)
    assert r.written == ("im1.json", "im7.json") and r.deleted == ("im3.json",)
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "gt_studio")
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")

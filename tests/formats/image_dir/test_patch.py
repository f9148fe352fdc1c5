"""image_dir patch hook: an incremental export writes only the changed images; an id in
two subsets makes it decline, and the full export reports that."""

from __future__ import annotations

import numpy as np

from dsrepo.formats.api import export_dataset
from dsrepo.formats.image_dir.patch import patch_image_dir
from dsrepo.model import Categories, Dataset, Item
from dsrepo.model.media import Image
from dsrepo.progress import NULL_PROGRESS
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo
from tests.repo.helpers import tree_digest


def _item(name: str, value: int, subset: str = "default") -> Item:
    return Item(id=name, subset=subset, media=Image(data=np.full((4, 6, 3), value, np.uint8), name=f"{name}.png"))


def test_patch_writes_only_the_changed_images(tmp_path):
    repo = Repo.create(tmp_path / "proj")
    items = [_item("a", 1), _item("b/c", 2), _item("d", 3)]
    repo.add(Dataset(Categories(), items), name="s", format="datumaro")
    repo.commit("v1")
    out = tmp_path / "out"
    repo.patch_export(out, "image_dir", "HEAD", incremental=False)
    items[1] = _item("b/c", 9)
    del items[2]
    repo.update("s", Dataset(Categories(), items), format="datumaro")
    repo.commit("v2")
    r = repo.patch_export(out, "image_dir", "HEAD")
    assert (r.mode, r.written, r.deleted) == ("hook", ("b/c.png",), ("d.png",))
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref", "image_dir")
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref")


def test_an_id_in_two_subsets_declines(tmp_path):
    changed = Dataset(Categories(), [_item("a", 1, "val")])
    order = [("train", "a"), ("val", "a")]
    assert patch_image_dir(changed, order, {("train", "a"): (("a.png",), None)}, tmp_path, {}, NULL_PROGRESS) is None
    assert list(tmp_path.iterdir()) == []

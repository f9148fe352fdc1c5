"""imagenet patch hook: an incremental export writes only the changed items' images,
and a layout change (flat <-> per subset) makes it a full export; either way the folder
is exactly a full export."""

from __future__ import annotations

import numpy as np

from dsrepo.formats.api import export_dataset
from dsrepo.model import Categories, Dataset, Item, Label
from dsrepo.model.media import Image
from dsrepo.repo.manifest import MANIFEST
from dsrepo.repo.repo import Repo
from tests.repo.helpers import tree_digest


def _item(k: int, labels: tuple[int, ...], subset: str = "default") -> Item:
    img = np.full((4 + k, 5, 3), 10 * k, np.uint8)
    return Item(id=f"im{k}", subset=subset, media=Image(data=img, name=f"im{k}.png"),
                annotations=tuple(Label(label=x) for x in labels))


def _dataset(items) -> Dataset:
    return Dataset(Categories.from_names(["cat", "dog"]), items)


def test_patch_writes_the_changed_images_and_a_layout_change_everything(tmp_path):
    repo = Repo.create(tmp_path / "proj")
    items = [_item(0, (0,)), _item(1, (1,)), _item(2, (0, 1)), _item(3, ())]
    repo.add(_dataset(items), name="s", format="datumaro")
    repo.commit("v1")
    out = tmp_path / "out"
    repo.patch_export(out, "imagenet", "HEAD", incremental=False)

    items[1] = _item(1, (0,))  # relabelled: moves from dog/ to cat/
    del items[3]
    repo.update("s", _dataset(items), format="datumaro")
    repo.commit("v2")
    r = repo.patch_export(out, "imagenet", "HEAD")
    assert (r.mode, r.modified, r.removed) == ("hook", 1, 1)
    assert r.written == ("cat/im1.png",) and set(r.deleted) == {"dog/im1.png", "no_label/im3.png"}
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref2", "imagenet")
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref2")

    items.append(_item(5, (1,), subset="val"))  # a second subset: every image moves under its subset
    repo.update("s", _dataset(items), format="datumaro")
    repo.commit("v3")
    r = repo.patch_export(out, "imagenet", "HEAD")
    assert r.mode == "hook" and len(r.written) == 5  # (new subset meta: every item exported again)
    export_dataset(repo.dataset("HEAD"), tmp_path / "ref3", "imagenet")
    assert tree_digest(out, skip=(MANIFEST,)) == tree_digest(tmp_path / "ref3")
    assert set(tree_digest(out, skip=(MANIFEST,))) == {"default/cat/im0.png", "default/cat/im1.png",
                                                       "default/cat/im2.png", "default/dog/im2.png",
                                                       "val/dog/im5.png"}


def test_hook_declines_when_the_layout_of_unchanged_items_would_change(tmp_path):
    from dsrepo.formats.imagenet.patch import patch_imagenet
    from dsrepo.progress import NULL_PROGRESS

    changed = _dataset([_item(5, (1,), subset="val")])
    order = [("default", "im0"), ("val", "im5")]
    flat_row = {("default", "im0"): (("cat/im0.png",), "")}  # written when the layout was flat
    assert patch_imagenet(changed, order, flat_row, tmp_path, {}, NULL_PROGRESS) is None
    assert list(tmp_path.iterdir()) == []
    per_subset_row = {("default", "im0"): (("default/cat/im0.png",), "default/")}
    report, rows = patch_imagenet(changed, order, per_subset_row, tmp_path, {}, NULL_PROGRESS)
    assert report.files == ("val/dog/im5.png",) and rows == {("val", "im5"): (("val/dog/im5.png",), "val/")}

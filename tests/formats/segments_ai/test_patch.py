"""Segments.ai patch hook: a release file is written again from the samples of the
unchanged items kept in their rows (in the exporter's key order) and the changed items
converted now; the result is a full export's, and checkouts of an imported release
(with its segmentation bitmaps) go through it."""

from __future__ import annotations

from dsrepo.formats.api import import_dataset
from dsrepo.model import Dataset
from dsrepo.repo.repo import Repo
from tests.repo.helpers import check_out_like_fresh

from .segments_data import make_reference, make_vector


def test_checkouts_of_an_imported_release(tmp_path, monkeypatch):
    from dsrepo.formats.segments_ai import patch

    converted: list[str] = []
    real_export = patch.patch_segments

    def spy(changed, order, rows, out, options, progress, prev=None):
        res = real_export(changed, order, rows, out, options, progress, prev)
        converted.append(f"{len(order) - len(rows)}/{len(order)}")
        return res

    monkeypatch.setattr(patch, "patch_segments", spy)
    for make in (make_reference, make_vector):
        src = make(tmp_path / make.__name__ / "src")
        repo = Repo.create(tmp_path / make.__name__ / "proj")
        repo.add(src, name="r", format="segments_ai")
        c1 = repo.commit("v1").id
        ds = import_dataset(src, "segments_ai")
        items = list(ds)
        items[0] = items[0].with_(annotations=items[0].annotations[:-1])
        repo.update("r", Dataset(ds.categories, items, ds.subset_meta), format="segments_ai")
        c2 = repo.commit("v2").id
        for rev in (c1, c2, c1):
            check_out_like_fresh(repo, rev, "r", tmp_path / make.__name__ / f"fresh-{rev[:6]}")
    assert any(c.startswith("1/") for c in converted)  # a checkout through the rows converted one item

"""Format-independent export behaviour: failed exports leave the folder untouched,
written files get the usual permissions, and zip datasets are not repository sources."""

from __future__ import annotations

import os
import stat
import zipfile

import pytest

from dsrepo.errors import ExportError, RepoError
from dsrepo.formats.api import export_dataset
from dsrepo.model import Bbox, Categories, Dataset, Item, Label
from dsrepo.repo.repo import Repo


def _dataset():
    return Dataset.from_items([Item("a", annotations=(Label(label=0), Bbox(label=0, x=1, y=2, w=3, h=4)))],
                              Categories.from_names(["cat"]))


def test_strict_failure_leaves_the_folder_untouched(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    with pytest.raises(ExportError, match="cannot hold"):
        export_dataset(_dataset(), out, "image_dir", {"strict": True}, overwrite=True)
    assert sorted(os.listdir(out)) == ["mine.txt"]
    assert [p for p in os.listdir(tmp_path) if p.startswith(".dsrepo-export-")] == []


def test_exported_files_are_world_readable(tmp_path):
    export_dataset(_dataset(), tmp_path / "out", "datumaro")
    mode = (tmp_path / "out" / "annotations" / "default.json").stat().st_mode
    assert mode & stat.S_IRGRP and mode & stat.S_IROTH


def test_image_zip_cannot_be_a_source(tmp_path):
    import cv2
    import numpy as np

    ok, buf = cv2.imencode(".png", np.zeros((4, 5, 3), np.uint8))
    z = tmp_path / "imgs.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.png", buf.tobytes())
    repo = Repo.create(tmp_path / "proj")
    with pytest.raises(RepoError, match="format 'image_zip' cannot be a source's format"):
        repo.add(z, name="imgs", format="image_zip")
    assert not (tmp_path / "proj" / "imgs").exists()

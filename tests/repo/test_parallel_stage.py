"""Storing a source with its items built on two processes (dsrepo.forked through
stage_dataset) stores exactly what a serial run stores, remembers the same item
fingerprints, and reports bad records the same way."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.coco import canon
from dsrepo.repo.memo import read_memo
from dsrepo.repo.repo import Repo
from dsrepo.repo.worktree import load_state

from .helpers import split_everything

INSTANCES = "annotations/instances_train2017.json"


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    return split_everything(monkeypatch)


def _serial(tmp_path: Path, src: Path, monkeypatch) -> Repo:
    with monkeypatch.context() as m:
        m.setenv("DSREPO_JOBS", "1")
        serial = Repo.create(tmp_path / "serial")
        serial.add(src, name="coco", format="coco")
    return serial


def test_forked_add_stores_what_a_serial_add_stores(repo, coco_sample, tmp_path, forks, monkeypatch):
    serial = _serial(tmp_path, coco_sample, monkeypatch)
    repo.add(coco_sample, name="coco", format="coco")
    assert len(forks) == 1  # one split of all 8 items (both subsets)
    assert load_state(repo.layout, "coco").record == load_state(serial.layout, "coco").record
    memo = read_memo(repo.layout, "coco")
    assert len(memo) == 8 and memo == read_memo(serial.layout, "coco")
    assert os.listdir(repo.layout.tmp) == []


def test_memo_of_a_forked_add_serves_the_next_status(repo, coco_sample, forks, monkeypatch):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    path = repo.layout.source_dir("coco") / INSTANCES
    d = json.loads(path.read_text())
    d["annotations"][0]["bbox"] = [1, 2, 3, 4]
    path.write_text(json.dumps(d))
    built: list = []
    real = canon.encode_built  # (every stored COCO item is encoded through it)
    monkeypatch.setattr(canon, "encode_built", lambda b, k, md5, media=None: built.append(k) or real(b, k, md5, media))
    change = repo.status().get("coco").change
    assert len(change.modified) == 1 and not (change.added or change.removed)
    assert len(built) == 1  # the other 7 items came from the memo the forked add wrote


def test_bad_record_in_the_child_share_fails_the_add_like_a_serial_run(repo, coco_sample, tmp_path, forks,
                                                                        monkeypatch):
    path = coco_sample / INSTANCES
    d = json.loads(path.read_text())
    last_image = d["images"][-1]["id"]
    bad = next(a for a in reversed(d["annotations"]) if a["image_id"] == last_image)
    bad["segmentation"] = [[1, 2, 3]]
    path.write_text(json.dumps(d))
    with pytest.raises(DatasetError) as serial_err:
        _serial(tmp_path, coco_sample, monkeypatch)
    with pytest.raises(DatasetError) as err:
        repo.add(coco_sample, name="coco", format="coco")
    assert forks and str(err.value) == str(serial_err.value)
    assert "segmentation polygon 0 has an odd number of coordinates (3)" in str(err.value)
    assert not repo.layout.source_dir("coco").exists()
    assert os.listdir(repo.layout.tmp) == []
    assert repo.fsck().ok

"""Item fingerprint memo (dsrepo.repo.memo, dsrepo.formats.coco.fingerprint): after an edit
only the items whose records changed are built, and the stored items are exactly those
a fresh import gives, whatever the edit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dsrepo.formats.coco import canon
from dsrepo.repo.access import item_entries, load_record
from dsrepo.repo.repo import Repo
from dsrepo.repo.worktree import load_state

from .helpers import set_file_cache

INSTANCES = "annotations/instances_train2017.json"


def _built(monkeypatch) -> list:
    """``(subset, id)`` of every item built and encoded to be stored from now on (COCO
    items all go through ``canon.encode_built``, directly or by building them)."""
    calls: list = []
    real = canon.encode_built

    def counting(builder, k, md5, media=None):
        calls.append((builder.subset, builder.item_ids[k]))
        return real(builder, k, md5, media)

    monkeypatch.setattr(canon, "encode_built", counting)
    return calls


def _entries(repo: Repo, name: str = "coco") -> list:
    return item_entries(repo, load_record(repo, load_state(repo.layout, name).record))


def _edit(path: Path, change) -> None:
    d = json.loads(path.read_text())
    change(d)
    path.write_text(json.dumps(d))


def test_status_after_an_edit_builds_only_the_edited_item(repo, coco_sample, monkeypatch):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    calls = _built(monkeypatch)
    _edit(repo.layout.source_dir("coco") / INSTANCES, lambda d: d["annotations"][3].update(bbox=[1, 2, 3, 4]))
    change = repo.status().get("coco").change
    assert len(change.modified) == 1 and not (change.added or change.removed)
    assert calls == [change.modified[0]]  # only the item holding the edited record was built


def _move_last_annotation_first(d):
    d["annotations"].insert(0, d["annotations"].pop())


EDITS = {
    "bbox": lambda d: d["annotations"][0].update(bbox=[5, 5, 5, 5]),
    "segmentation": lambda d: d["annotations"][1].update(segmentation=[[1, 1, 9, 1, 9, 9]]),
    "annotation removed": lambda d: d["annotations"].pop(4),
    "annotation added": lambda d: d["annotations"].append({**d["annotations"][0], "id": 999}),
    "file order changed": _move_last_annotation_first,
    "id repeated": lambda d: d["annotations"][5].update(id=d["annotations"][2]["id"]),
    "category renamed": lambda d: d["categories"][0].update(name="human"),
    "category added": lambda d: d["categories"].insert(0, {"id": 77, "name": "zebra"}),
    "image removed": lambda d: d.update(images=d["images"][1:],
                                        annotations=[a for a in d["annotations"] if a["image_id"] != 1]),
    "images reordered": lambda d: d["images"].reverse(),
    "image width": lambda d: d["images"][2].update(width=999),
    "extra key": lambda d: d["annotations"][0].update(note="checked"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_memo_gives_the_items_a_fresh_import_gives(repo, coco_sample, tmp_path, edit):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    work = repo.layout.source_dir("coco")
    _edit(work / INSTANCES, EDITS[edit])
    repo.status()
    fresh_src = tmp_path / "fresh_src"
    shutil.copytree(work, fresh_src)
    fresh = Repo.create(tmp_path / "fresh")
    fresh.add(fresh_src, name="coco", format="coco")
    assert _entries(repo) == _entries(fresh)
    assert _entries(repo) != item_entries(repo, load_record(repo, load_state(repo.layout, "coco").base))


def test_changed_image_content_rebuilds_its_item(repo, coco_sample, monkeypatch):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    calls = _built(monkeypatch)
    img = next((repo.layout.source_dir("coco") / "train2017").iterdir())
    img.write_bytes(img.read_bytes() + b"\0")
    change = repo.status().get("coco").change
    assert len(change.modified) == 1 and calls == [change.modified[0]]


def test_damaged_or_missing_memo_only_costs_time(repo, coco_sample, tmp_path, monkeypatch):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    memo = repo.layout.dot / "cache" / "memo" / "coco.bin"
    assert memo.stat().st_size == 8 + 40 * len(_entries(repo))  # an entry per item
    memo.write_bytes(memo.read_bytes()[:-3])
    calls = _built(monkeypatch)
    _edit(repo.layout.source_dir("coco") / INSTANCES, lambda d: d["annotations"][0].update(area=1))
    assert len(repo.status().get("coco").change.modified) == 1
    assert len(calls) == len(_entries(repo))  # memo unreadable: everything built, same result
    calls.clear()
    _edit(repo.layout.source_dir("coco") / INSTANCES, lambda d: d["annotations"][0].update(area=2))
    assert len(repo.status().get("coco").change.modified) == 1
    assert len(calls) == 1  # rewritten by the previous status


def test_reformatted_file_reuses_every_item(repo, coco_sample, monkeypatch):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    calls = _built(monkeypatch)
    for f in ("instances_train2017.json", "captions_train2017.json"):
        path = repo.layout.source_dir("coco") / "annotations" / f
        path.write_text(json.dumps(json.loads(path.read_text()), indent=3))  # same values, other spacing
    st = repo.status().get("coco")
    assert st.state == "clean" and calls == []


def test_caption_edit_builds_one_item(repo, coco_sample, monkeypatch):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("one")
    calls = _built(monkeypatch)
    _edit(repo.layout.source_dir("coco") / "annotations" / "captions_val2017.json",
          lambda d: d["annotations"][0].update(caption="a  different   caption"))
    change = repo.status().get("coco").change
    assert len(change.modified) == 1 and calls == [change.modified[0]]


@pytest.mark.parametrize("edit_after", ["full checkout", "incremental checkout"])
def test_edit_after_a_checkout_builds_only_the_edited_item(repo, coco_sample, coco_edited, monkeypatch,
                                                            edit_after):
    """A checkout exports the working copy (records spelled differently from the files the
    source came from); it learns the fingerprints of what it wrote, so an edit after it
    still rebuilds only the edited item."""
    set_file_cache(repo, 0)  # (else the checkout places the files it kept: nothing to learn)
    repo.add(coco_sample, name="coco", format="coco")
    c1 = repo.commit("one").id
    repo.update("coco", coco_edited, format="coco")
    c2 = repo.commit("two").id
    repo.checkout(c1)  # full export (the folder held the mirrored edited files)
    if edit_after == "incremental checkout":
        repo.checkout(c2)  # through the rows: only the changed items are exported
    calls = _built(monkeypatch)
    _edit(repo.layout.source_dir("coco") / INSTANCES, lambda d: d["annotations"][3].update(bbox=[1, 2, 3, 4]))
    change = repo.status().get("coco").change
    assert len(change.modified) == 1 and not (change.added or change.removed)
    changed_by_checkout = 2 if edit_after == "incremental checkout" else 0  # (the sample edit's items)
    assert change.modified[0] in calls and len(calls) <= 1 + changed_by_checkout

"""Storage grows with the number of changed items, not with the dataset size."""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks.coco_gen import generate

from .helpers import set_file_cache


def _size(root, skip: str | None = None) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs
               if skip is None or not os.path.join(d, f).startswith(skip))


def _nudge(ann: Path, every: int = 100) -> int:
    """Move the boxes of every ``every``-th image by a pixel (written with json.dumps spacing)."""
    doc = json.loads(ann.read_text())
    edited_images = sorted({a["image_id"] for a in doc["annotations"]})[::every]
    for a in doc["annotations"]:
        if a["image_id"] in edited_images:
            a["bbox"][0] = round(a["bbox"][0] + 1, 2)
    ann.write_text(json.dumps(doc))
    return len(edited_images)


def test_a_file_larger_than_the_file_cache_is_never_copied(repo, tmp_path):
    """The whole of .dsrepo, file cache included, grows by the changed items only when the
    annotation files do not fit the cache's budget (as a train2017-sized file does not)."""
    set_file_cache(repo, 1)
    src = tmp_path / "gen"
    generate(src, 600, seed=1)  # a ~3.9 MB instances file
    repo.add(src, name="coco", format="coco")
    repo.commit("init")
    before = _size(repo.layout.dot)
    _nudge(repo.layout.source_dir("coco") / "annotations" / "instances_train2017.json")
    repo.commit("nudge boxes of 1% of the images")
    ann_bytes = sum(os.path.getsize(p) for p in (src / "annotations").iterdir())
    assert ann_bytes > 1 << 20
    assert _size(repo.layout.dot) - before < 0.05 * ann_bytes
    assert not repo.file_cache().cached()


def test_one_percent_edit_adds_little(repo, tmp_path):
    src = tmp_path / "gen"
    generate(src, 600, seed=1)
    repo.add(src, name="coco", format="coco")
    repo.commit("init")
    cache = str(repo.layout.dot / "cache" / "files")  # (the file cache: bounded apart, see below)
    store_before = _size(repo.layout.dot, cache)
    packed_before = len(repo.store.packed_hashes())
    edited = _nudge(repo.layout.source_dir("coco") / "annotations" / "instances_train2017.json")  # 6 = 1 %
    c = repo.commit("nudge boxes of 1% of the images")
    assert c.summary["coco"] == {"state": "modified", "added": 0, "removed": 0, "modified": edited}
    new_objects = len(repo.store.packed_hashes()) - packed_before
    # the edited items plus a few list chunks (content-defined, ~32 entries each)
    assert edited < new_objects <= 2 * edited + 2
    added = _size(repo.layout.dot, cache) - store_before
    ann_bytes = sum(os.path.getsize(p) for p in (src / "annotations").iterdir())
    assert added < 0.05 * ann_bytes, (added, ann_bytes)
    # the file cache keeps whole files of recent revisions for fast checkouts, within its
    # budget (a file larger than the budget is never kept: the train2017 benchmark)
    assert _size(cache) <= repo.config.file_cache_mb << 20

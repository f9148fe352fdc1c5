"""Storage grows with the number of changed items, not with the dataset size."""

from __future__ import annotations

import json
import os

from benchmarks.coco_gen import generate


def _size(root) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)


def test_one_percent_edit_adds_little(repo, tmp_path):
    src = tmp_path / "gen"
    generate(src, 600, seed=1)
    repo.add(src, name="coco", format="coco")
    repo.commit("init")
    store_before = _size(repo.layout.dot)
    packed_before = len(repo.store.packed_hashes())
    ann = repo.layout.source_dir("coco") / "annotations" / "instances_train2017.json"
    doc = json.loads(ann.read_text())
    edited_images = sorted({a["image_id"] for a in doc["annotations"]})[::100]  # 6 images = 1 %
    for a in doc["annotations"]:
        if a["image_id"] in edited_images:
            a["bbox"][0] = round(a["bbox"][0] + 1, 2)
    ann.write_text(json.dumps(doc))
    c = repo.commit("nudge boxes of 1% of the images")
    assert c.summary["coco"] == {"state": "modified", "added": 0, "removed": 0, "modified": len(edited_images)}
    new_objects = len(repo.store.packed_hashes()) - packed_before
    # the edited items plus a few list chunks (content-defined, ~32 entries each)
    assert len(edited_images) < new_objects <= 2 * len(edited_images) + 2
    added = _size(repo.layout.dot) - store_before
    ann_bytes = sum(os.path.getsize(p) for p in (src / "annotations").iterdir())
    assert added < 0.05 * ann_bytes, (added, ann_bytes)

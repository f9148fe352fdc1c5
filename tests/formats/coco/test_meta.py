"""How integers were spelled in COCO number arrays (kept for exact round trips)."""

from __future__ import annotations

import pytest

from dsrepo.formats.coco.meta import apply_int_spec, int_spec


@pytest.mark.parametrize("raw, spec", [
    (b"[[1,2,3,4]]", 1),
    (b"[[1.5,2.5,3.0,4.25]]", None),
    (b"[[1.5, 2.5], [3.5, 4.5]]", None),
    (b"[[1,2.5,3]]", "5"),             # positions 0 and 2
    (b"[[2.5,3 ],[4, 5.5]]", "6"),     # positions 1 and 2, whitespace around tokens
    (b"[-3,2.5]", "1"),
    (b"[2.5,-4]", "2"),
    (b"[1e5,2.5]", None),              # exponents are floats
    (b"[[],[1.5,2]]", "2"),            # an empty part does not fool the dot count
])
def test_int_spec(raw, spec):
    assert int_spec(raw) == spec


def test_apply_int_spec_restores_the_spelling():
    assert apply_int_spec([1.0, 2.5, 3.0], "5") == [1, 2.5, 3]
    assert apply_int_spec([1.0, 2.0], 1) == [1, 2]
    assert [type(v) for v in apply_int_spec([1.0, 2.0], None)] == [float, float]


def _doc(anns):
    return {"images": [{"id": i, "file_name": f"{i}.jpg", "width": 10, "height": 10} for i in (1, 2, 3)],
            "categories": [{"id": 1, "name": "a", "supercategory": ""}],
            "annotations": [{"id": aid, "image_id": img, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4,
                             "iscrowd": 0, "segmentation": []} for aid, img in anns]}


def test_id_ordered_annotations_store_no_positions_and_edits_stay_local(tmp_path):
    import json

    from dsrepo.formats.api import export_dataset, import_dataset
    from dsrepo.model.encoding import item_hash

    ann_file = tmp_path / "src" / "annotations" / "instances_default.json"
    ann_file.parent.mkdir(parents=True)
    anns = [(1, 1), (2, 2), (3, 1), (4, 3), (5, 2)]  # sorted by id, not grouped by image
    ann_file.write_text(json.dumps(_doc(anns)))
    before = {it.id: item_hash(it) for it in import_dataset(tmp_path / "src", "coco")}
    export_dataset(import_dataset(tmp_path / "src", "coco"), tmp_path / "out", "coco")
    written = json.loads((tmp_path / "out" / "annotations" / "instances_default.json").read_text())
    assert [(a["id"], a["image_id"]) for a in written["annotations"]] == anns
    ann_file.write_text(json.dumps(_doc([a for a in anns if a[0] != 2])))  # delete annotation 2 (image 2)
    after = {it.id: item_hash(it) for it in import_dataset(tmp_path / "src", "coco")}
    assert [k for k in before if before[k] != after[k]] == ["2"]  # only the edited image changed

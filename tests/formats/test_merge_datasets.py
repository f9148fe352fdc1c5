"""merge-datasets core: inputs in several formats, each policy, reports and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dsrepo.errors import DsrepoError, ExportError, FormatError, UsageError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.mergeds import MergeConflictError, default_report_path, merge_datasets, parse_input
from dsrepo.model import Bbox, Categories, Dataset, Item
from dsrepo.model.media import Image


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Image]:
    """Three tiny PNG images (40x60) on disk."""
    import cv2

    root = tmp_path / "img"
    root.mkdir()
    out = {}
    for n in ("a", "b", "c"):
        p = root / f"{n}.png"
        cv2.imwrite(str(p), np.full((40, 60, 3), ord(n), np.uint8))
        out[n] = Image(path=str(p), size=(40, 60), name=f"{n}.png")
    return out


def box(x, y, w, h, label, **attrs):
    return Bbox(x=x, y=y, w=w, h=h, label=label, attributes=attrs)


def write(ds: Dataset, path: Path, fmt: str) -> Path:
    export_dataset(ds, path, fmt, {"save_media": True})
    return path


def boxes(names, items, images) -> Dataset:
    """A dataset of boxes: items = {id: [(x, y, w, h, label name), ...]} (subset train)."""
    cats = Categories.from_names(names)
    return Dataset.from_items([Item(id=i, subset="train", media=images[i],
                                    annotations=tuple(box(*b[:4], cats.find(b[4])) for b in bs))
                               for i, bs in items.items()], cats)


def summary(ds: Dataset) -> dict:
    """{id: [(type, label name, bbox, attributes), ...]} for comparing outputs (coordinates
    rounded to 1e-3: YOLO's normalised coordinates do not round-trip exactly)."""
    names = ds.categories.label_names()
    return {it.id: [(a.type.value, names[a.label] if a.label is not None else None,
                     tuple(round(v, 3) for v in a.get_bbox()),
                     dict(a.attributes)) for a in it.annotations] for it in ds}


def test_exact_collapses_the_same_dataset_in_coco_datumaro_and_yolo(tmp_path, images):
    ds = boxes(["cat", "dog"], {"a": [(6, 4, 24, 12, "cat"), (30, 20, 15, 10, "dog")], "b": [(0, 0, 60, 40, "dog")]},
               images)
    write(ds, tmp_path / "coco", "coco")
    write(ds, tmp_path / "dm", "datumaro")
    write(ds, tmp_path / "yolo", "yolo")
    out = tmp_path / "merged"
    report = merge_datasets([str(tmp_path / "coco"), f"{tmp_path / 'dm'}:datumaro", f"{tmp_path / 'yolo'}:yolo"],
                            out, "datumaro", report_path=default_report_path(out))
    assert [(s["source"], s["format"], s["items"], s["missing_items"]) for s in report["sources"]] == [
        (1, "coco", 2, 0), (2, "datumaro", 2, 0), (3, "yolo", 2, 0)]
    assert report["conflicts"] == [] and report["unmatched_items"] == []
    assert (report["items"], report["annotations"], report["labels"], report["written"]) == (2, 3, ["cat", "dog"], True)
    merged = import_dataset(out, "datumaro")
    assert summary(merged) == {"a": [("bbox", "cat", (6.0, 4.0, 24.0, 12.0), {}), ("bbox", "dog", (30.0, 20.0, 15.0, 10.0), {})],
                               "b": [("bbox", "dog", (0.0, 0.0, 60.0, 40.0), {})]}
    assert json.loads((tmp_path / "merged.merge_report.json").read_text()) == report
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coco", "dm", "img", "merged", "merged.merge_report.json", "yolo"]


def test_exact_takes_labels_in_other_order_and_fails_on_conflicts(tmp_path, images):
    a = boxes(["cat", "dog"], {"a": [(6, 4, 24, 12, "cat")], "b": [(1, 1, 5, 5, "dog")]}, images)
    b = boxes(["dog", "cat"], {"a": [(6, 4, 24, 12, "cat")], "b": [(1, 1, 5, 6, "dog")], "c": []}, images)
    write(a, tmp_path / "a", "datumaro")
    write(b, tmp_path / "b", "coco")
    out, rep = tmp_path / "out", tmp_path / "rep.json"
    with pytest.raises(MergeConflictError) as e:
        merge_datasets([str(tmp_path / "a"), str(tmp_path / "b")], out, "coco", report_path=rep)
    assert str(e.value) == ("merge exact: 1 item(s) differ between sources, first train/b (sources 1, 2: annotations); "
                            f"nothing written; see {rep}")
    assert e.value.exit_code == 1
    assert not out.exists()
    report = json.loads(rep.read_text())
    assert report == e.value.report
    assert report["conflicts"] == [{"subset": "train", "id": "b", "sources": [1, 2], "differs": ["annotations"]}]
    assert report["unmatched_items"] == [{"subset": "train", "id": "c", "present_in": [2], "missing_in": [1]}]
    assert report["written"] is False and report["error"].startswith("merge exact: 1 item(s) differ")


def test_exact_refuses_different_labels(tmp_path, images):
    write(boxes(["cat", "dog"], {"a": []}, images), tmp_path / "a", "datumaro")
    write(boxes(["cat", "bird"], {"a": []}, images), tmp_path / "b", "datumaro")
    with pytest.raises(DsrepoError) as e:
        merge_datasets([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path / "out")
    assert str(e.value) == ("merge exact: labels of source 2 differ from source 1 (missing dog; extra bird); "
                            "use --policy union to unite label sets")
    assert not (tmp_path / "out").exists()


def test_union_remaps_labels_and_renames_clashing_items(tmp_path, images):
    a = boxes(["cat", "dog"], {"a": [(6, 4, 24, 12, "dog")], "b": [(1, 1, 5, 5, "cat")]}, images)
    b = boxes(["bird", "dog"], {"a": [(6, 4, 24, 12, "bird")], "b": [], "c": [(2, 2, 8, 8, "dog")]}, images)
    write(a, tmp_path / "a", "coco")
    write(b, tmp_path / "b", "yolo")
    out = tmp_path / "out"
    report = merge_datasets([f"{tmp_path / 'a'}:coco", f"{tmp_path / 'b'}:yolo"], out, "datumaro", policy="union")
    assert report["labels"] == ["cat", "dog", "bird"]
    assert report["renamed"] == [{"subset": "train", "id": "a", "source": 2, "renamed_to": "a__1"},
                                 {"subset": "train", "id": "b", "source": 2, "renamed_to": "b__1"}]
    merged = import_dataset(out, "datumaro")
    assert merged.categories.label_names() == ["cat", "dog", "bird"]
    assert summary(merged) == {"a": [("bbox", "dog", (6.0, 4.0, 24.0, 12.0), {})],
                               "a__1": [("bbox", "bird", (6.0, 4.0, 24.0, 12.0), {})],
                               "b": [("bbox", "cat", (1.0, 1.0, 5.0, 5.0), {})],
                               "b__1": [],
                               "c": [("bbox", "dog", (2.0, 2.0, 8.0, 8.0), {})]}
    assert not (tmp_path / "out.merge_report.json").exists()  # no report_path given: the API writes none


def test_intersect_votes_across_formats(tmp_path, images):
    names = ["person", "hand", "head"]
    s1 = boxes(names, {"a": [(0, 0, 20, 20, "person"), (30, 0, 10, 10, "hand")], "b": [(5, 5, 10, 10, "head")]}, images)
    s2 = boxes(names, {"a": [(1, 0, 20, 20, "person"), (30, 0, 10, 10, "head")], "c": [(0, 0, 4, 4, "hand")]}, images)
    s3 = boxes(names, {"a": [(0, 1, 20, 20, "head"), (30, 1, 10, 10, "hand"), (50, 30, 5, 5, "hand")],
                       "b": [(40, 20, 10, 10, "head")]}, images)
    write(s1, tmp_path / "s1", "coco")
    write(s2, tmp_path / "s2", "datumaro")
    write(s3, tmp_path / "s3", "yolo")
    out, rep = tmp_path / "out", tmp_path / "r" / "report.json"
    report = merge_datasets([str(tmp_path / "s1"), str(tmp_path / "s2"), f"{tmp_path / 's3'}:yolo"], out, "datumaro",
                            policy="intersect", iou=0.6, groups=["person,hand,head?"], report_path=rep)
    merged = import_dataset(out, "datumaro")
    assert summary(merged) == {
        # 3 sources: majority 2; person 2 votes of 3, hand 2 of 3
        "a": [("bbox", "person", (0.0, 0.0, 20.0, 20.0), {"score": 0.666667}),
              ("bbox", "hand", (30.0, 0.0, 10.0, 10.0), {"score": 0.666667})],
        # sources 1 and 3: majority 2; the two heads do not overlap
        "b": [],
        # only source 2: voted alone
        "c": [("bbox", "hand", (0.0, 0.0, 4.0, 4.0), {"score": 1.0})],
    }
    assert report["quorum"] == "majority" and report["quorum_lowered"] == []
    assert report["unmatched_annotations"] == [
        {"subset": "train", "id": "a", "source": 3, "type": "bbox", "label": "head", "reason": "outvoted",
         "votes": {"person": 2, "head": 1}},
        {"subset": "train", "id": "a", "source": 2, "type": "bbox", "label": "head", "reason": "outvoted",
         "votes": {"hand": 2, "head": 1}},
        {"subset": "train", "id": "a", "source": 3, "type": "bbox", "label": "hand", "reason": "no quorum",
         "votes": {"hand": 1}},
        {"subset": "train", "id": "b", "source": 1, "type": "bbox", "label": "head", "reason": "no quorum",
         "votes": {"head": 1}},
        {"subset": "train", "id": "b", "source": 3, "type": "bbox", "label": "head", "reason": "no quorum",
         "votes": {"head": 1}},
    ]
    assert report["unmatched_items"] == [{"subset": "train", "id": "b", "present_in": [1, 3], "missing_in": [2]},
                                         {"subset": "train", "id": "c", "present_in": [2], "missing_in": [1, 3]}]
    assert report["errors"] == [{"subset": "train", "id": "c", "error": "incomplete group",
                                 "group": "person,hand,head?", "missing": ["person"]}]
    assert [(s["source"], s["missing_items"], s["unmatched_annotations"]) for s in report["sources"]] == [
        (1, 1, 1), (2, 1, 1), (3, 1, 3)]
    assert json.loads(rep.read_text()) == report


def test_intersect_explicit_quorum_is_clamped_per_item(tmp_path, images):
    s1 = boxes(["cat"], {"a": [(0, 0, 10, 10, "cat")], "b": [(0, 0, 10, 10, "cat")]}, images)
    s2 = boxes(["cat"], {"a": [(0, 0, 10, 10, "cat")]}, images)
    write(s1, tmp_path / "s1", "datumaro")
    write(s2, tmp_path / "s2", "datumaro")
    report = merge_datasets([str(tmp_path / "s1"), str(tmp_path / "s2")], tmp_path / "out", policy="intersect",
                            quorum=2)
    assert report["quorum"] == 2
    assert report["quorum_lowered"] == [{"subset": "train", "id": "b", "quorum": 1}]
    assert summary(import_dataset(tmp_path / "out", "datumaro")) == {
        "a": [("bbox", "cat", (0.0, 0.0, 10.0, 10.0), {"score": 1.0})],
        "b": [("bbox", "cat", (0.0, 0.0, 10.0, 10.0), {"score": 1.0})]}


def test_input_errors(tmp_path, images):
    write(boxes(["cat"], {"a": []}, images), tmp_path / "a", "datumaro")
    a = str(tmp_path / "a")
    with pytest.raises(UsageError, match=r"^merge-datasets needs at least two inputs, got 0$"):
        merge_datasets([], tmp_path / "out")
    with pytest.raises(UsageError, match=r"^merge-datasets needs at least two inputs, got 1$"):
        merge_datasets([a], tmp_path / "out")
    with pytest.raises(FormatError) as e:
        merge_datasets([a, f"{a}:nosuch"], tmp_path / "out")
    assert str(e.value).startswith("unknown format 'nosuch' (known: coco, ")
    with pytest.raises(FormatError) as e:
        merge_datasets([a, str(tmp_path / "missing")], tmp_path / "out")
    assert str(e.value) == f"{tmp_path / 'missing'}: no such file or directory"
    with pytest.raises(UsageError) as e:
        merge_datasets([a, a], tmp_path / "out", policy="vote")
    assert str(e.value) == "unknown merge policy 'vote' (known: exact, union, intersect)"
    with pytest.raises(UsageError) as e:
        merge_datasets([a, a], tmp_path / "out", "datumaro", ["--no-such-option"])
    assert "--no-such-option" in str(e.value)
    with pytest.raises(UsageError) as e:
        merge_datasets([a, a], tmp_path / "out", policy="intersect", groups=["cat,dog"])
    assert str(e.value) == "group 'cat,dog': unknown label 'dog'"
    with pytest.raises(UsageError) as e:
        merge_datasets([a, a], tmp_path / "a" / "sub")
    assert str(e.value) == f"output {tmp_path / 'a' / 'sub'} overlaps input {a}"
    with pytest.raises(UsageError) as e:
        merge_datasets([a, a], tmp_path / "out", report_path=tmp_path / "out" / "r.json")
    assert str(e.value) == f"report {tmp_path / 'out' / 'r.json'} must not be inside the output folder {tmp_path / 'out'}"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(ExportError) as e:
        merge_datasets([a, a], tmp_path / "full")
    assert str(e.value) == f"{tmp_path / 'full'}: folder is not empty (use --overwrite)"
    assert not (tmp_path / "out").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a", "full", "img"]


def test_parse_input_and_default_report_path(tmp_path):
    odd = tmp_path / "x:coco"
    odd.mkdir()
    assert parse_input(str(odd)) == (odd, None)  # an existing path is taken whole
    assert parse_input(f"{tmp_path}/d:yolo") == (tmp_path / "d", "yolo")
    assert parse_input("plain") == (Path("plain"), None)
    with pytest.raises(UsageError, match="^input ':coco': missing path before ':'$"):
        parse_input(":coco")
    assert default_report_path("out") == Path("out.merge_report.json")
    assert default_report_path(tmp_path / "o" / "merged") == tmp_path / "o" / "merged.merge_report.json"

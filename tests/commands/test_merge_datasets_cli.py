"""``dsrepo merge-datasets`` through the real CLI entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model import Bbox, Categories, Dataset, Item
from tests.commands.helpers import run

SAMPLE = Path(__file__).resolve().parents[2] / "dsrepo" / "data" / "sample"


@pytest.fixture
def two(tmp_path):
    """Two datumaro datasets: a = {x: cat box, y: dog box}, b = {x: dog box, z: no boxes}."""
    cats = Categories.from_names(["cat", "dog"])
    a = Dataset.from_items([Item(id="x", annotations=(Bbox(x=1, y=1, w=4, h=4, label=0),)),
                            Item(id="y", annotations=(Bbox(x=2, y=2, w=4, h=4, label=1),))], cats)
    b = Dataset.from_items([Item(id="x", annotations=(Bbox(x=1, y=1, w=4, h=4, label=1),)), Item(id="z")], cats)
    export_dataset(a, tmp_path / "a", "datumaro")
    export_dataset(b, tmp_path / "b", "datumaro")
    return tmp_path / "a", tmp_path / "b"


def test_union_text_summary_and_default_report(tmp_path, two, capsys):
    a, b = two
    out = tmp_path / "out"
    code, text, err = run(capsys, "merge-datasets", a, f"{b}:datumaro", "-o", out, "--policy", "union")
    assert (code, err) == (0, "")
    assert text.splitlines() == [
        f"merged 2 datasets (union): 4 items, 3 annotations, 2 labels -> {out} as datumaro (1 files)",
        f"  source 1 {a} (datumaro): 2 items, 1 missing, 0 annotations not kept",
        f"  source 2 {b} (datumaro): 2 items, 1 missing, 0 annotations not kept",
        "  1 renamed items, 2 unmatched items",
        f"report: {tmp_path / 'out.merge_report.json'}",
    ]
    report = json.loads((tmp_path / "out.merge_report.json").read_text())
    assert report["renamed"] == [{"subset": "default", "id": "x", "source": 2, "renamed_to": "x__1"}]
    assert [i.id for i in import_dataset(out, "datumaro")] == ["x", "x__1", "y", "z"]
    assert sorted(p.name for p in out.iterdir()) == ["annotations"]  # no report inside the dataset


def test_intersect_json_prints_report_and_writes_no_file(tmp_path, two, capsys):
    a, b = two
    code, text, err = run(capsys, "merge-datasets", a, b, "-o", tmp_path / "out", "--policy", "intersect",
                          "--quorum", "1", "--iou", "0.9", "-g", "cat,dog?", "--json")
    assert (code, err) == (0, "")
    report = json.loads(text)
    assert (report["policy"], report["quorum"], report["iou"], report["items"], report["annotations"]) == (
        "intersect", 1, 0.9, 3, 2)
    # x: cat 1 vote vs dog 1 vote -> tie, source 1's cat kept with score 1/2
    assert report["unmatched_annotations"] == [{"subset": "default", "id": "x", "source": 2, "type": "bbox",
                                                "label": "dog", "reason": "outvoted", "votes": {"cat": 1, "dog": 1}}]
    assert report["quorum_lowered"] == []
    # y has only a dog: an optional label also opens the group, so the required cat is missing
    assert report["errors"] == [{"subset": "default", "id": "y", "error": "incomplete group", "group": "cat,dog?",
                                 "missing": ["cat"]}]
    assert (report["output"], report["format"], report["written"], report["warnings"]) == (
        str(tmp_path / "out"), "datumaro", True, [])
    merged = {i.id: i.annotations for i in import_dataset(tmp_path / "out", "datumaro")}
    assert merged["x"] == (Bbox(x=1, y=1, w=4, h=4, label=0, attributes={"score": 0.5}),)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "out"]


def test_exact_conflict_exits_1_and_writes_only_the_report(tmp_path, two, capsys):
    a, b = two
    rep = tmp_path / "r.json"
    code, text, err = run(capsys, "merge-datasets", a, b, "-o", tmp_path / "out", "--report", rep)
    assert code == 1 and text == ""
    assert err == ("error: merge exact: 1 item(s) differ between sources, first default/x (sources 1, 2: annotations); "
                   f"nothing written; see {rep}\n")
    assert not (tmp_path / "out").exists()
    assert json.loads(rep.read_text())["conflicts"] == [{"subset": "default", "id": "x", "sources": [1, 2],
                                                         "differs": ["annotations"]}]
    code, text, err = run(capsys, "merge-datasets", a, b, "-o", tmp_path / "out", "--json")
    assert code == 1 and json.loads(text)["written"] is False and err.startswith("error: merge exact: 1 item(s)")


def test_formats_and_export_options_after_double_dash(tmp_path, capsys):
    coco = tmp_path / "coco"
    shutil.copytree(SAMPLE / "coco", coco)
    assert run(capsys, "-q", "convert", "-i", coco, "-o", tmp_path / "dm", "-f", "datumaro")[0] == 0
    out = tmp_path / "out"
    code, text, err = run(capsys, "merge-datasets", coco, tmp_path / "dm", "-o", out, "-f", "voc",
                          "--", "--save-media", "--image-ext", ".png")
    assert code == 0, err
    assert text.splitlines()[1:4] == [f"  source 1 {coco} (coco): 8 items, 0 missing, 0 annotations not kept",
                                      f"  source 2 {tmp_path / 'dm'} (datumaro): 8 items, 0 missing, 0 annotations not kept",
                                      "  0 conflicts, 0 unmatched items"]
    assert sorted(p.name for p in (out / "JPEGImages").iterdir())[:2] == ["000000000101.png", "000000000102.png"]


def test_cli_errors(tmp_path, two, capsys):
    a, b = two
    code, text, err = run(capsys, "merge-datasets", "-o", tmp_path / "out")
    assert (code, err) == (2, "error: merge-datasets needs at least two inputs, got 0\n")
    code, text, err = run(capsys, "merge-datasets", a, f"{b}:nosuch", "-o", tmp_path / "out")
    assert code == 4 and err.startswith("error: unknown format 'nosuch' (known: coco, ")
    code, text, err = run(capsys, "merge-datasets", a, b, "-o", tmp_path / "out", "--policy", "vote")
    assert (code, err) == (2, "error: unknown merge policy 'vote' (known: exact, union, intersect)\n")
    code, text, err = run(capsys, "merge-datasets", a, b, "-o", tmp_path / "out", "--policy", "intersect",
                          "--quorum", "3")
    assert (code, err) == (2, "error: quorum must be between 1 and 2 (or 0 for a majority), got 3\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]

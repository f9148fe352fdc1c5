"""``dsrepo diff`` and ``dsrepo compare`` through the real CLI entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dsrepo.formats import registry
from dsrepo.repo.repo import Repo
from tests.commands.helpers import run

SAMPLE = Path(__file__).resolve().parents[2] / "dsrepo" / "data" / "sample"
TRAIN = "train2017"


@pytest.fixture
def data(tmp_path):
    shutil.copytree(SAMPLE / "coco", tmp_path / "coco_in")
    shutil.copytree(SAMPLE / "coco_edited", tmp_path / "coco_fixed")
    return tmp_path / "coco_in", tmp_path / "coco_fixed"


@pytest.fixture
def proj(tmp_path, monkeypatch, capsys, data):
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    assert run(capsys, "create")[0] == 0
    assert run(capsys, "add", str(data[0]), "-f", "coco", "-n", "coco")[0] == 0
    assert run(capsys, "commit", "-m", "one")[0] == 0
    assert run(capsys, "update", "coco", str(data[1]), "-f", "coco")[0] == 0
    return root


SUMMARY = [
    "coco: modified: 0 added, 0 removed, 2 modified, 6 unchanged",
    f"  {TRAIN}: 0 added, 0 removed, 2 modified, 3 unchanged",
    "  val2017: 0 added, 0 removed, 0 modified, 3 unchanged",
]
ANNOTATIONS = "  annotations: 0 added, 1 removed, 3 changed (1 format meta, 1 geometry, 2 label)"


def test_diff_working_tree_summary_items_and_stat(proj, capsys):
    code, out, err = run(capsys, "diff")
    head = run(capsys, "log", "--oneline")[1].split()[0]
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"diff HEAD ({head}) -> working tree", *SUMMARY, ANNOTATIONS]
    code, out, _ = run(capsys, "diff", "--items")
    assert out.splitlines()[5:] == [
        f"    M {TRAIN}/000000000101",
        "        ~ polygon #1 (dog): label car -> dog",
        "        ~ polygon #3 (car): label dog -> car",
        "        - polygon #2 (dog)",
        f"    M {TRAIN}/000000000102",
        "        ~ polygon #7 (car): geometry (IoU 0.6923); format meta",
    ]
    assert run(capsys, "commit", "-m", "two")[0] == 0
    code, out, _ = run(capsys, "diff", "HEAD~1", "HEAD", "--stat")
    assert code == 0 and out.splitlines()[1:] == SUMMARY
    code, out, _ = run(capsys, "diff")
    assert out.splitlines()[1:] == ["coco: unchanged (8 items)", "no differences"]


def test_diff_json(proj, capsys):
    code, out, _ = run(capsys, "diff", "--json")
    d = json.loads(out)
    assert code == 0 and d["b"] == "working tree" and d["b_commit"] is None and d["empty"] is False
    assert d["pipeline"] == {"added": [], "removed": [], "policy": None}
    (s,) = d["sources"]
    assert (s["name"], s["state"], s["modified"], s["unchanged"], s["annotations"]) == (
        "coco", "modified", 2, 6, {"added": 0, "removed": 1, "changed": 3})
    item = s["items"][1]
    assert (item["id"], item["state"], item["media"], item["attributes"]) == ("000000000102", "modified", {}, {})
    moved = [a for a in item["annotations"] if "geometry" in a["fields"]]
    assert [(a["id"], a["iou"], a["before"]["points"][:2], a["after"]["points"][:2]) for a in moved] == [
        (7, 0.6923, [13.0, 35.0], [15.0, 35.0])]
    code, out, _ = run(capsys, "diff", "--json", "--stat")
    s = json.loads(out)["sources"][0]
    assert s["decoded"] is False and s["annotations"] is None and [i["annotations"] for i in s["items"]] == [[]] * 2


def test_diff_stages(proj, capsys):
    assert run(capsys, "commit", "-m", "two")[0] == 0
    assert run(capsys, "filter", "-e", "/item[subset='val2017']")[0] == 0
    code, out, _ = run(capsys, "diff")
    stage = Repo.open(proj).stages().stages[0].id
    assert out.splitlines()[1:] == ["coco: unchanged (8 items)",
                                    f"stage + [{stage}] project: filter \"/item[subset='val2017']\""]
    assert run(capsys, "commit", "-m", "filter")[0] == 0
    code, out, _ = run(capsys, "diff", "HEAD", "HEAD~1")
    assert out.splitlines()[1:] == ["coco: unchanged (8 items)",
                                    f"stage - [{stage}] project: filter \"/item[subset='val2017']\""]


def test_diff_dataset_paths_outside_a_project(data, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "diff", str(data[0]), str(data[1]), "-f", "coco")
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"diff {data[0]} (coco) -> {data[1]} (coco)",
                                "coco_in -> coco_fixed: modified: 0 added, 0 removed, 2 modified, 6 unchanged",
                                *SUMMARY[1:], ANNOTATIONS]


def test_diff_errors(proj, capsys):
    code, out, err = run(capsys, "diff", "nope")
    assert (code, out, err) == (6, "", "error: unknown revision 'nope' (not a branch, tag or commit id)\n")
    code, out, err = run(capsys, "diff", "nope", "-f", "coco")
    assert (code, err) == (6, "error: 'nope' is neither an existing dataset path nor a revision\n")
    code, _, err = run(capsys, "diff", "--iou", "2")
    assert (code, err) == (2, "error: --iou must be between 0 and 1, got 2.0\n")


@pytest.fixture
def tiny_format(monkeypatch):
    monkeypatch.setitem(registry.FORMATS, "tinyjson", "tests.repo.tinyfmt:SPEC")
    return "tinyjson"


def _tiny(folder: Path, labels, items) -> Path:
    folder.mkdir(parents=True)
    (folder / "items.json").write_text(json.dumps({"labels": labels, "items": items}))
    return folder


def test_compare_distance_and_exact(tmp_path, monkeypatch, capsys, tiny_format):
    monkeypatch.chdir(tmp_path)
    _tiny(tmp_path / "a", ["cat", "dog"], [{"id": "1", "boxes": [[0, 0, 0, 10, 10], [1, 20, 20, 10, 10]]}])
    _tiny(tmp_path / "b", ["cat", "dog"], [{"id": "1", "boxes": [[0, 0, 0, 10, 10], [0, 21, 20, 10, 10]]}])
    code, out, err = run(capsys, "compare", "a", "b", "-f", tiny_format, "--mode", "distance", "-o", "r.json")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "compare (distance, IoU >= 0.5): a (tinyjson) -> b (tinyjson)",
        "items compared: 1; matched annotations: 2; label agreement: 0.5000; mispredictions: 1",
        "A label\tB label\tcount", "cat\tcat\t1", "dog\tcat\t1",
        "misprediction: default/1: dog -> cat (IoU 0.8182)",
        "report written to r.json"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["mode"] == "distance" and report["confusion"][1] == {"a": "dog", "b": "cat", "count": 1}
    code, out, _ = run(capsys, "compare", "a", "b", "-f", tiny_format, "--json")
    d = json.loads(out)
    assert d["equal"] is False and [m["annotations_changed"] for m in d["mismatches"]] == [
        [{"fields": ["label", "geometry"], "iou": 0.8182}]]
    code, out, _ = run(capsys, "compare", "a", "a", "-f", tiny_format)
    assert out.splitlines()[1:] == ["equal: yes", "categories: equal", "items: 1 equal, 0 differ, 0 only in A, "
                                                                       "0 only in B"]
    code, _, err = run(capsys, "compare", "a", "b", "-f", tiny_format, "-m", "fuzzy")
    assert (code, err) == (2, "error: --mode must be one of exact, distance, got 'fuzzy'\n")

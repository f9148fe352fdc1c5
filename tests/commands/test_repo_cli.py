"""The repository commands, run through the real CLI entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.helpers import run

SAMPLE = Path(__file__).resolve().parents[2] / "dsrepo" / "data" / "sample"


@pytest.fixture
def proj(tmp_path, monkeypatch, capsys):
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    assert run(capsys, "create")[0] == 0
    return root


@pytest.fixture
def data(tmp_path):
    shutil.copytree(SAMPLE / "coco", tmp_path / "coco_in")
    shutil.copytree(SAMPLE / "coco_edited", tmp_path / "coco_fixed")
    return tmp_path / "coco_in", tmp_path / "coco_fixed"


def test_add_in_place(proj, data, capsys):
    shutil.copytree(data[0], proj / "coco")
    code, out, _ = run(capsys, "add", "coco", "-f", "coco")
    assert code == 0 and out == f"added source coco (coco): 8 items, 8 files (0.0 MB) tracked in place {proj / 'coco'}\n"
    code, out, _ = run(capsys, "commit", "-m", "initial import")
    assert code == 0 and out.rstrip().endswith("] coco: source added (8 added)")
    code, out, _ = run(capsys, "status", "--json")
    assert [s["state"] for s in json.loads(out)["sources"]] == ["clean"]


def test_user_workflow(proj, data, capsys):
    src, fixed = data
    code, out, _ = run(capsys, "add", str(src), "-f", "coco", "-n", "coco")
    assert code == 0 and out == f"added source coco (coco): 8 items, 8 files (0.0 MB) in {proj / 'coco'}\n"
    code, out, _ = run(capsys, "status")
    assert out.splitlines() == ["On branch main (no commits yet)", "  coco: added: 8 items, 8 files"]
    code, out, _ = run(capsys, "commit", "-m", "initial import")
    assert code == 0 and out.startswith("[main ") and out.rstrip().endswith("] coco: source added (8 added)")
    c1 = out[6:18]
    code, out, _ = run(capsys, "update", "coco", str(fixed), "-f", "coco")
    assert code == 0 and out == "updated source coco: 8 items, 8 files; 1 file written, 0 deleted (see `dsrepo status`)\n"
    code, out, _ = run(capsys, "status", "-v")
    lines = out.splitlines()
    assert lines[0] == f"On branch main ({c1})"
    assert lines[1].startswith("  coco: modified: ") and lines[1].endswith(" modified")
    assert all(l.startswith("    M train2017/") for l in lines[2:])
    code, out, _ = run(capsys, "commit", "-m", "fix labels from review")
    assert code == 0
    code, out, _ = run(capsys, "log", "--oneline")
    assert [l.split(" ", 1)[1] for l in out.splitlines()] == ["(HEAD -> main) fix labels from review", "initial import"]
    code, out, _ = run(capsys, "info", "HEAD~1")
    assert f"commit {c1}" in out and "source coco (coco): 8 items (train2017 5, val2017 3), 5 labels, 8 files" in out
    code, out, _ = run(capsys, "checkout", "HEAD~1")
    assert code == 0 and out == f"checked out {c1} (detached HEAD) (coco: 1 file written, 0 deleted)\n"
    code, out, _ = run(capsys, "status")
    assert out.splitlines() == [f"HEAD detached ({c1})", "  coco: clean",
                                "nothing to commit, working copies match HEAD"]
    assert run(capsys, "branch", "relabel")[1] == f"created branch relabel at {c1}\n"
    assert run(capsys, "checkout", "relabel")[1].startswith("checked out branch relabel")
    assert run(capsys, "tag", "v1.0")[1] == f"created tag v1.0 at {c1}\n"
    code, out, _ = run(capsys, "branch")
    assert out.splitlines()[1].startswith("* relabel")
    assert run(capsys, "fsck")[1].startswith("ok: ")
    code, out, _ = run(capsys, "pin")
    assert out.startswith("pin: " + c1) and out.rstrip().endswith("(branch relabel)")


def test_json_outputs(proj, data, capsys):
    run(capsys, "add", str(data[0]), "-f", "coco", "-n", "coco")
    st = json.loads(run(capsys, "status", "--json")[1])
    assert st["clean"] is False and st["sources"][0]["state"] == "added" and st["sources"][0]["added"] == 8
    assert len(st["sources"][0]["items"]["added"]) == 8
    c = json.loads(run(capsys, "commit", "-m", "init", "--json")[1])
    assert len(c["id"]) == 40 and c["summary"]["coco"]["added"] == 8
    log = json.loads(run(capsys, "log", "--json")[1])
    assert [e["id"] for e in log] == [c["id"]] and log[0]["message"] == "init"
    info = json.loads(run(capsys, "info", "--json")[1])
    assert info["id"] == c["id"] and info["sources"][0]["subsets"] == {"train2017": 5, "val2017": 3}
    st = json.loads(run(capsys, "status", "--json")[1])
    assert st["clean"] is True and st["head"] == c["id"]
    fsck = json.loads(run(capsys, "fsck", "--json")[1])
    assert fsck["ok"] is True and fsck["counts"]["commits"] == 1


def test_errors_have_one_line_and_exit_codes(proj, data, capsys):
    code, out, err = run(capsys, "create")
    assert (code, err) == (6, f"error: a dsrepo project already exists in {proj}\n")
    code, _, err = run(capsys, "checkout", "nope")
    assert (code, err) == (6, "error: unknown revision 'nope' (not a branch, tag or commit id)\n")
    bad = data[0].parent / "bad"
    shutil.copytree(data[0], bad)
    (bad / "annotations" / "captions_train2017.json").write_text("[1, 2")
    code, _, err = run(capsys, "add", str(bad), "-f", "coco", "-n", "bad")
    assert code == 3 and err.startswith("error: ") and "captions_train2017.json" in err and err.count("\n") == 1
    run(capsys, "add", str(data[0]), "-f", "coco", "-n", "coco")
    code, _, err = run(capsys, "add", str(data[0]), "-f", "coco", "-n", "coco")
    assert (code, err) == (6, "error: source 'coco' already exists "
                              "(use `dsrepo update coco PATH` to replace its content)\n")
    run(capsys, "commit", "-m", "init")
    run(capsys, "update", "coco", str(data[1]), "-f", "coco")
    run(capsys, "commit", "-m", "edit")
    (proj / "coco" / "annotations" / "captions_val2017.json").write_text('{"images": [], "annotations": []}')
    code, _, err = run(capsys, "checkout", "HEAD~1")
    assert (code, err) == (6, "error: local changes in source coco: commit them, or use --force to discard them\n")
    code, _, err = run(capsys, "commit")
    assert code == 2  # typer usage error: -m is required


def test_checkout_one_source_and_project_option(proj, data, capsys, tmp_path, monkeypatch):
    run(capsys, "add", str(data[0]), "-f", "coco", "-n", "coco")
    run(capsys, "commit", "-m", "init")
    run(capsys, "update", "coco", str(data[1]), "-f", "coco")
    run(capsys, "commit", "-m", "edit")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, _ = run(capsys, "checkout", "-p", str(proj), "HEAD~1", "--", "coco")
    assert code == 0 and out.startswith("checked out coco from ")
    code, out, _ = run(capsys, "status", "-p", str(proj))
    assert out.splitlines()[1].startswith("  coco: modified")
    code, _, err = run(capsys, "status")
    assert code == 6 and "no dsrepo project in" in err


def test_remove_and_gc(proj, data, capsys):
    run(capsys, "add", str(data[0]), "-f", "coco", "-n", "coco")
    run(capsys, "commit", "-m", "init")
    code, out, _ = run(capsys, "remove", "coco")
    assert out == "removed source coco (14 files deleted)\n"
    run(capsys, "commit", "-m", "drop")
    code, out, _ = run(capsys, "gc")
    assert code == 0 and out.startswith("removed 0 objects")


def test_status_unchanged_imports_no_heavy_modules(proj, data, capsys):
    run(capsys, "add", str(data[0]), "-f", "coco", "-n", "coco")
    run(capsys, "commit", "-m", "init")
    code = ("import sys\nfrom dsrepo.commands.app import main\n"
            "try:\n    main(['status'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('numpy', 'cv2', 'pycocotools', 'lxml', 'dsrepo.formats.coco.importer') "
            "if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], cwd=proj, capture_output=True, text=True,
                       env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "[]"
    assert "nothing to commit" in r.stdout


def test_pipeline_commands(proj, data, capsys, tmp_path):
    src, _fixed = data
    assert run(capsys, "add", str(src), "-f", "coco", "-n", "coco")[0] == 0
    assert run(capsys, "commit", "-m", "init")[0] == 0
    code, out, _ = run(capsys, "transform", "-t", "remap_labels", "coco", "--", "--label", "cat:feline",
                       "--label", "dog:canine")
    assert code == 0 and out.startswith("added stage [") and "remap_labels --label cat:feline,dog:canine" in out
    code, out, err = run(capsys, "transform", "-t", "random_split", "--dry-run", "--", "--subset", "a:0.5,b:0.5")
    assert code == 0 and "dry run, not recorded: [" in out and "project: random_split --subset a:0.5,b:0.5" in out
    code, out, _ = run(capsys, "filter", "-e", '/item[subset="val2017"]', "--dry-run")
    assert code == 0 and "dry run, not recorded" in out and "<item>" in out
    code, out, _ = run(capsys, "stages", "--json")
    stages = json.loads(out)["stages"]
    assert [s["name"] for s in stages] == ["remap_labels"]
    code, out, _ = run(capsys, "status")
    assert f"stage + [{stages[0]['id']}] coco: remap_labels" in out
    assert run(capsys, "commit", "-m", "pipeline")[0] == 0
    out_dir = tmp_path / "exported"
    code, out, _ = run(capsys, "export", "HEAD", "-f", "coco", "-o", str(out_dir), "--json")
    r = json.loads(out)
    assert code == 0 and r["items"] == 8 and [s["step"] for s in r["steps"]][0] == "source coco"
    code, _, err = run(capsys, "export", "HEAD", "-f", "coco", "-o", str(out_dir))
    assert code == 5 and "folder is not empty (use --overwrite)" in err
    code, out, err = run(capsys, "export", "-t", "coco", "-f", "coco", "-o", str(tmp_path / "wt"), "--",
                         "--save-media")  # no REV: the working tree; options after --
    assert code == 0, err
    assert "of working tree" in out and len(list((tmp_path / "wt" / "images").rglob("*.jpg"))) == 8
    code, _, err = run(capsys, "filter", "-e", "/item[")
    assert code == 2 and "/item[" in err and "Traceback" not in err
    code, _, err = run(capsys, "transform", "-t", "nope")
    assert code == 2 and err.startswith("error: unknown transform 'nope'")
    code, _, err = run(capsys, "stages", "remove", "zzz")
    assert code == 6 and "no stage 'zzz'" in err
    code, out, _ = run(capsys, "stages", "remove", stages[0]["id"][:6])
    assert code == 0 and out.startswith(f"removed stage [{stages[0]['id']}]")
    code, out, _ = run(capsys, "info", "HEAD")
    assert "pipeline (merge policy exact):" in out and "remap_labels" in out


def test_demo_runs_the_workflow(tmp_path, capsys):
    code, out, err = run(capsys, "demo", "--keep", str(tmp_path / "demo"))
    assert code == 0, err
    for expected in ("$ dsrepo commit -m \"initial import of the sample\"", "coco: 2 modified",
                     "stages: 1 added", "exported 8 items", "pipeline (merge policy exact):"):
        assert expected in out
    assert (tmp_path / "demo" / ".dsrepo").is_dir()


def test_merge_and_resolve_commands(proj, data, capsys):
    src, _fixed = data
    run(capsys, "add", str(src), "-f", "coco", "-n", "coco")
    run(capsys, "commit", "-m", "init")
    run(capsys, "branch", "other")
    ann = proj / "coco" / "annotations" / "instances_val2017.json"

    def relabel(cat):
        doc = json.loads(ann.read_text())
        doc["annotations"][0]["category_id"] = cat
        ann.write_text(json.dumps(doc))

    relabel(3)
    run(capsys, "commit", "-m", "car")
    run(capsys, "checkout", "other")
    relabel(18)
    run(capsys, "commit", "-m", "dog")
    run(capsys, "checkout", "main")
    code, out, _ = run(capsys, "merge", "other")
    assert code == 0 and "1 conflicts (our version is in the working copy):" in out
    assert "coco:val2017/000000000201: 1 annotation(s) changed differently on both sides" in out
    code, out, _ = run(capsys, "status")
    assert "1 unresolved conflicts" in out and "both changed: coco:val2017/000000000201" in out
    code, _, err = run(capsys, "commit", "-m", "m")
    assert code == 6 and "1 unresolved merge conflicts" in err
    code, _, err = run(capsys, "resolve", "--ours", "--theirs")
    assert code == 2 and "choose one of --ours or --theirs" in err
    code, out, _ = run(capsys, "resolve", "coco", "--theirs")
    assert code == 0 and out.strip() == "resolved 1 conflicts (theirs); 0 left"
    code, out, _ = run(capsys, "commit", "-m", "merged")
    assert code == 0
    code, out, _ = run(capsys, "log", "-n", "1", "--json")
    assert len(json.loads(out)[0]["parents"]) == 2


def test_transforms_listing(capsys):
    code, out, _ = run(capsys, "transforms", "remap_labels")
    assert code == 0 and out.splitlines()[0].startswith("remap_labels  ")
    assert "    --default [keep|delete]: " in out and "(default: keep)" in out
    code, out, _ = run(capsys, "transforms", "--json")
    names = [t["name"] for t in json.loads(out)]
    assert len(names) == 20 and names == sorted(names)

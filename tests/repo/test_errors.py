"""Bad input: one clear error, and the repository is left exactly as it was."""

from __future__ import annotations

import json
import shutil

import pytest

from dsrepo.errors import DatasetError, FormatError, RepoError, UsageError
from dsrepo.repo.repo import Repo

from .helpers import tree_digest


def _snapshot(repo: Repo) -> dict[str, str]:
    return tree_digest(repo.root)


def _assert_only_staged(before: dict, after: dict) -> None:
    """Nothing changed except what status may record: new objects, the stat cache and the
    item fingerprint memo."""
    caches = (".dsrepo/state/", ".dsrepo/cache/memo/", ".dsrepo/cache/files")
    staging = (".dsrepo/packs/", ".dsrepo/objects/", ".dsrepo/media/", *caches)
    assert {k: v for k, v in before.items() if not k.startswith(caches)} == \
        {k: v for k, v in after.items()
         if not k.startswith(staging) or (k in before and not k.startswith(caches))}


def _committed(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    return _snapshot(repo)


def test_create_where_project_exists(tmp_path):
    Repo.create(tmp_path / "p")
    before = tree_digest(tmp_path / "p")
    with pytest.raises(RepoError, match=rf"^a dsrepo project already exists in {tmp_path / 'p'}$"):
        Repo.create(tmp_path / "p")
    assert tree_digest(tmp_path / "p") == before


def test_open_without_project(tmp_path):
    with pytest.raises(RepoError, match=r"^no dsrepo project in .* or any parent folder "
                                        r"\(run `dsrepo create` first\)$"):
        Repo.open(tmp_path)


def test_open_finds_project_upward(repo):
    sub = repo.root / "a" / "b"
    sub.mkdir(parents=True)
    assert Repo.open(sub).root == repo.root


def test_checkout_over_local_changes(repo, coco_sample, coco_edited):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    repo.update("coco", coco_edited, format="coco")
    repo.commit("edit")
    ann = repo.layout.source_dir("coco") / "annotations" / "captions_train2017.json"
    doc = json.loads(ann.read_text())
    doc["annotations"][0]["caption"] = "local edit"
    ann.write_text(json.dumps(doc))
    before = _snapshot(repo)
    with pytest.raises(RepoError, match=r"^local changes in source coco: commit them, "
                                        r"or use --force to discard them$"):
        repo.checkout("HEAD~1")
    _assert_only_staged(before, _snapshot(repo))
    assert repo.status().get("coco").state == "modified"
    repo.checkout("HEAD~1", force=True)
    assert repo.status().clean
    assert "local edit" not in ann.read_text()


def test_unknown_revision_changes_nothing(repo, coco_sample):
    before = _committed(repo, coco_sample)
    with pytest.raises(RepoError, match=r"^unknown revision 'v9' \(not a branch, tag or commit id\)$"):
        repo.checkout("v9")
    with pytest.raises(RepoError, match=r"^unknown revision 'HEAD~1': history has fewer commits$"):
        repo.checkout("HEAD~1")
    assert _snapshot(repo) == before


def test_source_name_clash(repo, coco_sample):
    before = _committed(repo, coco_sample)
    with pytest.raises(RepoError, match=r"^source 'coco' already exists "
                                        r"\(use `dsrepo update coco PATH` to replace its content\)$"):
        repo.add(coco_sample, name="coco", format="coco")
    assert _snapshot(repo) == before


def test_add_over_existing_folder(repo, coco_sample):
    (repo.root / "data").mkdir()
    (repo.root / "data" / "notes.txt").write_text("mine")
    before = _snapshot(repo)
    with pytest.raises(RepoError, match=rf"^{repo.root / 'data'} already exists; "
                                        r"choose another source name \(-n NAME\) or move it away$"):
        repo.add(coco_sample, name="data", format="coco")
    assert _snapshot(repo) == before


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "..", ".dsrepo", "-x", "dsrepo.pin", "a b"])
def test_invalid_source_names(repo, coco_sample, name):
    with pytest.raises(RepoError, match="^invalid source name"):
        repo.add(coco_sample, name=name, format="coco")
    assert repo.status().sources == ()


def test_dataset_that_fails_to_import(repo, coco_sample, tmp_path):
    before = _committed(repo, coco_sample)
    bad = tmp_path / "bad"
    shutil.copytree(coco_sample, bad)
    (bad / "annotations" / "instances_val2017.json").write_text('{"images": [')
    with pytest.raises(DatasetError, match=r"instances_val2017\.json"):
        repo.add(bad, name="bad", format="coco")
    assert _snapshot(repo) == before
    with pytest.raises(DatasetError, match=r"instances_val2017\.json"):
        repo.update("coco", bad, format="coco")
    assert _snapshot(repo) == before
    with pytest.raises(FormatError, match=r"^unknown format 'nope'"):
        repo.add(coco_sample, name="x", format="nope")
    with pytest.raises(FormatError, match=r"no such file or directory"):
        repo.add(tmp_path / "missing", name="x", format="coco")
    assert _snapshot(repo) == before


def test_bad_options(repo, coco_sample):
    with pytest.raises(UsageError, match=r"^coco import: unknown option --nope"):
        repo.add(coco_sample, name="x", format="coco", import_options=["--nope"])
    with pytest.raises(UsageError,
                       match=r"^option --segmentation-mode: expected one of guess, polygons, mask, got 'x'$"):
        repo.add(coco_sample, name="x", format="coco", export_options=["--segmentation-mode", "x"])
    assert repo.status().sources == ()
    assert not (repo.root / "x").exists()


def test_working_copy_that_no_longer_imports(repo, coco_sample):
    _committed(repo, coco_sample)
    ann = repo.layout.source_dir("coco") / "annotations" / "instances_train2017.json"
    ann.write_text("{not json")
    with pytest.raises(DatasetError, match=r"instances_train2017\.json"):
        repo.status()
    with pytest.raises(DatasetError, match=r"instances_train2017\.json"):
        repo.commit("broken")
    with pytest.raises(DatasetError, match=r"instances_train2017\.json"):
        repo.checkout("main")
    repo.checkout("main", force=True)
    assert repo.status().clean


def test_nothing_to_commit_and_empty_message(repo, coco_sample):
    with pytest.raises(RepoError, match=r"^nothing to commit: no sources yet \(use `dsrepo add`\)$"):
        repo.commit("x")
    before = _committed(repo, coco_sample)
    with pytest.raises(RepoError, match=r"^nothing to commit: the working copies match HEAD$"):
        repo.commit("again")
    with pytest.raises(UsageError, match=r"^empty commit message \(use -m MESSAGE\)$"):
        repo.commit("  ")
    assert _snapshot(repo) == before


def test_commit_with_missing_source_folder(repo, coco_sample):
    _committed(repo, coco_sample)
    shutil.rmtree(repo.layout.source_dir("coco"))
    assert repo.status().get("coco").state == "missing"
    with pytest.raises(RepoError,
                       match=r"^source folder missing: coco \(restore it with `dsrepo checkout --force -- NAME`"):
        repo.commit("x")
    repo.checkout("HEAD", ["coco"], force=True)
    assert repo.status().clean


def test_update_over_uncommitted_edits(repo, coco_sample, coco_edited):
    _committed(repo, coco_sample)
    ann = repo.layout.source_dir("coco") / "annotations" / "captions_val2017.json"
    doc = json.loads(ann.read_text())
    doc["annotations"][0]["caption"] = "mine"
    ann.write_text(json.dumps(doc))
    with pytest.raises(RepoError, match=r"^source 'coco' has changes that are not committed; commit them first, "
                                        r"or use --force to replace them$"):
        repo.update("coco", coco_edited, format="coco")
    assert "mine" in ann.read_text()
    repo.update("coco", coco_edited, format="coco", force=True)
    assert "mine" not in ann.read_text()


def test_remove_with_uncommitted_edits(repo, coco_sample):
    _committed(repo, coco_sample)
    ann = repo.layout.source_dir("coco") / "annotations" / "captions_val2017.json"
    ann.write_text(ann.read_text().replace('"caption":', '"caption" :', 1))  # same content, new bytes
    doc = json.loads(ann.read_text())
    doc["annotations"][0]["caption"] = "mine"
    ann.write_text(json.dumps(doc))
    with pytest.raises(RepoError,
                       match=r"^source 'coco' has changes that are not committed; commit them, or use --keep-data"):
        repo.remove("coco")
    assert ann.is_file()
    repo.remove("coco", force=True)
    assert not repo.layout.source_dir("coco").exists()


def test_unknown_source(repo):
    with pytest.raises(RepoError, match=r"^no source named 'x' \(sources: none\)$"):
        repo.remove("x")
    with pytest.raises(RepoError, match=r"^no source named 'x' \(sources: none\)$"):
        repo.update("x", "/nonexistent")


def test_adding_a_folder_that_holds_the_project(tmp_path, coco_sample):
    import shutil as sh

    root = tmp_path / "data"
    sh.copytree(coco_sample, root)
    repo = Repo.create(root / "proj")
    before = tree_digest(root)
    with pytest.raises(RepoError, match=rf"^{root}: holds this project; add the dataset's own folder$"):
        repo.add(root, name="coco", format="coco")
    assert tree_digest(root) == before

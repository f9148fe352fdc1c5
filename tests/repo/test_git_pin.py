"""Inside an ML git repository: commits record git's HEAD and dirty flag, .git is never
touched, and the pin file restores the dataset revision a code commit was made with."""

from __future__ import annotations

import subprocess

import pytest

from dsrepo.errors import RepoError
from dsrepo.formats.api import import_dataset
from dsrepo.repo.pin import read_pin
from dsrepo.repo.repo import Repo

from .helpers import assert_same_content, load_source, tree_digest


def git(root, *args) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@x", "HOME": str(root), "PATH": "/usr/bin:/bin"}).stdout.strip()


@pytest.fixture
def ml_repo(tmp_path):
    root = tmp_path / "ml"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "train.py").write_text("print('v1')\n")
    (root / ".gitignore").write_text("coco/\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "code v1")
    return root


def test_commit_records_git_state_and_never_touches_git(ml_repo, coco_sample):
    git_before = tree_digest(ml_repo / ".git")
    repo = Repo.create(ml_repo)
    repo.add(coco_sample, name="coco", format="coco")
    c = repo.commit("init")
    sha = git(ml_repo, "rev-parse", "HEAD")
    assert c.git == {"commit": sha, "dirty": False}  # the pin file written by dsrepo does not count
    assert repo.log()[0].commit.git == {"commit": sha, "dirty": False}
    (ml_repo / "train.py").write_text("print('v2')\n")
    c2 = repo.commit("again", allow_empty=True)
    assert c2.git == {"commit": sha, "dirty": True}
    repo.checkout("HEAD~1")
    assert tree_digest(ml_repo / ".git") == git_before
    # git sees the code change and the new pin file; .dsrepo/ ignores itself
    assert git(ml_repo, "status", "--porcelain").splitlines() == ["M train.py", "?? dsrepo.pin"]


def test_pinned_workflow(ml_repo, coco_sample, coco_edited):
    repo = Repo.create(ml_repo)
    repo.add(coco_sample, name="coco", format="coco")
    d1 = repo.commit("dataset v1").id
    assert read_pin(repo).revision == d1 and read_pin(repo).branch == "main"
    git(ml_repo, "add", "dsrepo.pin")
    git(ml_repo, "commit", "-q", "-m", "train on dataset v1")
    code_v1 = git(ml_repo, "rev-parse", "HEAD")

    repo.update("coco", coco_edited, format="coco")
    d2 = repo.commit("dataset v2").id
    (ml_repo / "train.py").write_text("print('v2')\n")
    git(ml_repo, "add", "dsrepo.pin", "train.py")
    git(ml_repo, "commit", "-q", "-m", "train on dataset v2")

    git(ml_repo, "checkout", "-q", code_v1)
    r = repo.checkout(pinned=True)  # the one command that restores the data
    assert r.commit == d1 and r.branch is None
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
    assert git(ml_repo, "status", "--porcelain") == ""  # the pin file did not change

    git(ml_repo, "checkout", "-q", "main")
    r = repo.checkout(pinned=True)
    assert r.commit == d2 and r.branch == "main"
    assert_same_content(import_dataset(coco_edited, "coco"), load_source(repo, "coco"))
    assert git(ml_repo, "status", "--porcelain") == ""


def test_pin_errors(repo, coco_sample):
    with pytest.raises(RepoError, match=r"^no pin file .*dsrepo\.pin "
                                        r"\(it is written by `dsrepo commit` and `dsrepo checkout`\)$"):
        repo.checkout(pinned=True)
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    repo.layout.pin.write_text("revision: " + "ab" * 20 + "\n")
    with pytest.raises(RepoError, match=r"^pinned revision abababababab is not in this repository"):
        repo.checkout(pinned=True)
    repo.layout.pin.write_text("nonsense\n")
    with pytest.raises(RepoError, match=r"malformed line 'nonsense'"):
        repo.checkout(pinned=True)
    p = repo.pin("HEAD")
    assert read_pin(repo) == p


def test_git_is_looked_for_up_the_folders_without_importing_it(tmp_path):
    from dsrepo.repo.gitinfo import _inside_git, git_state

    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert not _inside_git(deep)
    assert git_state(deep) == (None, None)
    (tmp_path / "a" / ".git").write_text("gitdir: /nowhere\n")  # a worktree's .git file
    assert _inside_git(deep) and _inside_git(tmp_path / "a")
    assert not _inside_git(tmp_path)

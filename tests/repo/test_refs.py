"""Revision names: HEAD, HEAD~N, HEAD^, branches, tags, id prefixes."""

from __future__ import annotations

import pytest

from dsrepo.errors import RepoError


def _commits(repo, coco_sample, n):
    repo.add(coco_sample, name="coco", format="coco")
    ids = [repo.commit("c0").id]
    for i in range(1, n):
        ids.append(repo.commit(f"c{i}", allow_empty=True).id)
    return ids


def test_resolve_expressions(repo, coco_sample):
    ids = _commits(repo, coco_sample, 4)
    assert repo.resolve("HEAD") == ids[3]
    assert repo.resolve("HEAD~1") == ids[2]
    assert repo.resolve("HEAD^") == ids[2]
    assert repo.resolve("HEAD^^") == ids[1]
    assert repo.resolve("HEAD~3") == ids[0]
    assert repo.resolve("HEAD~0") == ids[3]
    assert repo.resolve("main~2^") == ids[0]
    assert repo.resolve(ids[1][:6]) == ids[1]
    assert repo.resolve(ids[1]) == ids[1]
    repo.tag("v1", "HEAD~2")
    assert repo.resolve("v1~1") == ids[0]


def test_resolve_errors(repo, coco_sample):
    with pytest.raises(RepoError, match=r"^unknown revision 'HEAD': branch 'main' has no commits yet$"):
        repo.resolve("HEAD")
    _commits(repo, coco_sample, 2)
    with pytest.raises(RepoError, match=r"^unknown revision 'nope' \(not a branch, tag or commit id\)$"):
        repo.resolve("nope")
    with pytest.raises(RepoError, match=r"^unknown revision 'HEAD~5': history has fewer commits$"):
        repo.resolve("HEAD~5")
    with pytest.raises(RepoError, match=r"^unknown revision ''$"):
        repo.resolve("")
    with pytest.raises(RepoError, match=r"^unknown revision 'abc' \(not a branch, tag or commit id\)$"):
        repo.resolve("abc")  # fewer than 4 hex digits is not an id prefix


def test_branch_and_tag_rules(repo, coco_sample):
    _commits(repo, coco_sample, 2)
    repo.branch("feature/x")
    assert [b.name for b in repo.branch()] == ["feature/x", "main"]
    with pytest.raises(RepoError, match=r"^branch 'feature/x' already exists"):
        repo.branch("feature/x")
    with pytest.raises(RepoError, match=r"^invalid branch name 'bad name'$"):
        repo.branch("bad name")
    with pytest.raises(RepoError, match=r"^invalid tag name '\.\.'$"):
        repo.tag("..")
    with pytest.raises(RepoError, match=r"^cannot delete branch 'main': it is checked out$"):
        repo.branch("main", delete=True)
    repo.tag("v1")
    with pytest.raises(RepoError, match=r"^a tag named 'v1' already exists; use another name$"):
        repo.branch("v1")
    repo.branch("feature/x", delete=True)
    assert [b.name for b in repo.branch()] == ["main"]
    assert not (repo.layout.refs / "heads" / "feature").exists()
    repo.tag("v1", delete=True)
    assert repo.tag() == []
    with pytest.raises(RepoError, match=r"^no tag named 'v1'$"):
        repo.tag("v1", delete=True)

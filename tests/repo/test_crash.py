"""Killing dsrepo at any moment of commit or checkout leaves a repository that fsck
passes, with every committed revision intact, and the operation can be run again.

Each case runs the real CLI in a subprocess whose chosen function calls ``os._exit``
(no cleanup handlers run: like SIGKILL) on its N-th call."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dsrepo.formats.api import import_dataset
from dsrepo.repo.repo import Repo

from .helpers import assert_same_content, load_source, set_file_cache

KILLER = """
import importlib, os, sys
target, nth, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
module, _, qual = target.partition(":")
owner = importlib.import_module(module)
parts = qual.split(".")
for p in parts[:-1]:
    owner = getattr(owner, p)
real = getattr(owner, parts[-1])
count = [0]
def killer(*a, **k):
    count[0] += 1
    if count[0] == nth:
        os._exit(9)
    return real(*a, **k)
setattr(owner, parts[-1], killer)
from dsrepo.commands.app import main
main(argv)
"""


def _run_killed(root, target, nth, *argv):
    r = subprocess.run([sys.executable, "-c", KILLER, target, str(nth), *argv], cwd=root, capture_output=True,
                       text=True, timeout=120)
    return r.returncode


def _edit(repo: Repo) -> None:
    ann = repo.layout.source_dir("coco") / "annotations" / "captions_train2017.json"
    doc = json.loads(ann.read_text())
    for a in doc["annotations"]:
        a["caption"] = a["caption"] + " (reviewed)"
    ann.write_text(json.dumps(doc))


@pytest.fixture
def history(repo, coco_sample, coco_edited):
    repo.add(coco_sample, name="coco", format="coco")
    c1 = repo.commit("init").id
    repo.update("coco", coco_edited, format="coco")
    c2 = repo.commit("edited").id
    return repo, c1, c2


def _intact(repo: Repo, c1: str, c2: str, coco_sample, coco_edited) -> None:
    rep = Repo.open(repo.root).fsck()
    assert rep.ok, rep.errors
    repo = Repo.open(repo.root)
    ids = [e.id for e in repo.log("main")]
    assert ids[-2:] == [c2, c1]
    assert_same_content(import_dataset(coco_sample, "coco"), repo.dataset(c1, "coco"))
    assert_same_content(import_dataset(coco_edited, "coco"), repo.dataset(c2, "coco"))


COMMIT_POINTS = [
    ("dsrepo.repo.packs:PackWriter.add", 2),              # while collecting objects
    ("dsrepo.repo.packs:PackWriter._write_block", 1),     # half-written pack
    ("dsrepo.repo.packs:_fsync_dir", 1),                   # pack and index in place, nothing refers to them
    ("dsrepo.repo.objects:ObjectStore.put_loose", 1),      # while writing metadata objects
    ("dsrepo.repo.commit:advance_head", 1),                # tree and commit written, ref not moved
    ("dsrepo.repo.commit:save_state", 1),                  # ref moved, state not updated
    ("dsrepo.repo.commit:write_current", 1),               # pin not written
]


@pytest.mark.parametrize("target,nth", COMMIT_POINTS)
def test_commit_killed(history, coco_sample, coco_edited, target, nth):
    repo, c1, c2 = history
    _edit(repo)
    assert _run_killed(repo.root, target, nth, "commit", "-m", "reviewed captions") == 9
    _intact(repo, c1, c2, coco_sample, coco_edited)
    repo = Repo.open(repo.root)
    head = repo.resolve("main")
    if head == c2:  # the commit did not happen: do it again
        repo.commit("reviewed captions")
    assert repo.resolve("main~1") == c2
    assert repo.status().clean
    assert Repo.open(repo.root).fsck().ok


CHECKOUT_POINTS = [  # (target, nth, file cache on)
    ("dsrepo.repo.mediastore:MediaStore.copy_out", 1, True),
    ("dsrepo.repo.halves:run_hook", 1, False),             # annotation files being written (COCO: the hook)
    ("dsrepo.repo.materialize:save_rows", 1, False),       # files in place, export rows not saved
    ("dsrepo.repo.materialize:_place_cached", 1, True),    # kept files being placed
    ("dsrepo.repo.rewrite:save_state", 1, True),
    ("dsrepo.repo.checkout:set_head", 1, True),
    ("dsrepo.repo.checkout:write_current", 1, True),
]


@pytest.mark.parametrize("target,nth,cache", CHECKOUT_POINTS)
def test_checkout_killed(history, coco_sample, coco_edited, target, nth, cache):
    repo, c1, c2 = history
    if not cache:
        set_file_cache(repo, 0)
    # make the working copy differ in media too, so copy_out runs
    repo.add(coco_sample, name="extra", format="coco")
    repo.commit("extra source")
    c3 = repo.resolve("main")
    repo.remove("extra")
    repo.commit("no extra")
    code = _run_killed(repo.root, target, nth, "checkout", c3)
    assert code == 9
    rep = Repo.open(repo.root).fsck()
    assert rep.ok, rep.errors
    repo = Repo.open(repo.root)
    assert [e.id for e in repo.log("main")][-2:] == [c2, c1]
    assert_same_content(import_dataset(coco_edited, "coco"), repo.dataset(c3, "coco"))
    assert_same_content(import_dataset(coco_sample, "coco"), repo.dataset(c3, "extra"))
    repo.checkout(c3, force=True)
    st = repo.status()
    assert st.clean and st.head == c3
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "extra"))
    assert Repo.open(repo.root).fsck().ok


FILE_CACHE_POINTS = [
    ("dsrepo.repo.filecache:FileCache.move_in", 1),  # the working copy's files going into the cache
    ("dsrepo.repo.filecache:FileCache.claim", 1),    # ... one moved out of the folder, not yet counted
    ("dsrepo.repo.mediastore:MediaStore._write", 1),  # a kept file half-copied into the folder
    ("dsrepo.repo.materialize:save_rows", 1),        # kept files in place, old export rows not dropped
    ("dsrepo.repo.filecache:FileCache._save", 1),    # cache index not updated
    ("dsrepo.repo.rewrite:save_state", 1),
]


@pytest.mark.parametrize("target,nth", FILE_CACHE_POINTS)
def test_checkout_through_the_file_cache_killed(history, coco_sample, coco_edited, target, nth):
    """A checkout that moves the working copy's files into the file cache and places kept
    ones, killed anywhere: nothing committed is lost, the checkout can be redone, and the
    cache never places wrong content afterwards."""
    repo, c1, c2 = history
    set_file_cache(repo, 0)  # a record whose files the cache does not hold yet: the checkout moves them in
    _edit(repo)
    c3 = repo.commit("reviewed captions").id
    set_file_cache(repo, 256)
    reviewed = load_source(repo, "coco")
    assert _run_killed(repo.root, target, nth, "checkout", c1) == 9
    _intact(repo, c1, c2, coco_sample, coco_edited)
    repo = Repo.open(repo.root)
    assert_same_content(reviewed, repo.dataset(c3, "coco"))
    repo.checkout(c1, force=True)
    assert repo.status().clean
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
    repo.checkout(c3)
    assert repo.status().clean
    assert_same_content(reviewed, load_source(repo, "coco"))
    repo.checkout(c2)
    assert_same_content(import_dataset(coco_edited, "coco"), load_source(repo, "coco"))
    assert Repo.open(repo.root).fsck().ok


FORKED_KILLER = """
import os, sys
import dsrepo.forked
import dsrepo.repo.snapshot as snapshot
from dsrepo.commands.app import main
dsrepo.forked.MIN_TASKS = 1  # split any number of items across two processes
where, argv = sys.argv[1], sys.argv[2:]
parent = os.getpid()
if where == "child":  # the forked child dies at its first item
    real = snapshot._encode
    def encode(task):
        if os.getpid() != parent:
            open(os.environ["CHILD_MARK"], "w").close()
            os._exit(9)
        return real(task)
    snapshot._encode = encode
else:  # the parent dies once its own share is done, before reading the child's results
    def take(self):
        os._exit(9)
    dsrepo.forked._Results.take = take
main(argv)
"""


@pytest.mark.parametrize("where", ["child", "parent"])
def test_commit_with_a_forked_child_killed(history, coco_sample, coco_edited, where, tmp_path):
    repo, c1, c2 = history
    _edit(repo)  # every train item changes: their items are built by two processes
    mark = tmp_path / "child-died"
    env = {**os.environ, "DSREPO_JOBS": "2", "CHILD_MARK": str(mark)}
    r = subprocess.run([sys.executable, "-c", FORKED_KILLER, where, "commit", "-m", "reviewed captions"],
                       cwd=repo.root, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == (0 if where == "child" else 9), r.stderr
    assert mark.exists() == (where == "child")
    _intact(repo, c1, c2, coco_sample, coco_edited)
    repo = Repo.open(repo.root)
    if where == "parent":
        assert repo.resolve("main") == c2
        repo.commit("reviewed captions")
    assert repo.resolve("main~1") == c2
    assert repo.status().clean
    assert_same_content(load_source(repo, "coco"), repo.dataset("main", "coco"))
    repo.gc()
    assert list(repo.layout.tmp.iterdir()) == []  # the child's result file, if left, is temp
    assert Repo.open(repo.root).fsck().ok


SPLIT_KILLER = """
import os, sys
import dsrepo.forked
import dsrepo.repo.halves as halves
from dsrepo.commands.app import main
halves.MIN_ITEMS = 1  # every full export from two parts
def result(self):
    os._exit(9)  # the parent dies while the child exports the second part
dsrepo.forked.Forked.result = result
main(sys.argv[1:])
"""


def test_checkout_killed_during_a_two_part_export(history, coco_sample, coco_edited):
    repo, c1, c2 = history
    set_file_cache(repo, 0)
    env = {**os.environ, "DSREPO_JOBS": "2"}
    r = subprocess.run([sys.executable, "-c", SPLIT_KILLER, "checkout", c1], cwd=repo.root, capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 9, r.stderr
    _intact(repo, c1, c2, coco_sample, coco_edited)
    repo = Repo.open(repo.root)
    repo.checkout(c1, force=True)
    st = repo.status()
    assert st.clean and st.head == c1
    assert_same_content(import_dataset(coco_sample, "coco"), load_source(repo, "coco"))
    repo.gc()
    assert list(repo.layout.tmp.iterdir()) == []
    assert Repo.open(repo.root).fsck().ok

"""Two dsrepo processes at once: the second waits, or fails with a clear LockError."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from .helpers import tree_digest

HOLDER = """
import sys, time
from pathlib import Path
from dsrepo.repo.lock import repo_lock
with repo_lock(Path(sys.argv[1]) / ".dsrepo" / "lock"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _cli(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "dsrepo", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture
def holder(repo):
    procs = []

    def start(seconds: float):
        p = subprocess.Popen([sys.executable, "-c", HOLDER, str(repo.root), str(seconds)], stdout=subprocess.PIPE,
                             text=True)
        assert p.stdout.readline().strip() == "locked"
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.kill()
        p.wait()


def test_second_process_fails_clearly(repo, coco_sample, holder):
    before = tree_digest(repo.root)
    holder(30)
    t = time.monotonic()
    r = _cli("add", str(coco_sample), "-f", "coco", "-n", "coco", cwd=repo.root, env={"DSREPO_LOCK_TIMEOUT": "0.5"})
    assert time.monotonic() - t < 20
    assert r.returncode == 7
    assert r.stderr.strip() == (f"error: another dsrepo process is working in {repo.root} (lock {repo.layout.lock} "
                                "held for 0.5 s); try again when it has finished")
    assert tree_digest(repo.root) == before


def test_second_process_waits(repo, coco_sample, holder):
    holder(1.0)
    r = _cli("add", str(coco_sample), "-f", "coco", "-n", "coco", cwd=repo.root, env={"DSREPO_LOCK_TIMEOUT": "20"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("added source coco (coco): 8 items")


def test_concurrent_commits_keep_history_linear(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    env = {**os.environ, "DSREPO_LOCK_TIMEOUT": "60"}
    procs = [subprocess.Popen([sys.executable, "-m", "dsrepo", "commit", "--allow-empty", "-m", f"c{i}"],
                              cwd=repo.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    log = repo.log()
    assert len(log) == 4
    assert sorted(e.commit.message for e in log[:3]) == ["c0", "c1", "c2"]
    for newer, older in zip(log, log[1:]):
        assert newer.commit.parents == (older.id,)
    assert repo.fsck().ok


def test_lock_in_process_excludes_waits_and_releases(tmp_path):
    from dsrepo.errors import LockError
    from dsrepo.repo.lock import repo_lock, try_lock

    path = tmp_path / ".dsrepo" / "lock"
    path.parent.mkdir()
    with repo_lock(path):
        with try_lock(path) as got:
            assert got is False
        t = time.monotonic()
        with pytest.raises(LockError, match=r"lock .* held for 0\.2 s"):
            with repo_lock(path, timeout=0.2):
                pass
        assert 0.15 <= time.monotonic() - t < 5
    with pytest.raises(RuntimeError):
        with repo_lock(path):
            raise RuntimeError("inside")
    with try_lock(path) as got:  # released after the error
        assert got is True
    with repo_lock(path, timeout=0):
        pass

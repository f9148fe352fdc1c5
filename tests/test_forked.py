"""dsrepo.forked: work split with a forked child gives exactly the serial results, in
order, and a child that fails costs time, never results."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from dsrepo import forked
from dsrepo.forked import forked_map

PARENT = os.getpid()


def _square(t: int) -> bytes:
    return b"%d:%d" % (t * t, os.getpid())


def _values(results) -> list[int]:
    return [int(r.split(b":")[0]) for r in results]


def _pids(results) -> set[int]:
    return {int(r.split(b":")[1]) for r in results}


@pytest.fixture(autouse=True)
def _two_jobs(monkeypatch):
    monkeypatch.setenv("DSREPO_JOBS", "2")


def test_results_in_task_order_computed_by_two_processes(tmp_path):
    out = list(forked_map(_square, list(range(50)), tmp_path, min_tasks=1))
    assert _values(out) == [t * t for t in range(50)]
    pids = _pids(out)
    assert PARENT in pids and len(pids) == 2  # the last share came from the child
    assert [int(r.split(b":")[1]) for r in out[:13]] == [PARENT] * 13  # 75 % to the child: 37 tasks
    assert int(out[13].split(b":")[1]) != PARENT  # (the child's first task is always its own)
    assert list(tmp_path.iterdir()) == []  # the child's result file is gone


def test_small_jobs_and_one_job_stay_in_process(tmp_path, monkeypatch):
    assert _pids(forked_map(_square, list(range(10)), tmp_path, min_tasks=11)) == {PARENT}
    monkeypatch.setenv("DSREPO_JOBS", "1")
    assert _pids(forked_map(_square, list(range(10)), tmp_path, min_tasks=1)) == {PARENT}


def _fails_in_child(t: int) -> bytes:
    if os.getpid() != PARENT and t == 45:
        raise RuntimeError("child trouble")
    return _square(t)


def test_a_failing_child_share_is_computed_by_the_parent(tmp_path):
    out = list(forked_map(_fails_in_child, list(range(50)), tmp_path, min_tasks=1))
    assert _values(out) == [t * t for t in range(50)]
    assert _pids(out[:13]) == {PARENT} and _pids(out[13:45]) != {PARENT}  # what the child did is used
    assert _pids(out[45:]) == {PARENT}  # the rest, from where it failed, is computed here


def _killed_child(t: int) -> bytes:
    if os.getpid() != PARENT and t == 30:
        os._exit(9)
    return _square(t)


def test_a_dead_child_share_is_computed_by_the_parent(tmp_path):
    assert _values(forked_map(_killed_child, list(range(50)), tmp_path, min_tasks=1)) == [t * t for t in range(50)]


def _bad(t: int) -> bytes:
    if t == 40:
        raise ValueError(f"task {t} is bad")
    return _square(t)


def test_an_error_in_the_child_share_is_raised_as_in_a_serial_run(tmp_path):
    with pytest.raises(ValueError, match="^task 40 is bad$"):
        list(forked_map(_bad, list(range(50)), tmp_path, min_tasks=1))
    assert list(tmp_path.iterdir()) == []


def _slow_child(t: int) -> bytes:
    if os.getpid() != PARENT:
        import time

        time.sleep(0.2)
    return _square(t)


def test_an_abandoned_map_kills_the_child_and_removes_its_file(tmp_path):
    gen = forked_map(_slow_child, list(range(50)), tmp_path, min_tasks=1)
    assert _values([next(gen), next(gen)]) == [0, 1]
    gen.close()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind, not even a zombie


def test_results_are_taken_as_far_as_they_are_whole(tmp_path):
    path = tmp_path / "r"
    path.write_bytes(forked._LEN.pack(3) + b"abc" + forked._LEN.pack(5) + b"de")
    r = forked._Results(str(path))
    try:
        assert (r.take(), r.take()) == (b"abc", None)
        with open(path, "ab") as f:
            f.write(b"fgh" + forked._LEN.pack(0))
        assert (r.take(), r.take(), r.take()) == (b"defgh", b"", None)
    finally:
        r.close()


def _slow_in_child(t: int) -> bytes:
    if os.getpid() != PARENT:
        import time

        time.sleep(0.02)
    return _square(t)


def test_the_parent_takes_tasks_the_child_has_not_reached(tmp_path):
    out = list(forked_map(_slow_in_child, list(range(200)), tmp_path, min_tasks=1))
    assert _values(out) == [t * t for t in range(200)]
    assert int(out[50].split(b":")[1]) != PARENT  # the child's first task is always its own
    # the child needs 20 ms a task; the parent, idle after its 50, does most of the other 150
    assert sum(int(r.split(b":")[1]) == PARENT for r in out[50:]) > 100
    assert list(tmp_path.iterdir()) == []


def test_a_started_map_works_while_the_caller_does_something_else(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()

    def mark(t: int) -> bytes:
        (marks / str(t)).write_text(str(os.getpid()))
        return _square(t)

    with forked.ForkedMap(mark, list(range(20)), tmp_path / "tmp", min_tasks=1, child_share=1.0) as work:
        deadline = time.monotonic() + 10
        while len(list(marks.iterdir())) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)  # the caller does not iterate: the child does every task meanwhile
        assert sorted(int(m.name) for m in marks.iterdir()) == list(range(20))
        assert {m.read_text() for m in marks.iterdir()} != {str(PARENT)}
        out = list(work)
    assert _values(out) == [t * t for t in range(20)]
    assert PARENT not in _pids(out)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_started_map_without_a_second_core_computes_when_iterated(tmp_path, monkeypatch):
    monkeypatch.setenv("DSREPO_JOBS", "1")
    done = []
    work = forked.ForkedMap(lambda t: done.append(t) or _square(t), list(range(5)), tmp_path, min_tasks=1,
                            child_share=1.0)
    assert done == []
    assert _values(work) == [0, 1, 4, 9, 16] and done == list(range(5))


def test_a_started_map_closed_unread_kills_the_child(tmp_path):
    work = forked.ForkedMap(_slow_in_child, list(range(200)), tmp_path, min_tasks=1, child_share=1.0)
    pid = work._child.pid
    work.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    assert list(tmp_path.iterdir()) == []


KILLED_PARENT = """
import os, sys, time
from dsrepo.forked import forked_map

def slow(t):
    if os.getpid() != PARENT:
        with open(sys.argv[2], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)
    return b"x"

PARENT = os.getpid()
for _ in forked_map(slow, list(range(10)), sys.argv[1], min_tasks=1):
    time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_the_child_dies_with_its_parent(tmp_path):
    import signal
    import subprocess
    import time

    pid_file = tmp_path / "child.pid"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, str(tmp_path), str(pid_file)],
                            env={**os.environ, "DSREPO_JOBS": "2"})
    try:
        deadline = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.02)
        child = int(pid_file.read_text())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in ("Z", "X"):  # dead, waiting to be reaped by init
            return
        time.sleep(0.02)
    raise AssertionError("the child outlived its killed parent")


def _pid_bytes() -> bytes:
    return b"%d" % os.getpid()


def test_forked_computes_in_a_child_and_cleans_up(tmp_path):
    with forked.Forked(_pid_bytes, tmp_path) as f:
        pid = int(f.result())
        assert pid != PARENT and f.result() == b"%d" % pid  # (computed once)
    assert list(tmp_path.iterdir()) == []


def test_forked_without_a_second_core_computes_at_result(tmp_path, monkeypatch):
    monkeypatch.setenv("DSREPO_JOBS", "1")
    with forked.Forked(_pid_bytes, tmp_path) as f:
        assert int(f.result()) == PARENT


def _fails_only_in_a_child() -> bytes:
    if os.getpid() != PARENT:
        raise RuntimeError("child trouble")
    return b"here"


def test_forked_failure_in_the_child_means_computing_here(tmp_path):
    with forked.Forked(_fails_only_in_a_child, tmp_path) as f:
        assert f.result() == b"here"
    assert list(tmp_path.iterdir()) == []


def _always_fails() -> bytes:
    raise ValueError("no good")


def test_forked_error_surfaces_in_the_parent(tmp_path):
    with forked.Forked(_always_fails, tmp_path) as f:
        with pytest.raises(ValueError, match="^no good$"):
            f.result()
    assert list(tmp_path.iterdir()) == []


def test_fork_refused_means_serial(tmp_path, monkeypatch):
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert _pids(forked_map(_square, list(range(10)), tmp_path, min_tasks=1)) == {PARENT}
    with forked.Forked(_pid_bytes, tmp_path) as f:
        assert int(f.result()) == PARENT
    assert list(tmp_path.iterdir()) == []


IGNORING_PARENT = """
import os, signal, sys, time
from dsrepo.forked import forked_map

signal.signal(signal.SIGINT, signal.SIG_IGN)  # e.g. started in the background by a shell
PARENT = os.getpid()

def work(t):
    if os.getpid() != PARENT and t == 5:
        time.sleep(0.5)  # Ctrl-C arrives meanwhile
    return b"%d" % os.getpid()

def results():
    for k, r in enumerate(forked_map(work, list(range(10)), sys.argv[1], min_tasks=1)):
        if k == 0:
            time.sleep(0.2)  # (the child is at work by then)
            os.killpg(0, signal.SIGINT)
        yield r

print(len(set(results())))
"""


def test_a_child_ignores_ctrl_c_when_its_parent_does(tmp_path):
    import subprocess

    r = subprocess.run([sys.executable, "-c", IGNORING_PARENT, str(tmp_path)], capture_output=True, text=True,
                       env={**os.environ, "DSREPO_JOBS": "2"}, start_new_session=True, timeout=60)
    assert (r.returncode, r.stdout.strip()) == (0, "2"), r.stderr  # the child lived to give its share


def test_objects_the_caller_froze_stay_frozen(tmp_path):
    import gc

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert _values(forked_map(_square, list(range(20)), tmp_path, min_tasks=1)) == [t * t for t in range(20)]
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
    assert _values(forked_map(_square, list(range(20)), tmp_path, min_tasks=1)) == [t * t for t in range(20)]
    assert gc.get_freeze_count() == 0  # (and none left frozen when there were none)


def test_a_shared_int_is_never_seen_half_written():
    """The limit the parent lowers while the child reads it (a child that read 0 stopped
    early and left its share to the parent: struct.pack_into zero-fills first)."""
    import time

    n = 1 << 40
    shared = forked.SharedInt(n)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the reader: values only ever decrease, never below what was written
        bad, prev, end = 0, n, time.monotonic() + 0.5
        while time.monotonic() < end:
            v = shared.get()
            if v > prev or v < n - 10_000_000:
                bad += 1
            prev = v
        os.write(w, b"%d" % bad)
        os._exit(0)
    v, end = n, time.monotonic() + 0.6
    while time.monotonic() < end:
        v -= 1
        shared.set(v)
    os.waitpid(pid, 0)
    assert os.read(r, 64) == b"0"
    os.close(r)
    os.close(w)
    shared.close()

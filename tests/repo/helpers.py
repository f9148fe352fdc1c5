"""Helpers for repository tests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dsrepo.formats.api import import_dataset
from dsrepo.model.encoding import encode_categories, encode_item


def set_file_cache(repo, mb: int) -> None:
    """Set the project's file cache budget (0: off, so checkouts export or patch)."""
    import dataclasses

    from dsrepo.repo.config import load_config, save_config

    repo.config = dataclasses.replace(load_config(repo.layout), file_cache_mb=mb)
    save_config(repo.layout, repo.config)


def tree_digest(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """``{relpath: md5}`` of every file under ``root`` (symlinks as 'link:<target>')."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for f in files:
            p = Path(dirpath) / f
            rel = p.relative_to(root).as_posix()
            if any(rel.startswith(s) for s in skip):
                continue
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            else:
                out[rel] = hashlib.md5(p.read_bytes()).hexdigest()
    return out


def encoded(ds) -> list[bytes]:
    """Canonical encodings of a dataset's items (media by content md5)."""
    return [encode_item(it) for it in ds]


def assert_same_content(a, b) -> None:
    """Two datasets hold exactly the same items (every field, same order), categories, subset meta."""
    ea, eb = encoded(a), encoded(b)
    assert len(ea) == len(eb)
    for x, y in zip(ea, eb):
        assert x == y
    assert encode_categories(a.categories) == encode_categories(b.categories)
    assert _plain(a.subset_meta) == _plain(b.subset_meta)


def _plain(v):
    if hasattr(v, "items"):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def load_source(repo, name: str, fmt: str = "coco"):
    """Import a source's working copy."""
    return import_dataset(repo.layout.source_dir(name), fmt)


def split_everything(monkeypatch) -> list[int]:
    """Make dsrepo split its work across two processes whatever the size (storing items,
    full exports); returns a list that grows by one per fork."""
    import os

    from dsrepo import forked
    from dsrepo.repo import halves

    monkeypatch.setenv("DSREPO_JOBS", "2")
    monkeypatch.setattr(forked, "MIN_TASKS", 1)
    monkeypatch.setattr(halves, "MIN_ITEMS", 1)
    forks: list[int] = []
    real = os.fork

    def counting():
        forks.append(1)
        return real()

    monkeypatch.setattr(os, "fork", counting)
    return forks


def check_out_like_fresh(repo, rev: str, source: str, scratch: Path) -> None:
    """Check out ``rev`` (with ``--force``), then assert that the working copy of
    ``source`` holds exactly what a checkout of ``rev`` into a copy of the project without
    that working copy (and its export rows) writes - a full export. ``scratch`` (made
    once per revision) holds that copy."""
    import shutil

    from dsrepo.repo.repo import Repo

    repo.checkout(rev, force=True)
    assert repo.status().clean
    if not scratch.exists():
        shutil.copytree(repo.root, scratch)
        shutil.rmtree(scratch / source)
        (scratch / ".dsrepo" / "cache" / "rows" / f"{source}.json").unlink(missing_ok=True)
        Repo.open(scratch).checkout(rev, force=True)
    assert tree_digest(repo.layout.source_dir(source)) == tree_digest(scratch / source)

"""``gc``: drop objects nothing refers to, and merge packs into one."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsrepo.errors import RepoError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.packs import PackWriter, is_zlib_pack, iter_objects, read_index
from dsrepo.repo.reach import reachable
from dsrepo.repo.worktree import TEMP_PREFIX, tracked_sources

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class GcReport:
    """Objects removed (loose, packed, media), bytes freed, packs before and after."""

    loose: int
    packed: int
    media: int
    freed: int
    packs_before: int
    packs_after: int


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _repack(repo: "Repo", keep: set[bytes]) -> tuple[int, int, int, int]:
    """Rewrite the packs as one holding only ``keep`` (zstd blocks, also when the only
    pack is an older zlib one); returns (removed, freed, before, after)."""
    store = repo.store
    packs = store.pack_paths()
    dropped = sum(1 for pack in packs for e in read_index(pack.with_suffix(".idx")) if e[0] not in keep)
    if len(packs) <= 1 and not dropped and not any(is_zlib_pack(p) for p in packs):
        return 0, 0, len(packs), len(packs)
    before = sum(_size(p) + _size(p.with_suffix(".idx")) for p in packs)
    writer = PackWriter(store.packs_dir, repo.layout.tmp)
    try:
        for pack in packs:
            for h, t, data in iter_objects(pack):
                if h in keep:
                    writer.add(h, data, t)
        new = writer.finish()
    except BaseException:
        writer.abort()
        raise
    for p in packs:
        if p == new:
            continue
        p.with_suffix(".idx").unlink(missing_ok=True)
        p.unlink(missing_ok=True)
    store.reload()
    after = store.pack_paths()
    freed = before - sum(_size(p) + _size(p.with_suffix(".idx")) for p in after)
    return dropped, freed, len(packs), len(after)


def _clean_temp(repo: "Repo") -> None:
    shutil.rmtree(repo.layout.dot / "cache" / "build", ignore_errors=True)  # may point at objects gc drops
    for p in repo.layout.tmp.iterdir() if repo.layout.tmp.is_dir() else ():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    packs = repo.store.packs_dir
    for p in packs.glob("pack-*.pack") if packs.is_dir() else ():
        if not p.with_suffix(".idx").is_file():
            p.unlink(missing_ok=True)
    for name in tracked_sources(repo.layout):
        root = repo.layout.source_dir(name)
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                if f.startswith(TEMP_PREFIX):
                    os.unlink(os.path.join(dirpath, f))


def gc(repo: "Repo", progress: Progress = NULL_PROGRESS) -> GcReport:
    """Delete loose objects, packed objects and media files that no ref (branch, tag,
    HEAD) and no working copy refers to; merge packs; clear temp files and the build cache;
    drop the file cache's entries of records nothing refers to and its damaged files.

    Refuses (RepoError) when the reachable history is damaged - run fsck first."""
    with repo.lock():
        _clean_temp(repo)
        r = reachable(repo)
        if r.problems:
            raise RepoError(f"gc stopped: the repository has missing or damaged objects ({r.problems[0]}); "
                            "run `dsrepo fsck`")
        freed = 0
        loose = 0
        with progress.task("removing unreachable objects"):
            for h in list(repo.store.iter_loose()):
                if h not in r.loose:
                    p = repo.store.loose_path(h)
                    freed += _size(p)
                    p.unlink(missing_ok=True)
                    loose += 1
            media = 0
            for m in list(repo.media.iter_md5s()):
                if m not in r.media:
                    p = repo.media.path(m)
                    freed += _size(p)
                    p.unlink(missing_ok=True)
                    media += 1
            freed += repo.file_cache().prune(r.loose)  # (entries of records nothing refers to, damaged files)
        packed, pfreed, before, after = _repack(repo, {bytes.fromhex(h) for h in r.packed})
    return GcReport(loose, packed, media, freed + pfreed, before, after)

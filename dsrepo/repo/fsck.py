"""``fsck``: verify the repository - every stored object and the object graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dsrepo.errors import CorruptObjectError, RepoError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.config import load_config
from dsrepo.repo.objects import content_hash
from dsrepo.repo.packs import TYPE_NAMES, block_inflater, iter_blocks, parse_block, read_index
from dsrepo.repo.reach import reachable
from dsrepo.repo.refs import read_head

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass
class FsckReport:
    """``errors`` (the repository is damaged), ``warnings`` (harmless leftovers) and counts."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _check_loose(repo: "Repo", rep: FsckReport, progress: Progress) -> None:
    ids = list(repo.store.iter_loose())
    with progress.task("checking objects", total=len(ids)) as bar:
        for h in ids:
            try:
                repo.store.read_loose_typed(h)
            except RepoError as e:
                rep.errors.append(str(e))
            bar.advance()
    rep.counts["loose objects"] = len(ids)


def _check_pack(pack, rep: FsckReport, progress: Progress) -> int:
    idx = pack.with_suffix(".idx")
    entries = {e[0]: e for e in read_index(idx)}
    found: dict[bytes, tuple] = {}
    with progress.task(f"checking {pack.name}", total=len(entries)) as bar:
        inflate = block_inflater(pack)
        for off, z in iter_blocks(pack):
            try:
                raw = inflate(z, f"{pack.name}: block at offset {off}")
            except CorruptObjectError as e:
                rep.errors.append(str(e))
                continue
            for h, t, pos, n in parse_block(raw, f"{pack.name} block at offset {off}"):
                if content_hash(raw[pos:pos + n]) != h.hex():
                    rep.errors.append(f"{pack.name}: object {h.hex()} ({TYPE_NAMES.get(t, t)}) is corrupt")
                found[h] = (h, off, len(z), pos, n, t)
                bar.advance()
    if found != entries:
        rep.errors.append(f"{idx.name}: index does not match the pack ({len(entries)} entries, "
                          f"{len(found)} objects found)")
    return len(found)


def _check_packs(repo: "Repo", rep: FsckReport, progress: Progress) -> None:
    packs_dir = repo.store.packs_dir
    packs = sorted(packs_dir.glob("pack-*.pack")) if packs_dir.is_dir() else []
    total = 0
    for idx in sorted(packs_dir.glob("pack-*.idx")) if packs_dir.is_dir() else []:
        if not idx.with_suffix(".pack").is_file():
            rep.errors.append(f"{idx.name}: index without its pack")
    for pack in packs:
        if not pack.with_suffix(".idx").is_file():
            rep.warnings.append(f"{pack.name}: pack without index (an interrupted write; `dsrepo gc` removes it)")
            continue
        try:
            total += _check_pack(pack, rep, progress)
        except (RepoError, OSError) as e:
            rep.errors.append(str(e))
    rep.counts["packs"] = len(packs)
    rep.counts["packed objects"] = total


def _check_media(repo: "Repo", rep: FsckReport, progress: Progress) -> None:
    md5s = list(repo.media.iter_md5s())
    with progress.task("checking media", total=len(md5s)) as bar:
        for m in md5s:
            if not repo.media.verify(m):
                rep.errors.append(f"media file {m} is corrupt ({repo.media.path(m)})")
            bar.advance()
    rep.counts["media files"] = len(md5s)


def _check_file_cache(repo: "Repo", rep: FsckReport, progress: Progress) -> None:
    cache = repo.file_cache()
    with progress.task("checking the file cache"):
        for m in cache.damaged():
            rep.errors.append(f"file cache: {cache.path(m)} does not hold content {m}; "
                              "`dsrepo gc` drops it")
    rep.counts["file cache files"] = len(cache.cached())


def fsck(repo: "Repo", progress: Progress = NULL_PROGRESS) -> FsckReport:
    """Verify config, refs, every loose object, pack record, media file and file cache file
    (content matches its hash), and that everything reachable from refs and working-tree state
    is present. Read-only."""
    rep = FsckReport()
    try:
        load_config(repo.layout)
        read_head(repo.layout)
    except RepoError as e:
        rep.errors.append(str(e))
        return rep
    _check_loose(repo, rep, progress)
    _check_packs(repo, rep, progress)
    _check_media(repo, rep, progress)
    _check_file_cache(repo, rep, progress)
    repo.store.reload()
    r = reachable(repo)
    rep.errors.extend(r.problems)
    rep.counts["commits"] = len(r.commits)
    return rep

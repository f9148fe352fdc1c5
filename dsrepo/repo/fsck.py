"""``fsck``: verify the repository - every stored object and the object graph."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dsrepo.errors import RepoError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.config import load_config
from dsrepo.repo.objects import content_hash
from dsrepo.repo.packs import TYPE_NAMES, iter_records, read_index
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


def _check_packs(repo: "Repo", rep: FsckReport, progress: Progress) -> None:
    packs_dir = repo.store.packs_dir
    packs = sorted(packs_dir.glob("pack-*.pack")) if packs_dir.is_dir() else []
    total = 0
    for idx in sorted(packs_dir.glob("pack-*.idx")) if packs_dir.is_dir() else []:
        if not idx.with_suffix(".pack").is_file():
            rep.errors.append(f"{idx.name}: index without its pack")
    for pack in packs:
        idx = pack.with_suffix(".idx")
        if not idx.is_file():
            rep.warnings.append(f"{pack.name}: pack without index (an interrupted write; `dsrepo gc` removes it)")
            continue
        try:
            entries = {h: (off, n, t) for h, off, n, t in read_index(idx)}
            found = {}
            with open(pack, "rb") as f, progress.task(f"checking {pack.name}", total=len(entries)) as bar:
                for h, t, off, n in iter_records(pack):
                    f.seek(off)
                    try:
                        data = zlib.decompress(f.read(n))
                    except zlib.error:
                        rep.errors.append(f"{pack.name}: object {h.hex()} at offset {off} does not decompress")
                        continue
                    if content_hash(data) != h.hex():
                        rep.errors.append(f"{pack.name}: object {h.hex()} ({TYPE_NAMES.get(t, t)}) is corrupt")
                    found[h] = (off, n, t)
                    bar.advance()
            if found != entries:
                rep.errors.append(f"{idx.name}: index does not match the pack ({len(entries)} entries, "
                                  f"{len(found)} records)")
            total += len(found)
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


def fsck(repo: "Repo", progress: Progress = NULL_PROGRESS) -> FsckReport:
    """Verify config, refs, every loose object, pack record and media file (content
    matches its hash), and that everything reachable from refs and working-tree state
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
    repo.store.reload()
    r = reachable(repo)
    rep.errors.extend(r.problems)
    rep.counts["commits"] = len(r.commits)
    return rep

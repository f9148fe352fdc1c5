"""Working-tree state: which sources are tracked, and a stat cache per source.

``.dsrepo/state/sources/<name>.json`` holds, per tracked source: format and
options, ``base`` (the record dsrepo last wrote into or committed from the folder),
``record`` (the record the cached files are known to produce), ``generated`` (the
annotation files the exporter wrote), ``adopted`` (files of a folder tracked in place that
dsrepo did not write: never deleted, moved aside) and ``files``: ``relpath -> [size, mtime_ns,
inode, md5]`` for every file of the folder, taken at ``time`` (ns).

A file whose size, mtime and inode match its entry is not read again. Entries
modified less than :data:`RACY_NS` before the cache was taken are re-hashed once
(the file could have changed within the same clock tick).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import orjson

from dsrepo.errors import RepoError
from dsrepo.formats.common.files import atomic_write_bytes
from dsrepo.repo.layout import Layout

RACY_NS = 20_000_000
TEMP_PREFIX = ".dsrepo-"
Stat = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class SourceState:
    """What dsrepo knows about one tracked source's working copy."""

    name: str
    format: str
    import_options: Mapping[str, Any] = field(default_factory=dict)
    export_options: Mapping[str, Any] = field(default_factory=dict)
    base: str | None = None
    record: str | None = None
    generated: tuple[str, ...] = ()
    time: int = 0
    files: Mapping[str, tuple[int, int, int, str]] = field(default_factory=dict)
    adopted: tuple[str, ...] = ()  # (of ``generated``: the user's own files, from an in-place add)

    def with_(self, **changes: Any) -> "SourceState":
        return replace(self, **changes)


def _state_path(layout: Layout, name: str) -> Path:
    return layout.state / "sources" / f"{name}.json"


def tracked_sources(layout: Layout) -> list[str]:
    """Names of the tracked sources, sorted."""
    folder = layout.state / "sources"
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json") and not p.name.startswith("."))


def load_state(layout: Layout, name: str) -> SourceState:
    """The state of tracked source ``name`` (RepoError if it is not tracked)."""
    path = _state_path(layout, name)
    try:
        d = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise RepoError(f"no source named {name!r} (sources: {', '.join(tracked_sources(layout)) or 'none'})") from None
    except orjson.JSONDecodeError:
        raise RepoError(f"{path}: damaged working-tree state; run `dsrepo checkout --force -- {name}`") from None
    files = {k: tuple(v) for k, v in (d.get("files") or {}).items()}
    return SourceState(name=name, format=d["format"], import_options=d.get("import_options") or {},
                       export_options=d.get("export_options") or {}, base=d.get("base"), record=d.get("record"),
                       generated=tuple(d.get("generated") or ()), time=int(d.get("time") or 0), files=files,
                       adopted=tuple(d.get("adopted") or ()))


def save_state(layout: Layout, st: SourceState) -> None:
    """Write a source's state atomically."""
    d = {"format": st.format, "import_options": dict(st.import_options), "export_options": dict(st.export_options),
         "base": st.base, "record": st.record, "generated": sorted(st.generated), "time": st.time,
         "files": {k: list(v) for k, v in sorted(st.files.items())}}
    if st.adopted:
        d["adopted"] = sorted(st.adopted)
    atomic_write_bytes(_state_path(layout, st.name), orjson.dumps(d))


def drop_state(layout: Layout, name: str) -> None:
    """Stop tracking ``name``."""
    try:
        _state_path(layout, name).unlink()
    except FileNotFoundError:
        pass


def scan_dir(root: Path) -> tuple[dict[str, Stat], list[str]]:
    """``({relpath: (size, mtime_ns, inode)}, [relpaths of skipped symlinks])`` of the
    regular files under ``root``. Symlinks to files inside ``root`` are followed;
    symlinks that leave ``root``, symlinked folders and dsrepo temp files are skipped."""
    files: dict[str, Stat] = {}
    skipped: list[str] = []
    real_root = os.path.realpath(root)
    stack = [(str(root), "")]
    while stack:
        path, prefix = stack.pop()
        try:
            it = os.scandir(path)
        except FileNotFoundError:
            continue
        with it:
            for e in it:
                rel = prefix + e.name
                if e.name.startswith(TEMP_PREFIX):
                    continue
                if e.is_symlink():
                    target = os.path.realpath(e.path)
                    if os.path.isfile(target) and target.startswith(real_root + os.sep):
                        s = os.stat(e.path)
                        files[rel] = (s.st_size, s.st_mtime_ns, s.st_ino)
                    else:
                        skipped.append(rel)
                elif e.is_dir(follow_symlinks=False):
                    stack.append((e.path, rel + "/"))
                elif e.is_file(follow_symlinks=False):
                    s = e.stat(follow_symlinks=False)
                    files[rel] = (s.st_size, s.st_mtime_ns, s.st_ino)
    return files, skipped


def settle(files: Mapping[str, Stat]) -> int:
    """Wait until no file in ``files`` is racy, then return the cache time (ns)."""
    newest = max((s[1] for s in files.values()), default=0)
    delay = (newest + RACY_NS - time.time_ns()) / 1e9
    if delay > 0:
        time.sleep(min(delay, RACY_NS / 1e9))
    return time.time_ns()


@dataclass(frozen=True, slots=True)
class Scan:
    """A source folder compared with its cache. ``md5`` covers every file; ``rehashed``
    lists files that were read; ``same`` is True when the content equals the cached one."""

    stats: Mapping[str, Stat]
    md5: Mapping[str, str]
    skipped: tuple[str, ...]
    rehashed: tuple[str, ...]
    same: bool
    time: int


def scan_source(root: Path, st: SourceState | None, rescan: bool = False, prior: Scan | None = None) -> Scan:
    """Scan working copy ``root`` against the cache in ``st``; only new, changed or
    racy files are hashed (every file when ``rescan``). ``prior``: a scan made moments
    ago in this process, whose hashes are reused for files with the same stat."""
    t0 = time.time_ns()
    stats, skipped = scan_dir(root)
    cached = st.files if st is not None else {}
    limit = (st.time if st is not None else 0) - RACY_NS
    md5: dict[str, str] = {}
    rehashed = []
    for rel, s in stats.items():
        c = cached.get(rel)
        if not rescan and c is not None and c[0] == s[0] and c[1] == s[1] and c[2] == s[2] and s[1] < limit:
            md5[rel] = c[3]
        elif prior is not None and prior.stats.get(rel) == s and rel in prior.md5:
            md5[rel] = prior.md5[rel]
            rehashed.append(rel)
        else:
            from dsrepo.digest import file_md5

            try:
                md5[rel] = file_md5(root / rel)
            except OSError as e:
                raise RepoError(f"{root / rel}: cannot read ({e.strerror})") from None
            rehashed.append(rel)
    same = len(md5) == len(cached) and all(cached.get(k, (0, 0, 0, None))[3] == v for k, v in md5.items())
    return Scan(stats, md5, tuple(sorted(skipped)), tuple(sorted(rehashed)), same, t0)


def cache_entries(stats: Mapping[str, Stat], md5: Mapping[str, str]) -> dict[str, tuple[int, int, int, str]]:
    """Cache entries for the files present in both maps."""
    return {rel: (s[0], s[1], s[2], md5[rel]) for rel, s in stats.items() if rel in md5}

"""Storing a dataset as a source record: items into a pack, media into the media
store, item/file lists, categories and subset meta as objects.

Used by ``add``/``update`` (a dataset imported from outside the project) and by
``status``/``commit`` (a working copy that changed). Only objects the store does
not have yet are written, so a revision that changes k items adds k item objects,
the few list chunks around them, and small metadata. Items are built, fingerprinted
and encoded on two processes when there are many (:mod:`dsrepo.forked`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import orjson

from dsrepo.collect import few_collections
from dsrepo.errors import DatasetError
from dsrepo.forked import call, forked_map
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.lists import write_item_list, write_list
from dsrepo.repo.records import SourceRecord

if TYPE_CHECKING:
    from dsrepo.model.dataset import Dataset
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class Staged:
    """A stored source: its record and id, and ``files`` (relpath -> md5 of its media
    and extra files)."""

    record: SourceRecord
    record_id: str
    files: Mapping[str, str]


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def plain_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Options as JSON-able values (tuples become lists)."""
    return _plain(dict(options or {}))


class _MediaIndex:
    """Resolves item images to files under ``root`` and stores them once each."""

    def __init__(self, repo: "Repo", root: Path, known: Mapping[str, str]) -> None:
        self.repo = repo
        self.root = os.path.abspath(root)
        self.prefix = os.path.join(self.root, "")
        self.real_root = os.path.realpath(root)
        self.known = known
        self.files: dict[str, tuple[str, int]] = {}
        self._by_path: dict[str, tuple[str, str] | None] = {}
        self._dirs: dict[str, str] = {}
        self.outside = 0
        self.escaping = 0
        self.missing = 0

    def _real_dir(self, folder: str) -> str:
        real = self._dirs.get(folder)
        if real is None:
            real = self._dirs[folder] = os.path.realpath(folder)
        return real

    def _resolve(self, path: str) -> tuple[str, str] | None:
        ap = os.path.abspath(path)
        if ap.startswith(self.prefix):  # fast path: a file the folder's scan hashed is a regular
            rel = ap[len(self.prefix):]  # file (or a symlink to one) inside the folder
            md5 = self.known.get(rel) if os.sep == "/" else None
            if md5 is not None:
                self.files[rel] = self.repo.media.put_file(ap, md5)
                return rel, md5
        rel = os.path.relpath(ap, self.root)
        if rel == os.curdir or rel.startswith(os.pardir + os.sep) or rel == os.pardir or os.path.isabs(rel):
            self.outside += 1
            return None
        try:
            st = os.lstat(ap)
        except OSError:
            self.missing += 1
            return None
        link = stat.S_ISLNK(st.st_mode)
        if link:
            real = os.path.realpath(ap)
        else:
            real = os.path.join(self._real_dir(os.path.dirname(ap)), os.path.basename(ap))
        if not real.startswith(self.real_root + os.sep):
            self.escaping += 1
            return None
        if not (os.path.isfile(real) if link else stat.S_ISREG(st.st_mode)):
            self.missing += 1
            return None
        rel = rel.replace(os.sep, "/")
        md5, size = self.repo.media.put_file(ap, self.known.get(rel))
        self.files[rel] = (md5, size)
        return rel, md5

    def md5_of(self, image: Any) -> str | None:
        """md5 recorded for an item's image (None: no stored file)."""
        if image.path:
            key = image.path
            if key not in self._by_path:
                self._by_path[key] = self._resolve(key)
            found = self._by_path[key]
            if found is not None:
                return found[1]
        return image.md5


_NO_FP = bytes(20)


def _encode(task: tuple[int, Any, str | None, Any]) -> bytes:
    """A deferred item built and encoded with its image's md5 (by the deferred item's
    own ``encode(md5)`` when it has one), as its hash (20 bytes), its fingerprint (20
    bytes, zeros if none) and its stored bytes."""
    from dsrepo.model.encoding import encode_item

    _k, build, md5, fp = task
    encode = getattr(build, "encode", None)  # (a format that can write the bytes without the item)
    data = encode(md5) if encode is not None else encode_item(build(), checksum=lambda _m, v=md5: v)
    if callable(fp):
        fp = fp()
    return hashlib.blake2b(data, digest_size=20).digest() + (fp or _NO_FP) + data


def _warn(progress: Progress, name: str, media: _MediaIndex) -> None:
    if media.outside:
        progress.warn(f"{name}: {media.outside} images are outside the dataset folder; not stored")
    if media.escaping:
        progress.warn(f"{name}: {media.escaping} images are symlinks pointing outside the dataset folder; "
                      "not followed, not stored")
    if media.missing:
        progress.warn(f"{name}: {media.missing} image files do not exist; not stored")


def stage_dataset(repo: "Repo", name: str, ds: "Dataset", root: Path, format: str,
                  import_options: Mapping[str, Any] | None, export_options: Mapping[str, Any] | None,
                  known_md5: Mapping[str, str] | None = None, extras: Mapping[str, str | None] | None = None,
                  progress: Progress = NULL_PROGRESS) -> Staged:
    """Store ``ds`` (whose files live under ``root``) as source ``name``; returns the record.

    ``known_md5`` (relpath -> md5, from a scan of ``root``: files it lists are taken to be
    regular files, or symlinks to files, inside ``root``) avoids re-hashing and re-checking
    files; ``extras`` (relpath -> md5, None when not known) are files of ``root`` that are
    neither images of the items nor annotation files, stored byte for byte (one that is an
    item's image is stored as such).
    Must run while holding the repository lock."""
    from dsrepo.model.encoding import encode_categories
    from dsrepo.repo.memo import memo_key, read_memo, write_memo

    media = _MediaIndex(repo, root, known_md5 or {})
    store = repo.store
    entries: list[list[Any]] = []
    seen: set[tuple[str, str]] = set()
    total = len(ds) if hasattr(ds, "__len__") else None
    stubs = ds.stubs(lazy=True) if hasattr(ds, "stubs") else None
    memo = read_memo(repo.layout, name) if stubs is not None else {}
    fresh: dict[bytes, bytes] = {}
    todo: list[tuple[int, Any, str | None, Any]] = []  # (entry, build, md5, fingerprint or its function)
    deferred = stubs is not None  # stubs are cheap to hold: build them later, on both cores
    if stubs is None:
        stubs = ((it.subset, it.id, None, it.media, (lambda it=it: it)) for it in ds)
    elif memo:  # every fingerprint is looked up first: computed up front, on both cores
        with few_collections(), progress.task(f"{name}: fingerprinting items"):
            stubs = list(stubs)
            fps = list(forked_map(call, [s[2] for s in stubs], repo.layout.tmp, child_share=0.5))
        stubs = ((s[0], s[1], fp, s[3], s[4]) for s, fp in zip(stubs, fps))
    # Deferred items: the loop below only makes small long-lived records (a few per item),
    # which would otherwise set off full collections of the whole parsed dataset (9 of
    # them, ~0.9 s, for a train2017-sized file).
    with few_collections() if deferred else nullcontext(), store.pack_session(), \
            progress.task(f"{name}: storing items", total=total) as bar:
        for subset, item_id, fp, item_media, build in stubs:
            key = (subset, item_id)
            if key in seen:
                raise DatasetError(f"item {item_id!r} appears twice in subset {subset!r}", root)
            seen.add(key)
            md5 = media.md5_of(item_media) if item_media is not None else None
            if fp is not None and memo:  # (with no memo, as for a new source, fingerprints
                mk = memo_key(fp, md5)    # are computed with the items, on both cores)
                known = memo.get(mk)
                if known is not None and store.has_packed(known.hex()):  # same records, same image
                    entries.append([subset, item_id, known.hex()])
                    fresh[mk] = known
                    bar.advance()
                    continue
            entries.append([subset, item_id, None])
            if deferred:
                todo.append((len(entries) - 1, build, md5, fp))
                continue
            out = _encode((0, build, md5, None))
            entries[-1][2] = store.put_packed("item", out[40:], out[:20].hex())
            bar.advance()
        with few_collections():
            for (k, _b, md5, _fp), out in zip(todo, forked_map(_encode, todo, repo.layout.tmp)):
                entries[k][2] = store.put_packed("item", out[40:], out[:20].hex())
                if out[20:40] != _NO_FP:
                    fresh[memo_key(out[20:40], md5)] = out[:20]
                bar.advance()
        files = [[rel, md5, size, "m"] for rel, (md5, size) in media.files.items()]
        for rel, md5 in (extras or {}).items():
            if rel not in media.files:
                md5, size = repo.media.put_file(Path(root) / rel, md5)  # (md5 None: hashed as stored)
                files.append([rel, md5, size, "x"])
        files.sort(key=lambda f: f[0])
        items_id = write_item_list(store, entries)
        files_id = write_list(store, files, 1)
    cats_id = store.put_loose("categories", encode_categories(ds.categories))
    meta_id = store.put_loose("meta", orjson.dumps(_plain(ds.subset_meta), option=orjson.OPT_SORT_KEYS))
    rec = SourceRecord(name=name, format=format, items=items_id, count=len(entries), files=files_id,
                       nfiles=len(files), media_bytes=sum(f[2] for f in files), categories=cats_id,
                       subset_meta=meta_id, import_options=plain_options(import_options),
                       export_options=plain_options(export_options))
    rid = store.put_loose("source", rec.to_bytes())
    if fresh or memo:
        write_memo(repo.layout, name, fresh)
    _warn(progress, name, media)
    return Staged(rec, rid, {f[0]: f[1] for f in files})

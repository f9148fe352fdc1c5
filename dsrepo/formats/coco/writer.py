"""Streaming COCO file writing: records are spooled to temp files while items stream,
then each annotation file is assembled in its final order with ids filled in.

Memory stays small (a few integers per record); record bytes are read back with
``os.pread`` in runs, so a 450 MB file never sits in memory as one object.
"""

from __future__ import annotations

import os
from array import array
from typing import Any, Callable, Iterator

import numpy as np
import orjson

from dsrepo.formats.coco.meta import BIG
from dsrepo.formats.coco.splice import NOID, Refs, id_numbers, write_spliced

_CHUNK = 1 << 20
_SORT = orjson.OPT_SORT_KEYS  # records are written with sorted keys: same bytes whatever dict order


class Spool:
    """Append-only record store in a temp file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.f = open(path, "wb", buffering=_CHUNK)
        self.off = array("q")
        self.size = 0

    def add(self, data: bytes) -> int:
        n = len(self.off)
        self.off.append(self.size)
        self.f.write(data)
        self.size += len(data)
        return n

    def extend(self, recs: list[bytes]) -> None:
        for r in recs:
            self.add(r)

    def __len__(self) -> int:
        return len(self.off)

    def read(self, order: np.ndarray) -> Iterator[tuple[int, bytes]]:
        """``(record number, bytes)`` in ``order``, reading consecutive runs with one
        system call each."""
        self.f.flush()
        offs = self.off.tolist()
        offs.append(self.size)
        order_l = order.tolist()
        fd = os.open(self.path, os.O_RDONLY)
        pread = os.pread
        try:
            n = len(order_l)
            i = 0
            while i < n:
                r = order_l[i]
                start = offs[r]
                end = offs[r + 1]
                j = i + 1
                while j < n and order_l[j] == order_l[j - 1] + 1 and end - start < _CHUNK:
                    end = offs[order_l[j] + 1]
                    j += 1
                buf = pread(fd, end - start, start)
                if j == i + 1:
                    yield r, buf
                else:
                    for k in range(i, j):
                        r = order_l[k]
                        yield r, buf[offs[r] - start:offs[r + 1] - start]
                i = j
        finally:
            os.close(fd)

    def pad(self, n: int) -> None:
        """``n`` empty records (kept elsewhere; they keep record numbers aligned)."""
        self.off.extend(array("q", [self.size]) * n)

    def lengths(self) -> np.ndarray:
        """Byte length of every record, in record order."""
        offs = np.frombuffer(self.off, dtype=np.int64) if len(self.off) else np.zeros(0, np.int64)
        return np.diff(offs, append=np.int64(self.size))

    def close(self) -> None:
        if not self.f.closed:
            self.f.close()


def _rest(rec: dict) -> bytes:
    return orjson.dumps(rec, option=_SORT)


def _join(head: bytes, rest: bytes) -> bytes:
    return head + (b"," + rest[1:] if len(rest) > 2 else b"}")


class TaskFile:
    """Records of one ``<task>_<subset>.json`` while items stream by."""

    def __init__(self, task: str, tmp_dir: str, stem: str, with_ann_ids: bool = True, by_id: bool = False) -> None:
        self.task = task
        self.with_ann_ids = with_ann_ids
        self.by_id = by_id  # the imported file listed annotations in increasing id order
        self.images = Spool(os.path.join(tmp_dir, stem + ".images"))
        self.anns = Spool(os.path.join(tmp_dir, stem + ".anns"))
        self.img_item = array("q")
        self.img_key = array("q")
        self.img_id: dict[int, Any] = {}  # per-task image id overrides
        self.member: set[int] = set()
        self.ann_item = array("q")
        self.ann_want = array("q")
        self.ann_omit_id = array("b")
        self.ann_pos = array("q")  # stored file position, -1 if none
        self.labels_used: set[int] = set()
        # records kept in the earlier export of this file (``src``): see splice.py
        self.src: Any = None
        self.img_refs: Refs | None = None
        self.ann_refs: Refs | None = None
        # with ``track``, :meth:`write` sets where each record lies in the file -
        # ``(offset, length, body length)`` by record number - and the ids it wrote
        self.track = False
        self.img_parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.ann_parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.ids_written: dict[int, Any] = {}
        self.ann_ids_written: np.ndarray | None = None

    def add_image(self, item: int, key: int, rec: dict, image_id: Any = None) -> None:
        """An image record (without ``id``) of item number ``item``."""
        self.add_image_bytes(item, key, _rest(rec), image_id)

    def add_image_bytes(self, item: int, key: int, rest: bytes, image_id: Any = None) -> None:
        """:meth:`add_image` of a record already serialised (sorted keys, no ``id``)."""
        self.images.add(rest)
        if self.img_refs is not None:
            self.img_refs.pad(1)
        self.img_item.append(item)
        self.img_key.append(key)
        self.member.add(item)
        if image_id is not None:
            self.img_id[item] = image_id

    def add_ann(self, item: int, want_id: int, pos: int | None, rec: dict, omit_id: bool = False) -> None:
        """An annotation record (without ``id``/``image_id``); ``pos`` its stored position."""
        self.add_ann_bytes(item, want_id, pos, orjson.dumps(rec, option=_SORT), omit_id)

    def add_ann_bytes(self, item: int, want_id: int, pos: int | None, rec: bytes, omit_id: bool = False) -> None:
        """:meth:`add_ann` of a record already serialised (sorted keys, no ids)."""
        self.anns.add(rec)
        if self.ann_refs is not None:
            self.ann_refs.pad(1)
        self.ann_item.append(item)
        self.ann_want.append(want_id)
        self.ann_omit_id.append(omit_id)
        self.ann_pos.append(-1 if pos is None else pos)

    def add_anns_bytes(self, item: int, want: list[int], pos: list[int], omit: list[int],
                       recs: list[bytes]) -> None:
        """Several :meth:`add_ann_bytes` of item ``item`` at once (positions -1: none)."""
        self.anns.extend(recs)
        if self.ann_refs is not None:
            self.ann_refs.pad(len(recs))
        self.ann_item.extend([item] * len(recs))
        self.ann_want.extend(want)
        self.ann_omit_id.extend(omit)
        self.ann_pos.extend(pos)

    def add_image_ref(self, item: int, key: int, off: int, size: int, body: int, old: int,
                      image_id: Any = None) -> None:
        """An image record kept in :attr:`src`: the record at ``off`` (``size`` bytes,
        ``body`` of them after its id), written with image id ``old`` (:func:`old_id`)."""
        if self.img_refs is None:
            self.img_refs = Refs(len(self.img_item))
        self.images.pad(1)
        self.img_refs.add((off,), (size,), (body,), (old,))
        self.img_item.append(item)
        self.img_key.append(key)
        self.member.add(item)
        if image_id is not None:
            self.img_id[item] = image_id

    def add_ann_refs(self, item: int, want: list[int], pos: list[int], omit: list[int], off: list[int],
                     size: list[int], body: list[int], old: list[int]) -> None:
        """Annotation records of item ``item`` kept in :attr:`src` (as
        :meth:`add_image_ref`; ``old``: their ids there)."""
        n = len(want)
        if self.ann_refs is None:
            self.ann_refs = Refs(len(self.ann_item))
        self.anns.pad(n)
        self.ann_refs.add(off, size, body, old)
        self.ann_item.extend([item] * n)
        self.ann_want.extend(want)
        self.ann_omit_id.extend(omit)
        self.ann_pos.extend(pos)

    @property
    def n_anns(self) -> int:
        return len(self.ann_item)

    def _image_order(self) -> np.ndarray:
        keys = np.frombuffer(self.img_key, dtype=np.int64) if len(self.img_key) else np.zeros(0, np.int64)
        return np.argsort(keys, kind="stable")

    def _ann_order(self, item_rank: dict[int, int]) -> np.ndarray:
        """Final annotation order.

        Position mode (some records carry their file position): positioned records by
        position; a record without one follows the last positioned record of the same
        item before it (or goes to the end). Id mode (``by_id``): by wanted annotation id,
        records without one at the end. Otherwise: grouped by image, in image order."""
        n = self.n_anns
        if not n:
            return np.zeros(0, np.int64)
        pos = np.frombuffer(self.ann_pos, dtype=np.int64)
        items = np.frombuffer(self.ann_item, dtype=np.int64)
        seq = np.arange(n)
        if self.by_id and not (pos >= 0).any():
            want = np.frombuffer(self.ann_want, dtype=np.int64)
            return np.lexsort((seq, np.where(want > 0, want, BIG + seq)))
        has = pos >= 0
        if has.any():
            last = np.maximum.accumulate(np.where(has, seq, -1))
            ok = (last >= 0) & (items[np.maximum(last, 0)] == items)
            k1 = np.where(has, pos, np.where(ok, pos[np.maximum(last, 0)], BIG + seq))
            k2 = (~has).astype(np.int64)
            return np.lexsort((seq, k2, k1))
        rank = np.fromiter((item_rank[i] for i in items.tolist()), dtype=np.int64, count=n)
        return np.lexsort((seq, rank))

    def _ann_ids(self, order: np.ndarray, reindex: bool) -> tuple[np.ndarray, int]:
        """Annotation ids by record: kept unless zero or already used earlier in the
        final order (those get ``max + 1, + 2, ...``); ``1..n`` with ``reindex``."""
        n = self.n_anns
        ids = np.zeros(n, dtype=np.int64)
        if not n:
            return ids, 0
        if reindex:
            ids[order] = np.arange(1, n + 1)
            return ids, 0
        want = np.frombuffer(self.ann_want, dtype=np.int64)[order]
        _, first = np.unique(want, return_index=True)
        keep = np.zeros(n, dtype=bool)
        keep[first] = True
        keep &= want != 0
        dups = int(((~keep) & (want != 0)).sum())
        ids[order[keep]] = want[keep]
        pending = order[~keep]
        start = int(want[keep].max()) + 1 if keep.any() else 1
        ids[pending] = np.arange(start, start + pending.size)
        return ids, dups

    def write(self, path: str, keys: list[str], top: dict, categories: list[dict] | None,
              image_ids: Callable[[int], Any], reindex: bool) -> int:
        """Assemble the file at ``path``; returns the number of duplicate annotation ids fixed."""
        img_order = self._image_order()
        img_items = np.frombuffer(self.img_item, dtype=np.int64) if len(self.img_item) else np.zeros(0, np.int64)
        ids_of: dict[int, Any] = {}
        rank: dict[int, int] = {}
        for r, k in enumerate(img_order.tolist()):
            item = int(img_items[k])
            rank[item] = r
            ids_of[item] = self.img_id.get(item, image_ids(item))
        # (b"%d" for ints: orjson.dumps results keep a 4 KiB buffer each)
        id_bytes = {k: b"%d" % v if v.__class__ is int else bytes(bytearray(orjson.dumps(v)))
                    for k, v in ids_of.items()}
        ann_order = self._ann_order(rank)
        ann_ids, dups = self._ann_ids(ann_order, reindex) if self.with_ann_ids else (None, 0)
        self.ids_written, self.ann_ids_written = ids_of, ann_ids
        ann_items = np.frombuffer(self.ann_item, dtype=np.int64) if self.n_anns else np.zeros(0, np.int64)
        omit = np.frombuffer(self.ann_omit_id, dtype=np.int8) if self.n_anns else np.zeros(0, np.int8)
        id_num = np.zeros(0, np.int64)
        if self.img_refs is not None or self.ann_refs is not None:
            last = max(int(img_items.max()) if len(img_items) else -1, int(ann_items.max()) if len(ann_items) else -1)
            id_num = id_numbers(ids_of, last + 1)
        with open(path, "wb", buffering=_CHUNK) as out:
            out.write(b"{")
            for n, key in enumerate(keys):
                if n:
                    out.write(b",")
                out.write(orjson.dumps(key) + b":")
                if key == "images":
                    items_l = img_items.tolist()

                    def images(pairs: Iterator[tuple[int, bytes]]) -> Iterator[bytes]:
                        return (_join(b'{"id":' + id_bytes[items_l[k]], rec) for k, rec in pairs)

                    start = out.tell() + 1
                    if self.img_refs is None:
                        lens = self._write_list(out, images(self.images.read(img_order)))
                    else:
                        rr = self.img_refs.arrays()
                        got = id_num[img_items[img_order]]
                        verbatim = (rr[0][img_order] >= 0) & (rr[3][img_order] == got) & (got != NOID)
                        lens = write_spliced(out, img_order, verbatim, self.img_refs, self.images, self.src, images,
                                             self.track)
                    self.img_parts = self._parts(img_order, start, lens, self.images, self.img_refs)
                elif key == "annotations":
                    def anns(pairs: Iterator[tuple[int, bytes]]) -> Iterator[bytes]:
                        return self._ann_records(pairs, ann_ids, ann_items, omit if not reindex else None, id_bytes)

                    start = out.tell() + 1
                    if self.ann_refs is None:
                        lens = self._write_list(out, anns(self.anns.read(ann_order)))
                    else:
                        verbatim = self._ann_verbatim(ann_order, ann_ids, ann_items, omit, reindex, id_num,
                                                      img_items)
                        lens = write_spliced(out, ann_order, verbatim, self.ann_refs, self.anns, self.src, anns,
                                             self.track)
                    self.ann_parts = self._parts(ann_order, start, lens, self.anns, self.ann_refs)
                elif key == "categories":
                    out.write(orjson.dumps(categories or [], option=_SORT))
                else:
                    out.write(orjson.dumps(top.get(key), option=_SORT))
            out.write(b"}")
        return dups

    def _ann_verbatim(self, order: np.ndarray, ids: np.ndarray | None, items: np.ndarray, omit: np.ndarray,
                      reindex: bool, id_num: np.ndarray, img_items: np.ndarray) -> np.ndarray:
        """Which annotation records (over ``order``) keep their bytes: kept in
        :attr:`src`, with their item's image id and their own id as written there."""
        off, _size, _body, old = self.ann_refs.arrays()  # type: ignore[union-attr]
        same_image = np.zeros(len(id_num), dtype=bool)
        if self.img_refs is not None:
            ioff, _s, _b, iold = self.img_refs.arrays()
            kept = ioff >= 0
            old_of_item = np.full(len(id_num), NOID, dtype=np.int64)
            old_of_item[img_items[kept]] = iold[kept]
            same_image = (old_of_item == id_num) & (id_num != NOID)
        verbatim = (off[order] >= 0) & same_image[items[order]]
        if ids is not None:
            same_id = old[order] == ids[order]
            if not reindex:
                same_id |= omit[order] != 0  # written without an id
            verbatim &= same_id
        return verbatim

    def _ann_records(self, pairs, ids, items, omit, id_bytes) -> Iterator[bytes]:
        """The annotation records of ``(record, spooled bytes)`` pairs, ids filled in."""
        items_l = items.tolist()
        ids_l = ids.tolist() if ids is not None else None
        omit_l = omit.tolist() if omit is not None else None
        for r, rec in pairs:
            img = id_bytes[items_l[r]]
            if len(rec) <= 2:  # (one formatting per record: no slices or concatenations)
                if ids_l is None or (omit_l is not None and omit_l[r]):
                    yield b'{"image_id":%b}' % img
                else:
                    yield b'{"id":%d,"image_id":%b}' % (ids_l[r], img)
            elif ids_l is None or (omit_l is not None and omit_l[r]):
                yield b'{"image_id":%b,%b' % (img, memoryview(rec)[1:])
            else:
                yield b'{"id":%d,"image_id":%b,%b' % (ids_l[r], img, memoryview(rec)[1:])

    def _parts(self, order: np.ndarray, start: int, lens: array | None, spool: Spool,
               refs: Refs | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Where each record lies in the file: ``(offsets, lengths, body lengths)`` by
        record number; the body is the record's bytes after its ids (without the leading
        ``{`` of the spooled record; empty for ``{}``). ``start``: file offset of the first
        record, ``lens``: the written length of each record in file order (records are
        joined by commas)."""
        if lens is None:
            return None
        written = np.frombuffer(lens, dtype=np.int64) if len(lens) else np.zeros(0, np.int64)
        n = len(order)
        starts = start + np.concatenate((np.zeros(1, np.int64), np.cumsum(written + 1)[:-1]))[:n]
        rest = spool.lengths()[order]
        body = np.where(rest > 2, rest - 1, 0)
        if refs is not None:
            off, _size, rbody, _old = refs.arrays()
            body = np.where(off[order] >= 0, rbody[order], body)
        offs = np.zeros(n, np.int64)
        sizes = np.zeros(n, np.int64)
        bodies = np.zeros(n, np.int64)
        offs[order] = starts
        sizes[order] = written
        bodies[order] = body
        return offs, sizes, bodies

    def _write_list(self, out, records: Iterator[bytes]) -> array | None:
        """Write ``[records...]``; with :attr:`track`, the length of each record."""
        lens = array("q") if self.track else None
        out.write(b"[")
        buf: list[bytes] = []
        size = 0
        first = True
        for rec in records:
            buf.append(rec)
            size += len(rec)
            if lens is not None:
                lens.append(len(rec))
            if size > _CHUNK:
                if not first:
                    out.write(b",")
                out.write(b",".join(buf))
                first = False
                buf = []
                size = 0
        if buf:
            if not first:
                out.write(b",")
            out.write(b",".join(buf))
        out.write(b"]")
        return lens

    def close(self) -> None:
        self.images.close()
        self.anns.close()

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

_CHUNK = 1 << 20


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

    def __len__(self) -> int:
        return len(self.off)

    def read(self, order: np.ndarray) -> Iterator[bytes]:
        """Records in ``order``, reading consecutive runs with one system call each."""
        self.f.flush()
        offs = np.frombuffer(self.off, dtype=np.int64) if len(self.off) else np.zeros(0, np.int64)
        ends = np.append(offs[1:], self.size) if offs.size else offs
        fd = os.open(self.path, os.O_RDONLY)
        try:
            n = len(order)
            i = 0
            while i < n:
                j = i + 1
                start = int(offs[order[i]])
                end = int(ends[order[i]])
                while j < n and order[j] == order[j - 1] + 1 and (end - start) < _CHUNK:
                    end = int(ends[order[j]])
                    j += 1
                buf = os.pread(fd, end - start, start)
                base = start
                for k in range(i, j):
                    r = order[k]
                    yield buf[int(offs[r]) - base:int(ends[r]) - base]
                i = j
        finally:
            os.close(fd)

    def close(self) -> None:
        if not self.f.closed:
            self.f.close()


def _rest(rec: dict) -> bytes:
    return orjson.dumps(rec)


def _join(head: bytes, rest: bytes) -> bytes:
    return head + (b"," + rest[1:] if len(rest) > 2 else b"}")


class TaskFile:
    """Records of one ``<task>_<subset>.json`` while items stream by."""

    def __init__(self, task: str, tmp_dir: str, stem: str, with_ann_ids: bool = True) -> None:
        self.task = task
        self.with_ann_ids = with_ann_ids
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
        self.ann_k1 = array("q")
        self.ann_k2 = array("q")
        self.labels_used: set[int] = set()
        self._last_o: int | None = None
        self._last_item = -1
        self._k2 = 0

    def add_image(self, item: int, key: int, rec: dict, image_id: Any = None) -> None:
        """An image record (without ``id``) of item number ``item``."""
        self.images.add(_rest(rec))
        self.img_item.append(item)
        self.img_key.append(key)
        self.member.add(item)
        if image_id is not None:
            self.img_id[item] = image_id

    def add_ann(self, item: int, want_id: int, pos: int | None, rec: dict, omit_id: bool = False) -> None:
        """An annotation record (without ``id``/``image_id``); ``pos`` its stored position."""
        if item != self._last_item:
            self._last_item = item
            self._last_o = None
            self._k2 = 0
        self._k2 += 1
        self.anns.add(_rest(rec))
        self.ann_item.append(item)
        self.ann_want.append(want_id)
        self.ann_omit_id.append(1 if omit_id else 0)
        if pos is not None:
            self._last_o = pos
            self.ann_pos.append(pos)
            self.ann_k1.append(pos)
            self.ann_k2.append(0)
        else:
            self.ann_pos.append(-1)
            self.ann_k1.append(self._last_o if self._last_o is not None else BIG + len(self.ann_item))
            self.ann_k2.append(self._k2)

    @property
    def n_anns(self) -> int:
        return len(self.ann_item)

    def _image_order(self) -> np.ndarray:
        keys = np.frombuffer(self.img_key, dtype=np.int64) if len(self.img_key) else np.zeros(0, np.int64)
        return np.argsort(keys, kind="stable")

    def _ann_order(self, item_rank: dict[int, int]) -> np.ndarray:
        n = self.n_anns
        if not n:
            return np.zeros(0, np.int64)
        pos = np.frombuffer(self.ann_pos, dtype=np.int64)
        seq = np.arange(n)
        if (pos >= 0).any():
            k1 = np.frombuffer(self.ann_k1, dtype=np.int64)
            k2 = np.frombuffer(self.ann_k2, dtype=np.int64)
            return np.lexsort((seq, k2, k1))
        items = np.frombuffer(self.ann_item, dtype=np.int64)
        rank = np.fromiter((item_rank[int(i)] for i in items), dtype=np.int64, count=n)
        return np.lexsort((seq, rank))

    def _ann_ids(self, order: np.ndarray, reindex: bool) -> tuple[np.ndarray, int]:
        n = self.n_anns
        want = np.frombuffer(self.ann_want, dtype=np.int64) if n else np.zeros(0, np.int64)
        ids = np.zeros(n, dtype=np.int64)
        if reindex:
            ids[order] = np.arange(1, n + 1)
            return ids, 0
        used: set[int] = set()
        pending = []
        dups = 0
        for r in order.tolist():
            w = int(want[r])
            if w and w not in used:
                used.add(w)
                ids[r] = w
            else:
                if w:
                    dups += 1
                pending.append(r)
        nxt = max(used, default=0) + 1
        for r in pending:
            ids[r] = nxt
            nxt += 1
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
        id_bytes = {k: orjson.dumps(v) for k, v in ids_of.items()}
        ann_order = self._ann_order(rank)
        ann_ids, dups = self._ann_ids(ann_order, reindex) if self.with_ann_ids else (None, 0)
        ann_items = np.frombuffer(self.ann_item, dtype=np.int64) if self.n_anns else np.zeros(0, np.int64)
        omit = np.frombuffer(self.ann_omit_id, dtype=np.int8) if self.n_anns else np.zeros(0, np.int8)
        with open(path, "wb", buffering=_CHUNK) as out:
            out.write(b"{")
            for n, key in enumerate(keys):
                if n:
                    out.write(b",")
                out.write(orjson.dumps(key) + b":")
                if key == "images":
                    self._write_list(out, (_join(b'{"id":' + id_bytes[int(img_items[k])], rec)
                                           for k, rec in zip(img_order.tolist(), self.images.read(img_order))))
                elif key == "annotations":
                    self._write_list(out, self._ann_records(ann_order, ann_ids, ann_items,
                                                            omit if not reindex else None, id_bytes))
                elif key == "categories":
                    out.write(orjson.dumps(categories or []))
                else:
                    out.write(orjson.dumps(top.get(key)))
            out.write(b"}")
        return dups

    def _ann_records(self, order, ids, items, omit, id_bytes) -> Iterator[bytes]:
        order_l = order.tolist()
        for r, rec in zip(order_l, self.anns.read(order)):
            img = id_bytes[int(items[r])]
            if ids is None or (omit is not None and omit[r]):
                head = b'{"image_id":' + img
            else:
                head = b'{"id":' + str(int(ids[r])).encode() + b',"image_id":' + img
            yield _join(head, rec)

    @staticmethod
    def _write_list(out, records: Iterator[bytes]) -> None:
        out.write(b"[")
        buf: list[bytes] = []
        size = 0
        first = True
        for rec in records:
            if not first:
                buf.append(b",")
            first = False
            buf.append(rec)
            size += len(rec)
            if size > _CHUNK:
                out.write(b"".join(buf))
                buf = []
                size = 0
        out.write(b"".join(buf) + b"]")

    def close(self) -> None:
        self.images.close()
        self.anns.close()

"""Records a COCO task file takes from the earlier export of the same file (incremental
export, see :mod:`dsrepo.formats.coco.patch`).

A record written as ``{"id":...,"image_id":...,BODY`` is *verbatim* when its ids are
the ones it had in the earlier file: its bytes are then the same, and runs of verbatim
records that were consecutive there are copied as one slice. Other records kept there
are rebuilt from their body (``{`` + BODY) with the new ids, like any spooled record.
"""

from __future__ import annotations

from array import array
from typing import Any, Callable, Iterable, Iterator

import numpy as np

# the old id of a record whose id there was not a (64-bit) integer: never verbatim
NOID = -(1 << 63)
_LIMIT = 1 << 62


def old_id(v: Any) -> int:
    """``v`` as a comparable old id: itself for a small enough int, else :data:`NOID`."""
    return v if v.__class__ is int and -_LIMIT < v < _LIMIT else NOID


class Refs:
    """Where each record of a task file lies in the earlier file: offset of the whole
    record (-1: not there; the record is in the spool), its length, the length of its
    body, and its id there. One entry per record number."""

    __slots__ = ("off", "size", "body", "old")

    def __init__(self, n: int) -> None:
        self.off = array("q", [-1]) * n
        self.size = array("q", [0]) * n
        self.body = array("q", [0]) * n
        self.old = array("q", [NOID]) * n

    def pad(self, n: int) -> None:
        """``n`` records that are not in the earlier file."""
        self.off.extend(array("q", [-1]) * n)
        self.size.extend(array("q", [0]) * n)
        self.body.extend(array("q", [0]) * n)
        self.old.extend(array("q", [NOID]) * n)

    def add(self, off: Iterable[int], size: Iterable[int], body: Iterable[int], old: Iterable[int]) -> None:
        """Records kept in the earlier file."""
        self.off.extend(off)
        self.size.extend(size)
        self.body.extend(body)
        self.old.extend(old)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(off, size, body, old)`` as numpy arrays."""
        def a(x: array) -> np.ndarray:
            return np.frombuffer(x, dtype=np.int64) if len(x) else np.zeros(0, np.int64)
        return a(self.off), a(self.size), a(self.body), a(self.old)


def id_numbers(ids_of: dict[int, Any], n: int) -> np.ndarray:
    """The image id of each item number below ``n`` as :func:`old_id` gives it."""
    out = np.full(n, NOID, dtype=np.int64)
    if ids_of:
        keys = np.fromiter(ids_of.keys(), dtype=np.int64, count=len(ids_of))
        out[keys] = np.fromiter((old_id(v) for v in ids_of.values()), dtype=np.int64, count=len(ids_of))
    return out


def write_spliced(out: Any, order: np.ndarray, verbatim: np.ndarray, refs: Refs, spool: Any, src: Any,
                  fmt: Callable[[Iterator[tuple[int, bytes]]], Iterator[bytes]], track: bool) -> array | None:
    """Write the JSON list of the records in ``order``: verbatim ones (a mask over
    ``order``) copied from ``src`` in runs, the others ``fmt`` of ``(record, bytes as
    spooled)`` - read from ``spool`` or rebuilt from their body in ``src``. With
    ``track``, returns the written length of each record in ``order``."""
    off, size, body, _old = refs.arrays()
    roff, rsize, rbody = off[order], size[order], body[order]
    n = len(order)
    cont = np.zeros(n, dtype=bool)
    if n > 1:
        cont[1:] = verbatim[1:] & verbatim[:-1] & (roff[1:] == roff[:-1] + rsize[:-1] + 1)
    starts = np.flatnonzero(~cont).tolist()
    ends = starts[1:] + [n]
    other = ~verbatim
    in_src = (roff >= 0)[other]

    def bodies() -> Iterator[tuple[int, bytes]]:
        spooled = spool.read(order[other][~in_src])
        for r, kept, o, s, b in zip(order[other].tolist(), in_src.tolist(), roff[other].tolist(),
                                    rsize[other].tolist(), rbody[other].tolist()):
            if kept:
                yield r, (b"{" + src[o + s - b:o + s] if b else b"{}")
            else:
                yield next(spooled)

    records = fmt(bodies())
    lens = array("q", rsize.tobytes()) if track else None
    verb_l, roff_l, rsize_l = verbatim.tolist(), roff.tolist(), rsize.tolist()
    view = memoryview(src) if src is not None else None
    out.write(b"[")
    buf: list[bytes] = []
    pending = 0
    for n_run, (a, b) in enumerate(zip(starts, ends)):
        if n_run:
            buf.append(b",")
        if verb_l[a]:
            out.write(b"".join(buf))
            buf, pending = [], 0
            out.write(view[roff_l[a]:roff_l[b - 1] + rsize_l[b - 1]])  # type: ignore[index]
            continue
        rec = next(records)
        if lens is not None:
            lens[a] = len(rec)
        buf.append(rec)
        pending += len(rec)
        if pending > 1 << 20:
            out.write(b"".join(buf))
            buf, pending = [], 0
    buf.append(b"]")
    out.write(b"".join(buf))
    return lens

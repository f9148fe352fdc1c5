"""Deterministic text for CVAT XML: numbers, coordinates, mask RLE, escaping.

Numbers are written ``"%.2f"`` like CVAT whenever that reads back as the same float;
otherwise the shortest exact form (so an import -> export -> import never changes a
value). Box corners and ellipse centre/radii are chosen so that the re-imported
width/height and ellipse corners are bit-identical.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterator, Sequence

import numpy as np

_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPECIAL = re.compile("[&<>\"\x00-\x1f\ufffe\uffff]")


def num(v: float) -> str:
    """``"%.2f"`` of ``v`` if exact, else the shortest round-tripping form."""
    s = "%.2f" % v
    if float(s) == v:
        return s
    return repr(float(v) + 0.0)


def _near(v: float, n: int = 3) -> Iterator[float]:
    yield v
    up = down = v
    for _ in range(n):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        yield up
        yield down


def end(a: float, d: float) -> str:
    """Text ``s`` with ``float(s) - a == d`` (a box corner from its origin and size)."""
    s = "%.2f" % (a + d)
    if float(s) - a == d:
        return s
    cands = list(_near(a + d))
    for c in cands:
        s = "%.2f" % c
        if float(s) - a == d:
            return s
    for c in cands:
        if c - a == d:
            return repr(c + 0.0)
    return num(a + d)


def centre_radius(lo: float, hi: float) -> tuple[str, str]:
    """Texts ``(c, r)`` with ``c - r == lo`` and ``c + r == hi`` when possible."""
    c0, r0 = (lo + hi) / 2, (hi - lo) / 2
    pairs = [(c, r) for c in _near(c0, 2) for r in _near(r0, 2)]
    for c, r in pairs:
        cs, rs = "%.2f" % c, "%.2f" % r
        if float(cs) - float(rs) == lo and float(cs) + float(rs) == hi:
            return cs, rs
    for c, r in pairs:
        if c - r == lo and c + r == hi:
            return repr(c + 0.0), repr(r + 0.0)
    return num(c0), num(r0)


def points(flat: Sequence[float]) -> str:
    """``"x0,y0;x1,y1;..."``."""
    return ";".join(f"{num(flat[i])},{num(flat[i + 1])}" for i in range(0, len(flat) - 1, 2))


def mask_rle(image: np.ndarray, box: Any) -> tuple[str, list[int]] | None:
    """CVAT RLE of a 0/1 mask: ``(rle text, [left, top, width, height])``.

    Uses ``box`` (the box read from CVAT) when it still holds all the foreground,
    else the tight box. Runs go row by row over the box, starting with background.
    None for an empty mask."""
    ys, xs = np.nonzero(image)
    if not len(ys):
        return None
    h, w = image.shape
    l, t, r, b = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    if isinstance(box, (list, tuple)) and len(box) == 4 and all(isinstance(v, int) for v in box):
        bl, bt, bw, bh = box
        if 0 <= bl <= l and 0 <= bt <= t and bl + bw >= r and bt + bh >= b and bl + bw <= w and bt + bh <= h:
            l, t, r, b = bl, bt, bl + bw, bt + bh
    flat = (image[t:b, l:r] != 0).astype(np.int8).ravel()
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0] == 1:
        runs = [0] + runs
    return ", ".join(str(int(x)) for x in runs), [l, t, r - l, b - t]


def text(s: str) -> str:
    """Escape element text (characters XML cannot hold are dropped)."""
    if _SPECIAL.search(s) is None:
        return s
    s = _BAD_CHARS.sub("", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr(s: str) -> str:
    """Escape an attribute value (newlines and tabs kept as character references)."""
    if _SPECIAL.search(s) is None:
        return s
    return (text(s).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
            .replace("\t", "&#9;"))


def open_tag(tag: str, attrs: Sequence[tuple[str, str]], close: bool = False) -> str:
    """``<tag k="v" ...>`` (``/>`` when ``close``)."""
    inner = "".join(f' {k}="{attr(v)}"' for k, v in attrs)
    return f"<{tag}{inner}{'/' if close else ''}>"

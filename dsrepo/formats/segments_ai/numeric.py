"""Float helpers for coordinates that must read back exactly after a file round trip."""

from __future__ import annotations

import math
from typing import Callable

_STEPS = 8


def nearest(start: float, err: Callable[[float], float]) -> float:
    """The float within a few ulps of ``start`` with the smallest ``err`` (0 = exact)."""
    best, best_err = start, err(start)
    lo = hi = start
    for _ in range(_STEPS):
        if best_err == 0:
            break
        lo, hi = math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)
        for c in (lo, hi):
            e = err(c)
            if e < best_err:
                best, best_err = c, e
    return best


def far_corner(x0: float, w: float) -> float:
    """A far box corner ``x1`` with ``x1 - x0 == w`` exactly when possible (always for a
    width computed as a corner difference), else the closest; a box read back as
    ``(x0, x1 - x0)`` is then the same box."""
    return nearest(x0 + w, lambda x: abs((x - x0) - w))

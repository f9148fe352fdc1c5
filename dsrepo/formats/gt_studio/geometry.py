"""Normalised <-> pixel coordinates that read back exactly, and natural point order."""

from __future__ import annotations

import re

from dsrepo.formats.segments_ai.numeric import far_corner, nearest  # noqa: F401  (re-exported)

_DIGITS = re.compile(r"([0-9]+)")


def natural_key(key: str) -> tuple:
    """Sort key comparing digit runs as numbers and text case-insensitively
    (``p2 < p10``), ties broken by the raw key so the order is total."""
    parts = _DIGITS.split(key)
    return (tuple(int(p) if i % 2 else p.lower() for i, p in enumerate(parts)), key)


def natural_sorted(keys) -> list[str]:
    """``keys`` in natural order (what GT Studio means by "natural sort")."""
    return sorted(keys, key=natural_key)


def to_pixel(n: float, size: int) -> float:
    """Pixel coordinate of a normalised one."""
    return n * size + 0.0


def to_normal(px: float, size: int) -> float:
    """A normalised coordinate ``n`` with ``to_pixel(n, size) == px`` exactly when such
    a float exists near ``px / size`` (always for pixels read from a normalised value),
    else the closest one (off by at most an ulp of ``px``)."""
    return nearest(px / size, lambda n: abs(n * size - px))

"""The transform contract and small helpers shared by the transform modules.

A :class:`TransformSpec` names a transform, lists its options (parsed with
:func:`dsrepo.options.parse_options`) and points at the function doing the work.
Helpers here parse ``a:b`` pairs, build lazily re-keyed datasets that refuse
duplicate ``(subset, id)`` keys, and find an item's image size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from dsrepo.errors import DatasetError, UsageError
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.options import Option

TransformFn = Callable[[Dataset, Mapping[str, Any]], Dataset]


@dataclass(frozen=True, slots=True)
class TransformSpec:
    """One transform: ``fn(dataset, params)`` returns the transformed dataset.

    ``version`` is bumped whenever the output for the same input and params changes
    (the repository's build cache key includes it)."""

    name: str
    description: str
    version: int
    options: tuple[Option, ...]
    fn: TransformFn


def split_pair(raw: str, what: str, option: str) -> tuple[str, str]:
    """``"a:b"`` -> ``("a", "b")`` (split at the first colon; ``b`` may be empty).

    Raises :class:`UsageError` naming ``option`` when there is no colon or ``a`` is empty."""
    a, sep, b = raw.partition(":")
    if not sep or not a:
        raise UsageError(f"{what}: --{option} expects 'name:value', got {raw!r}")
    return a, b


def parse_ratios(pairs: Iterable[str], what: str) -> list[tuple[str, float]]:
    """``["train:.7", "test:.3"]`` -> ``[("train", 0.7), ("test", 0.3)]``.

    Subset names must be distinct, ratios positive and summing to 1 (within 1e-6)."""
    out: list[tuple[str, float]] = []
    for raw in pairs:
        name, value = split_pair(raw, what, "subset")
        try:
            ratio = float(value)
        except ValueError:
            raise UsageError(f"{what}: ratio of subset {name!r} is not a number: {value!r}") from None
        if not ratio > 0 or ratio > 1:
            raise UsageError(f"{what}: ratio of subset {name!r} must be in (0, 1], got {value}")
        if any(n == name for n, _ in out):
            raise UsageError(f"{what}: subset {name!r} given twice")
        out.append((name, ratio))
    if not out:
        raise UsageError(f"{what}: no --subset given")
    total = sum(r for _, r in out)
    if abs(total - 1.0) > 1e-6:
        raise UsageError(f"{what}: subset ratios must sum to 1, got {total:g}")
    return out


def apportion(n: int, ratios: list[float]) -> list[int]:
    """Split ``n`` into integer counts proportional to ``ratios`` (largest remainder;
    ties go to the earlier entry). The counts sum to ``n``."""
    ideal = [n * r for r in ratios]
    counts = [int(q) for q in ideal]
    rest = n - sum(counts)
    order = sorted(range(len(ratios)), key=lambda i: (-(ideal[i] - counts[i]), i))
    for i in order[:rest]:
        counts[i] += 1
    return counts


def stable_key(seed: int, *parts: str) -> bytes:
    """A machine-independent pseudo-random sort key for ``parts`` under ``seed``."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(int(seed)).encode())
    for p in parts:
        h.update(b"\x00" + p.encode("utf-8", "surrogatepass"))
    return h.digest()


def rekeyed(dataset: Dataset, fn: Callable[[Item], Item | None], what: str,
            categories: Categories | None = None,
            subset_meta: Mapping[str, Mapping[str, Any]] | None = None) -> Dataset:
    """Like ``dataset.map_items(fn)`` for functions that change ids or subsets:
    iteration raises :class:`DatasetError` when two output items share a key."""

    def gen() -> Iterator[Item]:
        seen: dict[tuple[str, str], tuple[str, str]] = {}
        for item in dataset:
            out = fn(item)
            if out is None:
                continue
            prev = seen.get(out.key)
            if prev is not None:
                raise DatasetError(
                    f"{what}: items {prev[0]}/{prev[1]} and {item.subset}/{item.id} "
                    f"both become {out.subset}/{out.id}")
            seen[out.key] = item.key
            yield out

    meta = dataset.subset_meta if subset_meta is None else subset_meta
    return Dataset(categories or dataset.categories, gen, meta, media_root=dataset.media_root)


def image_size(item: Item, what: str) -> tuple[int, int]:
    """``(h, w)`` of the item's image: stored size, else the file header.

    Raises :class:`DatasetError` naming the item when it is unknown."""
    size = item.media.header_size() if item.media is not None else None
    if size is None:
        raise DatasetError(f"{what}: image size of item {item.subset}/{item.id} is unknown")
    return size


def where(item: Item) -> str:
    """``subset/id`` of an item, for messages."""
    return f"{item.subset}/{item.id}"

"""Subset splits: random_split and the task-aware, stratified split.

Selection is hash based: within a stratum, items are ordered by a BLAKE2b hash of
``(seed, subset, id)``, so the result depends only on the seed and the item keys
(not on the machine, the Python hash seed or the numpy version). Subset sizes are
exact: ``n * ratio`` rounded by largest remainder (ties to the earlier subset).
The new subsets carry no subset meta (format-private data of the old subsets).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence

from dsrepo.model.annotations import AnnType
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.transforms.spec import TransformSpec, apportion, parse_ratios, rekeyed, stable_key
from dsrepo.options import Option

TASK_TYPES: dict[str, frozenset[AnnType]] = {
    "classification": frozenset({AnnType.label}),
    "detection": frozenset({AnnType.bbox}),
    "segmentation": frozenset({AnnType.mask, AnnType.polygon, AnnType.ellipse}),
}


def allocate(strata: Sequence[int], ratios: list[float]) -> list[list[int]]:
    """Per-stratum subset counts: totals are exactly ``apportion(sum, ratios)`` and each
    stratum is split as close to the ratios as those totals allow."""
    totals = apportion(sum(strata), ratios)
    alloc = [[int(n * r) for r in ratios] for n in strata]
    rest_c = [n - sum(row) for n, row in zip(strata, alloc)]
    rest_s = [t - sum(row[s] for row in alloc) for s, t in enumerate(totals)]
    pairs = sorted(((c, s) for c in range(len(strata)) for s in range(len(ratios))),
                   key=lambda cs: (-(strata[cs[0]] * ratios[cs[1]] - alloc[cs[0]][cs[1]]), cs))
    for c, s in pairs:
        if rest_c[c] > 0 and rest_s[s] > 0:
            alloc[c][s] += 1
            rest_c[c] -= 1
            rest_s[s] -= 1
    for c in range(len(strata)):
        for s in range(len(ratios)):
            k = min(rest_c[c], rest_s[s])
            if k > 0:
                alloc[c][s] += k
                rest_c[c] -= k
                rest_s[s] -= k
    return alloc


def _strata_of(dataset: Dataset, task: str | None) -> list[tuple[tuple[str, str], Any]]:
    """``(key, stratum)`` per item. With a task, the stratum is the item's rarest label
    among the task's annotation types (label frequency = items carrying it), else None."""
    if task is None:
        return [(it.key, None) for it in dataset]
    types = TASK_TYPES[task]
    rows = []
    freq: Counter[int] = Counter()
    for it in dataset:
        labels = {a.label for a in it.annotations if a.type in types and a.label is not None}
        freq.update(labels)
        rows.append((it.key, labels))
    return [(key, min(labels, key=lambda lab: (freq[lab], lab)) if labels else None) for key, labels in rows]


def assign_subsets(dataset: Dataset, names: list[str], ratios: list[float], seed: int,
                   task: str | None) -> dict[tuple[str, str], str]:
    """The new subset of every item key."""
    groups: dict[Any, list[tuple[str, str]]] = {}
    for key, stratum in _strata_of(dataset, task):
        groups.setdefault(stratum, []).append(key)
    order = sorted(groups, key=lambda g: (g is not None, g if g is not None else -1))
    alloc = allocate([len(groups[g]) for g in order], ratios)
    out: dict[tuple[str, str], str] = {}
    for g, counts in zip(order, alloc):
        keys = sorted(groups[g], key=lambda k: stable_key(seed, k[0], k[1]))
        pos = 0
        for name, count in zip(names, counts):
            for k in keys[pos:pos + count]:
                out[k] = name
            pos += count
    return out


def _split(dataset: Dataset, p: Mapping[str, Any], what: str, task: str | None) -> Dataset:
    pairs = parse_ratios(p["subset"] or (), what)
    names = [n for n, _ in pairs]
    ratios = [r for _, r in pairs]
    seed = int(p["seed"])
    cache: dict[tuple[str, str], str] = {}
    src = dataset

    def fn(item: Item) -> Item:
        if not cache:
            cache.update(assign_subsets(src, names, ratios, seed, task))
        dst = cache[item.key]
        return item if dst == item.subset else item.with_(subset=dst)

    return rekeyed(dataset, fn, what, subset_meta={})


def random_split(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Assign items to new subsets at random with exact proportions (``--subset
    name:ratio``, ``--seed``)."""
    return _split(dataset, p, "random_split", None)


def split(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Like random_split, stratified for ``--task``: by the image label
    (classification) or by each item's rarest box (detection) / segment
    (segmentation) label."""
    return _split(dataset, p, "split", p["task"])


_SUBSETS = Option("subset", "list", ("train:0.67", "test:0.33"), "name:ratio pairs summing to 1; repeatable")
_SEED = Option("seed", "int", 0, "random seed")

RANDOM_SPLIT = TransformSpec(
    name="random_split",
    description="Split items randomly into subsets with the given ratios",
    version=1,
    options=(_SUBSETS, _SEED),
    fn=random_split,
)

SPLIT = TransformSpec(
    name="split",
    description="Split items into subsets, stratified by label for a task",
    version=1,
    options=(
        Option("task", "choice", "classification", "what to balance", tuple(TASK_TYPES)),
        _SUBSETS,
        _SEED,
    ),
    fn=split,
)

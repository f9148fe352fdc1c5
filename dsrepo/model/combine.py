"""Merging datasets that share no history: ``exact``, ``union`` and ``intersect`` policies.

- ``exact``: categories must be identical; items merge by ``(subset, id)``; identical
  duplicates collapse, differing ones are reported as conflicts (the first is kept).
- ``union``: label sets are united by name and every source is remapped; clashing ids
  with different content are all kept, later ones renamed ``<id>__<n>``.
- ``intersect``: annotations are voted across sources: same-type annotations whose
  geometry overlaps (IoU ≥ ``iou``) form a cluster; a cluster supported by at least
  ``quorum`` sources is kept with the majority label and a ``score`` attribute equal to
  the fraction of sources that agree. ``groups`` lists label names that must appear
  together in an item; a partial group is reported.

Every policy returns ``(dataset, report)``; the report is JSON-ready.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from dsrepo.errors import DsrepoError, UsageError
from dsrepo.model.annotations import AnnType, Annotation
from dsrepo.model.categories import Categories, LabelCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.geometry import similarity
from dsrepo.model.item import Item
from dsrepo.model.merge import remap_labels

POLICIES = ("exact", "union", "intersect")


def unite_categories(datasets: Sequence[Dataset]) -> tuple[Categories, list[dict[int, int]]]:
    """Labels of ``datasets`` united by name (first seen first) and, per dataset, the
    map from its label indices to the united ones."""
    labels: list[LabelCategory] = []
    pos: dict[str, int] = {}
    maps = []
    points, colormap = {}, {}
    for ds in datasets:
        m = {}
        for i, lab in enumerate(ds.categories.labels):
            if lab.name not in pos:
                pos[lab.name] = len(labels)
                labels.append(lab)
            m[i] = pos[lab.name]
            if i in ds.categories.points and m[i] not in points:
                points[m[i]] = ds.categories.points[i]
            if i in ds.categories.colormap and m[i] not in colormap:
                colormap[m[i]] = ds.categories.colormap[i]
        maps.append(m)
    attrs: list[str] = []
    for ds in datasets:
        attrs += [a for a in ds.categories.attributes if a not in attrs]
    return Categories(tuple(labels), points, colormap, tuple(attrs)), maps


def _merge_meta(datasets: Sequence[Dataset]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ds in datasets:
        for k, v in ds.subset_meta.items():
            out.setdefault(k, v)
    return out


def _exact(datasets: Sequence[Dataset]) -> tuple[Dataset, dict[str, Any]]:
    first = datasets[0].categories
    for n, ds in enumerate(datasets[1:], 2):
        if ds.categories.label_names() != first.label_names():
            raise DsrepoError(f"merge exact: categories of source {n} differ from source 1 "
                              f"({ds.categories.label_names()} vs {first.label_names()})")
    items: dict[tuple[str, str], Item] = {}
    conflicts = []
    for n, ds in enumerate(datasets, 1):
        for it in ds:
            prev = items.get(it.key)
            if prev is None:
                items[it.key] = it
            elif prev != it:
                conflicts.append({"subset": it.subset, "id": it.id, "source": n,
                                  "reason": "item differs from an earlier source"})
    report = {"policy": "exact", "items": len(items), "conflicts": conflicts}
    return Dataset(first, list(items.values()), _merge_meta(datasets)), report


def _union(datasets: Sequence[Dataset]) -> tuple[Dataset, dict[str, Any]]:
    cats, maps = unite_categories(datasets)
    items: dict[tuple[str, str], Item] = {}
    renamed = []
    for n, (ds, m) in enumerate(zip(datasets, maps), 1):
        for it in ds:
            it = remap_labels(it, m)
            prev = items.get(it.key)
            if prev is None or prev == it:
                items.setdefault(it.key, it)
                continue
            k = 1
            while (it.subset, f"{it.id}__{k}") in items:
                k += 1
            new = it.with_(id=f"{it.id}__{k}")
            items[new.key] = new
            renamed.append({"subset": it.subset, "id": it.id, "renamed_to": new.id, "source": n})
    report = {"policy": "union", "items": len(items), "labels": cats.label_names(), "renamed": renamed}
    return Dataset(cats, list(items.values()), _merge_meta(datasets)), report


def _vote(anns_by_source: list[list[Annotation]], quorum: int, iou: float, n_sources: int,
          names: list[str]) -> tuple[list[Annotation], list[dict[str, Any]]]:
    clusters: list[list[tuple[int, Annotation]]] = []
    for src, anns in enumerate(anns_by_source):
        for a in anns:
            best, best_s = None, iou
            for c in clusters:
                rep = c[0][1]
                if rep.type is not a.type or any(s == src for s, _ in c):
                    continue
                if a.type in (AnnType.label, AnnType.caption):
                    s = 1.0 if (a.label == rep.label and getattr(a, "caption", None) == getattr(rep, "caption", None)) else 0.0
                else:
                    s = similarity(a.with_(label=None), rep.with_(label=None))
                if s >= best_s:
                    best, best_s = c, s
            if best is None:
                clusters.append([(src, a)])
            else:
                best.append((src, a))
    kept, unmatched = [], []
    for c in clusters:
        if len(c) < quorum:
            for src, a in c:
                unmatched.append({"source": src + 1, "type": a.type.value,
                                  "label": names[a.label] if a.label is not None else None})
            continue
        votes = Counter(a.label for _, a in c)
        label, n = max(votes.items(), key=lambda kv: (kv[1], -1 if kv[0] is None else -kv[0]))
        rep = next(a for _, a in c if a.label == label)
        attrs = dict(rep.attributes)
        attrs["score"] = round(n / n_sources, 6)
        kept.append(rep.with_(attributes=attrs, meta={}))
    return kept, unmatched


def _intersect(datasets: Sequence[Dataset], quorum: int, iou: float,
               groups: Sequence[Sequence[str]]) -> tuple[Dataset, dict[str, Any]]:
    cats, maps = unite_categories(datasets)
    names = cats.label_names()
    by_key: dict[tuple[str, str], list[Item | None]] = {}
    for n, (ds, m) in enumerate(zip(datasets, maps)):
        for it in ds:
            by_key.setdefault(it.key, [None] * len(datasets))[n] = remap_labels(it, m)
    items, unmatched_items, unmatched_anns, errors = [], [], [], []
    for key, versions in by_key.items():
        present = [v for v in versions if v is not None]
        if len(present) < len(datasets):
            unmatched_items.append({"subset": key[0], "id": key[1],
                                    "missing_in": [i + 1 for i, v in enumerate(versions) if v is None]})
        kept, lost = _vote([list(v.annotations) if v else [] for v in versions], quorum, iou, len(datasets), names)
        for u in lost:
            unmatched_anns.append({"subset": key[0], "id": key[1], **u})
        present_labels = {names[a.label] for a in kept if a.label is not None}
        for g in groups:
            have = [x for x in g if x in present_labels]
            if have and len(have) < len(g):
                errors.append({"subset": key[0], "id": key[1], "error": "incomplete group",
                               "group": list(g), "missing": [x for x in g if x not in present_labels]})
        items.append(present[0].with_(annotations=tuple(kept)))
    report = {"policy": "intersect", "items": len(items), "quorum": quorum, "iou": iou,
              "unmatched_items": unmatched_items, "unmatched_annotations": unmatched_anns, "errors": errors}
    return Dataset(cats, items, _merge_meta(datasets)), report


def combine_datasets(datasets: Sequence[Dataset], policy: str = "exact", quorum: int = 0,
                     iou: float = 0.5, groups: Sequence[Sequence[str]] = ()) -> tuple[Dataset, dict[str, Any]]:
    """Merge ``datasets`` by ``policy`` (exact | union | intersect); returns (dataset, report).

    For ``intersect``, ``quorum`` 0 means a strict majority of sources.
    """
    if len(datasets) < 2:
        raise DsrepoError("merge needs at least two datasets")
    if policy == "exact":
        return _exact(datasets)
    if policy == "union":
        return _union(datasets)
    if policy == "intersect":
        q = quorum or (len(datasets) // 2 + 1)
        if not 1 <= q <= len(datasets):
            raise UsageError(f"quorum must be between 1 and {len(datasets)}, got {quorum}")
        return _intersect(datasets, q, iou, groups)
    raise UsageError(f"unknown merge policy {policy!r} (known: {', '.join(POLICIES)})")

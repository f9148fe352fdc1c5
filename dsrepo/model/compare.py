"""Comparing two arbitrary datasets: exact equality and distance-based matching.

Both work on label *names* so datasets with different category orders compare
sensibly. Results are plain dicts ready for ``--json`` and for text tables.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from dsrepo.model.dataset import Dataset
from dsrepo.model.diff import diff_items
from dsrepo.model.geometry import similarity
from dsrepo.model.item import Item

_NO_LABEL = "<none>"


def _label_name(ds: Dataset, idx: int | None) -> str:
    if idx is None or idx >= len(ds.categories.labels):
        return _NO_LABEL
    return ds.categories.labels[idx].name


def _strip(item: Item, ignored_item: set[str], ignored_ann: set[str], ignore_meta: bool) -> Item:
    anns = tuple(
        a.with_(attributes={k: v for k, v in a.attributes.items() if k not in ignored_ann},
                meta={} if ignore_meta else a.meta)
        for a in item.annotations
    )
    return item.with_(annotations=anns, attributes={k: v for k, v in item.attributes.items() if k not in ignored_item},
                      meta={} if ignore_meta else item.meta)


def _relabel_by_name(item: Item, src: Dataset, names: dict[str, int]) -> Item:
    anns = []
    for a in item.annotations:
        if a.label is not None:
            a = a.with_(label=names.setdefault(_label_name(src, a.label), len(names)))
        anns.append(a)
    return item.with_(annotations=tuple(anns))


def compare_exact(a: Dataset, b: Dataset, ignored_item_attrs: Iterable[str] = (),
                  ignored_ann_attrs: Iterable[str] = (), ignore_meta: bool = True,
                  iou_threshold: float = 0.5) -> dict[str, Any]:
    """Exact comparison: categories, items present on one side only, and items whose
    content differs (with annotation-level detail). Attributes named in the ignore
    lists and (by default) format-private meta are left out."""
    ii, ia = set(ignored_item_attrs), set(ignored_ann_attrs)
    names: dict[str, int] = {}
    left = {it.key: _relabel_by_name(_strip(it, ii, ia, ignore_meta), a, names) for it in a}
    mismatches = []
    only_b = []
    matched = 0
    for it in b:
        other = _relabel_by_name(_strip(it, ii, ia, ignore_meta), b, names)
        mine = left.pop(it.key, None)
        if mine is None:
            only_b.append(list(it.key))
            continue
        if mine == other:
            matched += 1
            continue
        d = diff_items(mine, other, iou_threshold)
        if d.empty:
            matched += 1
            continue
        mismatches.append({
            "subset": it.subset, "id": it.id,
            "annotations_added": len(d.added), "annotations_removed": len(d.removed),
            "annotations_changed": [{"fields": list(c.fields), "iou": round(c.iou, 4)} for c in d.changed],
            "media_changed": d.media_changed, "attributes": sorted(d.attributes),
        })
    cats_a, cats_b = a.categories.label_names(), b.categories.label_names()
    return {
        "equal": not (left or only_b or mismatches) and cats_a == cats_b,
        "categories": {"equal": cats_a == cats_b, "only_a": sorted(set(cats_a) - set(cats_b)),
                       "only_b": sorted(set(cats_b) - set(cats_a))},
        "items_equal": matched,
        "only_a": sorted(list(k) for k in left),
        "only_b": sorted(only_b),
        "mismatches": mismatches,
    }


def compare_distance(a: Dataset, b: Dataset, iou_threshold: float = 0.5) -> dict[str, Any]:
    """Distance-based comparison of annotations in items present in both datasets.

    Annotations of the same type are matched greedily by geometry (IoU ≥ threshold)
    regardless of label; matched pairs feed a label confusion table (``a`` label →
    ``b`` label counts), pairs with different labels are mispredictions, and what
    stays unmatched is counted per label on each side. Labels and captions match by
    label / text.
    """
    confusion: Counter[tuple[str, str]] = Counter()
    unmatched_a: Counter[str] = Counter()
    unmatched_b: Counter[str] = Counter()
    mispredictions = []
    b_items = {it.key: it for it in b}
    compared = 0
    for ia in a:
        ib = b_items.get(ia.key)
        if ib is None:
            continue
        compared += 1
        cands = []
        for i, x in enumerate(ia.annotations):
            for j, y in enumerate(ib.annotations):
                if x.type is not y.type:
                    continue
                s = similarity(x.with_(label=None), y.with_(label=None)) if x.type.value != "label" else (
                    1.0 if _label_name(a, x.label) == _label_name(b, y.label) else 0.0)
                if s >= iou_threshold:
                    cands.append((-s, i, j))
        cands.sort()
        used_a, used_b = set(), set()
        for neg, i, j in cands:
            if i in used_a or j in used_b:
                continue
            used_a.add(i)
            used_b.add(j)
            la, lb = _label_name(a, ia.annotations[i].label), _label_name(b, ib.annotations[j].label)
            confusion[(la, lb)] += 1
            if la != lb:
                mispredictions.append({"subset": ia.subset, "id": ia.id, "a_label": la, "b_label": lb,
                                       "iou": round(-neg, 4)})
        for i, x in enumerate(ia.annotations):
            if i not in used_a:
                unmatched_a[_label_name(a, x.label)] += 1
        for j, y in enumerate(ib.annotations):
            if j not in used_b:
                unmatched_b[_label_name(b, y.label)] += 1
    matched = sum(confusion.values())
    correct = sum(n for (la, lb), n in confusion.items() if la == lb)
    return {
        "items_compared": compared,
        "matched": matched,
        "label_agreement": round(correct / matched, 6) if matched else None,
        "confusion": [{"a": la, "b": lb, "count": n} for (la, lb), n in sorted(confusion.items())],
        "mispredictions": mispredictions,
        "unmatched_a": dict(sorted(unmatched_a.items())),
        "unmatched_b": dict(sorted(unmatched_b.items())),
    }

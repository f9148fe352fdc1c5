"""Three-way merge of items and categories (the model half of ``dsrepo merge``).

Items: a side that did not change the item yields to the other; identical changes
merge; different changes merge at annotation level when the changed annotations are
disjoint (matched against the common ancestor), otherwise they conflict.

Categories merge by label name; label indices in items are remapped to the merged
categories. Conflicting renames of the same base label are conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from dsrepo.model.annotations import Annotation
from dsrepo.model.categories import Categories, LabelCategory
from dsrepo.model.diff import match_annotations
from dsrepo.model.item import Item


@dataclass(frozen=True, slots=True)
class ItemMerge:
    """Outcome for one item key: ``item`` (None = deleted) or a conflict with ``reason``."""

    item: Item | None
    conflict: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CategoriesMerge:
    """Merged categories plus label-index maps from each side, and conflicts."""

    categories: Categories
    ours_map: Mapping[int, int] = field(default_factory=dict)
    theirs_map: Mapping[int, int] = field(default_factory=dict)
    conflicts: tuple[str, ...] = ()


def _changes_vs_base(base: Sequence[Annotation], side: Sequence[Annotation], iou: float):
    """Map base index -> replacement (Annotation or None for removed), plus additions."""
    pairs, removed, added = match_annotations(base, side, iou)
    index = {id(a): i for i, a in enumerate(base)}
    changed: dict[int, Annotation | None] = {}
    for a, b in pairs:
        if a != b:
            changed[index[id(a)]] = b
    for a in removed:
        changed[index[id(a)]] = None
    return changed, added


def merge_items(base: Item | None, ours: Item | None, theirs: Item | None, iou: float = 0.5) -> ItemMerge:
    """Three-way merge of one item (any side may be ``None`` = absent)."""
    if ours == theirs:
        return ItemMerge(ours)
    if ours == base:
        return ItemMerge(theirs)
    if theirs == base:
        return ItemMerge(ours)
    if ours is None or theirs is None:
        return ItemMerge(None, True, "modified on one side, deleted on the other")
    if base is None:
        base = Item(id=ours.id, subset=ours.subset)
    for name in ("media", "attributes", "meta"):
        b, o, t = getattr(base, name), getattr(ours, name), getattr(theirs, name)
        if o != b and t != b and o != t:
            return ItemMerge(None, True, f"{name} changed differently on both sides")
    ch_o, add_o = _changes_vs_base(base.annotations, ours.annotations, iou)
    ch_t, add_t = _changes_vs_base(base.annotations, theirs.annotations, iou)
    both = sorted(i for i in set(ch_o) & set(ch_t) if ch_o[i] != ch_t[i])
    if both:
        return ItemMerge(None, True, f"{len(both)} annotation(s) changed differently on both sides")
    merged: list[Annotation] = []
    for i, a in enumerate(base.annotations):
        if i in ch_o:
            repl = ch_o[i]
        elif i in ch_t:
            repl = ch_t[i]
        else:
            repl = a
        if repl is not None:
            merged.append(repl)
    merged += add_o
    merged += [a for a in add_t if a not in add_o]

    def pick(name: str):
        b, o, t = getattr(base, name), getattr(ours, name), getattr(theirs, name)
        return t if o == b else o

    return ItemMerge(ours.with_(annotations=tuple(merged), media=pick("media"),
                                attributes=pick("attributes"), meta=pick("meta")))


def _rename_map(base: Categories, side: Categories) -> dict[str, str]:
    """Base label name -> new name, for labels kept at the same index with a new name
    whose old name is gone from ``side``."""
    names = set(side.label_names())
    out = {}
    for i, lab in enumerate(base.labels):
        if i < len(side.labels) and side.labels[i].name != lab.name and lab.name not in names:
            out[lab.name] = side.labels[i].name
    return out


def merge_categories(base: Categories, ours: Categories, theirs: Categories) -> CategoriesMerge:
    """Merge categories by label name with rename detection against ``base``."""
    if ours == theirs or theirs == base:
        return CategoriesMerge(ours, {i: i for i in range(len(ours.labels))},
                               _index_map(theirs, ours))
    if ours == base:
        return CategoriesMerge(theirs, _index_map(ours, theirs), {i: i for i in range(len(theirs.labels))})
    conflicts = []
    ren_o, ren_t = _rename_map(base, ours), _rename_map(base, theirs)
    for old in sorted(set(ren_o) & set(ren_t)):
        if ren_o[old] != ren_t[old]:
            conflicts.append(f"label {old!r} renamed to {ren_o[old]!r} (ours) and {ren_t[old]!r} (theirs)")
    labels: list[LabelCategory] = list(ours.labels)
    names = {lab.name for lab in labels}
    for lab in theirs.labels:
        renamed_from = next((o for o, n in ren_t.items() if n == lab.name), None)
        if renamed_from is not None and renamed_from in names and renamed_from not in ren_o:
            idx = [x.name for x in labels].index(renamed_from)
            labels[idx] = lab
            names.discard(renamed_from)
            names.add(lab.name)
            continue
        if lab.name not in names:
            labels.append(lab)
            names.add(lab.name)
    merged = ours.with_(labels=tuple(labels))
    return CategoriesMerge(merged, _index_map(ours, merged, ren_t), _index_map(theirs, merged, ren_o),
                           tuple(conflicts))


def base_label_map(base: Categories, ours: Categories, theirs: Categories, merged: Categories) -> dict[int, int]:
    """Label indices of ``base`` translated to ``merged`` (the result of
    :func:`merge_categories`), following renames made on either side."""
    renames = {**_rename_map(base, theirs), **_rename_map(base, ours)}
    return _index_map(base, merged, renames)


def _index_map(src: Categories, dst: Categories, renames: Mapping[str, str] | None = None) -> dict[int, int]:
    pos = {lab.name: i for i, lab in enumerate(dst.labels)}
    out = {}
    for i, lab in enumerate(src.labels):
        name = lab.name
        if name not in pos and renames and name in renames:
            name = renames[name]
        if name in pos:
            out[i] = pos[name]
    return out


def remap_labels(item: Item, mapping: Mapping[int, int]) -> Item:
    """``item`` with label indices translated by ``mapping`` (unmapped labels dropped)."""
    anns = []
    changed = False
    for a in item.annotations:
        if a.label is None:
            anns.append(a)
            continue
        new = mapping.get(a.label)
        if new is None:
            changed = True
            continue
        if new != a.label:
            changed = True
            a = a.with_(label=new)
        anns.append(a)
    return item.with_(annotations=tuple(anns)) if changed else item

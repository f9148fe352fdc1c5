"""Item-level and annotation-level differences between two versions of an item.

Matching inside an item: by annotation id when both sides have stable ids (every
annotation of the type has a non-zero id, unique on its side); otherwise greedily
by type, label and geometry similarity (IoU for shapes) above a threshold, then by
type and geometry alone (so a relabelled box is "changed", not removed + added).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from dsrepo.model.annotations import AnnType, Annotation
from dsrepo.model.encoding import annotation_to_dict
from dsrepo.model.geometry import similarity
from dsrepo.model.item import Item

_GEOMETRY_FIELDS = ("b", "p", "v", "r", "c", "e")


@dataclass(frozen=True, slots=True)
class AnnotationChange:
    """One matched annotation pair and what differs between them.

    ``fields`` names changed parts: ``label``, ``geometry``, ``attributes``, ``id``,
    ``group``, ``z_order``, ``meta``. ``iou`` is the geometry similarity (1.0 when equal).
    ``attributes`` maps changed attribute names to ``(old, new)`` (``None`` = absent).
    """

    before: Annotation
    after: Annotation
    fields: tuple[str, ...]
    iou: float
    attributes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ItemDiff:
    """Differences between two versions of one item."""

    added: tuple[Annotation, ...] = ()
    removed: tuple[Annotation, ...] = ()
    changed: tuple[AnnotationChange, ...] = ()
    media_changed: bool = False
    attributes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    meta_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.media_changed
                    or self.attributes or self.meta_changed)


def _dict_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    out = {}
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if va != vb or type(va) is not type(vb):
            out[k] = (va, vb)
    return out


def _stable_ids(anns: Sequence[Annotation]) -> bool:
    keys = [(a.type, a.id) for a in anns]
    return all(a.id for a in anns) and len(set(keys)) == len(keys)


def compare_annotations(a: Annotation, b: Annotation) -> AnnotationChange:
    """Describe how ``b`` differs from ``a`` (same kind of object)."""
    da, db = annotation_to_dict(a), annotation_to_dict(b)
    fields = []
    if a.label != b.label:
        fields.append("label")
    geometry_same = a.type is b.type and all(da.get(k) == db.get(k) for k in _GEOMETRY_FIELDS)
    if not geometry_same:
        fields.append("geometry")
    attrs = _dict_changes(a.attributes, b.attributes)
    if attrs:
        fields.append("attributes")
    for name, key in (("id", "id"), ("group", "g"), ("z_order", "z"), ("meta", "m")):
        if da.get(key) != db.get(key):
            fields.append(name)
    iou = 1.0 if geometry_same else similarity(a, b)
    return AnnotationChange(a, b, tuple(fields), iou, attrs)


def match_annotations(
    before: Sequence[Annotation], after: Sequence[Annotation], iou_threshold: float = 0.5,
) -> tuple[list[tuple[Annotation, Annotation]], list[Annotation], list[Annotation]]:
    """Pair annotations of two versions of an item.

    Returns ``(pairs, only_before, only_after)``. Stable ids decide when both sides
    have them; otherwise greedy best-similarity matching, first requiring equal
    type and label, then equal type only; pairs below ``iou_threshold`` stay unmatched.
    """
    pairs: list[tuple[Annotation, Annotation]] = []
    left = list(before)
    right = list(after)
    if left and right and _stable_ids(left) and _stable_ids(right):
        by_key = {(a.type, a.id): a for a in right}
        rest_left = []
        for a in left:
            b = by_key.pop((a.type, a.id), None)
            if b is None:
                rest_left.append(a)
            else:
                pairs.append((a, b))
        return pairs, rest_left, [b for b in right if (b.type, b.id) in by_key]

    # exact equals first (cheap, and keeps identical duplicates paired in order)
    rest_right = list(right)
    rest_left = []
    for a in left:
        for j, b in enumerate(rest_right):
            if a == b:
                pairs.append((a, b))
                del rest_right[j]
                break
        else:
            rest_left.append(a)
    for same_label in (True, False):
        candidates = []
        for i, a in enumerate(rest_left):
            for j, b in enumerate(rest_right):
                if a.type is not b.type or (same_label and a.label != b.label):
                    continue
                s = similarity(a, b) if a.type not in (AnnType.label, AnnType.caption) else (
                    1.0 if not same_label or a.label == b.label else 0.0)
                if s >= iou_threshold:
                    candidates.append((-s, i, j))
        candidates.sort()
        used_l, used_r = set(), set()
        for _, i, j in candidates:
            if i in used_l or j in used_r:
                continue
            used_l.add(i)
            used_r.add(j)
            pairs.append((rest_left[i], rest_right[j]))
        rest_left = [a for i, a in enumerate(rest_left) if i not in used_l]
        rest_right = [b for j, b in enumerate(rest_right) if j not in used_r]
    return pairs, rest_left, rest_right


def diff_items(before: Item, after: Item, iou_threshold: float = 0.5) -> ItemDiff:
    """Annotation-level differences between two versions of the same item."""
    pairs, removed, added = match_annotations(before.annotations, after.annotations, iou_threshold)
    changed = []
    for a, b in pairs:
        if a != b:
            ch = compare_annotations(a, b)
            if ch.fields:
                changed.append(ch)
    ma, mb = before.media, after.media
    media_changed = (ma is None) != (mb is None) or (
        ma is not None and mb is not None and (ma.checksum() != mb.checksum() or ma.size != mb.size or ma.name != mb.name))
    return ItemDiff(
        added=tuple(added), removed=tuple(removed), changed=tuple(changed), media_changed=media_changed,
        attributes=_dict_changes(before.attributes, after.attributes),
        meta_changed=dict(before.meta) != dict(after.meta),
    )

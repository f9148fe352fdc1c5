"""Item-level and annotation-level differences between two versions of an item.

Matching inside an item: by annotation id when every annotation of both sides has a
non-zero id (parts sharing an id - COCO polygon parts - in order); otherwise greedily
by type, label and geometry similarity (IoU for shapes) above a threshold, then by
type and geometry alone (so a relabelled box is "changed", not removed + added).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from dsrepo.model.annotations import AnnType, Annotation
from dsrepo.model.encoding import annotation_to_dict
from dsrepo.model.geometry import similarities, similarity
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


def _groups(keys: Sequence[tuple]) -> dict[tuple, list[int]]:
    """Positions of each key, in order."""
    out: dict[tuple, list[int]] = {}
    for i, k in enumerate(keys):
        out.setdefault(k, []).append(i)
    return out


ContentMatch = Callable[[list[int], list[int]], "tuple[list[tuple[int, int]], list[int], list[int]]"]


def pair_by_id(left: Sequence[tuple], right: Sequence[tuple], by_content: ContentMatch):
    """``(index pairs in left order, unpaired left, unpaired right)`` of two annotation
    lists given their ``(type, id)`` keys (every id non-zero): one key on each side pairs;
    parts sharing a key (COCO polygon parts) pair in order when both sides have as many,
    otherwise ``by_content(left positions, right positions)`` pairs some (as
    :func:`match_indices` would) and the rest pair in order."""
    gl, gr = _groups(left), _groups(right)
    pairs: list[tuple[int, int]] = []
    for key, il in gl.items():
        ir = gr.get(key)
        if not ir:
            continue
        if len(il) == len(ir):
            pairs += zip(il, ir)
            continue
        sub, rest_l, rest_r = by_content(il, ir)
        pairs += [(il[i], ir[j]) for i, j in sub]
        pairs += zip((il[i] for i in rest_l), (ir[j] for j in rest_r))
    pairs.sort()
    used_l = {i for i, _j in pairs}
    used_r = {j for _i, j in pairs}
    return pairs, [i for i in range(len(left)) if i not in used_l], [j for j in range(len(right)) if j not in used_r]


def _match_by_content(left: Sequence[Annotation], right: Sequence[Annotation], iou_threshold: float):
    """Index pairs (in matching order) and leftovers: equal annotations first (in order),
    then greedy best similarity with equal type and label, then equal type only."""
    pairs: list[tuple[int, int]] = []
    rest_right = list(range(len(right)))
    rest_left = []
    for i, a in enumerate(left):
        for k, j in enumerate(rest_right):
            if a == right[j]:
                pairs.append((i, j))
                del rest_right[k]
                break
        else:
            rest_left.append(i)
    for same_label in (True, False):
        candidates = []
        for i in rest_left:
            a = left[i]
            for j in rest_right:
                b = right[j]
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
            pairs.append((i, j))
        rest_left = [i for i in rest_left if i not in used_l]
        rest_right = [j for j in rest_right if j not in used_r]
    return pairs, rest_left, rest_right


def match_indices(before: Sequence[Annotation], after: Sequence[Annotation], iou_threshold: float = 0.5):
    """:func:`match_annotations` as positions: ``(index pairs, unpaired before, unpaired after)``."""
    if before and after and all(a.id for a in before) and all(b.id for b in after):
        def by_content(il: list[int], ir: list[int]):
            return _match_by_content([before[i] for i in il], [after[j] for j in ir], iou_threshold)

        return pair_by_id([(a.type, a.id) for a in before], [(b.type, b.id) for b in after], by_content)
    return _match_by_content(before, after, iou_threshold)


def changed_fields(da: Mapping[str, Any], db: Mapping[str, Any], attributes: bool) -> tuple[list[str], bool]:
    """What differs between two annotations in their plain-dict form
    (:func:`~dsrepo.model.encoding.annotation_to_dict`): ``(fields, geometry_same)``;
    ``attributes`` says whether attribute values differ (see :func:`attribute_changes`)."""
    fields = []
    if da.get("l") != db.get("l"):
        fields.append("label")
    geometry_same = da["t"] == db["t"] and all(da.get(k) == db.get(k) for k in _GEOMETRY_FIELDS)
    if not geometry_same:
        fields.append("geometry")
    if attributes:
        fields.append("attributes")
    for name, key in (("id", "id"), ("group", "g"), ("z_order", "z"), ("meta", "m")):
        if da.get(key) != db.get(key):
            fields.append(name)
    return fields, geometry_same


def attribute_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Changed attribute names -> ``(old, new)`` (None = absent; a change of type counts)."""
    return _dict_changes(a, b)


def _fields(a: Annotation, b: Annotation) -> tuple[list[str], bool, dict[str, tuple[Any, Any]]]:
    attrs = _dict_changes(a.attributes, b.attributes)
    fields, geometry_same = changed_fields(annotation_to_dict(a), annotation_to_dict(b), bool(attrs))
    return fields, geometry_same, attrs


def compare_annotations(a: Annotation, b: Annotation) -> AnnotationChange:
    """Describe how ``b`` differs from ``a`` (same kind of object)."""
    return compare_pairs([(a, b)])[0]


def compare_pairs(pairs: Sequence[tuple[Annotation, Annotation]]) -> list[AnnotationChange]:
    """:func:`compare_annotations` of many pairs (the same results), with the geometry
    similarities of the pairs whose geometry changed computed together."""
    found = [_fields(a, b) for a, b in pairs]
    moved = [k for k, (_f, same, _a) in enumerate(found) if not same]
    ious = dict(zip(moved, similarities([pairs[k] for k in moved]))) if moved else {}
    return [AnnotationChange(a, b, tuple(f), 1.0 if same else ious[k], attrs)
            for k, ((a, b), (f, same, attrs)) in enumerate(zip(pairs, found))]


def match_annotations(
    before: Sequence[Annotation], after: Sequence[Annotation], iou_threshold: float = 0.5,
) -> tuple[list[tuple[Annotation, Annotation]], list[Annotation], list[Annotation]]:
    """Pair annotations of two versions of an item.

    Returns ``(pairs, only_before, only_after)``. When every annotation of both sides
    has a non-zero id, ids decide: the annotation of a ``(type, id)`` on one side pairs
    with the one on the other, whatever its geometry; parts sharing an id (COCO polygon
    parts) pair in order when both sides have as many of them, otherwise equal parts
    and geometry (IoU >= ``iou_threshold``) pair first and the rest in order. Pairs are
    then in ``before`` order. Without ids: equal annotations first, then greedy
    best-similarity matching requiring equal type and label, then equal type only;
    pairs below ``iou_threshold`` stay unmatched.
    """
    pairs, rest_l, rest_r = match_indices(before, after, iou_threshold)
    return [(before[i], after[j]) for i, j in pairs], [before[i] for i in rest_l], [after[j] for j in rest_r]


def diff_items(before: Item, after: Item, iou_threshold: float = 0.5) -> ItemDiff:
    """Annotation-level differences between two versions of the same item."""
    pairs, removed, added = match_annotations(before.annotations, after.annotations, iou_threshold)
    changed = [ch for ch in compare_pairs([(a, b) for a, b in pairs if a != b]) if ch.fields]
    ma, mb = before.media, after.media
    media_changed = (ma is None) != (mb is None) or (
        ma is not None and mb is not None and (ma.checksum() != mb.checksum() or ma.size != mb.size or ma.name != mb.name))
    return ItemDiff(
        added=tuple(added), removed=tuple(removed), changed=tuple(changed), media_changed=media_changed,
        attributes=_dict_changes(before.attributes, after.attributes),
        meta_changed=dict(before.meta) != dict(after.meta),
    )

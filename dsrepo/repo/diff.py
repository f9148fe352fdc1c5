"""``diff`` and ``compare``: what differs between two revisions, the working tree, or
dataset folders, item by item and annotation by annotation.

A side of a diff is a revision (all its sources and its pipeline), ``REV:SOURCE`` (one
source), the working tree, or a dataset folder in a given format. Sources pair by name;
a single dataset pairs with the other side's only source.

Cheap by construction: item lists are compared chunk by chunk (content-defined chunks
present in both lists hold identical entries and are only counted), equal item hashes
mean equal items, and only modified items are decoded (two packed reads each).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import orjson

from dsrepo.collect import few_collections
from dsrepo.errors import UsageError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.diffs import Key
from dsrepo.repo.listdiff import SubsetCounts, compare_lists
from dsrepo.repo.sides import Side, SideSource, opener, pair_sources, resolve_side
from dsrepo.repo.status import PipelineChange

if TYPE_CHECKING:
    from dsrepo.model.categories import Categories
    from dsrepo.repo.repo import Repo

_KEYS = {"t": "type", "id": "id", "g": "group", "l": "label", "z": "z_order", "a": "attributes", "m": "meta",
         "b": "bbox", "p": "points", "v": "visibility", "r": "rle", "c": "caption", "e": "ellipse"}


class _Ious:
    """Geometry similarities of the changed pairs of a diff, computed together the first
    time one is asked for (a summary never asks)."""

    def __init__(self) -> None:
        self.pairs: list[tuple[dict, dict]] = []
        self._values: list[float] | None = None

    def add(self, old: dict, new: dict) -> int:
        self.pairs.append((old, new))
        return len(self.pairs) - 1

    def get(self, k: int) -> float:
        if self._values is None or k >= len(self._values):
            self._values = _similarities(self.pairs)
        return self._values[k]


def _similarities(pairs: list[tuple[dict, dict]]) -> list[float]:
    from dsrepo.model.encoding import annotation_from_dict
    from dsrepo.model.geometry import polygon_similarities, similarities

    out = [0.0] * len(pairs)
    polys = [k for k, (x, y) in enumerate(pairs) if x["t"] == "polygon" and y["t"] == "polygon"]
    for k, v in zip(polys, polygon_similarities([(pairs[k][0]["p"], pairs[k][1]["p"]) for k in polys])):
        out[k] = v
    others = [k for k, (x, y) in enumerate(pairs) if not (x["t"] == "polygon" and y["t"] == "polygon")]
    objs = [(annotation_from_dict(pairs[k][0]), annotation_from_dict(pairs[k][1])) for k in others]
    for k, v in zip(others, similarities(objs)):
        out[k] = v
    return out


@dataclass(frozen=True, slots=True)
class AnnotationDelta:
    """An annotation ``added``, ``removed`` or ``changed`` inside a modified item. Labels
    are names; ``fields`` and ``attributes`` (name -> (old, new)) say what changed, ``iou``
    the geometry similarity of a changed pair (computed on first use, together with the
    other pairs of the diff); ``old``/``new`` are the annotations and ``before``/``after``
    the same as plain dicts (label by name); both built on demand from ``stored``, the
    stored forms (:func:`~dsrepo.model.encoding.annotation_to_dict`)."""

    kind: str
    type: str
    id: int
    label: str | None
    old_label: str | None = None
    fields: tuple[str, ...] = ()
    attributes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    stored: tuple[dict | None, dict | None] = (None, None)
    names: tuple[Any, Any] = ((), ())
    similarity: tuple[Any, int] | float | None = None

    @property
    def iou(self) -> float | None:
        s = self.similarity
        return round(s[0].get(s[1]), 4) if isinstance(s, tuple) else s

    @property
    def old(self) -> Any:
        return _annotation(self.stored[0])

    @property
    def new(self) -> Any:
        return _annotation(self.stored[1])

    @property
    def before(self) -> dict[str, Any] | None:
        return None if self.stored[0] is None else _ann_dict(self.stored[0], self.names[0])

    @property
    def after(self) -> dict[str, Any] | None:
        return None if self.stored[1] is None else _ann_dict(self.stored[1], self.names[1])

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "type": self.type, "id": self.id, "label": self.label,
                "old_label": self.old_label, "fields": list(self.fields), "iou": self.iou,
                "attributes": {k: list(v) for k, v in self.attributes.items()},
                "before": self.before, "after": self.after}


def _annotation(d: dict | None) -> Any:
    if d is None:
        return None
    from dsrepo.model.encoding import annotation_from_dict

    return annotation_from_dict(d)


@dataclass(frozen=True, slots=True)
class ItemDelta:
    """One item ``added``, ``removed`` or ``modified``; for modified items (when decoded)
    the annotation changes, media fields (md5/size/name -> (old, new)), item attributes
    (name -> (old, new)) and whether format meta changed."""

    subset: str
    id: str
    state: str
    annotations: tuple[AnnotationDelta, ...] = ()
    media: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    attributes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    meta_changed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"subset": self.subset, "id": self.id, "state": self.state,
                "annotations": [a.to_json() for a in self.annotations],
                "media": {k: list(v) for k, v in self.media.items()},
                "attributes": {k: list(v) for k, v in self.attributes.items()}, "meta_changed": self.meta_changed}


@dataclass(frozen=True, slots=True)
class CategoryChange:
    """Label names added and removed, renames ``(index, old, new)`` (same index, new name,
    old name gone), and ``changed``: the categories differ in any way."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[int, str, str], ...] = ()
    changed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"added": list(self.added), "removed": list(self.removed),
                "renamed": [{"index": i, "old": o, "new": n} for i, o, n in self.renamed], "changed": self.changed}


@dataclass(frozen=True, slots=True)
class SourceDiff:
    """One source: ``state`` is added/removed/modified/unchanged; per-subset counts;
    ``items`` lists every added, removed and modified item (modified ones with detail
    when ``decoded``); ``format`` is ``(old, new)`` when it changed; ``files_changed``
    counts media/extra file paths whose content differs."""

    name: str
    state: str
    subsets: tuple[SubsetCounts, ...]
    items: tuple[ItemDelta, ...]
    categories: CategoryChange
    format: tuple[str, str] | None = None
    options_changed: bool = False
    subset_meta_changed: bool = False
    files_changed: int = 0
    reordered: bool = False
    decoded: bool = False

    def counts(self) -> dict[str, int]:
        return {k: sum(getattr(s, k) for s in self.subsets) for k in ("added", "removed", "modified", "unchanged")}

    def annotation_counts(self) -> dict[str, int]:
        c = Counter(a.kind for it in self.items for a in it.annotations)
        return {k: c[k] for k in ("added", "removed", "changed")}

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, **self.counts(),
                "subsets": [s.to_json() for s in self.subsets], "categories": self.categories.to_json(),
                "format": list(self.format) if self.format else None, "options_changed": self.options_changed,
                "subset_meta_changed": self.subset_meta_changed, "files_changed": self.files_changed,
                "reordered": self.reordered, "decoded": self.decoded,
                "annotations": self.annotation_counts() if self.decoded else None,
                "items": [it.to_json() for it in self.items]}


@dataclass(frozen=True, slots=True)
class Diff:
    """The difference from side ``a`` to side ``b`` (descriptions; commit ids when they
    are revisions). ``pipeline`` is None unless both sides are whole revisions / the
    working tree."""

    a: str
    b: str
    a_commit: str | None
    b_commit: str | None
    sources: tuple[SourceDiff, ...]
    pipeline: PipelineChange | None
    iou: float

    @property
    def empty(self) -> bool:
        return all(s.state == "unchanged" for s in self.sources) and (self.pipeline is None or self.pipeline.empty)

    def to_json(self) -> dict[str, Any]:
        p = self.pipeline
        pipeline = None if p is None else {
            "added": [s.to_dict() for s in p.added], "removed": [s.to_dict() for s in p.removed],
            "policy": list(p.policy) if p.policy else None}
        return {"a": self.a, "b": self.b, "a_commit": self.a_commit, "b_commit": self.b_commit, "iou": self.iou,
                "empty": self.empty, "sources": [s.to_json() for s in self.sources], "pipeline": pipeline}


# -- categories and items ------------------------------------------------------------------


def _category_change(ca: "Categories", cb: "Categories") -> CategoryChange:
    from dsrepo.model.encoding import encode_categories

    na, nb = ca.label_names(), cb.label_names()
    renamed = tuple((i, x, y) for i, (x, y) in enumerate(zip(na, nb)) if x != y and x not in nb and y not in na)
    gone = {x for _i, x, _y in renamed}
    new = {y for _i, _x, y in renamed}
    return CategoryChange(tuple(n for n in nb if n not in na and n not in new),
                          tuple(n for n in na if n not in nb and n not in gone), renamed,
                          encode_categories(ca) != encode_categories(cb))


def _label_space(ca: "Categories", cb: "Categories", renamed) -> tuple[dict[int, int] | None, list, list]:
    """B's label index -> A's index space (renames keep their index; new names go after
    A's), and the names of that space before and after."""
    na, nb = ca.label_names(), cb.label_names()
    if na == nb:
        return None, na, nb
    pos = {n: i for i, n in enumerate(na)}
    ren = {i: new for i, _old, new in renamed}
    extra = [n for i, n in enumerate(nb) if n not in pos and i not in ren]
    pos.update({n: len(na) + k for k, n in enumerate(extra)})
    mapping = {i: (i if i in ren else pos[n]) for i, n in enumerate(nb)}
    return mapping, na + extra, [ren.get(i, n) for i, n in enumerate(na)] + extra


def _ann_dict(stored: dict, names: list) -> dict[str, Any]:
    d = {name: stored[k] for k, name in _KEYS.items() if k in stored}  # annotation_to_dict's key order
    d.update((k, v) for k, v in stored.items() if k not in _KEYS)
    if "rle" in d:
        d["rle"] = {"size": d["rle"]["size"], "counts": d["rle"]["counts"]}
    if "label" in d:
        d["label"] = _name(names, d["label"])
    return orjson.loads(orjson.dumps(d))  # plain JSON types (lists, not tuples)


def _name(names: list, idx: int | None) -> str | None:
    if idx is None:
        return None
    return names[idx] if 0 <= idx < len(names) else f"#{idx}"


def _media_fields(ma: dict | None, mb: dict | None) -> dict[str, tuple[Any, Any]]:
    def plain(m: dict | None) -> dict[str, Any]:
        if m is None:
            return {}
        return {"md5": m.get("md5"), "size": m.get("size") or None, "name": m.get("name")}

    pa, pb = plain(ma), plain(mb)
    return {k: (pa.get(k), pb.get(k)) for k in ("md5", "size", "name") if pa.get(k) != pb.get(k)}


def _match(aa: list[dict], ab: list[dict], iou: float):
    """Index pairs and leftovers of two stored annotation lists (as
    :func:`dsrepo.model.diff.match_annotations`; annotations are built from their dicts
    only where geometry has to decide)."""
    from dsrepo.model.diff import match_indices, pair_by_id
    from dsrepo.model.encoding import annotation_from_dict

    if aa and ab and all("id" in x for x in aa) and all("id" in y for y in ab):
        def by_content(il: list[int], ir: list[int]):
            return match_indices([annotation_from_dict(aa[i]) for i in il],
                                 [annotation_from_dict(ab[j]) for j in ir], iou)

        return pair_by_id([(x["t"], x["id"]) for x in aa], [(y["t"], y["id"]) for y in ab], by_content)
    return match_indices([annotation_from_dict(x) for x in aa], [annotation_from_dict(y) for y in ab], iou)


def _item_delta(key: Key, before: dict, after: dict, space, iou: float, ious: _Ious) -> ItemDelta:
    """One modified item from the stored forms of its two versions
    (:func:`~dsrepo.model.encoding.item_to_dict`): annotations are compared as dicts."""
    from dsrepo.model.diff import attribute_changes, changed_fields

    mapping, names_a, names_b = space
    aa, ab = before.get("anns", []), after.get("anns", [])
    if mapping is not None:
        ab = [y if "l" not in y else {**y, "l": mapping[y["l"]]} for y in ab]
    pairs, removed, added = _match(aa, ab, iou)
    names = (names_a, names_b)
    anns = []
    for i, j in pairs:
        x, y = aa[i], ab[j]
        if x == y:
            continue
        attrs = attribute_changes(x.get("a") or {}, y.get("a") or {})
        fields, same = changed_fields(x, y, bool(attrs))
        if fields:
            anns.append(AnnotationDelta("changed", y["t"], y.get("id", 0), _name(names_b, y.get("l")),
                                        _name(names_a, x.get("l")), tuple(fields), attrs, (x, y), names,
                                        1.0 if same else (ious, ious.add(x, y))))
    anns += [AnnotationDelta("removed", aa[i]["t"], aa[i].get("id", 0), _name(names_a, aa[i].get("l")),
                             stored=(aa[i], None), names=names) for i in removed]
    anns += [AnnotationDelta("added", ab[j]["t"], ab[j].get("id", 0), _name(names_b, ab[j].get("l")),
                             stored=(None, ab[j]), names=names) for j in added]
    attributes = attribute_changes(before.get("a") or {}, after.get("a") or {})
    meta_changed = (before.get("m") or {}) != (after.get("m") or {})
    return ItemDelta(key[0], key[1], "modified", tuple(anns), _media_fields(before.get("media"), after.get("media")),
                     attributes, meta_changed)


_BATCH = 2048  # modified items read per batch (each side's reads sorted by pack block)


def _loader(repo: "Repo | None", src: SideSource) -> Callable[[list[str]], list[dict]]:
    """Stored forms of items by hash (as :func:`~dsrepo.model.encoding.item_to_dict`)."""
    if src.record is None:
        from dsrepo.model.encoding import item_to_dict

        return lambda hs: [item_to_dict(src.items[h]) for h in hs]
    return lambda hs: [orjson.loads(d) for d in repo.store.read_packed_many(hs)]


def _source_diff(repo: "Repo | None", name: str, a: SideSource | None, b: SideSource | None, decode: bool, iou: float,
                 progress: Progress) -> SourceDiff:
    same = a is not None and b is not None and a.record is not None and a.record == b.record
    change, subsets, modified = compare_lists(repo, a, b)
    from dsrepo.model.categories import Categories

    ca, cb = (x.categories(repo) if x is not None else Categories() for x in (a, b))
    cats = CategoryChange() if same else _category_change(ca, cb)
    items = [ItemDelta(s, i, "added") for s, i in change.added]
    items += [ItemDelta(s, i, "removed") for s, i in change.removed]
    if decode and modified:
        space = _label_space(ca, cb, cats.renamed)
        load_a, load_b = _loader(repo, a), _loader(repo, b)
        keys, ious = list(modified), _Ious()
        with progress.task(f"{name}: comparing modified items", total=len(keys)) as bar:
            for start in range(0, len(keys), _BATCH):
                batch = keys[start:start + _BATCH]
                olds = load_a([modified[k][0] for k in batch])
                news = load_b([modified[k][1] for k in batch])
                for k, x, y in zip(batch, olds, news):
                    items.append(_item_delta(k, x, y, space, iou, ious))
                    bar.advance()
    else:
        items += [ItemDelta(s, i, "modified") for s, i in modified]
    items.sort(key=lambda it: (it.subset, it.id))
    if a is None or b is None:
        return SourceDiff(name, "added" if a is None else "removed", subsets, tuple(items), cats,
                          files_changed=(b or a).record.nfiles if (b or a).record is not None else 0,
                          decoded=decode)
    fmt = (a.format, b.format) if a.format != b.format else None
    if a.record is not None and b.record is not None:
        ra, rb = a.record, b.record
        options = (ra.import_options, ra.export_options) != (rb.import_options, rb.export_options)
        meta = ra.subset_meta != rb.subset_meta
        files = 0 if same or ra.files == rb.files else _files_changed(repo, ra, rb)
    else:
        options, meta, files = False, _subset_meta(repo, a) != _subset_meta(repo, b), 0
    changed = bool(change.added or change.removed or change.modified or change.reordered or cats.changed
                   or fmt or options or meta or files)
    return SourceDiff(name, "modified" if changed else "unchanged", subsets, tuple(items), cats, fmt, options, meta,
                      files, change.reordered, decode)


def _subset_meta(repo: "Repo | None", src: SideSource) -> Any:
    if src.record is not None:
        from dsrepo.repo.access import load_subset_meta

        return load_subset_meta(repo, src.record)  # type: ignore[arg-type]
    from dsrepo.repo.snapshot import plain_options

    return orjson.loads(orjson.dumps(plain_options(src.dataset.subset_meta)))  # type: ignore[union-attr]


def _files_changed(repo: "Repo", ra: Any, rb: Any) -> int:
    from dsrepo.repo.access import file_entries

    fa = {(r, m) for r, m, _n, _k in file_entries(repo, ra)}
    fb = {(r, m) for r, m, _n, _k in file_entries(repo, rb)}
    return len({r for r, _m in fa ^ fb})


def _pipeline_change(a: Side, b: Side) -> PipelineChange | None:
    if a.pipeline is None or b.pipeline is None:
        return None
    from dsrepo.repo.status import _pipeline_change as change

    return change(a.pipeline, b.pipeline)


def _diff(repo: "Repo | Path | None", rev_a: str | None, rev_b: str | None, format_a: str | None,
          format_b: str | None, iou: float, annotations: bool, progress: Progress) -> Diff:
    get_repo = opener(repo)
    a = resolve_side(get_repo, rev_a, format_a, progress)
    b = resolve_side(get_repo, rev_b, format_b or format_a, progress)
    store_repo = get_repo() if any(s.record is not None for s in (*a.sources.values(), *b.sources.values())) \
        else None
    sources = tuple(_source_diff(store_repo, n, x, y, annotations, iou, progress) for n, x, y in pair_sources(a, b))
    return Diff(a.label, b.label, a.commit, b.commit, sources, _pipeline_change(a, b), iou)


def diff(repo: "Repo | Path | None", rev_a: str | None = "HEAD", rev_b: str | None = None,
         format_a: str | None = None, format_b: str | None = None, iou: float = 0.5, annotations: bool = True,
         progress: Progress = NULL_PROGRESS) -> Diff:
    """What changed from ``rev_a`` to ``rev_b``, per source and subset, item by item.

    A side is a revision (``None``: the working tree), ``REV:SOURCE``, or - when a format
    applies to it (``format_a``; ``format_b``, default ``format_a``) and it names an
    existing file or folder - a dataset imported with that format. ``repo`` is an open
    Repo, or the project folder to open only if a side needs it (None: search upward).
    Unchanged items are decided by hash; with ``annotations`` modified items are decoded
    and their annotations matched (by id when stable - parts sharing an id in order -
    else by label/geometry with ``iou``). Reads only, except that a working copy changed
    since its last scan is imported and stored as ``status`` does (under the lock).
    RepoError for unknown revisions or sources and working copies that do not import,
    UsageError when a single dataset is paired with a side of several sources."""
    if not 0.0 <= iou <= 1.0:
        raise UsageError(f"--iou must be between 0 and 1, got {iou}")
    with few_collections():
        return _diff(repo, rev_a, rev_b, format_a, format_b, iou, annotations, progress)

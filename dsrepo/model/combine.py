"""Merging datasets that share no history: ``exact``, ``union`` and ``intersect`` policies.

Sources are numbered from 1 in the order given. Items are keyed by ``(subset, id)``.
Two versions of an item are *the same* when their item attributes are equal and their
annotations are equal as a multiset, ignoring what formats renumber or keep privately
(annotation ``id``, ``group`` and ``meta``) and allowing coordinates to differ by at
most ``1e-3`` (normalised-coordinate formats such as YOLO do not round-trip exactly).

- ``exact``: every source must have the same label names (in any order; labels are
  remapped to the first source's order). Same versions collapse; differing versions
  are reported in ``conflicts`` and the first source's version is kept (the caller
  decides whether conflicts are fatal).
- ``union``: labels are united by name (first seen first) and every source remapped.
  Same versions collapse; each differing version is kept under ``<id>__<n>`` (smallest
  ``n`` whose key is free in every source and in the output) and listed in ``renamed``.
- ``intersect``: annotations are voted. An item's electorate is the sources that have
  it. Annotations of one type form clusters: shapes join the cluster whose first member
  they overlap most with similarity ``>= iou`` (IoU for boxes/polygons/ellipses/masks,
  a distance score for points/polylines), labels and captions join only an equal one;
  a cluster holds at most one annotation per source. The cluster's label is the one
  most members carry (ties: the earliest source); it is kept when at least ``quorum``
  members carry it, where ``quorum`` is clamped to the electorate size and defaults to
  a strict majority of it. The kept annotation is the earliest source's member with that
  label, its attributes voted per name, plus ``score`` = winning votes / electorate size.
  ``groups`` are label-name specs (``"person,hand?,head"``; ``?`` = optional) checked on
  each output item: when any of a group's labels is present, every required one must be.

Every policy returns ``(dataset, report)``; the report is JSON-ready (see
docs/merge-datasets.md for its fields).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

from dsrepo.errors import DsrepoError, UsageError
from dsrepo.model.annotations import AnnType, Annotation
from dsrepo.model.categories import Categories, LabelCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.merge import remap_labels
from dsrepo.progress import NULL_PROGRESS, Progress

POLICIES = ("exact", "union", "intersect")
COORD_TOLERANCE = 1e-3
_GEOMETRY = ("b", "p", "e")  # float-valued keys of encoding.annotation_to_dict
_AREA = (AnnType.bbox, AnnType.polygon, AnnType.ellipse, AnnType.mask)

Key = tuple[str, str]


# ---------------------------------------------------------------- categories


def unite_categories(datasets: Sequence[Dataset]) -> tuple[Categories, list[dict[int, int]]]:
    """Labels of ``datasets`` united by name (first seen first; a label's attribute
    names are united too) and, per dataset, the map from its label indices to the
    united ones."""
    labels: list[LabelCategory] = []
    pos: dict[str, int] = {}
    maps = []
    points, colormap = {}, {}
    for ds in datasets:
        m = {}
        for i, lab in enumerate(ds.categories.labels):
            j = pos.get(lab.name)
            if j is None:
                j = pos[lab.name] = len(labels)
                labels.append(lab)
            elif lab.attributes:
                have = labels[j].attributes
                extra = tuple(a for a in lab.attributes if a not in have)
                if extra:
                    labels[j] = labels[j].__class__(labels[j].name, labels[j].parent, have + extra,
                                                    labels[j].meta)
            m[i] = j
            if i in ds.categories.points and j not in points:
                points[j] = ds.categories.points[i]
            if i in ds.categories.colormap and j not in colormap:
                colormap[j] = ds.categories.colormap[i]
        maps.append(m)
    attrs: list[str] = []
    for ds in datasets:
        attrs += [a for a in ds.categories.attributes if a not in attrs]
    return Categories(tuple(labels), points, colormap, tuple(attrs)), maps


def _check_same_labels(datasets: Sequence[Dataset]) -> None:
    first = datasets[0].categories.label_names()
    for n, ds in enumerate(datasets[1:], 2):
        names = ds.categories.label_names()
        if set(names) != set(first) or len(names) != len(first):
            missing = [x for x in first if x not in names]
            extra = [x for x in names if x not in first]
            detail = []
            if missing:
                detail.append(f"missing {', '.join(missing)}")
            if extra:
                detail.append(f"extra {', '.join(extra)}")
            if not detail:
                detail.append("duplicate label names")
            raise DsrepoError(f"merge exact: labels of source {n} differ from source 1 ({'; '.join(detail)}); "
                              "use --policy union to unite label sets")


# ---------------------------------------------------------------- item comparison


def _split(a: Annotation) -> tuple[bytes, tuple[float, ...]]:
    import orjson

    from dsrepo.model.encoding import annotation_to_dict

    d = annotation_to_dict(a)
    for k in ("id", "g", "m"):
        d.pop(k, None)
    geom: tuple[float, ...] = ()
    for k in _GEOMETRY:
        if k in d:
            geom = tuple(d.pop(k))
    return orjson.dumps(d, option=orjson.OPT_SORT_KEYS), geom


def _same_annotations(a: Sequence[Annotation], b: Sequence[Annotation]) -> bool:
    if len(a) != len(b):
        return False
    sa, sb = [_split(x) for x in a], [_split(x) for x in b]
    if Counter(sa) == Counter(sb):
        return True
    unused = list(sb)
    for key, geom in sa:
        for i, (k2, g2) in enumerate(unused):
            if k2 == key and len(g2) == len(geom) and all(abs(x - y) <= COORD_TOLERANCE for x, y in zip(geom, g2)):
                del unused[i]
                break
        else:
            return False
    return True


def _difference(a: Item, b: Item) -> str | None:
    """What differs between two versions of an item ("annotations", "attributes"), or None."""
    if not _same_annotations(a.annotations, b.annotations):
        return "annotations"
    if dict(a.attributes) != dict(b.attributes):
        return "attributes"
    return None


def _with_media(kept: Item, other: Item) -> Item:
    """``kept``, taking ``other``'s image when ``kept`` has no image file and ``other`` has."""
    if (kept.media is None or not kept.media.has_file) and other.media is not None and other.media.has_file:
        return kept.with_(media=other.media)
    return kept


# ---------------------------------------------------------------- shared bookkeeping


def _merge_meta(datasets: Sequence[Dataset]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ds in datasets:
        for k, v in ds.subset_meta.items():
            out.setdefault(k, v)
    return out


def _presence(sources: Sequence[Sequence[Item]]) -> tuple[list[Key], dict[Key, list[int]]]:
    """Keys in first-seen order and, per key, the (0-based) sources holding it."""
    order: list[Key] = []
    where: dict[Key, list[int]] = {}
    for n, items in enumerate(sources):
        for it in items:
            srcs = where.get(it.key)
            if srcs is None:
                order.append(it.key)
                where[it.key] = [n]
            elif srcs[-1] != n:
                srcs.append(n)
    return order, where


def _unmatched_items(order: list[Key], where: dict[Key, list[int]], n: int) -> list[dict[str, Any]]:
    out = []
    for key in order:
        srcs = where[key]
        if len(srcs) < n:
            out.append({"subset": key[0], "id": key[1], "present_in": [s + 1 for s in srcs],
                        "missing_in": [s + 1 for s in range(n) if s not in srcs]})
    return out


def _per_source(sources: Sequence[Sequence[Item]], n_keys: int, unmatched_anns: Iterable[dict[str, Any]] = ()
                ) -> list[dict[str, Any]]:
    lost = Counter(u["source"] for u in unmatched_anns)
    return [{"source": n, "items": len(items), "annotations": sum(len(it.annotations) for it in items),
             "missing_items": n_keys - len({it.key for it in items}), "unmatched_annotations": lost[n]}
            for n, items in enumerate(sources, 1)]


def _report(policy: str, cats: Categories, items: list[Item], sources, order, where, **extra: Any) -> dict[str, Any]:
    report: dict[str, Any] = {"policy": policy, "items": len(items),
                              "annotations": sum(len(it.annotations) for it in items),
                              "labels": cats.label_names()}
    report.update(extra)
    report["unmatched_items"] = _unmatched_items(order, where, len(sources))
    report["sources"] = _per_source(sources, len(order), report.get("unmatched_annotations", ()))
    return report


# ---------------------------------------------------------------- exact and union


def _exact(datasets: Sequence[Dataset], sources: list[list[Item]], progress: Progress):
    _check_same_labels(datasets)
    cats = datasets[0].categories
    first = {name: i for i, name in enumerate(cats.label_names())}
    order, where = _presence(sources)
    kept: dict[Key, Item] = {}
    conflicts: dict[Key, dict[str, Any]] = {}
    with progress.task("merging items", total=sum(map(len, sources))) as task:
        for n, (ds, items) in enumerate(zip(datasets, sources), 1):
            m = {i: first[name] for i, name in enumerate(ds.categories.label_names())}
            for it in items:
                it = remap_labels(it, m)
                prev = kept.get(it.key)
                if prev is None:
                    kept[it.key] = it
                else:
                    diff = _difference(prev, it)
                    if diff is None:
                        kept[it.key] = _with_media(prev, it)
                    else:
                        c = conflicts.setdefault(it.key, {"subset": it.subset, "id": it.id, "sources": [1 + where[it.key][0]],
                                                          "differs": []})
                        c["sources"].append(n)
                        if diff not in c["differs"]:
                            c["differs"].append(diff)
                task.advance()
    out = [kept[k] for k in order]
    report = _report("exact", cats, out, sources, order, where, conflicts=list(conflicts.values()))
    return Dataset(cats, out, _merge_meta(datasets)), report


def _union(datasets: Sequence[Dataset], sources: list[list[Item]], progress: Progress):
    cats, maps = unite_categories(datasets)
    order, where = _presence(sources)
    taken = set(where)
    variants: dict[Key, list[Item]] = {}  # original key -> kept versions (first under the original id)
    renamed = []
    with progress.task("merging items", total=sum(map(len, sources))) as task:
        for n, (items, m) in enumerate(zip(sources, maps), 1):
            for it in items:
                it = remap_labels(it, m)
                task.advance()
                versions = variants.setdefault(it.key, [])
                for i, v in enumerate(versions):
                    if _difference(v, it) is None:
                        versions[i] = _with_media(v, it)
                        break
                else:
                    if versions:
                        k = 1
                        while (it.subset, f"{it.id}__{k}") in taken:
                            k += 1
                        new_id = f"{it.id}__{k}"
                        taken.add((it.subset, new_id))
                        renamed.append({"subset": it.subset, "id": it.id, "source": n, "renamed_to": new_id})
                        it = it.with_(id=new_id)
                    versions.append(it)
    out = [v for k in order for v in variants[k]]
    report = _report("union", cats, out, sources, order, where, renamed=renamed)
    return Dataset(cats, out, _merge_meta(datasets)), report


# ---------------------------------------------------------------- intersect


def _matches(a: Annotation, seed: Annotation, iou: float) -> float | None:
    """Similarity of ``a`` to a cluster's first member, or None when they cannot match."""
    if a.type is not seed.type:
        return None
    if a.type is AnnType.label:
        return 1.0 if a.label == seed.label else None
    if a.type is AnnType.caption:
        return 1.0 if a.caption == seed.caption else None  # type: ignore[union-attr]
    from dsrepo.model.geometry import similarity

    if iou > 0 and a.type in _AREA and _apart(a.get_bbox(), seed.get_bbox()):  # type: ignore[union-attr]
        return None  # disjoint boxes (1 px margin for rasterisation): IoU 0, skip rasterising
    s = similarity(a, seed)  # labels play no part in shape similarity
    return s if s >= iou else None


def _apart(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return (a[0] > b[0] + b[2] + 1 or b[0] > a[0] + a[2] + 1 or
            a[1] > b[1] + b[3] + 1 or b[1] > a[1] + a[3] + 1)


def _cluster(versions: Sequence[tuple[int, Item]], iou: float) -> list[list[tuple[int, Annotation]]]:
    clusters: list[list[tuple[int, Annotation]]] = []
    for src, item in versions:
        for a in item.annotations:
            best, best_s = None, -1.0
            for c in clusters:
                if c[-1][0] == src:  # members are added in source order: one per source
                    continue
                s = _matches(a, c[0][1], iou)
                if s is not None and s > best_s:
                    best, best_s = c, s
            if best is None:
                clusters.append([(src, a)])
            else:
                best.append((src, a))
    return clusters


def _vote_attributes(members: Sequence[Annotation]) -> dict[str, Any]:
    names: dict[str, None] = {}
    for a in members:
        names.update(dict.fromkeys(a.attributes))
    out = {}
    for name in names:
        values = [a.attributes[name] for a in members if name in a.attributes]
        counts: list[list[Any]] = []  # [value, votes] in first-seen order (values may be unhashable)
        for v in values:
            for c in counts:
                if c[0] == v:
                    c[1] += 1
                    break
            else:
                counts.append([v, 1])
        out[name] = max(counts, key=lambda c: c[1])[0]  # max keeps the first of equal counts
    return out


def _name(names: list[str], label: int | None) -> str | None:
    return None if label is None else names[label]


def _vote_item(key: Key, versions: Sequence[tuple[int, Item]], quorum: int, iou: float, names: list[str],
               lost: list[dict[str, Any]]) -> tuple[Annotation, ...]:
    kept: list[Annotation] = []
    for c in _cluster(versions, iou):
        votes: dict[int | None, list[tuple[int, Annotation]]] = {}
        for src, a in c:
            votes.setdefault(a.label, []).append((src, a))
        label, winners = max(votes.items(), key=lambda kv: len(kv[1]))  # ties: earliest source's label
        ok = len(winners) >= quorum
        for src, a in c:
            if ok and a.label == label:
                continue
            reason = "outvoted" if ok else "no quorum"
            lost.append({"subset": key[0], "id": key[1], "source": src + 1, "type": a.type.value,
                         "label": _name(names, a.label), "reason": reason,
                         "votes": {_name(names, lab) or "<no label>": len(m) for lab, m in votes.items()}})
        if ok:
            attrs = _vote_attributes([a for _, a in winners])
            attrs["score"] = round(len(winners) / len(versions), 6)
            kept.append(winners[0][1].with_(attributes=attrs, meta={}))
    ids = [a.id for a in kept if a.id]
    if len(ids) != len(set(ids)):
        kept = [a.with_(id=i) for i, a in enumerate(kept, 1)]
    return tuple(kept)


def _parse_groups(groups: Sequence[str | Sequence[str]], names: list[str]) -> list[list[tuple[str, bool]]]:
    out = []
    for g in groups:
        parts = g.split(",") if isinstance(g, str) else list(g)
        spec = []
        for p in (x.strip() for x in parts):
            if not p:
                continue
            optional = p.endswith("?")
            name = p[:-1] if optional else p
            if name not in names:
                raise UsageError(f"group {','.join(parts)!r}: unknown label {name!r}")
            spec.append((name, optional))
        if not spec:
            raise UsageError(f"empty group {g!r}")
        out.append(spec)
    return out


def _check_groups(item: Item, specs, names: list[str]) -> list[dict[str, Any]]:
    present = {names[a.label] for a in item.annotations if a.label is not None}
    errors = []
    for spec in specs:
        if any(name in present for name, _ in spec):
            missing = [name for name, opt in spec if not opt and name not in present]
            if missing:
                errors.append({"subset": item.subset, "id": item.id, "error": "incomplete group",
                               "group": ",".join(n + ("?" if o else "") for n, o in spec), "missing": missing})
    return errors


def _intersect(datasets: Sequence[Dataset], sources: list[list[Item]], quorum: int, iou: float,
               groups: Sequence[str | Sequence[str]], progress: Progress):
    cats, maps = unite_categories(datasets)
    names = cats.label_names()
    specs = _parse_groups(groups, names)
    order, where = _presence(sources)
    by_key: dict[Key, list[tuple[int, Item]]] = {}
    for n, (items, m) in enumerate(zip(sources, maps)):
        for it in items:
            by_key.setdefault(it.key, []).append((n, remap_labels(it, m)))
    out, lost, errors, lowered = [], [], [], []
    with progress.task("voting", total=len(order)) as task:
        for key in order:
            versions = by_key[key]
            q = min(quorum, len(versions)) if quorum else len(versions) // 2 + 1
            if quorum and q < quorum:
                lowered.append({"subset": key[0], "id": key[1], "quorum": q})
            anns = _vote_item(key, versions, q, iou, names, lost)
            item = versions[0][1]
            for _, other in versions[1:]:
                item = _with_media(item, other)
            item = item.with_(annotations=anns)
            errors += _check_groups(item, specs, names)
            out.append(item)
            task.advance()
    report = _report("intersect", cats, out, sources, order, where, quorum=quorum or "majority", iou=iou,
                     quorum_lowered=lowered, unmatched_annotations=lost, errors=errors)
    return Dataset(cats, out, _merge_meta(datasets)), report


def combine_datasets(datasets: Sequence[Dataset], policy: str = "exact", quorum: int = 0, iou: float = 0.5,
                     groups: Sequence[str | Sequence[str]] = (),
                     progress: Progress = NULL_PROGRESS) -> tuple[Dataset, dict[str, Any]]:
    """Merge ``datasets`` (at least two) by ``policy`` (exact | union | intersect).

    Returns ``(dataset, report)``: an in-memory dataset and a JSON-ready report (the
    module docstring states each policy's rules). ``exact`` raises DsrepoError when the
    label sets differ and *reports* conflicting items (keeping source 1's version).
    ``quorum`` 0 (intersect) means a strict majority of the sources holding each item;
    UsageError for an unknown policy, a quorum below 0, an IoU outside [0, 1] or a
    group naming an unknown label.
    """
    if len(datasets) < 2:
        raise UsageError(f"merge needs at least two datasets, got {len(datasets)}")
    if policy not in POLICIES:
        raise UsageError(f"unknown merge policy {policy!r} (known: {', '.join(POLICIES)})")
    if not 0 <= quorum <= len(datasets):
        raise UsageError(f"quorum must be between 1 and {len(datasets)} (or 0 for a majority), got {quorum}")
    if not 0.0 <= iou <= 1.0:
        raise UsageError(f"iou must be between 0 and 1, got {iou}")
    sources = [list(ds) for ds in datasets]
    if policy == "exact":
        return _exact(datasets, sources, progress)
    if policy == "union":
        return _union(datasets, sources, progress)
    return _intersect(datasets, sources, quorum, iou, groups, progress)

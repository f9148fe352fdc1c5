"""COCO categories <-> dataset labels (merge on import, render on export)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from dsrepo.errors import DatasetError
from dsrepo.formats.coco.meta import NS, coco_meta, patch_of
from dsrepo.formats.coco.tasks import PERSON_KEYPOINTS
from dsrepo.model.categories import Categories, LabelCategory, PointsCategory

_STD = ("id", "name", "supercategory", "keypoints", "skeleton")
MAX_KEEP_ID = 100000


def render_category(label: LabelCategory, points: PointsCategory | None, task: str, cid: int) -> dict:
    """The category record a label writes into a ``task`` file, with id ``cid``."""
    m = coco_meta(label.meta)
    d: dict[str, Any] = {"id": cid, "name": label.name}
    if "supercategory" not in m.get("omit", ()):
        d["supercategory"] = label.parent
    x = m.get("x")
    if x:
        d.update(x)
    if task == PERSON_KEYPOINTS and points is not None:
        d["keypoints"] = list(points.labels)
        d["skeleton"] = [list(j) for j in points.joints]
    return d


def apply_entry(label: LabelCategory, points: PointsCategory | None, task: str, cid: int,
                entry: Any) -> dict:
    """Render a category, then apply a per-file patch ``[id, changed, removed]``."""
    d = render_category(label, points, task, cid)
    if isinstance(entry, list) and len(entry) == 3:
        for k in entry[2]:
            d.pop(k, None)
        d.update(entry[1])
        d["id"] = cid
    return d


class _Merger:
    def __init__(self, keep_ids: bool) -> None:
        self.keep_ids = keep_ids
        self.labels: list[dict] = []  # name, parent, meta
        self.points: dict[int, PointsCategory] = {}
        self.by_key: dict[Any, int] = {}
        self.where: dict[int, str] = {}

    def add(self, c: Mapping[str, Any], source: str) -> int:
        cid, name = c["id"], c["name"]
        key = cid if self.keep_ids else (name, cid)
        idx = self.by_key.get(key)
        if idx is not None:
            if self.keep_ids and self.labels[idx]["name"] != name:
                raise DatasetError(f"category id {cid} is {self.labels[idx]['name']!r} in {self.where[idx]} "
                                   f"but {name!r} here; --keep-original-category-ids needs consistent ids",
                                   source)
        else:
            idx = len(self.labels)
            m: dict[str, Any] = {"id": cid}
            x = {k: v for k, v in c.items() if k not in _STD}
            if x:
                m["x"] = x
            if "supercategory" not in c:
                m["omit"] = ["supercategory"]
            self.labels.append({"name": name, "parent": c.get("supercategory", ""), "meta": {NS: m}})
            self.by_key[key] = idx
            self.where[idx] = source
        if idx not in self.points and isinstance(c.get("keypoints"), list) and c["keypoints"]:
            self.points[idx] = PointsCategory(labels=tuple(c["keypoints"]),
                                              joints=tuple(tuple(j) for j in c.get("skeleton") or ()))
        return idx

    def synth(self, cid: int) -> int:
        for idx, lab in enumerate(self.labels):
            if lab["meta"][NS]["id"] == cid:
                return idx
        return self.add({"id": cid, "name": str(cid)}, "")

    def finish(self) -> tuple[Categories, dict[int, int]]:
        """Categories plus the label index remap (identity unless keep_ids)."""
        if not self.keep_ids:
            labs = [LabelCategory(d["name"], d["parent"], meta=d["meta"]) for d in self.labels]
            return Categories(labels=tuple(labs), points=self.points), {i: i for i in range(len(labs))}
        ids = [d["meta"][NS]["id"] for d in self.labels]
        if ids and (min(ids) < 0 or max(ids) > MAX_KEEP_ID):
            raise DatasetError(f"--keep-original-category-ids needs category ids in 0..{MAX_KEEP_ID}, "
                               f"got {min(ids) if min(ids) < 0 else max(ids)}")
        size = max(ids) + 1 if ids else 0
        labs = [LabelCategory(f"__unused_{i}", meta={NS: {"placeholder": True}}) for i in range(size)]
        remap = {}
        for i, d in enumerate(self.labels):
            cid = d["meta"][NS]["id"]
            labs[cid] = LabelCategory(d["name"], d["parent"], meta=d["meta"])
            remap[i] = cid
        points = {remap[i]: pc for i, pc in self.points.items()}
        return Categories(labels=tuple(labs), points=points), remap


def merge_categories(files: Sequence[Any], keep_ids: bool) -> tuple[Categories, list[dict[int, int | None]],
                                                                     list[list | None]]:
    """Merge the categories of parsed files (in order) into dataset labels.

    Labels are identified by (name, id), or by id with ``keep_ids``. Returns the
    categories, per file a map ``category id -> label index`` and per file the
    ``cats`` entries for subset meta (None when the file has no categories key).
    """
    mg = _Merger(keep_ids)
    per_file: list[dict[int, int]] = []
    for f in files:
        mapping: dict[int, int] = {}
        if f.categories is not None:
            for c in f.categories:
                mapping[c["id"]] = mg.add(c, str(f.path))
        else:
            for cid in sorted({a.category_id for a in f.anns if isinstance(a.category_id, int)} - {0}):
                mapping[cid] = mg.synth(cid)
        per_file.append(mapping)
    cats, remap = mg.finish()
    maps: list[dict[int, int | None]] = [{cid: remap[i] for cid, i in m.items()} for m in per_file]
    entries: list[list | None] = []
    for f, m in zip(files, maps):
        if f.categories is None:
            entries.append(None)
            continue
        out = []
        for c in f.categories:
            idx = m[c["id"]]
            want = render_category(cats.labels[idx], cats.points.get(idx), f.task, c["id"])
            changed, removed = patch_of(c, want)
            out.append(c["id"] if not changed and not removed else [c["id"], changed, removed])
        entries.append(out)
    return cats, maps, entries


def category_ids(cats: Categories, subset_meta: Mapping[str, Any], warn) -> list[int | None]:
    """COCO id of every label for export (None for placeholders).

    Labels keep their imported id; labels without one (or with an id already taken
    by an earlier label) get ``max id + 1, + 2, ...`` in label order."""
    ids: list[int | None] = []
    used: set[int] = set()
    pending = []
    for i, lab in enumerate(cats.labels):
        m = coco_meta(lab.meta)
        if m.get("placeholder"):
            ids.append(None)
            continue
        cid = m.get("id")
        if isinstance(cid, int) and not isinstance(cid, bool) and cid not in used:
            used.add(cid)
            ids.append(cid)
        else:
            if isinstance(cid, int):
                warn(f"coco: label {lab.name!r} has category id {cid} already used by another label; "
                     "it gets a new id")
            ids.append(None)
            pending.append(i)
    nxt = max(used, default=0) + 1
    for i in pending:
        ids[i] = nxt
        nxt += 1
    return ids


def owned_ids(subset_meta: Mapping[str, Any]) -> set[int]:
    """Category ids recorded in any imported file's category list."""
    out: set[int] = set()
    for sm in subset_meta.values():
        files = coco_meta(sm).get("files") if isinstance(sm, Mapping) else None
        for fm in (files or {}).values():
            for e in fm.get("cats") or ():
                out.add(e[0] if isinstance(e, list) else e)
    return out


def iter_entries(entries: Iterable[Any]) -> Iterable[tuple[int, Any]]:
    """``(category id, entry)`` for recorded file entries."""
    for e in entries:
        yield (e[0] if isinstance(e, list) else e), e

"""``merge``: three-way merge of another revision into the working tree, item by item.

For each source, with the common ancestor as base: a source changed on one side only
is taken from that side; when both changed it, categories merge by label name (label
indices of every side are translated to the merged set) and items merge by
``(subset, id)``: changed on one side -> that side; changed identically -> merged;
changed differently -> merged at annotation level when the changed annotations are
disjoint (:func:`dsrepo.model.merge.merge_items`), otherwise a conflict. A conflicting
item keeps our version in the working copy; both versions are kept in the merge state
(:mod:`dsrepo.repo.mergestate`) until ``resolve`` picks one. Conflicting label renames,
different formats, or a source deleted on one side and changed on the other conflict
for the whole source. Pipelines merge as a whole. Without conflicts the merge is
committed at once (two parents); otherwise ``commit`` does it after ``resolve``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from dsrepo.errors import RepoError
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.access import file_entries, item_entries, load_categories, load_record, load_tree
from dsrepo.repo.mergestate import CATEGORIES, ITEM, PIPELINE, SOURCE, Conflict, MergeState, load_merge, save_merge
from dsrepo.repo.pipeline import Pipeline, Stage, save_pipeline
from dsrepo.repo.records import SourceRecord, Tree
from dsrepo.repo.refs import HEADS, load_commit, read_head, write_ref

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class SourceMerge:
    """What happened to one source: ``action`` is kept, theirs, added, removed, merged
    or conflict; counts of items taken from theirs, merged, and in conflict."""

    name: str
    action: str
    taken: int = 0
    merged: int = 0
    conflicts: int = 0


@dataclass(frozen=True, slots=True)
class MergeResult:
    """``status`` is up-to-date, fast-forward, merged (committed as ``commit``) or conflicts."""

    theirs: str
    base: str | None
    status: str
    sources: tuple[SourceMerge, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    commit: str | None = None


def _ancestors(repo: "Repo", start: str) -> list[str]:
    seen: dict[str, None] = {}
    todo = [start]
    while todo:
        c = todo.pop(0)
        if c in seen:
            continue
        seen[c] = None
        todo += load_commit(repo.store, c).parents
    return list(seen)


def merge_base(repo: "Repo", a: str, b: str) -> str | None:
    """The nearest common ancestor of commits ``a`` and ``b`` (breadth first from ``b``)."""
    ours = set(_ancestors(repo, a))
    return next((c for c in _ancestors(repo, b) if c in ours), None)


def _tree(repo: "Repo", cid: str | None) -> Tree:
    return load_tree(repo, load_commit(repo.store, cid).tree) if cid else Tree()


def _three(b: Any, o: Any, t: Any) -> tuple[Any, bool]:
    """3-way pick of whole values: ``(result, conflict)``."""
    if o == t or t == b:
        return o, False
    if o == b:
        return t, False
    return o, True


class _Items:
    """Reads items of one side translated to the merged label set."""

    def __init__(self, repo: "Repo", mapping: dict[int, int], identity: bool) -> None:
        self.repo, self.mapping, self.identity = repo, mapping, identity

    def item(self, h: str):
        from dsrepo.model.encoding import decode_item
        from dsrepo.model.merge import remap_labels

        it = decode_item(self.repo.store.read_packed(h))
        return it if self.identity else remap_labels(it, self.mapping)

    def hash(self, h: str) -> str:
        """Object id of item ``h`` in the merged label space (stored if new)."""
        if self.identity:
            return h
        return _put(self.repo, self.item(h))


def _put(repo: "Repo", item: Any) -> str:
    from dsrepo.model.encoding import encode_item

    return repo.store.put_packed("item", encode_item(item))


def _is_identity(m: dict[int, int], n: int) -> bool:
    return len(m) == n and all(k == v for k, v in m.items())


def _merge_files(repo: "Repo", b: SourceRecord | None, o: SourceRecord, t: SourceRecord) -> list[list[Any]]:
    fb = {e[0]: e for e in file_entries(repo, b)} if b else {}
    fo = {e[0]: e for e in file_entries(repo, o)}
    ft = {e[0]: e for e in file_entries(repo, t)}
    out = []
    for rel in sorted(set(fb) | set(fo) | set(ft)):
        e, _conflict = _three(fb.get(rel), fo.get(rel), ft.get(rel))  # ours wins a file changed on both sides
        if e is not None:
            out.append(list(e))
    return out


def _merge_source(repo: "Repo", name: str, rb: str | None, ro: str, rt: str, iou: float
                  ) -> tuple[str, SourceMerge, list[Conflict]]:
    from dsrepo.model.categories import Categories
    from dsrepo.model.encoding import encode_categories
    from dsrepo.model.merge import base_label_map, merge_categories, merge_items
    from dsrepo.repo.lists import write_item_list, write_list

    b = load_record(repo, rb) if rb else None
    o, t = load_record(repo, ro), load_record(repo, rt)
    if o.format != t.format:
        return ro, SourceMerge(name, "conflict", conflicts=1), [
            Conflict(SOURCE, name, "", f"format {o.format} (ours) vs {t.format} (theirs)", ro, rt)]
    cb = load_categories(repo, b) if b else Categories()
    co, ct = load_categories(repo, o), load_categories(repo, t)
    cm = merge_categories(cb, co, ct)
    if cm.conflicts:
        return ro, SourceMerge(name, "conflict", conflicts=1), [
            Conflict(CATEGORIES, name, "", "; ".join(cm.conflicts), ro, rt)]
    n = len(cm.categories.labels)
    ours = _Items(repo, dict(cm.ours_map), _is_identity(dict(cm.ours_map), n) and len(co.labels) == n)
    theirs = _Items(repo, dict(cm.theirs_map), _is_identity(dict(cm.theirs_map), n) and len(ct.labels) == n)
    bmap = base_label_map(cb, co, ct, cm.categories)
    base = _Items(repo, bmap, _is_identity(bmap, len(cb.labels)) and len(cb.labels) == n)
    eb = {(s, i): h for s, i, h in item_entries(repo, b)} if b else {}
    et_list = item_entries(repo, t)
    et = {(s, i): h for s, i, h in et_list}
    entries: list[list[str]] = []
    conflicts: list[Conflict] = []
    taken = merged = 0
    keys = [(s, i, h) for s, i, h in item_entries(repo, o)]
    seen = {(s, i) for s, i, _ in keys}
    keys += [(s, i, None) for s, i, _ in et_list if (s, i) not in seen]
    for s, i, ho in keys:
        k = (s, i)
        hb, ht = eb.get(k), et.get(k)
        if ho == ht or ht == hb:
            h = ours.hash(ho) if ho else None
        elif ho == hb:
            h = theirs.hash(ht) if ht else None
            taken += 1
        else:
            m = merge_items(base.item(hb) if hb else None, ours.item(ho) if ho else None,
                            theirs.item(ht) if ht else None, iou)
            if m.conflict:
                h = ours.hash(ho) if ho else None
                conflicts.append(Conflict(ITEM, name, f"{s}/{i}", m.reason, h, theirs.hash(ht) if ht else None, s, i))
            else:
                h = _put(repo, m.item) if m.item is not None else None
                merged += 1
        if h is not None:
            entries.append([s, i, h])
    files = _merge_files(repo, b, o, t)
    meta, _ = _three(b.subset_meta if b else None, o.subset_meta, t.subset_meta)
    rec = SourceRecord(name=name, format=o.format, items=write_item_list(repo.store, entries), count=len(entries),
                       files=write_list(repo.store, files, 1), nfiles=len(files),
                       media_bytes=sum(int(f[2]) for f in files),
                       categories=repo.store.put_loose("categories", encode_categories(cm.categories)),
                       subset_meta=meta, import_options=o.import_options, export_options=o.export_options)
    rid = repo.store.put_loose("source", rec.to_bytes())
    action = "conflict" if conflicts else "merged"
    return rid, SourceMerge(name, action, taken, merged, len(conflicts)), conflicts


def _pipeline(tree: Tree) -> tuple[bytes, Pipeline]:
    p = Pipeline(tuple(Stage.from_dict(s) for s in tree.stages), tree.merge_policy)
    return orjson.dumps(p.to_json(), option=orjson.OPT_SORT_KEYS), p


def _fast_forward(repo: "Repo", theirs: str, branch: str | None, base: str | None,
                  progress: Progress) -> MergeResult:
    from dsrepo.repo.checkout import checkout

    if branch:
        write_ref(repo.layout, HEADS, branch, theirs)
        checkout(repo, branch, force=True, progress=progress)
    else:
        checkout(repo, theirs, force=True, progress=progress)
    return MergeResult(theirs, base, "fast-forward")


def merge(repo: "Repo", rev: str, message: str | None = None, commit: bool = True, iou: float = 0.5,
          progress: Progress = NULL_PROGRESS) -> MergeResult:
    """Merge revision ``rev`` into the working tree (which must be clean).

    Returns up-to-date / fast-forward / merged (committed unless ``commit`` is False) /
    conflicts (the merge state lists them; resolve, then commit). RepoError over local
    changes, during another merge, or without a common history."""
    from dsrepo.repo.rewrite import delete_files, rewrite_source
    from dsrepo.repo.status import status
    from dsrepo.repo.working import examine
    from dsrepo.repo.worktree import drop_state

    theirs = repo.resolve(rev)
    if load_merge(repo.layout) is not None:
        raise RepoError("a merge is in progress: resolve its conflicts and commit, or `dsrepo merge --abort`")
    branch, head = read_head(repo.layout)
    if head is None:
        raise RepoError("nothing to merge into: no commits yet")
    if not status(repo, progress=progress).clean:
        raise RepoError("local changes: commit them (or check out with --force) before merging")
    base = merge_base(repo, head, theirs)
    if base == theirs or theirs == head:
        return MergeResult(theirs, base, "up-to-date")
    if base == head:
        return _fast_forward(repo, theirs, branch, base, progress)
    tb, to, tt = _tree(repo, base), _tree(repo, head), _tree(repo, theirs)
    sb, so, st = tb.source_map(), to.source_map(), tt.source_map()
    results: list[SourceMerge] = []
    conflicts: list[Conflict] = []
    label = rev if rev != theirs else theirs[:12]
    with repo.lock():
        with repo.store.pack_session():
            plan: dict[str, str | None] = {}
            for name in sorted(set(sb) | set(so) | set(st)):
                b, o, t = sb.get(name), so.get(name), st.get(name)
                if o == t or t == b:
                    continue
                if o == b:
                    plan[name] = t
                    results.append(SourceMerge(name, "theirs" if o and t else ("added" if t else "removed")))
                elif o is None or t is None:
                    conflicts.append(Conflict(SOURCE, name, "", "deleted on one side, changed on the other", o, t))
                    results.append(SourceMerge(name, "conflict", conflicts=1))
                else:
                    rid, sm, cs = _merge_source(repo, name, b, o, t, iou)
                    conflicts += cs
                    results.append(sm)
                    if rid != o:
                        plan[name] = rid
        (pb, _), (po, _), (pt, pipe_t) = _pipeline(tb), _pipeline(to), _pipeline(tt)
        pick, pconf = _three(pb, po, pt)
        if pconf:
            conflicts.append(Conflict(PIPELINE, "", "", "stages or merge policy changed on both sides", head, theirs))
        elif pick is pt and pt != po:
            save_pipeline(repo.layout, pipe_t)
        for name, rid in plan.items():
            w = examine(repo, name, True, progress=progress) if name in so else None
            if rid is None:
                if w is not None and w.scan is not None:
                    delete_files(repo, w)
                drop_state(repo.layout, name)
            else:
                rewrite_source(repo, name, w, rid, progress=progress)
        msg = message or f"merge {label}"
        save_merge(repo.layout, MergeState(theirs, base, msg, tuple(conflicts)))
    if conflicts or not commit:
        return MergeResult(theirs, base, "conflicts" if conflicts else "merged", tuple(results), tuple(conflicts))
    from dsrepo.repo.commit import commit as do_commit

    c = do_commit(repo, msg, allow_empty=True, progress=progress)
    return MergeResult(theirs, base, "merged", tuple(results), (), c.id)

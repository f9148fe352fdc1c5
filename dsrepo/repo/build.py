"""``build``: the dataset of a revision's target - a source or the whole project - with
its recorded stages applied, cached by content.

Every step's output is identified by a key: a source's record id for the source
itself, then ``sha256(previous key, stage kind, name, parameters, implementation
version)`` for each stage, and for the project a hash of the merge policy and the
final keys of every source. Outputs are stored like source records (items packed in
the object store, new images in the media store) and indexed in
``.dsrepo/cache/build/<key>.json`` with their item and annotation counts. Building a
revision again reads the last cached step; changing one stage's parameters rebuilds
from that stage on. ``gc`` empties the cache.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import orjson

from dsrepo.errors import RepoError, UsageError
from dsrepo.formats.common.files import atomic_write_bytes
from dsrepo.progress import NULL_PROGRESS, Progress
from dsrepo.repo.access import commit_sources, load_record, load_tree, record_dataset
from dsrepo.repo.pipeline import PROJECT, Pipeline, Stage, apply_stage, project_key, stage_key
from dsrepo.repo.records import SourceRecord

if TYPE_CHECKING:
    from dsrepo.model.dataset import Dataset
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a build: a source, the project combination, or a stage; its output counts."""

    target: str
    label: str
    stage: str | None
    items: int
    annotations: int
    cached: bool


@dataclass(frozen=True, slots=True)
class Built:
    """A built target: the dataset (read from the store), its key, every step, and the
    id of the stored record the dataset is read from (its item list gives item hashes)."""

    dataset: "Dataset"
    target: str
    key: str
    steps: tuple[Step, ...]
    record: str


def _cache_file(repo: "Repo", key: str) -> Path:
    return repo.layout.dot / "cache" / "build" / f"{key}.json"


def _cached(repo: "Repo", key: str) -> dict[str, Any] | None:
    try:
        d = orjson.loads(_cache_file(repo, key).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(d, dict) or not repo.store.has_loose(str(d.get("record"))):
        return None
    return d


def _store_media(repo: "Repo", item: Any, tmp: Path) -> Any:
    """``item`` with an in-memory image written to the media store (as PNG)."""
    import cv2

    media = item.media
    ok, buf = cv2.imencode(".png", media.data)
    if not ok:
        raise RepoError(f"item {item.subset}/{item.id}: cannot encode its image")
    f = tmp / "img.png"
    f.write_bytes(buf.tobytes())
    md5, _ = repo.media.put_file(f)
    name = os.path.splitext(media.name or item.id)[0] + ".png"
    return item.with_(media=media.with_(path=str(repo.media.path(md5)), md5=md5, name=name, data=None))


def _store_output(repo: "Repo", target: str, key: str, ds: "Dataset", progress: Progress,
                  record: str | None = None) -> dict[str, Any]:
    """Store ``ds`` (unless it is stored already as ``record``) and index it under ``key``."""
    from dsrepo.model.encoding import encode_categories, encode_item
    from dsrepo.repo.lists import write_item_list, write_list
    from dsrepo.repo.snapshot import plain_options

    store = repo.store
    n_items = n_anns = 0
    entries: list[list[str]] = []
    repo.layout.tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=repo.layout.tmp) as t, store.pack_session(), \
            progress.task(f"{target}: storing build output") as bar:
        for item in ds:
            n_items += 1
            n_anns += len(item.annotations)
            if record is None:
                if item.media is not None and item.media.data is not None and item.media.md5 is None:
                    item = _store_media(repo, item, Path(t))
                data = encode_item(item)
                entries.append([item.subset, item.id, store.put_packed("item", data)])
            bar.advance()
        if record is None:
            rec = SourceRecord(name=target, format="", items=write_item_list(store, entries), count=len(entries),
                               files=write_list(store, [], 1), nfiles=0, media_bytes=0,
                               categories=store.put_loose("categories", encode_categories(ds.categories)),
                               subset_meta=store.put_loose("meta", orjson.dumps(plain_options(ds.subset_meta),
                                                                               option=orjson.OPT_SORT_KEYS)))
            record = store.put_loose("source", rec.to_bytes())
    entry = {"record": record, "items": n_items, "annotations": n_anns}
    atomic_write_bytes(_cache_file(repo, key), orjson.dumps(entry))
    return entry


def _run(repo: "Repo", target: str, key: str, start: "Dataset", start_step: Step, start_record: str,
         stages: Sequence[Stage], progress: Progress) -> tuple[str, "Dataset", list[Step], str]:
    """Apply ``stages`` after the step ``start`` (output key ``key``, stored as record
    ``start_record``), using the cache; returns ``(key, dataset, steps, record)``."""
    keys = []
    k = key
    for s in stages:
        k = stage_key(k, s)
        keys.append(k)
    steps = [start_step]
    first = 0
    entry = None
    for i in range(len(stages) - 1, -1, -1):  # the last cached step
        entry = _cached(repo, keys[i])
        if entry is not None:
            first = i + 1
            break
    for i in range(first):
        e = _cached(repo, keys[i]) if i < first - 1 else entry
        if e is None:
            e = {"items": "?", "annotations": "?"}
        steps.append(Step(target, stages[i].describe(), stages[i].id, e["items"], e["annotations"], True))
    ds = record_dataset(repo, load_record(repo, entry["record"])) if entry is not None else start
    record = entry["record"] if entry is not None else start_record
    for i in range(first, len(stages)):
        out = apply_stage(ds, stages[i])
        e = _store_output(repo, target, keys[i], out, progress)
        record = e["record"]
        ds = record_dataset(repo, load_record(repo, record))
        steps.append(Step(target, stages[i].describe(), stages[i].id, e["items"], e["annotations"], False))
    return (keys[-1] if keys else key), ds, steps, record


def _source_start(repo: "Repo", name: str, rid: str, progress: Progress) -> tuple["Dataset", Step]:
    ds = record_dataset(repo, load_record(repo, rid))
    e = _cached(repo, rid)
    cached = e is not None
    if e is None:
        e = _store_output(repo, name, rid, ds, progress, record=rid)
    return ds, Step(name, f"source {name}", None, e["items"], e["annotations"], cached)


def _combine(named: Sequence[tuple[str, "Dataset"]], policy: str) -> "Dataset":
    """The project dataset: labels united by name; equal (subset, id) items must be
    identical (``exact``) or are kept with a ``__<source>`` id suffix (``union``)."""
    from dsrepo.model.combine import unite_categories
    from dsrepo.model.dataset import Dataset
    from dsrepo.model.merge import remap_labels

    cats, maps = unite_categories([ds for _, ds in named])
    items: dict[tuple[str, str], tuple[Any, str]] = {}
    meta: dict[str, Any] = {}
    for (name, ds), m in zip(named, maps):
        identity = all(k == v for k, v in m.items())
        for k, v in ds.subset_meta.items():
            meta.setdefault(k, v)
        for it in ds:
            it = it if identity else remap_labels(it, m)
            prev = items.get(it.key)
            if prev is None:
                items[it.key] = (it, name)
            elif prev[0] != it:
                if policy != "union":
                    raise RepoError(f"item {it.subset}/{it.id} differs between sources {prev[1]!r} and {name!r} "
                                    "(make them equal, or use the union merge policy: `dsrepo stages policy union` "
                                    "or `--merge-policy union`)")
                new = it.with_(id=f"{it.id}__{name}")
                items[new.key] = (new, name)
    return Dataset(cats, [it for it, _ in items.values()], meta)


def _pipeline_at(repo: "Repo", rev: str | None) -> tuple[dict[str, str], Pipeline]:
    if rev is None:
        from dsrepo.repo.pipeline import load_pipeline
        from dsrepo.repo.status import examine_all
        from dsrepo.repo.worktree import tracked_sources

        working = examine_all(repo, tracked_sources(repo.layout))
        bad = [n for n, w in working.items() if w.record is None]
        if bad:
            raise RepoError(f"working copy of source {bad[0]!r} is missing or does not import; "
                            "fix it or build a committed revision")
        return {n: str(w.record) for n, w in working.items()}, load_pipeline(repo.layout)
    from dsrepo.repo.refs import load_commit

    tree = load_tree(repo, load_commit(repo.store, repo.resolve(rev)).tree)
    return tree.source_map(), Pipeline(tuple(Stage.from_dict(s) for s in tree.stages), tree.merge_policy)


def build(repo: "Repo", rev: str | None = None, target: str = PROJECT, extra: Stage | None = None,
          progress: Progress = NULL_PROGRESS, merge_policy: str | None = None) -> Built:
    """Build ``target`` (a source name or "project") of revision ``rev`` (None: the
    working tree), with ``extra`` appended to the pipeline when given (dry runs) and
    ``merge_policy`` overriding the recorded one when given.

    RepoError for an unknown target or a working copy that does not import."""
    from dsrepo.repo.pipeline import MERGE_POLICIES

    sources, pipeline = _pipeline_at(repo, rev)
    if merge_policy is not None:
        if merge_policy not in MERGE_POLICIES:
            raise UsageError(f"merge policy must be one of {', '.join(MERGE_POLICIES)}, got {merge_policy!r}")
        pipeline = Pipeline(pipeline.stages, merge_policy)
    if rev is None and not sources:
        sources = commit_sources(repo, None)
    if target != PROJECT and target not in sources:
        where = f"revision {rev!r} has" if rev is not None else "the working tree has"
        raise RepoError(f"{where} no source {target!r} (sources: {', '.join(sorted(sources)) or 'none'})")
    if not sources:
        raise RepoError("the project has no sources (use `dsrepo add`)")
    stages = list(pipeline.stages) + ([extra] if extra is not None else [])
    names = [target] if target != PROJECT else sorted(sources)
    with repo.lock():
        built: list[tuple[str, "Dataset"]] = []
        keys: list[tuple[str, str]] = []
        steps: list[Step] = []
        record = ""
        for n in names:
            ds, start = _source_start(repo, n, sources[n], progress)
            key, ds, st, record = _run(repo, n, sources[n], ds, start, sources[n],
                                       [s for s in stages if s.target == n], progress)
            built.append((n, ds))
            keys.append((n, key))
            steps += st
        if target != PROJECT:
            return Built(built[0][1], target, keys[0][1], tuple(steps), record)
        pkey = project_key(pipeline.merge_policy, keys)
        e = _cached(repo, pkey)
        cached = e is not None
        if e is None:
            e = _store_output(repo, PROJECT, pkey, _combine(built, pipeline.merge_policy), progress)
        ds = record_dataset(repo, load_record(repo, e["record"]))
        start = Step(PROJECT, f"project ({pipeline.merge_policy} merge of {len(names)} sources)", None,
                     e["items"], e["annotations"], cached)
        key, ds, st, record = _run(repo, PROJECT, pkey, ds, start, e["record"],
                                   [s for s in stages if s.target == PROJECT], progress)
        return Built(ds, PROJECT, key, tuple(steps + st), record)

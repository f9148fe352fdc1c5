"""The two sides of ``diff`` and ``compare``, from command-line arguments.

A side is a whole revision (its sources and pipeline), ``REV:SOURCE`` (one source),
the working tree, or a dataset file/folder imported with a given format. Stored
sources keep their record (items are read from the store only when needed);
imported datasets are hashed item by item like a commit would store them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from dsrepo.errors import RepoError, UsageError
from dsrepo.progress import Progress

if TYPE_CHECKING:
    from dsrepo.model.categories import Categories
    from dsrepo.model.dataset import Dataset
    from dsrepo.model.item import Item
    from dsrepo.repo.records import SourceRecord
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class SideSource:
    """A source on one side: a stored ``record``, or an imported ``dataset`` with its
    ``entries`` ``(subset, id, item hash)`` and ``items`` by hash."""

    name: str
    format: str
    record: "SourceRecord | None" = None
    dataset: "Dataset | None" = None
    entries: tuple[tuple[str, str, str], ...] = ()
    items: Mapping[str, "Item"] = field(default_factory=dict)

    def categories(self, repo: "Repo | None") -> "Categories":
        if self.record is None:
            return self.dataset.categories  # type: ignore[union-attr]
        from dsrepo.repo.access import load_categories

        return load_categories(repo, self.record)  # type: ignore[arg-type]

    def as_dataset(self, repo: "Repo | None") -> "Dataset":
        """The source as a (lazy) dataset."""
        if self.record is None:
            return self.dataset  # type: ignore[return-value]
        from dsrepo.repo.access import record_dataset

        return record_dataset(repo, self.record)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Side:
    """One side: a description, its commit (revisions), its sources by name, its
    pipeline (whole revisions and the working tree only) and whether it is ``single``
    (one dataset: a path or ``REV:SOURCE``)."""

    label: str
    commit: str | None
    sources: Mapping[str, SideSource]
    pipeline: Any = None
    single: bool = False


def _path_source(path: Path, fmt: str, progress: Progress) -> SideSource:
    from dsrepo.formats.api import import_dataset
    from dsrepo.model.encoding import item_hash

    ds = import_dataset(path, fmt, progress=progress)
    entries, items = [], {}
    for it in ds:
        if it.media is not None and it.media.md5 is None and it.media.path is not None:
            it = it.with_(media=it.media.with_(md5=it.media.checksum()))
        h = item_hash(it)
        items[h] = it
        entries.append((it.subset, it.id, h))
    return SideSource(path.resolve().name, fmt, dataset=ds, entries=tuple(entries), items=items)


def _stored(repo: "Repo", name: str, rid: str) -> SideSource:
    from dsrepo.repo.access import load_record

    rec = load_record(repo, rid)
    return SideSource(name, rec.format, record=rec)


def _working(repo: "Repo", progress: Progress) -> Side:
    from dsrepo.repo.pipeline import load_pipeline
    from dsrepo.repo.status import examine_all
    from dsrepo.repo.worktree import tracked_sources

    working = examine_all(repo, tracked_sources(repo.layout), progress=progress)
    for n, w in working.items():
        if w.record is None:
            raise RepoError(f"working copy of source {n!r} is missing or does not import; "
                            "fix it or compare committed revisions")
    return Side("working tree", None, {n: _stored(repo, n, str(w.record)) for n, w in working.items()},
                load_pipeline(repo.layout))


def opener(repo: "Repo | str | Path | None") -> Callable[[], "Repo"]:
    """A function giving ``repo`` if it is an open Repo, else the project at/above that
    folder (None: the current folder), opened on first call."""
    from dsrepo.repo.repo import Repo

    if isinstance(repo, Repo):
        return lambda: repo
    opened: list[Repo] = []

    def get() -> Repo:
        if not opened:
            opened.append(Repo.open(repo))
        return opened[0]
    return get


def resolve_side(get_repo: Callable[[], "Repo"], spec: str | None, fmt: str | None,
                 progress: Progress) -> Side:
    """The side named by ``spec``: None is the working tree; with a format ``fmt`` an
    existing file or folder is a dataset in that format; otherwise ``REV`` or
    ``REV:SOURCE`` (RepoError when unknown)."""
    if spec is not None and fmt and Path(spec).exists():
        src = _path_source(Path(spec), fmt, progress)
        return Side(f"{spec} ({fmt})", None, {src.name: src}, single=True)
    repo = get_repo()
    if spec is None:
        return _working(repo, progress)
    from dsrepo.repo.access import load_tree
    from dsrepo.repo.pipeline import Pipeline, Stage
    from dsrepo.repo.refs import load_commit

    rev, _, source = spec.rpartition(":") if ":" in spec else (spec, "", "")
    try:
        commit = repo.resolve(rev)
    except RepoError:
        if fmt:
            raise RepoError(f"{spec!r} is neither an existing dataset path nor a revision") from None
        raise
    tree = load_tree(repo, load_commit(repo.store, commit).tree)
    sources = tree.source_map()
    label = f"{spec} ({commit[:12]})"
    if source:
        if source not in sources:
            raise RepoError(f"revision {rev!r} has no source {source!r} (sources: {', '.join(sources) or 'none'})")
        return Side(label, commit, {source: _stored(repo, source, sources[source])}, single=True)
    return Side(label, commit, {n: _stored(repo, n, r) for n, r in sources.items()},
                Pipeline(tuple(Stage.from_dict(s) for s in tree.stages), tree.merge_policy))


def pair_sources(a: Side, b: Side, single: bool = False) -> list[tuple[str, SideSource | None, SideSource | None]]:
    """``(name, a's source, b's source)``: by name for two whole revisions; a single
    dataset (or any side, with ``single``) pairs with the other side's only source
    (UsageError if it has several)."""
    if not (single or a.single or b.single):
        return [(n, a.sources.get(n), b.sources.get(n)) for n in sorted(set(a.sources) | set(b.sources))]
    for side in (a, b):
        if len(side.sources) != 1:
            raise UsageError(f"{side.label} has {len(side.sources)} sources ({', '.join(side.sources) or 'none'}); "
                             "name one as REV:SOURCE")
    (na, sa), (nb, sb) = next(iter(a.sources.items())), next(iter(b.sources.items()))
    return [(na if na == nb else f"{na} -> {nb}", sa, sb)]

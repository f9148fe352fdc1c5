"""Reading revisions back: trees, source records, item lists and datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Collection, Iterator, Mapping, Sequence

import orjson

from dsrepo.errors import CorruptObjectError, RepoError
from dsrepo.repo.lists import read_list
from dsrepo.repo.records import Commit, SourceRecord, Tree
from dsrepo.repo.refs import load_commit

if TYPE_CHECKING:
    from dsrepo.model.dataset import Dataset
    from dsrepo.repo.repo import Repo


def load_tree(repo: "Repo", tree_id: str) -> Tree:
    """The tree object ``tree_id``."""
    return Tree.from_bytes(repo.store.read_loose(tree_id, "tree"), tree_id)


def load_record(repo: "Repo", record_id: str) -> SourceRecord:
    """The source record ``record_id``."""
    return SourceRecord.from_bytes(repo.store.read_loose(record_id, "source"), record_id)


def commit_sources(repo: "Repo", commit_id: str | None) -> dict[str, str]:
    """``{source name: record id}`` of a commit (empty for None: an unborn branch)."""
    if commit_id is None:
        return {}
    return load_tree(repo, load_commit(repo.store, commit_id).tree).source_map()


def load(repo: "Repo", commit_id: str) -> Commit:
    """The commit ``commit_id``."""
    return load_commit(repo.store, commit_id)


def item_entries(repo: "Repo", rec: SourceRecord) -> list[tuple[str, str, str]]:
    """Ordered ``(subset, id, item hash)`` of a record (a new list; the stored list is read
    once per open store, since it is immutable)."""
    store = repo.store
    return list(store.memo(("items", rec.items),
                           lambda: tuple((s, i, h) for s, i, h in read_list(store, rec.items))))


def file_entries(repo: "Repo", rec: SourceRecord) -> list[tuple[str, str, int, str]]:
    """``(relpath, md5, size, kind)`` of a record's media ("m") and extra ("x") files (a new
    list; the stored list is read once per open store, like :func:`item_entries`)."""
    store = repo.store
    return list(store.memo(("files", rec.files),
                           lambda: tuple((r, m, int(n), k) for r, m, n, k in read_list(store, rec.files))))


def load_categories(repo: "Repo", rec: SourceRecord):
    """Categories of a record."""
    from dsrepo.model.encoding import decode_categories

    return decode_categories(repo.store.read_loose(rec.categories, "categories"))


def load_subset_meta(repo: "Repo", rec: SourceRecord) -> dict[str, Any]:
    """Subset meta of a record."""
    d = orjson.loads(repo.store.read_loose(rec.subset_meta, "meta"))
    if not isinstance(d, dict):
        raise CorruptObjectError(f"subset meta {rec.subset_meta}: not a JSON object")
    return d


def _store_media(repo: "Repo") -> Callable[[Mapping[str, Any]], str | None]:
    """Media resolver to the stored copies (read only): media dict -> path, or None."""
    media = repo.media

    def media_path(md: Mapping[str, Any]) -> str | None:
        md5 = md.get("md5")
        return str(media.path(md5)) if md5 and media.has(md5) else None

    return media_path


def record_dataset(repo: "Repo", rec: SourceRecord,
                   media_path: Callable[[Mapping[str, Any]], str | None] | None = None,
                   media_root: str | None = None,
                   entries: Sequence[tuple[str, str, str]] | None = None) -> "Dataset":
    """A lazy Dataset of a record's items (decoded from the store on iteration).

    ``media_path(media dict)`` gives each image's file; default: the stored copy.
    ``entries``: only these of the record's ``item_entries`` (default: all)."""
    from dsrepo.model.dataset import Dataset
    from dsrepo.model.encoding import decode_item

    if entries is None:
        entries = item_entries(repo, rec)
    store = repo.store
    if media_path is None:
        media_path = _store_media(repo)

    def items() -> Iterator:
        for _s, _i, h in entries:
            yield decode_item(store.read_packed(h), media_path)

    return Dataset(load_categories(repo, rec), items, load_subset_meta(repo, rec), length=len(entries),
                   media_root=media_root)


def subset_dataset(repo: "Repo", rec: SourceRecord, entries: Sequence[tuple[str, str, str]], keys: Collection,
                   media_path: Callable[[Mapping[str, Any]], str | None] | None = None,
                   media_root: str | None = None) -> "Dataset":
    """The items of ``entries`` (``item_entries`` of ``rec``) whose ``(subset, id)`` is in
    ``keys``, decoded now, in order, with the record's categories and subset meta;
    ``media_path`` as in :func:`record_dataset`."""
    from dsrepo.model.dataset import Dataset
    from dsrepo.model.encoding import decode_item

    if media_path is None:
        media_path = _store_media(repo)
    store = repo.store
    items = [decode_item(store.read_packed(h), media_path) for s, i, h in entries if (s, i) in keys]
    return Dataset(load_categories(repo, rec), items, load_subset_meta(repo, rec), media_root=media_root)


def source_dataset(repo: "Repo", rev: str = "HEAD", source: str | None = None) -> "Dataset":
    """The dataset of ``source`` at revision ``rev`` (``source`` may be omitted when
    the revision has exactly one source). Media paths point into the store (read only)."""
    commit = repo.resolve(rev)
    sources = commit_sources(repo, commit)
    if source is None:
        if len(sources) != 1:
            raise RepoError(f"revision {rev!r} has {len(sources)} sources ({', '.join(sources) or 'none'}); "
                            "name one")
        source = next(iter(sources))
    rid = sources.get(source)
    if rid is None:
        raise RepoError(f"revision {rev!r} has no source {source!r} (sources: {', '.join(sources) or 'none'})")
    return record_dataset(repo, load_record(repo, rid))

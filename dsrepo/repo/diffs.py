"""Item-level comparison of two source records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsrepo.repo.access import file_entries, item_entries, load_record

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class SourceChange:
    """How one source differs between two records (keys are ``(subset, id)``)."""

    added: tuple[Key, ...] = ()
    removed: tuple[Key, ...] = ()
    modified: tuple[Key, ...] = ()
    reordered: bool = False
    categories: bool = False
    subset_meta: bool = False
    files: int = 0
    format: bool = False
    options: bool = False
    unreadable: bool = False

    @property
    def empty(self) -> bool:
        return not (self.unreadable or self.added or self.removed or self.modified or self.reordered or self.categories
                    or self.subset_meta or self.files or self.format or self.options)

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed), "modified": len(self.modified)}


def all_added(repo: "Repo", record_id: str) -> SourceChange:
    """Every item of ``record_id`` as added."""
    rec = load_record(repo, record_id)
    return SourceChange(added=tuple((s, i) for s, i, _h in item_entries(repo, rec)), files=rec.nfiles)


def all_removed(repo: "Repo", record_id: str) -> SourceChange:
    """Every item of ``record_id`` as removed."""
    rec = load_record(repo, record_id)
    return SourceChange(removed=tuple((s, i) for s, i, _h in item_entries(repo, rec)), files=rec.nfiles)


def diff_records(repo: "Repo", old_id: str, new_id: str) -> SourceChange:
    """Items added, removed and modified from record ``old_id`` to ``new_id``, and which
    other parts (categories, subset meta, non-annotation files, format, options) differ."""
    if old_id == new_id:
        return SourceChange()
    old, new = load_record(repo, old_id), load_record(repo, new_id)
    added: tuple[Key, ...] = ()
    removed: tuple[Key, ...] = ()
    modified: tuple[Key, ...] = ()
    reordered = False
    if old.items != new.items:  # compared chunk by chunk: chunks both lists share are not read
        from dsrepo.repo.listdiff import compare_lists
        from dsrepo.repo.sides import SideSource

        items, _subsets, _pairs = compare_lists(repo, SideSource(old.name, old.format, record=old),
                                                SideSource(new.name, new.format, record=new))
        added, removed, modified, reordered = items.added, items.removed, items.modified, items.reordered
    files = 0
    if old.files != new.files:
        fa = {(r, m) for r, m, _n, _k in file_entries(repo, old)}
        fb = {(r, m) for r, m, _n, _k in file_entries(repo, new)}
        files = len({r for r, _m in fa ^ fb})
    return SourceChange(tuple(added), tuple(removed), tuple(modified), reordered,
                        old.categories != new.categories, old.subset_meta != new.subset_meta, files,
                        old.format != new.format,
                        (old.import_options, old.export_options) != (new.import_options, new.export_options))

"""Comparing two sides' item lists (for :mod:`dsrepo.repo.diff`): which items were added,
removed and modified, per subset, reading as little as possible.

Stored lists are compared chunk by chunk: content-defined chunks present in both lists
hold identical entries, so they are skipped on A's side and only counted on B's (from
B's per-subset tally when the list has one).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from dsrepo.repo.diffs import Key, SourceChange
from dsrepo.repo.sides import SideSource

if TYPE_CHECKING:
    from dsrepo.repo.repo import Repo


@dataclass(frozen=True, slots=True)
class SubsetCounts:
    """Items of one subset added, removed, modified and unchanged."""

    subset: str
    added: int = 0
    removed: int = 0
    modified: int = 0
    unchanged: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"subset": self.subset, "added": self.added, "removed": self.removed, "modified": self.modified,
                "unchanged": self.unchanged}


def _lists(repo: "Repo | None", a: SideSource | None, b: SideSource | None):
    """``(chunks of A, chunks of B, B's tally)`` of two stored item lists (``(hash,
    count)`` pairs; the tally is None for lists stored without one); empty for a side
    that is not stored."""
    from dsrepo.repo.lists import list_info

    ca = list_info(repo.store, a.record.items)[0] if a is not None and a.record is not None else []
    cb, tally = list_info(repo.store, b.record.items) if b is not None and b.record is not None else ([], None)
    return ca, cb, tally


def _entries(repo: "Repo | None", src: SideSource | None, chunks, skip: set[str]):
    """``(common, entries)`` parts of ``src``'s item list: the stored chunks not in
    ``skip`` (``common``: in the other side's list too), or all entries of a dataset."""
    if src is None:
        return
    if src.record is None:
        yield False, src.entries
        return
    for h, _n in chunks:
        if h not in skip:
            yield False, orjson.loads(repo.store.read_packed(h))


def compare_lists(repo: "Repo | None", a: SideSource | None, b: SideSource | None):
    """``(SourceChange, per-subset counts, {modified key: (old hash, new hash)})``.

    Chunks present in both stored lists hold identical entries: they are not read on
    A's side, and on B's side only counted (from B's tally when the list has one, so
    that an edit of 1 % of a large list reads only the chunks around the edits)."""
    both_stored = a is not None and b is not None and a.record is not None and b.record is not None
    chunks_a, chunks_b, tally = _lists(repo, a, b)
    shared = {h for h, _n in chunks_a}.intersection(h for h, _n in chunks_b)
    old: dict[Key, str] = {(s, i): h for _c, part in _entries(repo, a, chunks_a, shared) for s, i, h in part}
    counted = both_stored and tally is not None
    totals: Counter[str] = Counter(tally if counted else ())
    b_seq: list[tuple[str, str, str]] = []
    added: list[Key] = []
    modified: dict[Key, tuple[str, str]] = {}
    seen: set[Key] = set()
    if not counted and shared:  # identical on both sides: only counted
        for h, _n in chunks_b:
            if h in shared:
                totals.update([e[0] for e in orjson.loads(repo.store.read_packed(h))])
    for _c, part in _entries(repo, b, chunks_b, shared):
        if not both_stored:
            b_seq += map(tuple, part)
        for s, i, h in part:
            if not counted:
                totals[s] += 1
            k = (s, i)
            seen.add(k)
            oh = old.get(k)
            if oh is None:
                added.append(k)
            elif oh != h:
                modified[k] = (oh, h)
    removed = [k for k in old if k not in seen]
    per = {s: [0, 0, 0, n] for s, n in totals.items()}
    for idx, keys in ((0, added), (1, removed), (2, modified)):
        for s, _i in keys:
            row = per.setdefault(s, [0, 0, 0, 0])
            row[idx] += 1
            if idx != 1:
                row[3] -= 1
    subsets = tuple(SubsetCounts(s, *per[s]) for s in sorted(per))
    if both_stored:
        differ = [h for h, _n in chunks_a] != [h for h, _n in chunks_b]
    else:
        differ = a is not None and b is not None and [(s, i, h) for (s, i), h in old.items()] != b_seq
    reordered = differ and not (added or removed or modified)
    return SourceChange(tuple(added), tuple(removed), tuple(modified), reordered), subsets, modified

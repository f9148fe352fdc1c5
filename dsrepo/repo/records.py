"""The repository's structured objects: commits, trees and source records.

All are stored as canonical JSON (sorted keys) loose objects, so equal content
gives an equal hash: an unchanged source keeps its record hash across commits.

* ``SourceRecord``: one source at one revision - name, format, import/export
  options, the item list (ordered ``(subset, id, item hash)``), the file list
  (``(relative path, md5, size, kind)`` of media and extra files), categories
  and subset meta (hashes of objects).
* ``Tree``: the sources of a revision (name -> record hash), the build ``stages``
  (see :mod:`dsrepo.repo.pipeline`) and the project ``merge_policy``.
* ``Commit``: tree, parents, message, author, time, the enclosing git
  repository's HEAD and dirty flag, and a per-source change summary for ``log``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import orjson

from dsrepo.errors import CorruptObjectError

_OPTS = orjson.OPT_SORT_KEYS


def _dumps(d: Mapping[str, Any]) -> bytes:
    return orjson.dumps(d, option=_OPTS)


def _loads(data: bytes, what: str, h: str | None) -> dict:
    try:
        d = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise CorruptObjectError(f"{what} {h or ''}: not valid JSON ({e})") from None
    if not isinstance(d, dict):
        raise CorruptObjectError(f"{what} {h or ''}: not a JSON object")
    return d


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One source's content at one revision (hashes point to other objects)."""

    name: str
    format: str
    items: str
    count: int
    files: str
    nfiles: int
    media_bytes: int
    categories: str
    subset_meta: str
    import_options: Mapping[str, Any] = field(default_factory=dict)
    export_options: Mapping[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        d = asdict(self)
        d["import_options"] = dict(self.import_options)
        d["export_options"] = dict(self.export_options)
        return _dumps(d)

    @classmethod
    def from_bytes(cls, data: bytes, h: str | None = None) -> "SourceRecord":
        d = _loads(data, "source record", h)
        try:
            return cls(**d)
        except TypeError as e:
            raise CorruptObjectError(f"source record {h or ''}: {e}") from None


@dataclass(frozen=True, slots=True)
class Tree:
    """The sources of one revision, sorted by name."""

    sources: tuple[tuple[str, str], ...] = ()
    stages: tuple[Any, ...] = ()
    merge_policy: str = "exact"

    def source_map(self) -> dict[str, str]:
        return dict(self.sources)

    def to_bytes(self) -> bytes:
        d: dict[str, Any] = {"sources": [list(s) for s in sorted(self.sources)], "stages": list(self.stages)}
        if self.merge_policy != "exact":
            d["merge_policy"] = self.merge_policy
        return _dumps(d)

    @classmethod
    def from_bytes(cls, data: bytes, h: str | None = None) -> "Tree":
        d = _loads(data, "tree", h)
        try:
            return cls(tuple((str(n), str(r)) for n, r in d["sources"]), tuple(d.get("stages", ())),
                       str(d.get("merge_policy", "exact")))
        except (KeyError, TypeError, ValueError) as e:
            raise CorruptObjectError(f"tree {h or ''}: malformed ({e})") from None


@dataclass(frozen=True, slots=True)
class Commit:
    """One revision. ``time`` is Unix seconds, ``tz`` the author's UTC offset in minutes;
    ``git`` is ``{"commit": sha, "dirty": bool}`` when the project is inside a git work tree;
    ``summary`` maps source name to ``{"added", "removed", "modified", "status"}``."""

    tree: str
    parents: tuple[str, ...]
    message: str
    author: str
    time: int
    tz: int = 0
    git: Mapping[str, Any] | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        d = asdict(self)
        d["parents"] = list(self.parents)
        d["git"] = dict(self.git) if self.git is not None else None
        d["summary"] = {k: dict(v) for k, v in self.summary.items()}
        return _dumps(d)

    @classmethod
    def from_bytes(cls, data: bytes, h: str | None = None) -> "Commit":
        d = _loads(data, "commit", h)
        try:
            d["parents"] = tuple(d["parents"])
            return cls(**d)
        except (KeyError, TypeError) as e:
            raise CorruptObjectError(f"commit {h or ''}: malformed ({e})") from None

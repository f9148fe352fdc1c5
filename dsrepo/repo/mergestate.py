"""The state of a merge in progress: ``.dsrepo/state/merge.json``.

Written by ``merge`` when conflicts remain (and kept until the merge commit): the
commit being merged, the common ancestor and every unresolved conflict with the two
versions (object ids of items or records, already translated to the merged label
set) so that ``resolve`` can pick one without recomputing the merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import orjson

from dsrepo.errors import RepoError
from dsrepo.formats.common.files import atomic_write_bytes
from dsrepo.repo.layout import Layout

ITEM, SOURCE, CATEGORIES, PIPELINE = "item", "source", "categories", "pipeline"


@dataclass(frozen=True, slots=True)
class Conflict:
    """One conflict. ``kind``: "item" (``key`` = "subset/id"; ``ours``/``theirs`` are item
    object ids or None for a deleted item), "source" (whole-source conflict; record ids),
    "categories" (label renames; record ids of each side) or "pipeline" (``source`` = "")."""

    kind: str
    source: str
    key: str
    reason: str
    ours: str | None = None
    theirs: str | None = None
    subset: str | None = None
    item_id: str | None = None

    def name(self) -> str:
        """How the conflict is named on the command line, e.g. ``coco:train/001``."""
        if self.kind == PIPELINE:
            return "pipeline"
        return f"{self.source}:{self.key}" if self.key else self.source

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "key": self.key, "reason": self.reason,
                "ours": self.ours, "theirs": self.theirs, "subset": self.subset, "item_id": self.item_id}


@dataclass(frozen=True, slots=True)
class MergeState:
    """A merge in progress: the merged commit, the ancestor, the message, open conflicts."""

    theirs: str
    base: str | None
    message: str
    conflicts: tuple[Conflict, ...] = ()


def _path(layout: Layout):
    return layout.state / "merge.json"


def load_merge(layout: Layout) -> MergeState | None:
    """The merge in progress, or None."""
    try:
        d = orjson.loads(_path(layout).read_bytes())
    except FileNotFoundError:
        return None
    except orjson.JSONDecodeError:
        raise RepoError(f"{_path(layout)}: damaged merge state; `dsrepo merge --abort` ends the merge") from None
    return MergeState(d["theirs"], d.get("base"), d.get("message", ""),
                      tuple(Conflict(**c) for c in d.get("conflicts") or ()))


def save_merge(layout: Layout, st: MergeState) -> None:
    """Write the merge state atomically (caller holds the lock)."""
    d: Mapping[str, Any] = {"theirs": st.theirs, "base": st.base, "message": st.message,
                            "conflicts": [c.to_json() for c in st.conflicts]}
    atomic_write_bytes(_path(layout), orjson.dumps(d, option=orjson.OPT_SORT_KEYS))


def clear_merge(layout: Layout) -> None:
    """End the merge state (after the merge commit or an abort)."""
    _path(layout).unlink(missing_ok=True)

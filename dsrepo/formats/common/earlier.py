"""The files of an earlier export, read by patch hooks that copy unchanged records from
them (COCO, Datumaro, CVAT; see docs/patch-export.md), and the walk over an export's
order that those hooks share."""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence


class EarlierFiles:
    """Files below ``folder`` (the hook's ``prev``; None: there is no earlier export),
    mapped read-only on first use. Close it when done."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.maps: dict[str, mmap.mmap] = {}

    def get(self, rel: str) -> mmap.mmap | None:
        """The bytes of file ``rel``, or None when there is no folder or it cannot be read."""
        m = self.maps.get(rel)
        if m is None:
            if self.folder is None:
                return None
            try:
                with open(self.folder / rel, "rb") as f:
                    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # (ValueError: an empty file)
                return None
            self.maps[rel] = m
        return m

    def close(self) -> None:
        for m in self.maps.values():
            m.close()
        self.maps.clear()


def walk_order(order: Sequence[tuple[str, str]], rows: Mapping[tuple[str, str], Any],
               changed: Iterable[Any]) -> Iterator[tuple[tuple[str, str], Any, Any]]:
    """``(key, row, None)`` for each unchanged item of ``order`` (it has a row) and
    ``(key, None, item)`` for each changed one, its item taken from ``changed`` (streamed:
    they come in export order). ValueError when ``changed`` does not follow ``order`` -
    hooks decline then."""
    items = iter(changed)
    for key in order:
        row = rows.get(key)
        if row is not None:
            yield key, row, None
            continue
        item = next(items, None)
        if item is None or item.key != key:
            raise ValueError(f"changed items out of export order at {key}")
        yield key, None, item

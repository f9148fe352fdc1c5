"""The files of an earlier export, read by patch hooks that copy unchanged records from
them (COCO, Datumaro; see docs/patch-export.md)."""

from __future__ import annotations

import mmap
from pathlib import Path


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

"""File checksums shared by every layer (a leaf module: importing it loads nothing else
of dsrepo, so the checkout path stays light)."""

from __future__ import annotations

import hashlib
import os

_CHUNK = 1 << 20


def file_md5(path: str | os.PathLike) -> str:
    """Hex md5 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()

"""Safe paths and atomic writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

from dsrepo.errors import DatasetError

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def safe_relpath(rel: str, source: object = None, where: str | None = None) -> str:
    """Normalise a path from a dataset file to a safe relative POSIX path.

    Rejects absolute paths, drive letters and ``..`` components with a DatasetError
    naming ``source`` (the file) and ``where`` (the record).
    """
    if not isinstance(rel, str) or not rel:
        raise DatasetError(f"empty or non-string path {rel!r}", source, where)
    if ("." not in rel or (".." not in rel and "/." not in rel and rel[0] != ".")) and "\\" not in rel \
            and "//" not in rel and rel[0] != "/" and rel[-1] != "/" and (len(rel) < 2 or rel[1] != ":"):
        return rel  # (already normal: no empty, "." or ".." part; the common case, without pathlib)
    norm = rel.replace("\\", "/")
    p = PurePosixPath(norm)
    if p.is_absolute() or (len(norm) > 1 and norm[1] == ":"):
        raise DatasetError(f"absolute path {rel!r} is not allowed", source, where)
    parts = [x for x in p.parts if x not in ("", ".")]
    if any(x == ".." for x in parts) or not parts:
        raise DatasetError(f"path {rel!r} escapes the dataset folder", source, where)
    return "/".join(parts)


def safe_join(root: str | Path, rel: str, source: object = None, where: str | None = None) -> Path:
    """``root / rel`` after :func:`safe_relpath`; the result never leaves ``root``."""
    return Path(root) / safe_relpath(rel, source, where)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path`` then ``os.replace`` it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual mode of a new file
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """UTF-8 text variant of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))

"""Media files stored once by content: ``media/<md5[:2]>/<md5[2:]>``.

The md5 layout is the one DVC uses for its cache, so a DVC remote can carry the
files. Stored files are read-only. Working copies are made with a reflink when the
filesystem supports it (btrfs, XFS, APFS-like copy-on-write), else a plain copy;
hard links only in the opt-in ``hardlink`` link mode (an in-place edit of a
hard-linked file would change the stored copy, and read-only bits do not stop root).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from dsrepo.errors import RepoError

LINK_MODES = ("auto", "copy", "hardlink")
_FICLONE = 0x40049409
_CHUNK = 1 << 20
_NO_REFLINK = {errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EPERM}


def _reflink(src: Path, dst_fd: int) -> bool:
    import fcntl

    with open(src, "rb") as s:
        try:
            fcntl.ioctl(dst_fd, _FICLONE, s.fileno())
        except OSError as e:
            if e.errno in _NO_REFLINK:
                return False
            raise
    return True


class MediaStore:
    """The md5-addressed file store and the copy-out policy for working copies."""

    def __init__(self, media_dir: Path, tmp_dir: Path, link_mode: str = "auto") -> None:
        if link_mode not in LINK_MODES:
            raise RepoError(f"unknown link mode {link_mode!r} (known: {', '.join(LINK_MODES)})")
        self.dir = media_dir
        self.tmp_dir = tmp_dir
        self.link_mode = link_mode
        self._reflink_ok: bool | None = None if link_mode == "auto" else False

    def path(self, md5: str) -> Path:
        return self.dir / md5[:2] / md5[2:]

    def has(self, md5: str) -> bool:
        return os.path.isfile(self.path(md5))

    def put_file(self, src: str | os.PathLike, md5: str | None = None) -> tuple[str, int]:
        """Store the bytes of ``src``; returns ``(md5, size)``. A file already stored
        (by its known ``md5``) is not read again."""
        if md5 is not None and self.has(md5):
            return md5, os.path.getsize(self.path(md5))
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="media-", dir=self.tmp_dir)
        h = hashlib.md5()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            digest = h.hexdigest()
            dest = self.path(digest)
            if dest.is_file():
                os.unlink(tmp)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp, 0o444)
                os.replace(tmp, dest)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return digest, size

    def copy_out(self, md5: str, dest: Path) -> None:
        """Place stored file ``md5`` at ``dest`` (temp file + rename; replaces ``dest``)."""
        src = self.path(md5)
        if not src.is_file():
            raise RepoError(f"media file {md5} is missing from the store ({src}); run `dsrepo fsck`")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if self.link_mode == "hardlink":
            tmp = dest.parent / f".dsrepo-{os.getpid()}-{dest.name}"
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            os.link(src, tmp)
            os.replace(tmp, dest)
            return
        fd, tmp = tempfile.mkstemp(prefix=".dsrepo-", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                done = False
                if self._reflink_ok is not False:
                    done = _reflink(src, out.fileno())
                    if self._reflink_ok is None:
                        self._reflink_ok = done
                if not done:
                    with open(src, "rb") as f:
                        shutil.copyfileobj(f, out, _CHUNK)
            os.replace(tmp, dest)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def iter_md5s(self) -> Iterator[str]:
        """md5 of every stored file (from names)."""
        if not self.dir.is_dir():
            return
        for sub in sorted(os.listdir(self.dir)):
            d = self.dir / sub
            if len(sub) != 2 or not d.is_dir():
                continue
            for name in sorted(os.listdir(d)):
                if len(name) == 30 and not name.startswith("."):
                    yield sub + name

    def verify(self, md5: str) -> bool:
        """True if the stored file's bytes still hash to ``md5``."""
        h = hashlib.md5()
        try:
            with open(self.path(md5), "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
        except OSError:
            return False
        return h.hexdigest() == md5

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
from pathlib import Path
from typing import Iterator

from dsrepo.errors import RepoError
from dsrepo.repo.layout import LINK_MODES, iter_fanout

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
        self._dir = os.fspath(media_dir)
        self._tmp = os.fspath(tmp_dir)
        self._seq = 0

    def path(self, md5: str) -> Path:
        return self.dir / md5[:2] / md5[2:]

    def _path(self, md5: str) -> str:
        return f"{self._dir}/{md5[:2]}/{md5[2:]}"

    def has(self, md5: str) -> bool:
        return os.path.isfile(self._path(md5))

    def put_file(self, src: str | os.PathLike, md5: str | None = None) -> tuple[str, int]:
        """Store the bytes of ``src``; returns ``(md5, size)``. A file already stored
        (by its known ``md5``) is not read again."""
        if md5 is not None:
            try:
                return md5, os.stat(self._path(md5)).st_size
            except FileNotFoundError:
                pass
        digest, size, _new = self.store_file(src)
        return digest, size

    def store_file(self, src: str | os.PathLike) -> tuple[str, int, bool]:
        """Store the bytes of ``src`` (hashed while copied); returns ``(md5, size, new)``,
        ``new`` False when the store had that content already."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        tmp = f"{self._tmp}/media-{os.getpid()}-{self._seq}"
        h = hashlib.md5()
        size = 0
        new = False
        try:
            with open(tmp, "xb") as out, open(src, "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            digest = h.hexdigest()
            dest = self._path(digest)
            if os.path.isfile(dest):
                os.unlink(tmp)
            else:
                os.chmod(tmp, 0o444)
                try:
                    os.replace(tmp, dest)
                except FileNotFoundError:
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    os.replace(tmp, dest)
                new = True
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return digest, size, new

    def _write(self, src: str, target: str) -> None:
        if self.link_mode == "hardlink":
            os.link(src, target)
            return
        with open(target, "xb") as out:
            done = False
            if self._reflink_ok is not False:
                done = _reflink(src, out.fileno())
                if self._reflink_ok is None:
                    self._reflink_ok = done
            if not done:
                with open(src, "rb") as f:
                    shutil.copyfileobj(f, out, _CHUNK)

    def copy_out(self, md5: str, dest: str | os.PathLike, fresh: bool = False) -> None:
        """Place stored file ``md5`` at ``dest``. An existing ``dest`` is replaced
        atomically (temp file + rename); ``fresh`` says ``dest`` does not exist yet, so
        the file is written in place (the caller discards the folder on failure)."""
        src = self._path(md5)
        if not os.path.isfile(src):
            raise RepoError(f"media file {md5} is missing from the store ({src}); run `dsrepo fsck`")
        dest = os.fspath(dest)
        parent, base = os.path.split(dest)
        self._seq += 1
        target = dest if fresh else f"{parent}/.dsrepo-{os.getpid()}-{self._seq}-{base}"
        try:
            self._write(src, target)
        except FileNotFoundError:
            os.makedirs(parent, exist_ok=True)
            self._write(src, target)
        except FileExistsError:
            if fresh:
                raise
            os.unlink(target)  # a temp file left by a killed process that had our pid
            self._write(src, target)
        if fresh:
            return
        try:
            os.replace(target, dest)
        except BaseException:
            try:
                os.unlink(target)
            except OSError:
                pass
            raise

    def iter_md5s(self) -> Iterator[str]:
        """md5 of every stored file (from names)."""
        return iter_fanout(self.dir, 30)

    def verify(self, md5: str) -> bool:
        """True if the stored file's bytes still hash to ``md5``."""
        h = hashlib.md5()
        try:
            with open(self._path(md5), "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
        except OSError:
            return False
        return h.hexdigest() == md5

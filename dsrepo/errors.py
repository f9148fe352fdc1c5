"""Error hierarchy shared by every layer.

Core code raises these; the CLI maps each class to an exit code and prints the
message on one line. Messages name the file (and record/field) where known.
"""

from __future__ import annotations


class DsrepoError(Exception):
    """Base class of every error dsrepo reports to users (exit code 1)."""

    exit_code = 1


class UsageError(DsrepoError):
    """Bad command-line usage or option value (exit code 2)."""

    exit_code = 2


class DatasetError(DsrepoError):
    """Input data that cannot be imported (exit code 3).

    ``path`` is the offending file, ``where`` the record/field inside it.
    """

    exit_code = 3

    def __init__(self, message: str, path: object = None, where: str | None = None):
        self.path = None if path is None else str(path)
        self.where = where
        self.detail = message
        prefix = ""
        if self.path:
            prefix = f"{self.path}: "
        if where:
            prefix += f"{where}: "
        super().__init__(prefix + message)


class FormatError(DsrepoError):
    """Unknown format, failed detection, or a dataset a format cannot hold (exit code 4)."""

    exit_code = 4


class ExportError(DsrepoError):
    """An export that cannot be completed as asked (exit code 5)."""

    exit_code = 5


class RepoError(DsrepoError):
    """Repository state problems: no project, unknown revision, local changes (exit code 6)."""

    exit_code = 6


class LockError(RepoError):
    """Another dsrepo process holds the repository lock (exit code 7)."""

    exit_code = 7


class CorruptObjectError(RepoError):
    """A stored object does not match its hash or cannot be decoded (exit code 8)."""

    exit_code = 8

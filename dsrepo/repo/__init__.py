"""The versioned repository: object store, refs, sources, one module per operation.

``from dsrepo.repo import Repo`` is the Python API (loaded lazily to keep the CLI light).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Repo":
        from dsrepo.repo.repo import Repo

        return Repo
    raise AttributeError(f"module 'dsrepo.repo' has no attribute {name!r}")

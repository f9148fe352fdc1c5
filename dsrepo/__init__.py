"""dsrepo: git for computer-vision datasets.

The package root stays import-light; public names are loaded on first access.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Repo": "dsrepo.repo.repo:Repo",
    "Dataset": "dsrepo.model.dataset:Dataset",
    "Item": "dsrepo.model.item:Item",
    "Categories": "dsrepo.model.categories:Categories",
    "import_dataset": "dsrepo.formats.api:import_dataset",
    "export_dataset": "dsrepo.formats.api:export_dataset",
    "convert": "dsrepo.formats.api:convert",
    "DsrepoError": "dsrepo.errors:DsrepoError",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'dsrepo' has no attribute {name!r}")
    import importlib

    module, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value

"""Project configuration: ``.dsrepo/config.json`` (store version, link mode, file cache budget)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from dsrepo.errors import RepoError
from dsrepo.formats.common.files import atomic_write_bytes
from dsrepo.repo.filecache import DEFAULT_BUDGET_MB
from dsrepo.repo.layout import LINK_MODES, STORE_VERSION, Layout


@dataclass(frozen=True, slots=True)
class Config:
    """``link``: how working copies are made from stored media (auto = reflink, else copy;
    copy; hardlink = opt-in, read-only files shared with the store). ``file_cache_mb``:
    the budget of the annotation file cache (:mod:`dsrepo.repo.filecache`; 0: off)."""

    version: int = STORE_VERSION
    link: str = "auto"
    file_cache_mb: int = DEFAULT_BUDGET_MB


def load_config(layout: Layout) -> Config:
    """The project's configuration (RepoError if missing, damaged or too new)."""
    try:
        d = orjson.loads(layout.config.read_bytes())
    except FileNotFoundError:
        raise RepoError(f"{layout.dot}: config.json is missing; not a valid dsrepo repository") from None
    except orjson.JSONDecodeError:
        raise RepoError(f"{layout.config}: damaged (not JSON)") from None
    version = int(d.get("version", 0))
    if version != STORE_VERSION:
        raise RepoError(f"{layout.dot}: store version {version} is not supported by this dsrepo "
                        f"(supports {STORE_VERSION})")
    link = d.get("link", "auto")
    if link not in LINK_MODES:
        raise RepoError(f"{layout.config}: unknown link mode {link!r} (known: {', '.join(LINK_MODES)})")
    budget = d.get("file_cache_mb", DEFAULT_BUDGET_MB)
    if type(budget) is not int or budget < 0:
        raise RepoError(f"{layout.config}: file_cache_mb must be a whole number of megabytes (0 or more), "
                        f"not {budget!r}")
    return Config(version, link, budget)


def save_config(layout: Layout, config: Config) -> None:
    """Write the configuration atomically."""
    atomic_write_bytes(layout.config, orjson.dumps({"version": config.version, "link": config.link,
                                                    "file_cache_mb": config.file_cache_mb},
                                                   option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))

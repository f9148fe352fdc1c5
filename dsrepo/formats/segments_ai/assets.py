"""Local files for URLs: dsrepo never downloads, it looks URLs up in a folder.

Rule (documented in docs/formats/segments_ai.md and gt_studio.md):

* a relative URL (no scheme, e.g. ``images/a.jpg``, as dsrepo's exporters write) is a
  path relative to the dataset folder;
* an absolute URL (``https://…``, ``s3://…``, ``file://…``) is looked up as
  ``<assets>/<last segment of the URL path, percent-decoded>``; query strings and
  fragments are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_join

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_absolute_url(url: str) -> bool:
    """True if ``url`` has a scheme (``https://`` …)."""
    return bool(_SCHEME.match(url))


def url_basename(url: str) -> str:
    """Last path segment of ``url``, percent-decoded ("" if there is none)."""
    path = urlsplit(url).path if is_absolute_url(url) else url.split("?", 1)[0].split("#", 1)[0]
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    return "" if name in (".", "..") or "/" in name or "\\" in name else name


def assets_dir(root: Path, option: str | None) -> Path:
    """The folder searched for downloaded files: ``option`` (relative to ``root`` unless
    absolute), or ``root`` itself."""
    if not option:
        return root
    p = Path(option).expanduser()
    return p if p.is_absolute() else root / p


def resolve_url(url: str, root: Path, assets: Path, source: object, where: str) -> Path | None:
    """Local path for ``url`` by the rule above (None when it names no file name).

    Relative URLs are checked with safe_join: a DatasetError names ``source`` and
    ``where`` when one tries to leave ``root``."""
    if not is_absolute_url(url):
        return safe_join(root, url.split("?", 1)[0].split("#", 1)[0], source, where)
    name = url_basename(url)
    if not name:
        return None
    return assets / name


def check_url(value: object, source: object, where: str, what: str) -> str:
    """``value`` if it is a non-empty string, else a DatasetError."""
    if not isinstance(value, str) or not value:
        from dsrepo.formats.segments_ai.jsonio import short

        raise DatasetError(f"{what} must be a non-empty string, got {short(value)}", source, where)
    return value

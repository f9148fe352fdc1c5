"""Where LabelMe files live: JSON files under a root, item ids and subsets from their
paths, and image paths (``imagePath``) resolved relative to each JSON file.

Everything here is pure path arithmetic except :func:`list_json_files`, so the
importer and the exporter agree exactly on how a path maps to an item and an image.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from dsrepo.formats.common.files import safe_relpath
from dsrepo.model.item import DEFAULT_SUBSET

JSON_EXT = ".json"


def list_json_files(root: Path) -> list[str]:
    """Every ``*.json`` file under ``root`` as a sorted relative POSIX path.

    Hidden files and folders (name starting with ``.``) are skipped; symlinked folders
    are not followed, so the walk never leaves ``root``."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            if name.startswith(".") or not name.lower().endswith(JSON_EXT):
                continue
            rel = name if rel_dir == os.curdir else os.path.join(rel_dir, name)
            found.append(rel.replace(os.sep, "/"))
    found.sort()
    return found


def split_json_path(rel: str, subset_folders: bool) -> tuple[str, str, str]:
    """``(subset, item id, subset folder)`` of a JSON file at root-relative ``rel``.

    With ``subset_folders`` the first folder of a nested path names the subset (its
    files' ids are relative to it); files directly in the root, and every file
    without the option, belong to ``"default"`` with the root as subset folder."""
    stem = rel[: -len(JSON_EXT)] if rel.lower().endswith(JSON_EXT) else rel
    if subset_folders and "/" in stem:
        subset, _, item_id = stem.partition("/")
        return subset, item_id, subset
    return DEFAULT_SUBSET, stem, ""


def json_relpath(subset: str, item_id: str) -> str:
    """Root-relative path the exporter writes an item's JSON file to (the inverse of
    :func:`split_json_path`): ``<id>.json`` for ``"default"``, else ``<subset>/<id>.json``."""
    rel = item_id + JSON_EXT
    return rel if subset == DEFAULT_SUBSET else f"{subset}/{rel}"


def _is_absolute(path: str) -> bool:
    return path.startswith("/") or (len(path) > 1 and path[1] == ":")


def resolve_image_name(json_dir: str, image_path: str) -> str | None:
    """The image named by ``imagePath`` as a path relative to the subset folder.

    ``json_dir`` is the JSON file's folder relative to the subset folder ("" for its
    top). Backslashes count as separators. An absolute path, or one leaving the subset
    folder, falls back to its file name beside the JSON file (nothing outside the
    dataset is ever read). ``None`` when ``image_path`` names no file."""
    p = image_path.replace("\\", "/")
    if not p or p.endswith("/"):
        return None
    if not _is_absolute(p):
        joined = posixpath.normpath(posixpath.join(json_dir, p))
        if joined != ".." and not joined.startswith("../"):
            return safe_relpath(joined)
    base = posixpath.basename(p)
    if base in ("", ".", ".."):
        return None
    return safe_relpath(posixpath.join(json_dir, base))


def image_path_for(json_dir: str, name: str) -> str:
    """``imagePath`` to write for image ``name`` (subset-relative) from a JSON file in
    ``json_dir``: the relative POSIX path, as labelme writes it."""
    return posixpath.relpath(name, json_dir or ".")

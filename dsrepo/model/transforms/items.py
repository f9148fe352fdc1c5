"""Item identity transforms: rename, map_subsets, reindex, id_from_image_name, sort.

Transforms that change ids or subsets refuse (while iterating) to produce two items
with the same ``(subset, id)``.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Iterator, Mapping

from dsrepo.errors import DatasetError, UsageError
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.transforms.spec import TransformSpec, rekeyed, split_pair, where
from dsrepo.options import Option


def parse_regex(raw: str | None) -> tuple[re.Pattern[str], str]:
    """``"|pattern|replacement|"`` (any separator character) -> compiled pattern, replacement."""
    if not raw or len(raw) < 3:
        raise UsageError(f"rename: --regex expects '|pattern|replacement|', got {raw!r}")
    sep = raw[0]
    parts = raw[1:].split(sep)
    if len(parts) != 3 or parts[2] != "" or not parts[0]:
        raise UsageError(f"rename: --regex expects '{sep}pattern{sep}replacement{sep}', got {raw!r}")
    try:
        pattern = re.compile(parts[0])
    except re.error as e:
        raise UsageError(f"rename: bad pattern {parts[0]!r}: {e}") from None
    return pattern, parts[1]


def rename(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Rewrite every item id with ``re.sub`` (``\\1`` style group references)."""
    pattern, repl = parse_regex(p["regex"])
    try:
        pattern.sub(repl, "")  # surface bad group references before iterating
    except (re.error, IndexError) as e:
        raise UsageError(f"rename: bad replacement {repl!r}: {e}") from None

    def fn(item: Item) -> Item:
        try:
            new = pattern.sub(repl, item.id)
        except (re.error, IndexError) as e:
            raise UsageError(f"rename: bad replacement {repl!r}: {e}") from None
        if not new:
            raise DatasetError(f"rename: item {where(item)} gets an empty id")
        return item if new == item.id else item.with_(id=new)

    return rekeyed(dataset, fn, "rename")


def map_subsets(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Rename subsets (``--mapping src:dst``); several sources may share a destination.
    Subset meta moves with its subset (the first source's meta wins on a merge)."""
    mapping: dict[str, str] = {}
    for raw in p["mapping"] or ():
        src, dst = split_pair(raw, "map_subsets", "mapping")
        if not dst:
            raise UsageError(f"map_subsets: empty destination subset in {raw!r}")
        if src in mapping:
            raise UsageError(f"map_subsets: subset {src!r} mapped twice")
        mapping[src] = dst
    meta: dict[str, Mapping[str, Any]] = {}
    for s, m in dataset.subset_meta.items():
        meta.setdefault(mapping.get(s, s), m)

    def fn(item: Item) -> Item:
        dst = mapping.get(item.subset)
        return item if dst is None or dst == item.subset else item.with_(subset=dst)

    return rekeyed(dataset, fn, "map_subsets", subset_meta=meta)


def reindex(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Replace item ids by consecutive integers from ``--start`` in dataset order
    (one counter across all subsets)."""
    start = int(p["start"])
    src = dataset

    def gen() -> Iterator[Item]:
        for i, item in enumerate(src):
            yield item.with_(id=str(start + i))

    return Dataset(dataset.categories, gen, dataset.subset_meta, media_root=dataset.media_root)


def id_from_image_name(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Set each item id to its image name without extension (``a/b.jpg`` -> ``a/b``);
    items without an image name keep their id."""

    def fn(item: Item) -> Item:
        m = item.media
        name = (m.name or (posixpath.basename(m.path.replace("\\", "/")) if m.path else None)) if m else None
        if not name:
            return item
        new = posixpath.splitext(name.replace("\\", "/"))[0].lstrip("/")
        while new.startswith("./"):
            new = new[2:]
        if not new:
            raise DatasetError(f"id_from_image_name: image name {name!r} of item {where(item)} gives an empty id")
        return item if new == item.id else item.with_(id=new)

    return rekeyed(dataset, fn, "id_from_image_name")


def sort_items(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Order items by id (stable: equal ids keep their relative order)."""
    src = dataset

    def gen() -> Iterator[Item]:
        return iter(sorted(iter(src), key=lambda it: it.id))  # iter(): list() of a Dataset would call len()

    return Dataset(dataset.categories, gen, dataset.subset_meta, media_root=dataset.media_root)


RENAME = TransformSpec(
    name="rename",
    description="Rename items with a regular expression '|pattern|replacement|'",
    version=1,
    options=(Option("regex", "str", None, "'|pattern|replacement|' (first character is the separator)"),),
    fn=rename,
)

MAP_SUBSETS = TransformSpec(
    name="map_subsets",
    description="Rename or merge subsets",
    version=1,
    options=(Option("mapping", "list", (), "src:dst subset pairs; repeatable"),),
    fn=map_subsets,
)

REINDEX = TransformSpec(
    name="reindex",
    description="Replace item ids with consecutive numbers",
    version=1,
    options=(Option("start", "int", 1, "first id"),),
    fn=reindex,
)

ID_FROM_IMAGE_NAME = TransformSpec(
    name="id_from_image_name",
    description="Set item ids from image file names (without extension)",
    version=1,
    options=(),
    fn=id_from_image_name,
)

SORT = TransformSpec(
    name="sort",
    description="Sort items by id (stable)",
    version=1,
    options=(),
    fn=sort_items,
)

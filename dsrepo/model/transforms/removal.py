"""Removal transforms: remove_items, remove_annotations, remove_attributes.

Items are named ``subset:id`` (split at the first colon, so ids may contain colons).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from dsrepo.errors import UsageError
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.transforms.spec import TransformSpec, split_pair
from dsrepo.options import Option


def _keys(raws: Iterable[str], what: str) -> set[tuple[str, str]]:
    out = set()
    for raw in raws:
        subset, item_id = split_pair(raw, what, "id")
        if not item_id:
            raise UsageError(f"{what}: --id expects 'subset:id', got {raw!r}")
        out.add((subset, item_id))
    return out


def remove_items(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Drop the items listed in ``--id subset:id``."""
    keys = _keys(p["id"] or (), "remove_items")
    if not keys:
        raise UsageError("remove_items: no --id given")
    return dataset.map_items(lambda it: None if it.key in keys else it)


def remove_annotations(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Remove annotations: all of them when no ``--id`` is given; all annotations of
    item ``subset:id``; only annotation ``N`` of item ``id`` with ``subset:id:N``
    (an item whose id is literally ``id:N`` loses all its annotations as well)."""
    whole: set[tuple[str, str]] = set()
    single: dict[tuple[str, str], set[int]] = {}
    for subset, rest in _keys(p["id"] or (), "remove_annotations"):
        whole.add((subset, rest))
        head, sep, tail = rest.rpartition(":")
        if sep and head and tail.isdigit():
            single.setdefault((subset, head), set()).add(int(tail))
    remove_all = not whole

    def fn(item: Item) -> Item:
        if not item.annotations:
            return item
        if remove_all or item.key in whole:
            return item.with_(annotations=())
        ids = single.get(item.key)
        if not ids:
            return item
        return item.with_(annotations=tuple(a for a in item.annotations if a.id not in ids))

    return dataset.map_items(fn)


def remove_attributes(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Remove the attributes named in ``--attr`` (all attributes if none) from items
    and their annotations; only the items in ``--id subset:id`` if given."""
    keys = _keys(p["id"] or (), "remove_attributes")
    names = set(p["attr"] or ())

    def strip(attrs: Mapping[str, Any]) -> Mapping[str, Any]:
        if not attrs:
            return attrs
        if not names:
            return {}
        return {k: v for k, v in attrs.items() if k not in names} if names & attrs.keys() else attrs

    def fn(item: Item) -> Item:
        if keys and item.key not in keys:
            return item
        anns = tuple(a if strip(a.attributes) is a.attributes else a.with_(attributes=strip(a.attributes))
                     for a in item.annotations)
        return item.with_(attributes=strip(item.attributes), annotations=anns)

    return dataset.map_items(fn)


REMOVE_ITEMS = TransformSpec(
    name="remove_items",
    description="Remove the given items",
    version=1,
    options=(Option("id", "list", (), "subset:id of each item to remove; repeatable"),),
    fn=remove_items,
)

REMOVE_ANNOTATIONS = TransformSpec(
    name="remove_annotations",
    description="Remove annotations (all, per item, or single ones by annotation id)",
    version=1,
    options=(Option("id", "list", (), "subset:id or subset:id:annotation_id; none = every annotation"),),
    fn=remove_annotations,
)

REMOVE_ATTRIBUTES = TransformSpec(
    name="remove_attributes",
    description="Remove item and annotation attributes",
    version=1,
    options=(
        Option("id", "list", (), "subset:id of items to touch; none = every item"),
        Option("attr", "list", (), "attribute names to remove; none = every attribute"),
    ),
    fn=remove_attributes,
)

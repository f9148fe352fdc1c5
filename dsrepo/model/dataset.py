"""Datasets: categories plus items grouped by subset, iterable lazily.

A :class:`Dataset` wraps a *factory* returning a fresh item iterator, so it can be
iterated several times without holding every item in memory (importers decode items
on the fly from compact parsed data). ``subset_meta`` carries per-subset,
format-private data (COCO ``info``/``licenses``) for lossless round trips.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping

from dsrepo.model.categories import Categories
from dsrepo.model.item import Item


class Dataset:
    """Categories + items. Iterating yields items in a stable order."""

    __slots__ = ("categories", "subset_meta", "_factory", "_len", "_index", "media_root", "_stubs")

    def __init__(
        self,
        categories: Categories,
        items: Iterable[Item] | Callable[[], Iterator[Item]],
        subset_meta: Mapping[str, Mapping[str, Any]] | None = None,
        length: int | None = None,
        media_root: str | None = None,
        stubs: Callable[[bool], Iterator[tuple[str, str, Any, Any, Callable[[], Item]]] | None] | None = None,
    ) -> None:
        self.categories = categories
        self.subset_meta: Mapping[str, Mapping[str, Any]] = MappingProxyType(dict(subset_meta or {}))
        if callable(items):
            self._factory = items
            self._len = length
        else:
            stored = tuple(items)
            self._factory = lambda: iter(stored)
            self._len = len(stored)
        self._index: dict[tuple[str, str], Item] | None = None
        self.media_root = media_root
        self._stubs = stubs

    @classmethod
    def from_items(cls, items: Iterable[Item], categories: Categories | None = None,
                   subset_meta: Mapping[str, Mapping[str, Any]] | None = None) -> "Dataset":
        """An in-memory dataset."""
        return cls(categories or Categories(), list(items), subset_meta)

    def __iter__(self) -> Iterator[Item]:
        return self._factory()

    def stubs(self, lazy: bool = False) -> Iterator[tuple[str, str, Any, Any, Callable[[], Item]]] | None:
        """The items before they are built, when the importer can fingerprint its source
        records: ``(subset, id, fingerprint, media, build)`` in iteration order, where
        ``build()`` returns the item and ``media`` is its media (``build`` may also have
        ``encode(md5)``: the item's canonical bytes, its image recorded with ``md5``,
        exactly as ``encode_item`` would give them). Two items with equal
        fingerprints and equal media content are equal. With ``lazy``, ``fingerprint``
        is a function computing it (for callers that want it later, or elsewhere). None
        when not available (the default; datasets derived from this one have none)."""
        return None if self._stubs is None else self._stubs(lazy)

    def __len__(self) -> int:
        if self._len is None:
            self._len = sum(1 for _ in self)
        return self._len

    def subsets(self) -> list[str]:
        """Subset names in first-seen order (including subsets known only from meta)."""
        seen: dict[str, None] = {}
        for item in self:
            seen.setdefault(item.subset, None)
        for s in self.subset_meta:
            seen.setdefault(s, None)
        return list(seen)

    def get(self, item_id: str, subset: str | None = None) -> Item | None:
        """Find one item by id (and subset, if given). Builds an index on first use."""
        if self._index is None:
            self._index = {it.key: it for it in self}
        if subset is not None:
            return self._index.get((subset, item_id))
        for (s, i), it in self._index.items():
            if i == item_id:
                return it
        return None

    def map_items(self, fn: Callable[[Item], Item | None], categories: Categories | None = None) -> "Dataset":
        """A lazy dataset with ``fn`` applied to each item (``None`` drops it)."""
        src = self

        def gen() -> Iterator[Item]:
            for it in src:
                out = fn(it)
                if out is not None:
                    yield out

        return Dataset(categories or self.categories, gen, self.subset_meta, media_root=self.media_root)

    def materialize(self) -> "Dataset":
        """An in-memory copy (items decoded once)."""
        return Dataset(self.categories, list(iter(self)), self.subset_meta, media_root=self.media_root)

    def transform(self, name: str, **params: Any) -> "Dataset":
        """Apply the registered transform ``name`` (see dsrepo.model.transforms) with ``params``."""
        from dsrepo.model.transforms import apply_transform

        return apply_transform(self, name, **params)

    def filter(self, expr: str, mode: str = "items", remove_empty: bool = False) -> "Dataset":
        """Keep items (``mode="items"``), annotations (``"annotations"``) or both
        (``"items+annotations"``) matching the XPath expression ``expr``."""
        from dsrepo.model.filter import filter_dataset

        return filter_dataset(self, expr, mode=mode, remove_empty=remove_empty)

    def export(self, path: Any, format: str, overwrite: bool = False, **options: Any) -> Any:
        """Write this dataset to folder ``path`` in ``format`` with export ``options``
        (e.g. ``save_media=True``); returns the ExportReport. A convenience for the
        Python API: it calls :func:`dsrepo.formats.api.export_dataset` (imported lazily,
        the one place where the model reaches up to the format layer)."""
        from dsrepo.formats.api import export_dataset

        return export_dataset(self, path, format, options, overwrite=overwrite)

    def __repr__(self) -> str:
        return f"Dataset(labels={len(self.categories.labels)}, items={self._len if self._len is not None else '?'})"

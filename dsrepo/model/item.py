"""Dataset item: one image (or media-less record) with its annotations."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from dsrepo.model.annotations import EMPTY, Annotation, _frozen_map, hash_frozen, reduce_frozen
from dsrepo.model.media import Image

DEFAULT_SUBSET = "default"


@dataclass(frozen=True, slots=True)
class Item:
    """An item. ``id`` may contain ``/`` (nested paths) and has no extension;
    ``subset`` names its split; ``media`` is an :class:`Image` or ``None``;
    ``attributes`` are user-visible, ``meta`` is format-private round-trip data."""

    id: str
    subset: str = DEFAULT_SUBSET
    media: Image | None = None
    annotations: tuple[Annotation, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    meta: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"item id must be a non-empty string, got {self.id!r}")
        if not isinstance(self.subset, str) or not self.subset:
            raise ValueError(f"item subset must be a non-empty string, got {self.subset!r}")
        if not isinstance(self.annotations, tuple):
            object.__setattr__(self, "annotations", tuple(self.annotations))
        object.__setattr__(self, "attributes", _frozen_map(self.attributes))
        object.__setattr__(self, "meta", _frozen_map(self.meta))

    @property
    def key(self) -> tuple[str, str]:
        """``(subset, id)``: unique within a dataset."""
        return (self.subset, self.id)

    def with_(self, **changes: Any) -> "Item":
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    __reduce__ = reduce_frozen


Item.__hash__ = hash_frozen  # type: ignore[method-assign]  (after the decorator, which adds its own)

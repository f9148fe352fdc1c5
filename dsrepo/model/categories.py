"""Dataset categories: labels, keypoint schemas, mask colour map."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from dsrepo.model.annotations import EMPTY, _frozen_map, hash_frozen, reduce_frozen


@dataclass(frozen=True, slots=True)
class LabelCategory:
    """One label. ``parent`` is the supercategory name ("" if none);
    ``attributes`` the attribute names annotations of this label may carry;
    ``meta`` format-private data (e.g. COCO's original category id and extra keys)."""

    name: str
    parent: str = ""
    attributes: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise ValueError(f"label name must be a string, got {self.name!r}")
        object.__setattr__(self, "attributes", tuple(self.attributes))
        object.__setattr__(self, "meta", _frozen_map(self.meta))

    __reduce__ = reduce_frozen


@dataclass(frozen=True, slots=True)
class PointsCategory:
    """Keypoint schema of one label: point names and skeleton edges (1-based pairs, as COCO)."""

    labels: tuple[str, ...] = ()
    joints: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "joints", tuple((int(a), int(b)) for a, b in self.joints))


@dataclass(frozen=True, slots=True)
class Categories:
    """All categories of a dataset.

    ``points`` and ``colormap`` are keyed by label index. ``attributes`` lists
    attribute names valid for every label.
    """

    labels: tuple[LabelCategory, ...] = ()
    points: Mapping[int, PointsCategory] = field(default_factory=lambda: EMPTY)
    colormap: Mapping[int, tuple[int, int, int]] = field(default_factory=lambda: EMPTY)
    attributes: tuple[str, ...] = ()

    __reduce__ = reduce_frozen

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "attributes", tuple(self.attributes))
        object.__setattr__(self, "points", MappingProxyType(dict(self.points)))
        object.__setattr__(
            self, "colormap",
            MappingProxyType({int(k): tuple(int(c) for c in v) for k, v in self.colormap.items()}),
        )

    @classmethod
    def from_names(cls, names: Iterable[str]) -> "Categories":
        """Categories with plain labels named ``names`` (in order)."""
        return cls(labels=tuple(LabelCategory(n) for n in names))

    def find(self, name: str) -> int | None:
        """Index of the label called ``name``, or ``None``."""
        for i, lab in enumerate(self.labels):
            if lab.name == name:
                return i
        return None

    def label_names(self) -> list[str]:
        return [lab.name for lab in self.labels]

    def with_(self, **changes: Any) -> "Categories":
        return replace(self, **changes)


for _cls in (LabelCategory, PointsCategory, Categories):  # (after the decorator, which adds its own)
    _cls.__hash__ = hash_frozen  # type: ignore[method-assign]

"""The label table an import builds while reading one or more CVAT files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

from dsrepo.errors import DatasetError
from dsrepo.formats.cvat.meta import NS, cvat_meta
from dsrepo.formats.cvat.xmlsafe import where
from dsrepo.model.categories import Categories, LabelCategory

_TEXT_SPEC = {"mutable": False, "input_type": "text", "default_value": "", "values": []}


class LabelTable:
    """Labels by name with their attribute specs; grows when files without a label
    list (or with attributes used but not declared) are read."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.metas: list[dict[str, Any]] = []
        self.specs: list[dict[str, Mapping[str, Any]]] = []
        self.conflicts = 0

    def merge(self, labels: list[LabelCategory]) -> None:
        """Add the labels of one file (same name = same label; first spec list wins)."""
        for lab in labels:
            m = copy.deepcopy(dict(cvat_meta(lab.meta)))
            i = self.index.get(lab.name)
            if i is not None:
                self.conflicts += m.get("attrs") != self.metas[i].get("attrs")
                continue
            self._add(lab.name, m)

    def _add(self, name: str, m: dict[str, Any]) -> int:
        m.setdefault("attrs", [])
        self.index[name] = len(self.names)
        self.names.append(name)
        self.metas.append(m)
        self.specs.append({s["name"]: s for s in m["attrs"]})
        return len(self.names) - 1

    def lookup(self, name: str, el: Any, path: Path, collect: bool) -> int:
        """Index of label ``name``; new label when ``collect``, else DatasetError."""
        i = self.index.get(name)
        if i is not None:
            return i
        if not collect:
            raise DatasetError(f"unknown label {name!r} (not in the <meta> labels)", path, where(el))
        return self._add(name, {})

    def spec(self, label: int, attr: str) -> Mapping[str, Any] | None:
        """The spec of attribute ``attr`` of ``label``; an undeclared attribute is added
        as a text attribute (so an export declares it)."""
        specs = self.specs[label]
        s = specs.get(attr)
        if s is None:
            s = {"name": attr, **copy.deepcopy(_TEXT_SPEC)}
            specs[attr] = s
            self.metas[label]["attrs"].append(s)
        return s

    def categories(self) -> Categories:
        """The Categories of everything read."""
        return Categories(labels=tuple(
            LabelCategory(name=n, attributes=tuple(s["name"] for s in m["attrs"]), meta={NS: m})
            for n, m in zip(self.names, self.metas)))

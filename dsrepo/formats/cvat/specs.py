"""Attribute specs for labels that have none: inferred from the values in use."""

from __future__ import annotations

from typing import Any

from dsrepo.formats.cvat.meta import value_text


class AttrStats:
    """What values one attribute of one label takes (kinds and numeric range)."""

    __slots__ = ("kinds", "lo", "hi")

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.lo: float | None = None
        self.hi: float | None = None

    def add(self, v: Any) -> None:
        """Record one value."""
        if isinstance(v, bool):
            self.kinds.add("bool")
        elif isinstance(v, (int, float)):
            self.kinds.add("int" if isinstance(v, int) else "float")
            self.lo = v if self.lo is None else min(self.lo, v)
            self.hi = v if self.hi is None else max(self.hi, v)
        else:
            self.kinds.add("text")

    def spec(self, name: str) -> dict:
        """A CVAT attribute spec: checkbox for booleans, number for numbers, else text."""
        spec = {"name": name, "mutable": False, "input_type": "text", "default_value": "", "values": []}
        if self.kinds == {"bool"}:
            spec.update(input_type="checkbox", default_value="false", values=["false"])
        elif self.kinds and self.kinds <= {"int", "float"}:
            step = "1" if self.kinds == {"int"} else "0.01"
            lo, hi = value_text(self.lo), value_text(self.hi)
            spec.update(input_type="number", default_value=lo, values=[lo, hi, step])
        return spec

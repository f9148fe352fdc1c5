"""Categories <-> Segments.ai category dicts (ids, colours, attribute definitions)."""

from __future__ import annotations

from typing import Any, Mapping

from dsrepo.formats.segments_ai.jsonio import is_int
from dsrepo.formats.segments_ai.parse import NS
from dsrepo.model.categories import Categories, LabelCategory


def label_meta(lab: LabelCategory) -> Mapping[str, Any]:
    """The Segments.ai part of a label's meta ({} if none)."""
    m = lab.meta.get(NS) if lab.meta else None
    return m if isinstance(m, Mapping) else {}


def category_ids(cats: Categories) -> list[int]:
    """A Segments.ai category id per label: the recorded one when valid and unique,
    else the next free id (starting at 1)."""
    ids: list[int | None] = [None] * len(cats.labels)
    used: set[int] = set()
    for i, lab in enumerate(cats.labels):
        cid = label_meta(lab).get("id")
        if is_int(cid) and cid not in used:
            ids[i] = cid
            used.add(cid)
    nxt = max(used, default=0) + 1
    for i, cid in enumerate(ids):
        if cid is None:
            ids[i] = nxt
            nxt += 1
    return ids  # type: ignore[return-value]


def _attribute_defs(lab: LabelCategory, recorded: Any) -> list | None:
    defs = recorded if isinstance(recorded, list) else None
    if defs is not None and tuple(d.get("name") for d in defs) == tuple(lab.attributes):
        return list(defs)
    if not lab.attributes:
        return None if defs is None else []
    by_name = {d.get("name"): d for d in defs or () if isinstance(d, Mapping)}
    return [dict(by_name.get(n) or {"name": n, "input_type": "text"}) for n in lab.attributes]


def render_categories(cats: Categories, ids: list[int]) -> list[dict]:
    """Category dicts in label order."""
    out = []
    for i, lab in enumerate(cats.labels):
        m = label_meta(lab)
        d: dict[str, Any] = {"name": lab.name, "id": ids[i]}
        rgb = cats.colormap.get(i)
        if rgb is not None:
            rec = m.get("color")
            d["color"] = list(rec) if isinstance(rec, list) and tuple(rec[:3]) == tuple(rgb) else list(rgb)
        defs = _attribute_defs(lab, m.get("attributes"))
        if defs is not None:
            d["attributes"] = defs
        x = m.get("x")
        if isinstance(x, Mapping):
            for k, v in x.items():
                d.setdefault(k, v)
        out.append(d)
    return out

"""VOC label maps: the standard VOC labels and colours, and ``labelmap.txt`` files.

A label map line is ``name:r,g,b:part1,part2:action1,action2`` (every field after the
name may be empty). In :class:`Categories` a label's actions are its ``attributes``,
its parts are listed in ``meta["voc_parts"]``, and every part that is not a label of its
own becomes a label after all the lines, marked ``meta["voc_part"] = True`` — the same
order a label map file gives, so writing and reading categories back is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsrepo.errors import DatasetError, ExportError
from dsrepo.model.categories import Categories, LabelCategory

VOC_LABELS = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)
VOC_PARTS = {"person": ("head", "hand", "foot")}
VOC_ACTIONS = {"person": ("jumping", "phoning", "playinginstrument", "reading", "ridingbike", "ridinghorse",
                          "running", "takingphoto", "usingcomputer", "walking", "other")}
BACKGROUND = "background"
VOID_INDEX = 255
HEADER = "# label:color_rgb:parts:actions\n"


def voc_color(index: int) -> tuple[int, int, int]:
    """The standard VOC palette colour ``(r, g, b)`` of ``index`` (0..255); 255 gives
    the boundary colour (224, 224, 192)."""
    r = g = b = 0
    c = index
    for j in range(8):
        r |= ((c >> 0) & 1) << (7 - j)
        g |= ((c >> 1) & 1) << (7 - j)
        b |= ((c >> 2) & 1) << (7 - j)
        c >>= 3
    return (r, g, b)


@dataclass(frozen=True, slots=True)
class LabelEntry:
    """One label map line."""

    name: str
    color: tuple[int, int, int] | None = None
    parts: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()


def voc_entries() -> list[LabelEntry]:
    """The standard VOC label map (21 labels with the VOC colours; person parts and actions)."""
    return [LabelEntry(n, voc_color(i), VOC_PARTS.get(n, ()), VOC_ACTIONS.get(n, ()))
            for i, n in enumerate(VOC_LABELS)]


def _names(field: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in field.split(",") if p.strip())


def _color(field: str, path: Path, where: str) -> tuple[int, int, int] | None:
    field = field.strip()
    if not field:
        return None
    parts = field.split(",")
    try:
        rgb = tuple(int(p) for p in parts)
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise DatasetError(f"bad colour {field!r} (expected r,g,b with values 0..255)", path, where)
    return rgb  # type: ignore[return-value]


def parse_labelmap(path: Path) -> list[LabelEntry]:
    """Read a ``labelmap.txt``; DatasetError naming the line for bad colours, empty or
    repeated names and lines with more than four fields."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read label map: {e}", path) from None
    out: list[LabelEntry] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"line {n}"
        fields = line.split(":")
        if len(fields) > 4:
            raise DatasetError(f"too many ':' fields ({len(fields)}, expected name:color:parts:actions)",
                               path, where)
        fields += [""] * (4 - len(fields))
        name = fields[0].strip()
        if not name:
            raise DatasetError("empty label name", path, where)
        if name in seen:
            raise DatasetError(f"label {name!r} is listed twice", path, where)
        seen.add(name)
        out.append(LabelEntry(name, _color(fields[1], path, where), _names(fields[2]), _names(fields[3])))
    return out


def categories_from_entries(entries: list[LabelEntry]) -> Categories:
    """Categories of a label map: one label per line, then parts that are not labels."""
    labels = []
    colormap = {}
    names = {e.name for e in entries}
    for i, e in enumerate(entries):
        meta = {"voc_parts": list(e.parts)} if e.parts else {}
        labels.append(LabelCategory(e.name, attributes=e.actions, meta=meta))
        if e.color is not None:
            colormap[i] = e.color
    for e in entries:
        for p in e.parts:
            if p not in names:
                names.add(p)
                labels.append(LabelCategory(p, meta={"voc_part": True}))
    return Categories(labels=tuple(labels), colormap=colormap)


def _check_name(name: str, what: str, sep: bool) -> None:
    bad = ":\n\r" + ("," if sep else "")
    if not name.strip() or name != name.strip() or any(c in name for c in bad) or name.startswith("#"):
        raise ExportError(f"{what} {name!r} cannot be written to a VOC label map")


def entries_from_categories(cats: Categories) -> list[LabelEntry]:
    """Label map lines for ``cats`` (inverse of :func:`categories_from_entries`).
    ExportError for names the file cannot hold (``:``, ``,`` in parts/actions, newlines)."""
    owned = {p for lab in cats.labels for p in lab.meta.get("voc_parts", ())}
    out = []
    for i, lab in enumerate(cats.labels):
        if lab.meta.get("voc_part") and lab.name in owned:
            continue
        _check_name(lab.name, "label name", False)
        parts = tuple(lab.meta.get("voc_parts", ()))
        for p in parts:
            _check_name(p, "part name", True)
        for a in lab.attributes:
            _check_name(a, "action name", True)
        out.append(LabelEntry(lab.name, cats.colormap.get(i), parts, tuple(lab.attributes)))
    return out


def format_labelmap(entries: list[LabelEntry]) -> str:
    """Text of a ``labelmap.txt`` for ``entries``."""
    lines = [HEADER]
    for e in entries:
        color = ",".join(str(c) for c in e.color) if e.color is not None else ""
        lines.append(f"{e.name}:{color}:{','.join(e.parts)}:{','.join(e.actions)}\n")
    return "".join(lines)


def palette(cats: Categories) -> list[tuple[int, int, int]]:
    """256 palette colours for class masks: the label colours where set, the VOC
    colours elsewhere (255 stays the boundary colour)."""
    pal = [voc_color(i) for i in range(256)]
    for i, c in cats.colormap.items():
        if 0 <= i < VOID_INDEX:
            pal[i] = tuple(c)  # type: ignore[assignment]
    return pal


def background_index(cats: Categories) -> int | None:
    """Index of the label named ``background`` (pixels of that value hold no mask), or None."""
    return cats.find(BACKGROUND)

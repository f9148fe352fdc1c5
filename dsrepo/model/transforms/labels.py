"""Label transforms: remap_labels, project_labels, anns_to_labels.

Annotations whose label is removed are dropped; annotations without a label
(captions, unlabeled shapes) are kept unchanged by remap/project.
"""

from __future__ import annotations

from typing import Any, Mapping

from dsrepo.errors import UsageError
from dsrepo.model.annotations import Label
from dsrepo.model.categories import Categories, LabelCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.transforms.spec import TransformSpec, split_pair
from dsrepo.options import Option


def _rebuild(cats: Categories, targets: list[int | None], dst_labels: list[LabelCategory]) -> Categories:
    """Categories over ``dst_labels``; points/colormap follow the first source label
    mapped onto each destination (``targets[src] = dst index or None``)."""
    points: dict[int, Any] = {}
    colors: dict[int, tuple[int, int, int]] = {}
    for src, dst in enumerate(targets):
        if dst is None:
            continue
        if src in cats.points and dst not in points:
            points[dst] = cats.points[src]
        if src in cats.colormap and dst not in colors:
            colors[dst] = cats.colormap[src]
    return Categories(labels=tuple(dst_labels), points=points, colormap=colors, attributes=cats.attributes)


def relabel(dataset: Dataset, targets: list[int | None], cats: Categories) -> Dataset:
    """Map every annotation label ``l`` to ``targets[l]`` (dropping it when ``None``)
    and give the result categories ``cats``. Lazy."""
    identity = all(t == i for i, t in enumerate(targets))

    def fn(item: Item) -> Item:
        if identity or not item.annotations:
            return item
        anns = []
        changed = False
        for ann in item.annotations:
            if ann.label is None:
                anns.append(ann)
                continue
            new = targets[ann.label] if ann.label < len(targets) else None
            if new is None:
                changed = True
            elif new != ann.label:
                anns.append(ann.with_(label=new))
                changed = True
            else:
                anns.append(ann)
        return item.with_(annotations=tuple(anns)) if changed else item

    return dataset.map_items(fn, cats)


def remap_labels(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Rename, merge or delete labels (``--label src:dst``; empty dst deletes);
    unmapped labels are kept or deleted by ``--default``."""
    cats = dataset.categories
    mapping: dict[str, str] = {}
    for raw in p["label"] or ():
        src, dst = split_pair(raw, "remap_labels", "label")
        if cats.find(src) is None:
            raise UsageError(f"remap_labels: unknown source label {src!r} "
                             f"(known: {', '.join(cats.label_names()) or 'none'})")
        if src in mapping:
            raise UsageError(f"remap_labels: label {src!r} mapped twice")
        mapping[src] = dst
    keep = p["default"] == "keep"
    dst_labels: list[LabelCategory] = []
    index: dict[str, int] = {}
    targets: list[int | None] = []
    for lab in cats.labels:
        dst = mapping.get(lab.name, lab.name if keep else "")
        if not dst:
            targets.append(None)
            continue
        if dst not in index:
            index[dst] = len(dst_labels)
            dst_labels.append(lab if dst == lab.name else LabelCategory(
                name=dst, parent=lab.parent, attributes=lab.attributes, meta=lab.meta))
        targets.append(index[dst])
    return relabel(dataset, targets, _rebuild(cats, targets, dst_labels))


def project_labels(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Make the label list exactly ``--dst-labels`` (in that order): matching names
    keep their annotations, other labels are deleted, new names are added."""
    names = list(p["dst_labels"] or ())
    if len(set(names)) != len(names):
        raise UsageError("project_labels: --dst-labels lists a label twice")
    cats = dataset.categories
    by_name = {lab.name: lab for lab in cats.labels}
    dst_labels = [by_name.get(n) or LabelCategory(n) for n in names]
    pos = {n: i for i, n in enumerate(names)}
    targets: list[int | None] = [pos.get(lab.name) for lab in cats.labels]
    return relabel(dataset, targets, _rebuild(cats, targets, dst_labels))


def anns_to_labels(dataset: Dataset, p: Mapping[str, Any]) -> Dataset:
    """Replace each item's annotations with one :class:`Label` per distinct label
    they carry (ascending label index); unlabeled annotations are dropped."""

    def fn(item: Item) -> Item:
        labels = sorted({a.label for a in item.annotations if a.label is not None})
        return item.with_(annotations=tuple(Label(label=lab) for lab in labels))

    return dataset.map_items(fn)


REMAP_LABELS = TransformSpec(
    name="remap_labels",
    description="Rename, merge or delete labels; annotations of deleted labels are removed",
    version=1,
    options=(
        Option("label", "list", (), "src:dst pairs (empty dst deletes the label); repeatable"),
        Option("default", "choice", "keep", "what happens to labels not listed", ("keep", "delete")),
    ),
    fn=remap_labels,
)

PROJECT_LABELS = TransformSpec(
    name="project_labels",
    description="Set the label list to the given names; annotations of other labels are removed",
    version=1,
    options=(Option("dst-labels", "list", (), "the destination label names, in order"),),
    fn=project_labels,
)

ANNS_TO_LABELS = TransformSpec(
    name="anns_to_labels",
    description="Replace annotations by one image-level Label per distinct annotation label",
    version=1,
    options=(),
    fn=anns_to_labels,
)

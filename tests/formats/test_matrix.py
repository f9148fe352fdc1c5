"""Cross-format conversion matrix.

The rich dataset (matrix_data.py) is exported to every format of ``MATRIX``: the export
must warn once per annotation kind the format cannot hold, with the exact count, and
``--strict`` must turn that into an ExportError that leaves the target folder empty.
Re-importing must give back, field by field, what the format claims to hold. Then every
ordered pair (F, G) converts rich -> F -> G and checks that what survives is what F and
then G can hold (``project`` applies each format's capabilities to the expected forms).

``MATRIX`` mirrors the capability table of docs/formats/README.md (checked below).
Every export uses ``--save-media``: YOLO, GT Studio and Segments.ai read image sizes
from the image files on import.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.common.lossy import kind_word
from dsrepo.formats.registry import FORMATS
from dsrepo.model.dataset import Dataset
from dsrepo.progress import NullProgress

from matrix_data import (  # tests/formats is on sys.path (it has no __init__.py)
    Expected, Form, boxes_for_masks, coco_objects, differences, flat_twin, make_rich, points_as, source_expected,
)

KINDS = ("label", "caption", "bbox", "polygon", "polyline", "points", "mask", "ellipse")
DOCS_INDEX = Path(__file__).resolve().parents[2] / "docs" / "formats" / "README.md"


@dataclass(frozen=True, slots=True)
class Cap:
    """What one format holds, and how it reports the rest (for the rich dataset).

    ``keeps``: kinds written and read back unchanged; ``converts``: kind -> kinds it
    comes back as (approximately: compared by extent within one pixel); every other kind
    (``dropped``) is warned as ``<fmt> cannot hold <word>: <n> dropped``, with the word of
    the shared vocabulary (dsrepo.formats.common.lossy.KIND_WORDS).
    ``points``: exact | all-visible | drop-absent | split (one Points per non-absent point).
    ``groups``: keep (links between annotations survive) | zero | coco (one group per
    COCO object: shapes of a group merge, their box is not kept apart; keypoints come
    back with their object's box).
    ``labels``: all | used (only labels some annotation uses) | none | voc (all, plus
    ``background`` when masks are written). ``item_attrs``: kept | counted (warned as
    ``<fmt> cannot hold item attributes: <n> dropped``).
    ``boxes_for_masks``: VOC writes an object box for a mask without one.
    ``mask_attrs``: kept | lost (counted in ``other_losses``).
    ``subset_folders``: imported with --subset-folders, so a nested id of subset
    ``default`` comes back as subset = its first folder.
    """

    keeps: frozenset[str]
    dropped: frozenset[str]
    converts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    points: str = "exact"
    other_losses: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    subsets: bool = True
    nested_ids: bool = True
    labels: str = "all"
    groups: str = "keep"
    item_attrs: str = "kept"
    ann_attrs: bool = True
    boxes_for_masks: bool = False
    mask_attrs: str = "kept"
    subset_folders: bool = False
    tol: float = 1e-9
    import_options: tuple[str, ...] = ()


def _k(*kinds: str) -> frozenset[str]:
    return frozenset(kinds)


MATRIX: dict[str, Cap] = {
    "coco": Cap(_k("label", "caption", "bbox", "polygon", "mask", "points"), _k("polyline"),
                converts={"ellipse": ("polygon",)}, groups="coco", item_attrs="counted",
                notices=("coco: 1 duplicate image/annotation ids were replaced by new ids",
                         "coco: 1 ellipses written as 32-point polygons")),
    "coco_panoptic": Cap(_k("mask"), _k("label", "caption", "points", "polyline"),
                         converts={"bbox": ("mask",), "polygon": ("mask",), "ellipse": ("mask",)},
                         groups="coco", item_attrs="counted"),
    "cvat": Cap(_k("label", "bbox", "polygon", "polyline", "points", "mask", "ellipse"), _k("caption"),
                points="all-visible", item_attrs="counted",
                other_losses=("cvat cannot hold keypoint schemas (point names and joints): 1 dropped",
                              "cvat cannot hold keypoint visibility flags (points written as visible): 1 dropped")),
    "datumaro": Cap(_k(*KINDS), _k()),
    "gt_studio": Cap(_k("bbox", "polygon", "mask"), _k("caption", "ellipse", "label", "points", "polyline"),
                     subsets=False, labels="used", groups="zero", item_attrs="counted", mask_attrs="lost", tol=1e-4,
                     other_losses=("gt_studio cannot hold annotation attributes: 1 dropped",
                                   "gt_studio cannot hold subset names: 4 dropped")),
    "image_dir": Cap(_k(), _k(*KINDS), subsets=False, labels="none", item_attrs="counted",
                     other_losses=("image_dir cannot hold subset names: 4 dropped",)),
    "image_zip": Cap(_k(), _k(*KINDS), labels="none", item_attrs="counted"),
    "imagenet": Cap(_k("label"), _k(*KINDS[1:]), nested_ids=False, item_attrs="counted"),
    "imagenet_txt": Cap(_k("label"), _k(*KINDS[1:]), item_attrs="counted"),
    "labelme": Cap(_k("bbox", "polygon", "polyline", "points", "mask", "ellipse"), _k("caption", "label"),
                   points="drop-absent", labels="used", import_options=("--subset-folders",), subset_folders=True,
                   other_losses=("labelme cannot hold absent keypoints: 1 dropped",
                                 "labelme cannot hold hidden keypoint visibility (written as visible): 1 dropped")),
    "segments_ai": Cap(_k("bbox", "polygon", "polyline", "points", "mask"), _k("caption", "ellipse", "label"),
                       points="split", groups="zero",
                       notices=("segments_ai: 1 points with several points written as one annotation per point",)),
    "voc": Cap(_k("label", "bbox", "mask"), _k("caption", "ellipse", "points", "polyline"),
               converts={"polygon": ("mask",)}, labels="voc", boxes_for_masks=True, item_attrs="counted"),
    "yolo": Cap(_k("bbox"), _k(*(k for k in KINDS if k != "bbox")), groups="zero", ann_attrs=False,
                item_attrs="counted", tol=1e-4, other_losses=("yolo cannot hold annotation attributes: 2 dropped",)),
    "yolo_ultralytics": Cap(_k("bbox", "polygon"), _k(*(k for k in KINDS if k not in ("bbox", "polygon"))),
                            groups="zero", ann_attrs=False, item_attrs="counted", tol=1e-4,
                            other_losses=("yolo_ultralytics cannot hold annotation attributes: 2 dropped",)),
}

# Registered formats left out of the matrix, and why (checked against the registry).
EXCLUDED = {
    "coco_instances": "covered by coco (same objects, one task file)",
    "coco_person_keypoints": "covered by coco (same keypoint records, one task file)",
    "coco_captions": "covered by coco", "coco_labels": "covered by coco",
    "coco_image_info": "covered by coco (images only)",
    "coco_stuff": "covered by coco (same records as instances, other file name)",
    "voc_classification": "covered by voc", "voc_detection": "covered by voc",
    "voc_segmentation": "covered by voc",
    "voc_action": "needs action attributes: a foreign dataset exports no items",
    "voc_layout": "needs person parts: a foreign dataset exports no items",
}

# Format bugs found by the matrix (reported to their owners): the Cap fields that
# describe the actual behaviour. A check that fails with the documented capabilities but
# passes with these is an xfail naming the bug; a check that fails with both fails.
# None known at the moment.
KNOWN_BUGS: dict[str, tuple[dict, str]] = {}
KNOWN_BUG_PAIRS: dict[tuple[str, str], str] = {}


# -- projection: what a format does to the expected forms ----------------------------------


def project(cap: Cap, forms: list[Form]) -> list[Form]:
    """The forms expected after one export to the format of ``cap`` and its import."""
    forms = [f for f in forms if f.kind in cap.keeps or f.kind in cap.converts]
    if cap.groups == "coco":
        forms = coco_objects(forms)
    out: list[Form] = []
    for f in forms:
        if f.kind in cap.keeps:
            out += points_as(cap.points, f) if f.kind == "points" else [f]
        for kind in cap.converts.get(f.kind, ()):
            out.append(Form(kind, f.label, f.extent(), approx=True, group=f.group, attrs=f.attrs))
    if not cap.ann_attrs:
        out = [replace(f, attrs=()) for f in out]
    if cap.mask_attrs == "lost":
        out = [replace(f, attrs=()) if f.kind == "mask" else f for f in out]
    if cap.boxes_for_masks:
        out = boxes_for_masks(out)
    if cap.groups == "zero":
        out = [replace(f, group=0) for f in out]
    if cap.groups != "coco":
        out = [replace(f, tag="") for f in out]
    return out


def project_labels(cap: Cap, names: set[str], forms: list[Form]) -> set[str]:
    """Label names expected after the format of ``cap`` (``forms``: all projected forms)."""
    if cap.labels == "none":
        return set()
    if cap.labels == "used":
        return {f.label for f in forms if f.label is not None}
    if cap.labels == "voc" and any(f.kind == "mask" for f in forms):
        return names | {"background"}
    return set(names)


# -- expectations of a chain of formats ----------------------------------------------------


def through(exp: Expected, name: str, bugs: bool = False) -> Expected:
    """``exp`` after an export to ``name`` and its import (with its known bugs if ``bugs``)."""
    cap = MATRIX[name]
    if bugs and name in KNOWN_BUGS:
        cap = replace(cap, **KNOWN_BUGS[name][0])
    items = {}
    every: list[Form] = []
    for (subset, item_id), (forms, attrs, size) in exp.items.items():
        key = (subset if cap.subsets else "default", item_id)
        if cap.subset_folders and key[0] == "default" and "/" in item_id:
            key = tuple(item_id.split("/", 1))
        projected = project(cap, forms)
        every += projected
        items[key] = (projected, attrs if cap.item_attrs == "kept" else {}, size)
    return Expected(items, project_labels(cap, exp.labels, every), max(exp.tol, cap.tol))


# -- fixtures: the rich dataset and one cached export/import per format ------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The rich dataset (and its flat-id twin), plus a cache of exports per format."""
    root = tmp_path_factory.mktemp("matrix")
    rich = make_rich(root)
    return {"root": root, "rich": rich, "flat": flat_twin(rich), "cache": {}}


def _source(world: dict, chain: tuple[str, ...]) -> Dataset:
    return world["flat"] if any(not MATRIX[f].nested_ids for f in chain) else world["rich"]


def _export_import(world: dict, ds: Dataset, name: str, tag: str):
    out = world["root"] / tag
    progress = NullProgress()
    report = export_dataset(ds, out, name, {"save_media": True}, progress)
    back = import_dataset(out, name, list(MATRIX[name].import_options), NullProgress()).materialize()
    return report, progress.warnings, back


def _first(world: dict, name: str, flat: bool):
    key = (name, flat)
    if key not in world["cache"]:
        ds = world["flat" if flat else "rich"]
        world["cache"][key] = _export_import(world, ds, name, f"{name}{'-flat' if flat else ''}")
    return world["cache"][key]


def _check(world: dict, chain: tuple[str, ...], ds: Dataset) -> None:
    src = _source(world, chain)
    exp = source_expected(src)
    for name in chain:
        exp = through(exp, name)
    diff = differences(exp, ds)
    if diff and chain in KNOWN_BUG_PAIRS:
        pytest.xfail(KNOWN_BUG_PAIRS[chain])
    bugs = [KNOWN_BUGS[name][1] for name in dict.fromkeys(chain) if name in KNOWN_BUGS]
    if diff and bugs:
        actual = source_expected(src)
        for name in chain:
            actual = through(actual, name, bugs=True)
        if not differences(actual, ds):
            pytest.xfail("; ".join(bugs))
    assert not diff, "\n".join(diff)


# -- tests ---------------------------------------------------------------------------------


def test_matrix_covers_the_registry():
    assert set(MATRIX) | set(EXCLUDED) == set(FORMATS)
    assert not set(MATRIX) & set(EXCLUDED)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_capability_rows_are_complete(name):
    cap = MATRIX[name]
    assert set(cap.keeps) | set(cap.converts) | set(cap.dropped) == set(KINDS)
    assert not set(cap.keeps) & set(cap.dropped) and not set(cap.converts) & set(cap.dropped)


def _loss_messages(name: str, ds: Dataset) -> list[str]:
    counts = Counter(a.type.value for it in ds for a in it.annotations)
    cap = MATRIX[name]
    msgs = [f"{name} cannot hold {kind_word(kind)}: {counts[kind]} dropped" for kind in cap.dropped]
    if cap.item_attrs == "counted":
        msgs.append(f"{name} cannot hold item attributes: {sum(1 for it in ds if it.attributes)} dropped")
    return sorted(msgs + list(cap.other_losses))


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_export_warns_once_per_kind_with_counts(world, name):
    report, warnings, _ = _first(world, name, not MATRIX[name].nested_ids)
    assert sorted(warnings) == sorted(_loss_messages(name, world["rich"]) + list(MATRIX[name].notices))
    assert report.files and report.missing_media == ()


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_strict_export_fails_and_writes_nothing(world, name):
    out = world["root"] / f"strict-{name}"
    ds = _source(world, (name,))
    losses = _loss_messages(name, ds)
    if not losses:
        export_dataset(ds, out, name, {"save_media": True, "strict": True})
        assert any(out.iterdir())
        return
    with pytest.raises(ExportError, match=re.escape("; ".join(losses) + " (--strict)") + "$"):
        export_dataset(ds, out, name, {"save_media": True, "strict": True})
    assert list(out.iterdir()) == []
    assert not list(out.parent.glob(".dsrepo-export-*"))


def test_imagenet_refuses_nested_ids(world):
    out = world["root"] / "imagenet-nested"
    with pytest.raises(ExportError, match="^item id 'nested/ünïcödé' contains '/': imagenet stores plain file names$"):
        export_dataset(world["rich"], out, "imagenet", {"save_media": True})
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_roundtrip_keeps_what_the_format_holds(world, name):
    flat = not MATRIX[name].nested_ids
    _, _, back = _first(world, name, flat)
    _check(world, (name,), back)


PAIRS = [(f, g) for f in sorted(MATRIX) for g in sorted(MATRIX)]


@pytest.mark.parametrize("first,second", PAIRS, ids=[f"{f}-{g}" for f, g in PAIRS])
def test_pair_keeps_what_both_hold(world, first, second):
    flat = not (MATRIX[first].nested_ids and MATRIX[second].nested_ids)
    _, _, mid = _first(world, first, flat)
    _, _, back = _export_import(world, mid, second, f"pair-{first}-{second}")
    _check(world, (first, second), back)


def _docs_table() -> dict[str, list[str]]:
    """Rows of the capability table in docs/formats/README.md: format -> cells."""
    text = DOCS_INDEX.read_text(encoding="utf-8")
    section = text.split("## What each format can hold", 1)[1].split("\n\n| format", 1)[1]
    rows = {}
    for line in section.splitlines()[2:]:
        if not line.startswith("| `"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


_ITEM_ATTRS = {"yes": "kept", "counted": "counted"}


def test_docs_index_lists_every_matrix_format():
    assert sorted(_docs_table()) == sorted(MATRIX)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_docs_index_row_matches_the_matrix(name):
    cells = _docs_table()[name]
    assert len(cells) == len(KINDS) + 2
    cap = MATRIX[name]
    for kind, cell in zip(KINDS, cells):
        if cell.startswith("yes"):
            assert kind in cap.keeps, (kind, cell)
        elif cell.startswith("→"):
            assert cap.converts.get(kind) == tuple(k.strip() for k in cell[1:].split(",")), (kind, cell)
        else:
            assert cell == "no" and kind in cap.dropped, (kind, cell)
    assert cells[-2].startswith("yes") == cap.subsets
    assert _ITEM_ATTRS[cells[-1]] == cap.item_attrs

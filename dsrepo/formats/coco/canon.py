"""Canonical bytes of COCO items straight from their records, for storing them.

Storing a source builds every item (model objects) and then encodes it
(:func:`dsrepo.model.encoding.encode_item`), which reads every object back. For the
bulk of a large instances file - plain polygon objects - :func:`encode_built` writes
the canonical dicts directly from the records instead: the same values the builder
(:func:`~dsrepo.formats.coco.annconv.instance_object`) would put in the objects and
the encoder would read out of them, without the objects. Any other record of an
instances-only subset (RLE, a box without segmentation, a missing or duplicate id, an
unknown category, extra fields) is built and encoded on its own, as the builder and the
encoder do it (such a record's objects depend on nothing else of the item). Items of
subsets with other tasks, and any item where something fails, go through the builder
and the encoder whole, so errors surface exactly as they would there.
``tests/formats/coco/test_canon.py`` checks that both give the same bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

from dsrepo.formats.coco.annconv import instance_object
from dsrepo.formats.coco.lazyseg import bbox_values, decode_polygons, note_polygons
from dsrepo.formats.coco.meta import NS
from dsrepo.formats.coco.parse import UNSET
from dsrepo.formats.coco.tasks import INSTANCES
from dsrepo.model.encoding import annotation_to_dict, encode_item, media_to_dict, plain_value

_OPTS = orjson.OPT_SORT_KEYS
_CROWD = {"is_crowd": True}


class _Other(Exception):
    """Not the plain case: the item goes through the builder."""


def _polygons(c: Any, i: int, a: Any, out: list) -> None:
    """Append the canonical dicts of instance record ``a`` (number ``i`` of file ``c``)
    when it is a plain polygon object; _Other otherwise."""
    aid = a.id
    cid = a.category_id
    ic = a.iscrowd
    if (aid is UNSET or i in c.dups or cid is UNSET or a.attributes is not UNSET or a.score is not UNSET
            or ic is UNSET or ic.__class__ is not int or not 0 <= ic <= 1 or a.extra is not None
            or a.area is UNSET or a.segmentation is UNSET or a.bbox is UNSET
            # the fields of annconv.INST_NONSTD (extras of an instances record)
            or a.keypoints is not UNSET or a.num_keypoints is not UNSET or a.caption is not UNSET
            or a.file_name is not UNSET or a.segments_info is not UNSET):
        raise _Other
    label = c.label_map.get(cid)
    if label is None:
        raise _Other
    raw = bytes(a.segmentation)
    if raw[:2] != b"[[":
        raise _Other
    parts, msg = decode_polygons(raw)
    if msg is not None or not parts:
        raise _Other
    box, msg = bbox_values(a.bbox)
    if msg is not None:
        raise _Other
    # the meta as the encoder would normalise it: JSON numbers are finite; -0.0 -> 0.0
    m: dict[str, Any] = {"o": i} if not c.natural else {}
    area = a.area
    m["area"] = area + 0.0 if area.__class__ is float else area
    note_polygons(raw, parts, m)  # (g: an int; ints: 1 or a hex string)
    m["bbox"] = [v + 0.0 if v.__class__ is float else v for v in box]
    head: dict[str, Any] = {"t": "polygon"}
    if aid:
        head["id"] = aid
        head["g"] = aid
    head["l"] = label
    if ic:
        head["a"] = _CROWD
    out.append({**head, "m": {NS: m}, "p": parts[0]})
    for p in parts[1:]:
        out.append({**head, "p": p})


def _direct(builder: Any, k: int, md5: str | None, media: Any = None) -> bytes:
    """The canonical bytes of item ``k`` (``media``: its image, when already made)
    written from its records; _Other if any of it is not the plain case."""
    recs = builder.records(k)
    c, j = recs[0]
    if len(recs) != 1 or c.task != INSTANCES:
        raise _Other
    iid = builder.item_ids[k]
    subset = builder.subset
    if not iid or not subset or iid.__class__ is not str:
        raise _Other
    im = c.pf.images[j]
    if media is None:
        media = builder._media(im)
    meta = builder._item_meta(recs, media.name)
    anns: list = []
    pf = c.pf.anns
    for i in c.ann_indices(j).tolist():
        a = pf[i]
        try:
            _polygons(c, i, a, anns)
        except _Other:  # (an instances record stands alone: the builder makes just its objects)
            try:
                anns += [annotation_to_dict(o) for o in instance_object(c, i, a, None, False)]
            except Exception:  # noqa: BLE001 - the whole item again, for the error it gives there
                raise _Other from None
    d: dict[str, Any] = {"id": iid, "s": subset, "media": media_to_dict(media, md5)}
    if anns:
        d["anns"] = anns
    try:
        d["m"] = plain_value({NS: meta}, f"item {iid}: meta")
    except ValueError:
        raise _Other from None
    return orjson.dumps(d, option=_OPTS)


def encode_built(builder: Any, k: int, md5: str | None, media: Any = None) -> bytes:
    """``encode_item(builder.build(k, lazy=False))`` with the image's md5 ``md5``
    (None: not recorded) - written straight from the records when the item is the plain
    case (see the module docstring); ``media``: ``builder.media(k)`` if already made."""
    try:
        return _direct(builder, k, md5, media)
    except _Other:
        return encode_item(builder.build(k, lazy=False), checksum=lambda _m: md5)


class ItemBuild:
    """The deferred item ``k`` of a subset builder (``media``: its image, when the caller
    made it already): calling it builds the item; :meth:`encode` gives its canonical
    bytes (see :func:`encode_built`)."""

    __slots__ = ("builder", "k", "media")

    def __init__(self, builder: Any, k: int, media: Any = None) -> None:
        self.builder = builder
        self.k = k
        self.media = media

    def __call__(self) -> Any:
        return self.builder.build(self.k, lazy=False)

    def encode(self, md5: str | None) -> bytes:
        """The item's canonical bytes, its image recorded with ``md5``."""
        return encode_built(self.builder, self.k, md5, self.media)

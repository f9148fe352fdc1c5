"""Canonical bytes of COCO items straight from their records, for storing them.

Storing a source builds every item (model objects) and then encodes it
(:func:`dsrepo.model.encoding.encode_item`), which reads every object back. For the
bulk of a large COCO file - plain polygon objects of the instances task -
:func:`encode_built` writes the canonical dicts directly from the records instead: the
same values the builder (:func:`~dsrepo.formats.coco.annconv.instance_object`) would
put in the objects and the encoder would read out of them, without the objects. Every
other record (RLE, a box without segmentation, a missing or duplicate id, extra fields,
keypoints, captions, labels) is built and encoded on its own, by the builder's own
per-record step (``SubsetBuilder.record_objects``) in the builder's order, noting the
direct polygons as the builder notes them for keypoints records to share. Items with a
panoptic record, and any item where something fails, go through the builder and the
encoder whole, so errors surface exactly as they would there.
``tests/formats/coco/test_canon.py`` checks that both give the same bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

from dsrepo.formats.coco.build import Inst
from dsrepo.formats.coco.lazyseg import bbox_values, decode_polygons, note_polygons
from dsrepo.formats.coco.meta import NS
from dsrepo.formats.coco.parse import UNSET
from dsrepo.formats.coco.tasks import IMAGE_INFO, INSTANCES, PANOPTIC
from dsrepo.model.encoding import annotation_to_dict, encode_item, media_to_dict, plain_value

_OPTS = orjson.OPT_SORT_KEYS
_CROWD = {"is_crowd": True}


class _Other(Exception):
    """The item goes through the builder whole."""


def _polygons(c: Any, i: int, a: Any, out: list) -> int | None:
    """Append the canonical dicts of instance record ``a`` (number ``i`` of file ``c``)
    when it is a plain polygon object and return its geometry fingerprint; None (nothing
    appended) otherwise."""
    aid = a.id
    cid = a.category_id
    ic = a.iscrowd
    if (aid is UNSET or i in c.dups or cid is UNSET or a.attributes is not UNSET or a.score is not UNSET
            or ic is UNSET or ic.__class__ is not int or not 0 <= ic <= 1 or a.extra is not None
            or a.area is UNSET or a.segmentation is UNSET or a.bbox is UNSET
            # the fields of annconv.INST_NONSTD (extras of an instances record)
            or a.keypoints is not UNSET or a.num_keypoints is not UNSET or a.caption is not UNSET
            or a.file_name is not UNSET or a.segments_info is not UNSET):
        return None
    label = c.label_map.get(cid)
    if label is None:
        return None
    raw = bytes(a.segmentation)
    if raw[:2] != b"[[":
        return None
    parts, msg = decode_polygons(raw)
    if msg is not None or not parts:
        return None
    box, msg = bbox_values(a.bbox)
    if msg is not None:
        return None
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
    return m["g"]


def _direct(builder: Any, k: int, md5: str | None, media: Any = None) -> bytes:
    """The canonical bytes of item ``k`` (``media``: its image, when already made):
    plain polygon objects written from their records, every other record built and
    encoded on its own, in the builder's order (``SubsetBuilder.build``); _Other when
    the item has a panoptic record or something fails."""
    recs = builder.records(k)
    iid = builder.item_ids[k]
    if not iid or not builder.subset or iid.__class__ is not str:
        raise _Other
    if media is None:
        media = builder.media(k)
    meta = builder.item_meta(recs, media.name)
    anns: list = []
    inst: list = []
    kp = builder.shares_instances(recs)
    try:
        for c, j in recs:
            task = c.task
            if task == IMAGE_INFO:
                continue
            if task == PANOPTIC:
                raise _Other
            pf = c.pf.anns
            for i in c.ann_indices(j).tolist():
                a = pf[i]
                if task == INSTANCES:
                    g = _polygons(c, i, a, anns)
                    if g is not None:
                        if kp and i not in c.dups:  # (as the builder notes its lead Polygon)
                            inst.append(Inst(a.id, a.category_id, bytes(a.segmentation), None, g, a.id))
                        continue
                anns += [annotation_to_dict(o) for o in builder.record_objects(c, i, a, inst, kp, False, iid, meta)]
        d: dict[str, Any] = {"id": iid, "s": builder.subset, "media": media_to_dict(media, md5)}
        if anns:
            d["anns"] = anns
        d["m"] = plain_value({NS: meta}, f"item {iid}: meta")
    except Exception:  # noqa: BLE001 - (and _Other) the whole item again, for the error it gives there
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

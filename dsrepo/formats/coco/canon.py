"""Canonical bytes of COCO items straight from their records, for storing them.

Storing a source builds every item (model objects) and then encodes it
(:func:`dsrepo.model.encoding.encode_item`), which reads every object back. For the
bulk of a large COCO file - plain polygon objects of the instances task, the
person_keypoints records that describe one of them, and plain captions -
:func:`encode_built` writes the canonical dicts directly from the records instead: the
same values the builder (:mod:`~dsrepo.formats.coco.annconv`) would put in the objects
and the encoder would read out of them, without the objects. Every other record (RLE, a
box without segmentation, a missing or duplicate id, extra fields, scores and
attributes, labels) is built and encoded on its own, by the builder's own per-record
step (``SubsetBuilder.record_objects``) in the builder's order, noting the direct
polygons as the builder notes them for keypoints records to share. Items with a panoptic
record, and any item where something fails, go through the builder and the encoder
whole, so errors surface exactly as they would there.
``tests/formats/coco/test_canon.py`` checks that both give the same bytes.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from dsrepo.formats.coco.annconv import STD_KEYS
from dsrepo.formats.coco.build import Inst, shared_instance
from dsrepo.formats.coco.lazyseg import bbox_values, decode_polygons, note_polygons
from dsrepo.formats.coco.meta import NS, int_spec
from dsrepo.formats.coco.parse import UNSET, CAnn
from dsrepo.formats.coco.tasks import CAPTIONS, IMAGE_INFO, INSTANCES, PANOPTIC, PERSON_KEYPOINTS
from dsrepo.model.encoding import annotation_to_dict, encode_item, media_to_dict, plain_value

_OPTS = orjson.OPT_SORT_KEYS
_CROWD = {"is_crowd": True}
_FLOATS = msgspec.json.Decoder(list[float])
_NONSTD = {t: tuple(f for f in CAnn.__struct_fields__ if f != "extra" and f not in STD_KEYS[t])
           for t in (PERSON_KEYPOINTS, CAPTIONS)}
_KP_TAG = {NS: {"task": PERSON_KEYPOINTS}}


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


def _plain(c: Any, i: int, a: Any, task: str) -> bool:
    """Whether record ``a`` has an id of its own, no score or attributes, and no field
    its task does not define (the case the direct writers below handle)."""
    if a.id is UNSET or i in c.dups or a.attributes is not UNSET or a.score is not UNSET or a.extra is not None:
        return False
    for f in _NONSTD[task]:
        if getattr(a, f) is not UNSET:
            return False
    return True


def _keypoints(c: Any, i: int, a: Any, inst: list, out: list) -> bool:
    """Append the canonical dicts of person_keypoints record ``a`` when it describes a
    polygon instances record of the item (``inst``), as
    :func:`~dsrepo.formats.coco.annconv.keypoints_object` builds it: Points, then its
    Bbox. False (nothing appended, nothing marked shared) for any other case."""
    ic = a.iscrowd
    cid = a.category_id
    if (not inst or not _plain(c, i, a, PERSON_KEYPOINTS) or cid is UNSET or a.area is UNSET
            or a.keypoints is UNSET or a.num_keypoints is UNSET or a.segmentation is UNSET or a.bbox is UNSET
            or ic is UNSET or ic.__class__ is not int or not 0 <= ic <= 1):
        return False
    label = c.label_map.get(cid)
    if label is None:
        return False
    raw = bytes(a.keypoints)
    try:
        kp = _FLOATS.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False
    vis = kp[2::3]
    if len(kp) % 3 or any(v != 0.0 and v != 1.0 and v != 2.0 for v in vis):
        return False
    box, msg = bbox_values(a.bbox)
    if msg is not None:
        return False
    b = [v + 0.0 for v in map(float, box)]
    if b[2] < 0 or b[3] < 0:
        return False
    sh = shared_instance(inst, a)
    if sh is None or sh.box is not None:
        return False
    sh.used = True
    aid = a.id
    group = sh.group
    m: dict[str, Any] = {"o": i} if not c.natural else {}
    area = a.area
    m["area"] = area + 0.0 if area.__class__ is float else area
    vis = [int(v) for v in vis]
    n_vis = len(vis) - vis.count(0)
    if a.num_keypoints != n_vis:
        m["nk"] = [a.num_keypoints, n_vis]
    m["sh"] = 1
    m["g"] = sh.g
    ints: dict[str, Any] = {}
    spec = int_spec(raw)
    if spec is not None:
        ints["keypoints"] = spec
    spec = int_spec(bytes(a.bbox))
    if spec is not None:
        ints["bbox"] = spec
    if ints:
        m["ints"] = ints
    head: dict[str, Any] = {}
    if aid:
        head["id"] = aid
    if group:
        head["g"] = group
    head["l"] = label
    if ic:
        head["a"] = _CROWD
    out.append({"t": "points", **head, "m": {NS: m}, "p": [v + 0.0 for xy in zip(kp[0::3], kp[1::3]) for v in xy],
                "v": vis})
    out.append({"t": "bbox", **head, "m": _KP_TAG, "b": b})
    return True


def _caption(c: Any, i: int, a: Any, out: list) -> bool:
    """Append the canonical dict of a plain captions record ``a`` (as
    :func:`~dsrepo.formats.coco.annconv.caption` builds it); False otherwise."""
    text = a.caption
    if text is UNSET or not _plain(c, i, a, CAPTIONS):
        return False
    d: dict[str, Any] = {"t": "caption"}
    if a.id:
        d["id"] = a.id
    if not c.natural:
        d["m"] = {NS: {"o": i}}
    d["c"] = text
    out.append(d)
    return True


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
                elif task == PERSON_KEYPOINTS:
                    if _keypoints(c, i, a, inst, anns):
                        continue
                elif task == CAPTIONS and _caption(c, i, a, anns):
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

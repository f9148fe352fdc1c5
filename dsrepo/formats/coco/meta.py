"""Round-trip metadata shared by the COCO importer and exporter.

Everything COCO-specific that the model has no field for lives under the ``"coco"``
key of ``meta`` mappings (plain JSON values only, so it survives the canonical
encoding). See docs/formats/coco.md for the full list; in short:

item.meta["coco"]
    ``id`` image id, ``o`` position in the images list, ``x`` extra image keys,
    ``omit`` standard keys absent from the record, ``fn`` the file_name exactly as
    written when it differs from ``media.name``, ``t`` per-task membership and record
    differences (only when the image is not listed identically in every task file of
    its subset), ``pan`` the panoptic record (``f`` PNG name, ``o`` position, ``x`` extras).
annotation.meta["coco"] (on the first annotation of a COCO object)
    ``o`` position in the annotation list (only for files not grouped by image),
    ``g`` geometry fingerprint at import, ``area``/``bbox`` as given (written back only
    while the fingerprint still matches, recomputed otherwise), ``x`` extra keys,
    ``omit``, ``ints`` (fields written with integer numbers), ``ic`` a non 0/1
    ``iscrowd``, ``cat`` a category id with no label, ``nk`` a ``num_keypoints`` that
    disagrees with the visibilities, ``sh`` keypoints object sharing the instance
    segmentation, ``ae`` an empty ``attributes`` dict, and ``task`` on every part of an
    object that belongs to person_keypoints / stuff / panoptic.
LabelCategory.meta["coco"]
    ``id`` category id, ``x`` extra keys, ``placeholder`` for labels added by
    ``--keep-original-category-ids``.
Dataset.subset_meta[subset]["coco"]["files"][task]
    ``name`` original file name, ``keys`` top-level key order, ``top`` top-level values
    other than images/annotations/categories (info, licenses, ...), ``cats`` the file's
    categories in order (an id, or ``[id, {changed keys}, [removed keys]]``), ``order``
    ``"file"`` when annotations carry positions.
"""

from __future__ import annotations

import re
import zlib
from collections import abc
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import orjson

NS = "coco"
BIG = 1 << 40  # sort key offset for records without a stored position


_NONE: Mapping[str, Any] = MappingProxyType({})


def coco_meta(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The ``"coco"`` part of a meta mapping (empty if absent or malformed)."""
    if not meta:
        return _NONE
    m = meta.get(NS)
    if m.__class__ is dict:
        return m
    return m if isinstance(m, abc.Mapping) else _NONE


def fp_bytes(data: bytes) -> int:
    """Fingerprint of serialized geometry: CRC-32 (an int, stable everywhere)."""
    return zlib.crc32(data)


def polygons_json(parts: Iterable[Sequence[float]]) -> bytes:
    """Canonical JSON of polygon parts (floats), used for writing and fingerprints."""
    return orjson.dumps([p if isinstance(p, list) else list(p) for p in parts])


def rle_json(size: Sequence[int], counts: Any) -> bytes:
    """Canonical JSON of an RLE segmentation (``counts`` first, as COCO writes it)."""
    if isinstance(counts, tuple):
        counts = list(counts)
    return orjson.dumps({"counts": counts, "size": [int(size[0]), int(size[1])]})


def bbox_json(bbox: Sequence[float]) -> bytes:
    """Canonical JSON of a box as floats."""
    return orjson.dumps([float(v) for v in bbox])


def only_ints(raw: bytes) -> bool:
    """True if a JSON number array's text has no fraction or exponent."""
    return b"." not in raw and b"e" not in raw and b"E" not in raw


# an integer token between delimiters; possessive quantifiers: no backtracking into floats
_INT_TOKEN = re.compile(rb"[\[,]\s*+-?\d++\s*+[,\]]")


def _flat(v: Any) -> Iterable[Any]:
    for x in v:
        if isinstance(x, list):
            yield from _flat(x)
        else:
            yield x


def int_spec(raw: bytes) -> Any:
    """How a (nested) JSON number array wrote integers: 1 = all of them, a hex bit mask
    of the positions (flattened) written as integers when mixed, None = none."""
    if only_ints(raw):
        return 1
    if raw.count(b".") == raw.count(b",") + 1:  # one dot per number: no integer written
        return None
    if not _INT_TOKEN.search(raw):
        return None
    mask = 0
    for i, v in enumerate(_flat(orjson.loads(raw))):
        if v.__class__ is int:
            mask |= 1 << i
    return format(mask, "x") if mask else None


def apply_int_spec(values: Sequence[float], spec: Any, start: int = 0) -> list:
    """``values`` (a flattened slice starting at ``start``) with integral numbers written
    as ints where ``spec`` (see :func:`int_spec`) says the source had integers."""
    if spec == 1:
        return [int(v) if v.__class__ is float and v.is_integer() else v for v in values]
    if isinstance(spec, str):
        mask = int(spec, 16) >> start
        return [int(v) if (mask >> i) & 1 and v.__class__ is float and v.is_integer() else v
                for i, v in enumerate(values)]
    return list(values)


def patch_of(want: Mapping[str, Any], have: Mapping[str, Any]) -> tuple[dict, list]:
    """``(changed, removed)`` turning ``have`` into ``want``."""
    changed = {k: v for k, v in want.items() if k not in have or have[k] != v or type(have[k]) is not type(v)}
    removed = [k for k in have if k not in want]
    return changed, removed

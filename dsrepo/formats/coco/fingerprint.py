"""Fingerprints of COCO items computed from their source records, without building them.

An item is built from its image record in each task file of its subset, the annotation
records listed for that image, and context shared by the whole subset (categories and
their label mapping, task files, file order flags, import options, the code). The
fingerprint hashes exactly these inputs: the records re-encoded by msgspec (every field,
segmentations, boxes and keypoints as the raw JSON they were read as: compact, since
:func:`~dsrepo.formats.coco.parse.compact` strips a spaced file's whitespace before it is
decoded), record positions where the built item keeps them, and a context hash. Equal
fingerprints therefore mean equal built items, apart from the image file's content, which
the repository adds (its md5).

The repository keeps fingerprint -> item hash from the last time it stored a source
(see :mod:`dsrepo.repo.memo`), so a status or commit after editing a few records builds
and encodes only the items whose records changed. Panoptic subsets (whose items also
depend on PNG files) have no fingerprints.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import msgspec
import orjson

from dsrepo.formats.coco.tasks import PANOPTIC

_ENCODE = msgspec.json.Encoder().encode
VERSION = 2  # bump when item building changes in a way the code stamp would not show
_STAMP: bytes | None = None


def _code_stamp() -> bytes:
    """Size and mtime of the modules that build and encode items: a development checkout
    edited in place never reuses fingerprints from older code."""
    global _STAMP
    if _STAMP is None:
        import dsrepo

        root = Path(dsrepo.__file__).parent
        files = sorted([*(root / "formats" / "coco").glob("*.py"), *(root / "formats" / "common").glob("*.py"),
                        *(root / "model").glob("*.py")])
        parts = [dsrepo.__version__]
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
        _STAMP = "|".join(parts).encode()
    return _STAMP


def subset_context(builder: Any, options: Mapping[str, Any]) -> bytes | None:
    """The context hash of one subset (None if its items cannot be fingerprinted)."""
    from dsrepo.model.encoding import ENCODING_VERSION

    if any(c.task == PANOPTIC for c in builder.ctxs):
        return None
    ctxs = [[c.task, c.natural, [[repr(k), v] for k, v in sorted(c.label_map.items(), key=lambda kv: repr(kv[0]))]]
            for c in builder.ctxs]
    try:
        opts = orjson.dumps(dict(options), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return None
    data = orjson.dumps([VERSION, ENCODING_VERSION, builder.subset, builder.positional, ctxs])
    return hashlib.blake2b(data + opts + _code_stamp(), digest_size=20).digest()


def _fingerprint(builder: Any, context: bytes, k: int) -> bytes:
    h = hashlib.blake2b(context, digest_size=20)
    h.update(builder.item_ids[k].encode())
    positional = builder.positional
    enc = _ENCODE
    for c, j in builder.records(k):
        h.update(b"\x00%s\x00" % c.task.encode())
        h.update(enc(c.pf.images[j]))
        if positional:
            h.update(b"#%d" % j)
        anns = c.pf.anns
        idx = c.ann_indices(j).tolist()
        h.update(enc([anns[i] for i in idx]))  # (one call: every field, raw ones as read)
        dups = c.dups
        if not c.natural or (dups and not dups.isdisjoint(idx)):
            h.update(b"@%s" % enc(idx))
    return h.digest()


def subset_stubs(builder: Any, context: bytes, lazy: bool = False
                 ) -> Iterator[tuple[str, str, Any, Any, Callable[[], Any]]]:
    """``(subset, id, fingerprint, media, build)`` for each item of ``builder`` (a
    :class:`~dsrepo.formats.coco.build.SubsetBuilder`), in item order; with ``lazy``
    the fingerprint is a function that computes it."""
    from dsrepo.formats.coco.canon import ItemBuild

    subset = builder.subset
    for k, iid in enumerate(builder.item_ids):
        fp = (lambda k=k: _fingerprint(builder, context, k)) if lazy else _fingerprint(builder, context, k)
        # a stub is built to be stored, which reads every polygon: decoded right away
        media = builder.media(k)
        yield subset, iid, fp, media, ItemBuild(builder, k, media)

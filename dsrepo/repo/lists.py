"""Long ordered lists (a source's items or files) stored as content-defined chunks.

A list is a loose ``list`` object ``{"n": count, "chunks": [[chunk hash, count], ...]}``
whose chunks are packed ``chunk`` objects (JSON arrays of entries). A chunk ends
after an entry whose random key (an item hash or md5) falls in 1/``AVG`` of the key
space, or after ``MAX`` entries. Boundaries depend on the entries themselves, so
editing, inserting or deleting a few entries rewrites only the chunks around them,
and an unchanged list has the same hash.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import orjson

from dsrepo.errors import CorruptObjectError
from dsrepo.repo.objects import ObjectStore

AVG = 32
MAX = 256
_MASK = AVG - 1


def _chunks(entries: Sequence[Sequence[Any]], key: int) -> Iterable[Sequence[Sequence[Any]]]:
    start = 0
    for i, e in enumerate(entries):
        if (int(e[key][-4:], 16) & _MASK) == 0 or i + 1 - start >= MAX:
            yield entries[start:i + 1]
            start = i + 1
    if start < len(entries):
        yield entries[start:]


def write_list(store: ObjectStore, entries: Sequence[Sequence[Any]], key: int) -> str:
    """Store ``entries`` (JSON-able sequences; ``entry[key]`` is a hex hash) inside an
    open pack session; returns the list object's hash."""
    chunks = []
    for part in _chunks(entries, key):
        h = store.put_packed("chunk", orjson.dumps(part))
        chunks.append([h, len(part)])
    return store.put_loose("list", orjson.dumps({"chunks": chunks, "n": len(entries)},
                                                 option=orjson.OPT_SORT_KEYS))


def list_chunks(store: ObjectStore, list_hash: str) -> list[tuple[str, int]]:
    """``(chunk hash, entry count)`` of a stored list."""
    d = orjson.loads(store.read_loose(list_hash, "list"))
    try:
        return [(str(h), int(n)) for h, n in d["chunks"]]
    except (KeyError, TypeError, ValueError) as e:
        raise CorruptObjectError(f"list {list_hash}: malformed ({e})") from None


def read_list(store: ObjectStore, list_hash: str) -> list[list[Any]]:
    """All entries of a stored list, in order."""
    out: list[list[Any]] = []
    for h, n in list_chunks(store, list_hash):
        part = orjson.loads(store.read_packed(h))
        if len(part) != n:
            raise CorruptObjectError(f"list chunk {h}: {len(part)} entries, expected {n}")
        out.extend(part)
    return out

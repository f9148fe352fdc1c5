"""Long ordered lists (a source's items or files) stored as content-defined chunks.

A list is a loose ``list`` object ``{"n": count, "chunks": [[chunk hash, count], ...]}``
(item lists add ``"tally"``: entries per subset, so that counting them reads no chunk)
whose chunks are packed ``chunk`` objects (JSON arrays of entries). A chunk ends
after an entry whose random key (an item hash or md5) falls in 1/``AVG`` of the key
space, or after ``MAX`` entries. Boundaries depend on the entries themselves, so
editing, inserting or deleting a few entries rewrites only the chunks around them,
and an unchanged list has the same hash.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

import orjson

from dsrepo.errors import CorruptObjectError
from dsrepo.repo.objects import ObjectStore

AVG = 16
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


def write_list(store: ObjectStore, entries: Sequence[Sequence[Any]], key: int, tally: int | None = None) -> str:
    """Store ``entries`` (JSON-able sequences; ``entry[key]`` is a hex hash) inside an
    open pack session; returns the list object's hash. With ``tally``, the list object
    also counts the entries per value of ``entry[tally]`` (a string)."""
    chunks = []
    for part in _chunks(entries, key):
        h = store.put_packed("chunk", orjson.dumps(part))
        chunks.append([h, len(part)])
    d: dict[str, Any] = {"chunks": chunks, "n": len(entries)}
    if tally is not None:
        d["tally"] = dict(Counter(e[tally] for e in entries))
    return store.put_loose("list", orjson.dumps(d, option=orjson.OPT_SORT_KEYS))


def write_item_list(store: ObjectStore, entries: Sequence[Sequence[Any]]) -> str:
    """Store a source's item list (``(subset, id, item hash)`` entries), chunked by item
    hash and tallied per subset; returns the list object's hash."""
    return write_list(store, entries, 2, tally=0)


def list_info(store: ObjectStore, list_hash: str) -> tuple[list[tuple[str, int]], dict[str, int] | None]:
    """``(chunk hash, entry count)`` of a stored list, and its tally (None if it has none:
    lists of files, and item lists written before tallies existed)."""
    d = orjson.loads(store.read_loose(list_hash, "list"))
    try:
        chunks = [(str(h), int(n)) for h, n in d["chunks"]]
        tally = d.get("tally")
        if tally is not None:
            tally = {str(k): int(v) for k, v in tally.items()}
            if sum(tally.values()) != sum(n for _h, n in chunks):
                raise ValueError("tally does not add up to the chunks' entries")
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CorruptObjectError(f"list {list_hash}: malformed ({e})") from None
    return chunks, tally


def list_chunks(store: ObjectStore, list_hash: str) -> list[tuple[str, int]]:
    """``(chunk hash, entry count)`` of a stored list."""
    return list_info(store, list_hash)[0]


def read_list(store: ObjectStore, list_hash: str) -> list[list[Any]]:
    """All entries of a stored list, in order."""
    out: list[list[Any]] = []
    for h, n in list_chunks(store, list_hash):
        part = orjson.loads(store.read_packed(h))
        if len(part) != n:
            raise CorruptObjectError(f"list chunk {h}: {len(part)} entries, expected {n}")
        out.extend(part)
    return out

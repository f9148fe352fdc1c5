"""Pausing Python's cyclic garbage collector during bulk work.

Operations that hold millions of small acyclic objects (decoded item lists, export
manifests, annotation dicts) would otherwise trigger full collections that scan them
again and again - more than doubling the time to parse a 116 MB export manifest.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def few_collections() -> Iterator[None]:
    """No cyclic garbage collection inside the block. On the way out, the objects
    allocated meanwhile join the oldest generation (a freeze/unfreeze pair, skipped if
    the caller froze objects itself) instead of all being scanned by the first young
    collection; cyclic garbage among them is still freed by the next full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()

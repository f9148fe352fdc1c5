"""How integers were spelled in COCO number arrays (kept for exact round trips)."""

from __future__ import annotations

import pytest

from dsrepo.formats.coco.meta import apply_int_spec, int_spec


@pytest.mark.parametrize("raw, spec", [
    (b"[[1,2,3,4]]", 1),
    (b"[[1.5,2.5,3.0,4.25]]", None),
    (b"[[1.5, 2.5], [3.5, 4.5]]", None),
    (b"[[1,2.5,3]]", "5"),             # positions 0 and 2
    (b"[[2.5,3 ],[4, 5.5]]", "6"),     # positions 1 and 2, whitespace around tokens
    (b"[-3,2.5]", "1"),
    (b"[2.5,-4]", "2"),
    (b"[1e5,2.5]", None),              # exponents are floats
    (b"[[],[1.5,2]]", "2"),            # an empty part does not fool the dot count
])
def test_int_spec(raw, spec):
    assert int_spec(raw) == spec


def test_apply_int_spec_restores_the_spelling():
    assert apply_int_spec([1.0, 2.5, 3.0], "5") == [1, 2.5, 3]
    assert apply_int_spec([1.0, 2.0], 1) == [1, 2]
    assert [type(v) for v in apply_int_spec([1.0, 2.0], None)] == [float, float]

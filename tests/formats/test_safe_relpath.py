"""safe_relpath: its string fast path gives exactly what the pathlib rules give."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsrepo.errors import DatasetError
from dsrepo.formats.common.files import safe_relpath


def _reference(rel: str) -> str | None:
    """The rules spelled with pathlib (None: refused)."""
    norm = rel.replace("\\", "/")
    p = PurePosixPath(norm)
    if p.is_absolute() or (len(norm) > 1 and norm[1] == ":"):
        return None
    parts = [x for x in p.parts if x not in ("", ".")]
    if any(x == ".." for x in parts) or not parts:
        return None
    return "/".join(parts)


def _ours(rel: str) -> str | None:
    try:
        return safe_relpath(rel)
    except DatasetError:
        return None


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(["a", "b.jpg", ".", "..", "/", "\\", ":", "c:", ".x", "x."]), min_size=1, max_size=8))
def test_same_as_the_pathlib_rules(pieces):
    rel = "".join(pieces)
    assert _ours(rel) == _reference(rel)


@pytest.mark.parametrize("rel, expected", [
    ("train/a.jpg", "train/a.jpg"), ("./a.jpg", "a.jpg"), ("a//b", "a/b"), ("a\\b.png", "a/b.png"),
    ("a/./b", "a/b"), ("a/", "a"), (".hidden/x", ".hidden/x"),
])
def test_normal_forms(rel, expected):
    assert safe_relpath(rel) == expected


@pytest.mark.parametrize("rel, message", [
    ("/etc/passwd", "absolute path '/etc/passwd' is not allowed"),
    ("c:/x", "absolute path 'c:/x' is not allowed"),
    ("a/../../x", "path 'a/../../x' escapes the dataset folder"),
    ("..", "path '..' escapes the dataset folder"),
    (".", "path '.' escapes the dataset folder"),
])
def test_refused(rel, message):
    with pytest.raises(DatasetError, match=f"^{message.replace('.', '[.]')}"):
        safe_relpath(rel)

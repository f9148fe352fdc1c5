"""Fixtures for COCO tests."""

from pathlib import Path

import pytest

from .coco_data import make_rich


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    """The rich combined dataset (see coco_data.make_rich)."""
    return make_rich(tmp_path)

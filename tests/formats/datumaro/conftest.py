"""Fixtures for Datumaro tests."""

from pathlib import Path

import pytest

from .dm_data import make_rich


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    """The rich Datumaro dataset (see dm_data.make_rich)."""
    return make_rich(tmp_path)

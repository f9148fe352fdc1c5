"""Fixtures for VOC tests."""

from pathlib import Path

import pytest

from .voc_data import make_custom, make_voc2012


@pytest.fixture
def voc2012(tmp_path: Path) -> Path:
    """VOC 2012 shaped dataset (see voc_data.make_voc2012)."""
    return make_voc2012(tmp_path / "voc2012")


@pytest.fixture
def custom(tmp_path: Path) -> Path:
    """CVAT/Datumaro shaped dataset with a custom label map (see voc_data.make_custom)."""
    return make_custom(tmp_path / "custom")

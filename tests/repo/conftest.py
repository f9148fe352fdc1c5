"""Fixtures for repository tests: projects, the bundled COCO sample, the tiny test format."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dsrepo.formats import registry
from dsrepo.repo.repo import Repo

SAMPLE = Path(__file__).resolve().parents[2] / "dsrepo" / "data" / "sample"


@pytest.fixture
def tiny_format(monkeypatch):
    """Register the test-only ``tinyjson`` format for this test."""
    monkeypatch.setitem(registry.FORMATS, "tinyjson", "tests.repo.tinyfmt:SPEC")
    return "tinyjson"


@pytest.fixture
def coco_sample(tmp_path: Path) -> Path:
    """A private copy of the bundled COCO sample."""
    dst = tmp_path / "coco_src"
    shutil.copytree(SAMPLE / "coco", dst)
    return dst


@pytest.fixture
def coco_edited(tmp_path: Path) -> Path:
    """A private copy of the edited COCO sample."""
    dst = tmp_path / "coco_edited_src"
    shutil.copytree(SAMPLE / "coco_edited", dst)
    return dst


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """An empty project."""
    return Repo.create(tmp_path / "proj")

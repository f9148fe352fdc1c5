"""The key invariant for GT Studio: import -> export (no media) -> import gives the same items."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dsrepo.formats.api import export_dataset, import_dataset

from .gt_data import make_dataset, shapes_doc
from .helpers import assert_invariant, through_encoding

OPTS = ["--assets", "downloads"]


@pytest.mark.parametrize("encode", [False, True])
@pytest.mark.parametrize("extra", [[], ["--raster-as", "polygons"]])
def test_dataset(tmp_path, encode, extra):
    root = make_dataset(tmp_path / "gt")
    assert_invariant(root, tmp_path / "out", "gt_studio", OPTS + extra, encode=encode)


def test_missing_images(tmp_path):
    root = make_dataset(tmp_path / "gt")
    (root / "downloads" / "street view.jpg").unlink()
    (root / "downloads" / "frame_0001.png").unlink()
    from dsrepo.progress import NullProgress

    first = import_dataset(root, "gt_studio", OPTS)
    export_dataset(first, tmp_path / "out", "gt_studio")
    p = NullProgress()
    second = import_dataset(tmp_path / "out", "gt_studio", OPTS, p)
    from dsrepo.model.encoding import encode_item

    assert [encode_item(i) for i in first] == [encode_item(i) for i in second]
    assert len(p.warnings) == 1  # the unplaced shapes, again


def test_shapes_file_written_back_as_it_was(tmp_path):
    root = make_dataset(tmp_path / "gt")
    ds = through_encoding(import_dataset(root, "gt_studio", OPTS))
    export_dataset(ds, tmp_path / "out", "gt_studio")
    a = shapes_doc()
    b = json.loads((tmp_path / "out" / "batch 1" / "street view.json").read_text())
    r2 = a["annotations"]["rectangles"][1]  # two corners in any order become four, clockwise from top-left
    r2["coordinates"] = [{"x": 0.6, "y": 0.15}, {"x": 0.9, "y": 0.15}, {"x": 0.9, "y": 0.95},
                         {"x": 0.6, "y": 0.95}]
    tree = a["annotations"]["polygons"][0]
    tree["points"] = {f"p{i + 1}": tree["points"][f"p{i + 1}"] for i in range(11)}  # natural order
    for r in a["annotations"]["rectangles"]:
        r.setdefault("attributes", {})
    a["annotations"]["polygons"][1]["attributes"] = {}
    assert b == a


def test_normalised_coordinates_read_back_exactly():
    """Pixels computed from normalised values come back exactly; any other pixel value
    within one ulp."""
    import math

    from dsrepo.formats.gt_studio.geometry import to_normal, to_pixel

    rng = np.random.default_rng(3)
    for n, px, size in zip(rng.uniform(0, 1, 3000), rng.uniform(0, 5000, 3000), rng.integers(1, 8000, 3000)):
        n, px, size = float(n), float(px), int(size)
        exact = to_pixel(n, size)
        assert to_pixel(to_normal(exact, size), size) == exact
        assert abs(to_pixel(to_normal(px, size), size) - px) <= math.ulp(px)

"""GT Studio import: shapes, natural point order, raster masks, options."""

from __future__ import annotations

import numpy as np

from dsrepo.formats.api import import_dataset
from dsrepo.model.annotations import Bbox, Mask, Polygon
from dsrepo.progress import NullProgress

from .gt_data import CDN, make_dataset, raster_doc, raster_rgb, shapes_doc, write_image, write_json


def _load(root, *opts, progress=None):
    return import_dataset(root, "gt_studio", ["--assets", "downloads", *opts], progress or NullProgress())


def test_shapes_in_pixels(tmp_path):
    root = make_dataset(tmp_path / "gt")
    progress = NullProgress()
    ds = _load(root, progress=progress)
    assert progress.warnings == []
    assert ds.categories.label_names() == ["car", "Fußgänger", "tree", "person", "road"]
    street, frame = list(ds)
    assert (street.id, street.subset, frame.id) == ("batch 1/street view", "default", "frame_0001")
    assert street.media.path == str(root / "downloads" / "street view.jpg")
    assert street.media.size == (20, 40) and street.media.name == "batch 1/street view.jpg"
    r1, r2, tree, tri = street.annotations
    assert isinstance(r1, Bbox) and (r1.x, r1.y, r1.w, r1.h) == (4.0, 4.0, 10.0, 10.0)
    assert r1.label == 0 and dict(r1.attributes) == {"occluded": "no"}
    assert dict(r1.meta) == {"gt_studio": {"_id": "r1", "state": "editable"}}
    assert isinstance(r2, Bbox) and (r2.x, r2.y, r2.w, r2.h) == (24.0, 3.0, 12.0, 16.0) and r2.label == 1
    assert isinstance(tree, Polygon) and tree.label == 2 and dict(tree.attributes) == {"kind": "oak"}
    # natural order p1, p2, ..., p10, p11 although the file lists p1, p10, p11, p2, ...
    xs = [round(v, 6) for v in tree.points[0::2]]
    assert xs == [2.0, 6.0, 10.0, 14.0, 18.0, 2.0, 6.0, 10.0, 14.0, 18.0, 2.0]
    assert tree.points[1::2][-1] == 0.8 * 20
    assert dict(tree.meta) == {"gt_studio": {"_id": "g1", "state": "editable", "color": None}}
    assert tri.points == (0.0, 0.0, 40.0, 0.0, 40.0, 20.0)


def test_raster_instances_and_legend(tmp_path):
    root = make_dataset(tmp_path / "gt")
    frame = list(_load(root))[1]
    assert frame.media.size == (10, 12)
    masks = frame.annotations
    assert [type(m) for m in masks] == [Mask] * 4
    assert [m.label for m in masks] == [0, 0, 3, 4]  # car, car, person, road (legend only)
    rgb = raster_rgb()
    packed = (rgb[:, :, 0].astype(int) << 16) | (rgb[:, :, 1].astype(int) << 8) | rgb[:, :, 2]
    for m, c in zip(masks, (0xFF0000, 0x00C800, 0x0000FF, 0x5A5A5A)):
        assert np.array_equal(m.image, (packed == c).astype(np.uint8))
    assert dict(masks[2].meta) == {"gt_studio": {"color": "#0000FF", "instance": {"_id": "i3", "value": "person #1"}}}
    assert dict(masks[3].meta) == {"gt_studio": {"color": "#5a5a5a", "legend": True}}


def test_raster_as_polygons(tmp_path):
    root = make_dataset(tmp_path / "gt")
    frame = list(_load(root, "--raster-as", "polygons"))[1]
    # the one-pixel 'road' row has a two-point contour: no polygon
    assert [(type(a), a.label) for a in frame.annotations] == [(Polygon, 0), (Polygon, 0), (Polygon, 3)]
    red = frame.annotations[0]
    assert red.label == 0 and red.get_bbox() == (0.0, 0.0, 3.0, 2.0)
    assert red.points == (0.0, 0.0, 0.0, 2.0, 3.0, 2.0, 3.0, 0.0)


def test_missing_image_keeps_shapes_for_export(tmp_path):
    root = make_dataset(tmp_path / "gt")
    (root / "downloads" / "street view.jpg").unlink()
    progress = NullProgress()
    ds = _load(root, progress=progress)
    assert progress.warnings == ["gt_studio: 4 shapes not imported because their image (and so its size) is "
                                 "missing; they are kept for re-export"]
    street = list(ds)[0]
    assert street.annotations == () and street.media.path is None and street.media.size is None
    assert [r["_id"] for r in street.meta["gt_studio"]["unplaced"]["rectangles"]] == ["r1", "r2"]
    assert ds.categories.label_names() == ["car", "person", "road"]


def test_missing_image_with_raster_takes_the_raster_size(tmp_path):
    root = make_dataset(tmp_path / "gt")
    (root / "downloads" / "frame_0001.png").unlink()
    frame = list(_load(root))[1]
    assert frame.media.path is None and frame.media.size == (10, 12) and len(frame.annotations) == 4


def test_single_file_relative_urls_and_default_assets(tmp_path):
    doc = shapes_doc()
    doc["image_url"] = "pics/a.jpg"
    write_json(tmp_path / "a.json", doc)
    write_image(tmp_path / "pics" / "a.jpg", 10, 10)
    it = next(iter(import_dataset(tmp_path / "a.json", "gt_studio")))
    assert it.id == "a" and it.media.name == "a.jpg" and it.media.size == (10, 10)
    assert (it.annotations[0].x, it.annotations[0].w) == (1.0, 2.5)


def test_missing_mask_skip_and_foreign_json(tmp_path):
    root = make_dataset(tmp_path / "gt")
    (root / "downloads" / "mask-0001.png").unlink()
    write_json(root / "downloads" / "legend.json", {"#ff0000": "car"})
    progress = NullProgress()
    frame = list(_load(root, "--missing-masks", "skip", progress=progress))[1]
    assert frame.annotations == ()
    assert progress.warnings == ["gt_studio: 1 JSON files without an 'annotations' object were ignored",
                                 "gt_studio: 1 raster masks not found; those items are imported without masks"]


def test_detect(tmp_path):
    from dsrepo.formats.registry import detect_formats

    root = make_dataset(tmp_path / "gt")
    assert ("gt_studio", 0.7) in detect_formats(root)
    assert detect_formats(root / "frame_0001.json")[0] == ("gt_studio", 0.7)
    assert CDN in raster_doc()["image_url"]

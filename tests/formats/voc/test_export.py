"""Export from other datasets: options, honest losses, files written."""

from __future__ import annotations

import numpy as np
import pytest

from dsrepo.errors import ExportError
from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.formats.voc.png import read_mask_png
from dsrepo.model.annotations import Bbox, Caption, Label, Mask, Points, Polygon
from dsrepo.model.categories import Categories
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import Item
from dsrepo.model.media import Image
from dsrepo.progress import NullProgress

from .voc_data import image, write
from .voc_helpers import tree


def _mask(h, w, rows, cols, **kw):
    a = np.zeros((h, w), np.uint8)
    a[rows, cols] = 1
    return Mask.from_array(a, **kw)


def _foreign(tmp_path) -> Dataset:
    """A dataset as another format (COCO-like) gives it: no background label, mixed types."""
    img = image(tmp_path / "imgs" / "a.png", 6, 8, ".png")
    cats = Categories.from_names(["dog", "cat"])
    a = Item("a", "train", Image(str(img), (6, 8), "a.png"), (
        Bbox(id=7, label=0, x=1, y=1, w=2.5, h=3, attributes={"is_crowd": False, "score": 0.75, "tags": [1, 2],
                                                               "occluded": True}),
        Bbox(id=8, label=None, x=0, y=0, w=1, h=1),
        Polygon(id=9, label=1, points=(0, 0, 4, 0, 4, 4, 0, 4)),
        _mask(6, 8, slice(5, 6), slice(0, 8), id=10, label=0),
        Points(label=0, points=(1, 1)),
        Caption(caption="hi"),
        Label(label=1),
    ))
    b = Item("b", "val", Image(None, None, "b.jpg"), (), attributes={"time": "day"})
    return Dataset.from_items([a, b], cats)


def test_conversion_from_another_format_counts_what_is_dropped(tmp_path):
    progress = NullProgress()
    report = export_dataset(_foreign(tmp_path), tmp_path / "out", "voc", None, progress)
    assert sorted(progress.warnings) == [
        "voc cannot hold annotation attributes that are not named scalars: 1 dropped",
        "voc cannot hold boxes without a label: 1 dropped",
        "voc cannot hold captions: 1 dropped",
        "voc cannot hold item attributes: 1 dropped",
        "voc cannot hold points: 1 dropped",
    ]
    out = tmp_path / "out"
    assert report.files == (
        "Annotations/a.xml", "ImageSets/Main/cat_train.txt", "ImageSets/Main/cat_val.txt", "ImageSets/Main/dog_train.txt",
        "ImageSets/Main/dog_val.txt", "ImageSets/Main/train.txt", "ImageSets/Main/val.txt",
        "ImageSets/Segmentation/train.txt", "SegmentationClass/a.png", "SegmentationObject/a.png", "labelmap.txt",
    )
    assert (out / "labelmap.txt").read_text().splitlines()[1:] == ["background:0,0,0::", "dog:::", "cat:::"]
    back = {it.id: it for it in import_dataset(out, "voc")}
    a = back["a"]
    assert back["b"].annotations == () and back["b"].subset == "val"
    box, poly_box, mask_box = [x for x in a.annotations if isinstance(x, Bbox)]
    assert (box.id, box.label, box.x, box.y, box.w, box.h) == (1, 1, 1.0, 1.0, 2.5, 3.0)
    # instance shapes without a box get an object (their extent), numbered like the instance PNG
    assert (poly_box.id, poly_box.label, poly_box.get_bbox()) == (2, 2, (0.0, 0.0, 4.0, 4.0))
    assert (mask_box.id, mask_box.label, mask_box.get_bbox()) == (3, 1, (0.0, 5.0, 8.0, 1.0))
    assert dict(box.attributes) == {"truncated": False, "occluded": True, "difficult": False,
                                    "is_crowd": False, "score": 0.75}
    masks = [x for x in a.annotations if isinstance(x, Mask)]
    assert [(m.id, m.group, m.label, m.get_area()) for m in masks] == [(2, 2, 2, 16.0), (3, 3, 1, 8.0)]
    assert [x.label for x in a.annotations if isinstance(x, Label)] == [2]
    cls = read_mask_png(out / "SegmentationClass" / "a.png").values
    assert cls[0, 0] == 2 and cls[5, 7] == 1 and cls[4, 6] == 0


def test_strict_fails_and_writes_nothing(tmp_path):
    with pytest.raises(ExportError, match=r"^voc cannot hold annotation attributes that are not named scalars: "
                                          r"1 dropped; voc cannot hold boxes without a label: 1 dropped; .* "
                                          r"voc cannot hold points: 1 dropped \(--strict\)$"):
        export_dataset(_foreign(tmp_path), tmp_path / "out", "voc", ["--strict"])
    assert list((tmp_path / "out").iterdir()) == []


def test_voc_label_map_remaps_by_name_and_drops_others(tmp_path):
    cats = Categories.from_names(["person", "unicorn"])
    ds = Dataset.from_items([Item("x", annotations=(Bbox(label=0, x=0, y=0, w=1, h=1),
                                                    Bbox(label=1, x=0, y=0, w=1, h=1)))], cats)
    progress = NullProgress()
    export_dataset(ds, tmp_path / "out", "voc_detection", ["--label-map", "voc"], progress)
    assert progress.warnings == ["voc_detection cannot hold boxes with a label not in the label map: 1 dropped"]
    back = import_dataset(tmp_path / "out", "voc_detection")
    assert len(back.categories.labels) == 24
    assert [(a.label, a.id) for a in next(iter(back)).annotations] == [(15, 1)]


def test_label_map_file_option(tmp_path):
    lm = write(tmp_path / "my.txt", "background:0,0,0::\nunicorn:10,20,30::\n")
    cats = Categories.from_names(["person", "unicorn"])
    ds = Dataset.from_items([Item("x", annotations=(_mask(2, 2, 0, 0, label=1),))], cats)
    export_dataset(ds, tmp_path / "out", "voc_segmentation", ["--label-map", str(lm)])
    assert (tmp_path / "out" / "labelmap.txt").read_text().endswith("unicorn:10,20,30::\n")
    png = read_mask_png(tmp_path / "out" / "SegmentationClass" / "x.png")
    assert png.kind == "palette" and png.values.tolist() == [[1, 0], [0, 0]]
    import cv2
    assert cv2.imread(str(tmp_path / "out" / "SegmentationClass" / "x.png"))[0, 0].tolist() == [30, 20, 10]


def test_no_apply_colormap_writes_grey_masks(tmp_path):
    ds = Dataset.from_items([Item("x", annotations=(_mask(2, 3, 1, 2, label=1, id=4),))],
                            Categories.from_names(["background", "a"]))
    export_dataset(ds, tmp_path / "out", "voc", ["--no-apply-colormap"])
    cls = read_mask_png(tmp_path / "out" / "SegmentationClass" / "x.png")
    obj = read_mask_png(tmp_path / "out" / "SegmentationObject" / "x.png")
    assert (cls.kind, cls.values.tolist()) == ("grey", [[0, 0, 0], [0, 0, 1]])
    assert (obj.kind, obj.values.tolist()) == ("grey", [[0, 0, 0], [0, 0, 1]])  # instance 1 = object 1


def test_no_allow_attributes_drops_custom_attributes_only(tmp_path):
    ds = Dataset.from_items([Item("x", annotations=(
        Bbox(label=0, x=0, y=0, w=1, h=1, attributes={"difficult": True, "color": "red", "pose": "Left"}),))],
        Categories.from_names(["car"]))
    progress = NullProgress()
    export_dataset(ds, tmp_path / "out", "voc_detection", ["--no-allow-attributes"], progress)
    assert progress.warnings == ["voc_detection cannot hold annotation attributes (--no-allow-attributes): 1 dropped"]
    (box,) = next(iter(import_dataset(tmp_path / "out", "voc_detection"))).annotations
    assert dict(box.attributes) == {"truncated": False, "occluded": False, "difficult": True, "pose": "Left"}


def test_keep_empty_writes_xml_and_empty_lists(tmp_path):
    ds = Dataset.from_items([Item("x", "train", Image(None, (4, 5), "x.png"))], Categories.from_names(["car"]))
    export_dataset(ds, tmp_path / "plain", "voc")
    assert sorted(tree(tmp_path / "plain")) == ["ImageSets/Main/train.txt", "labelmap.txt"]
    export_dataset(ds, tmp_path / "keep", "voc", ["--keep-empty"])
    files = tree(tmp_path / "keep")
    assert sorted(files) == ["Annotations/x.xml", "ImageSets/Action/train.txt", "ImageSets/Layout/train.txt",
                             "ImageSets/Main/train.txt", "ImageSets/Segmentation/train.txt", "labelmap.txt"]
    assert files["Annotations/x.xml"].decode() == (
        "<annotation>\n  <filename>x.png</filename>\n  <size>\n    <width>5</width>\n    <height>4</height>\n"
        "    <depth>3</depth>\n  </size>\n  <segmented>0</segmented>\n</annotation>\n")
    assert files["ImageSets/Segmentation/train.txt"] == b""


def test_tasks_option_limits_files_and_counts_the_rest(voc2012, tmp_path):
    progress = NullProgress()
    export_dataset(import_dataset(voc2012, "voc"), tmp_path / "out", "voc",
                   ["--tasks", "detection,classification"], progress)
    assert sorted(progress.warnings) == ["voc cannot hold masks (segmentation task not exported): 3 dropped"]
    files = tree(tmp_path / "out")
    assert not any(f.startswith(("Segmentation", "ImageSets/Segmentation", "ImageSets/Action")) for f in files)
    assert "ImageSets/Main/person_train.txt" in files and "Annotations/2007_000032.xml" in files


def test_save_media_with_image_ext_and_missing_images(voc2012, tmp_path):
    report = export_dataset(import_dataset(voc2012, "voc"), tmp_path / "out", "voc",
                            ["--save-media", "--image-ext", ".png"])
    assert report.missing_media == ("2007_000039",)
    assert [f for f in report.files if f.startswith("JPEGImages/")] == ["JPEGImages/2007_000032.png",
                                                                       "JPEGImages/2008_000100.png"]
    assert (tmp_path / "out" / "JPEGImages" / "2007_000032.png").read_bytes()[:4] == b"\x89PNG"
    assert "<filename>2007_000032.png</filename>" in (tmp_path / "out" / "Annotations" / "2007_000032.xml").read_text()
    assert sorted(report.files) == sorted(tree(tmp_path / "out"))


def test_nested_unicode_ids_and_spaces_are_written_safely(custom, tmp_path):
    export_dataset(import_dataset(custom, "voc"), tmp_path / "out", "voc")
    assert (tmp_path / "out" / "ImageSets" / "Main" / "default.txt").read_text() == \
        '"frame 001"\nsub/ünï\nsub/deep/x\n'
    assert (tmp_path / "out" / "Annotations" / "sub" / "ünï.xml").is_file()


def test_unsafe_ids_are_refused(tmp_path):
    ds = Dataset.from_items([Item("../evil")], Categories.from_names(["x"]))
    with pytest.raises(ExportError, match=r"item '\.\./evil' of subset 'default' cannot be written: path "
                                          r"'\.\./evil' escapes the dataset folder"):
        export_dataset(ds, tmp_path / "out", "voc")


@pytest.mark.parametrize("fmt", ["voc_action", "voc_layout", "voc_classification"])
def test_task_formats_name_themselves_as_registered(tmp_path, fmt):
    ds = Dataset.from_items([Item("x", annotations=(Caption(caption="hi"), Caption(caption="ho")))],
                            Categories.from_names(["person"]))
    progress = NullProgress()
    export_dataset(ds, tmp_path / "out", fmt, None, progress)
    assert progress.warnings == [f"{fmt} cannot hold captions: 2 dropped"]
    with pytest.raises(ExportError, match=rf"^{fmt} cannot hold captions: 2 dropped \(--strict\)$"):
        export_dataset(ds, tmp_path / "strict", fmt, ["--strict"])

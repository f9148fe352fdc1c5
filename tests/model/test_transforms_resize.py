"""resize: pixels, geometry of every annotation type, masks with nearest neighbour."""

import cv2
import numpy as np
import pytest

from dsrepo.errors import DatasetError, UsageError
from dsrepo.model import (
    Bbox, Caption, Categories, Dataset, Ellipse, Image, Item, Label, Mask, Points, Polygon, Polyline,
)
from dsrepo.model.encoding import encode_item, item_to_dict


def write_png(path, h, w):
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (255, 0, 0)
    cv2.imwrite(str(path), img)
    return str(path)


def test_resize_scales_pixels_and_geometry(tmp_path):
    path = write_png(tmp_path / "a b.png", 20, 40)
    m = np.zeros((20, 40), np.uint8)
    m[0:10, 0:20] = 1
    anns = (
        Bbox(id=1, x=4, y=2, w=10, h=6, label=0, meta={"coco": {"area": 60}}),
        Polygon(id=2, points=(0, 0, 40, 0, 40, 20)),
        Polyline(id=3, points=(2, 4, 6, 8)),
        Points(id=4, points=(10, 10, 20, 5), visibility=(2, 1)),
        Ellipse(id=5, x1=0, y1=0, x2=8, y2=4),
        Mask.from_array(m, id=6, label=1),
        Label(id=7, label=0),
        Caption(id=8, caption="c"),
    )
    item = Item(id="a b", media=Image(path=path, name="a b.png", md5="0" * 32), annotations=anns)
    out = list(Dataset.from_items([item], Categories.from_names(["x", "y"])).transform("resize", width=20, height=40))
    it = out[0]
    assert it.media.size == (40, 20) and it.media.name == "a b.png"
    assert it.media.path is None and it.media.md5 is None
    assert it.media.data.shape == (40, 20, 3)
    assert (it.media.data[:, :10] == (255, 0, 0)).all() and (it.media.data[:, 10:] == 0).all()
    a = it.annotations
    assert a[0] == Bbox(id=1, x=2, y=4, w=5, h=12, label=0)
    assert a[1].points == (0.0, 0.0, 20.0, 0.0, 20.0, 40.0)
    assert a[2].points == (1.0, 8.0, 3.0, 16.0)
    assert (a[3].points, a[3].visibility) == ((5.0, 20.0, 10.0, 10.0), (2, 1))
    assert (a[4].x1, a[4].y1, a[4].x2, a[4].y2) == (0.0, 0.0, 4.0, 8.0)
    assert a[5].size == (40, 20) and a[5].get_area() == 200.0 and a[5].get_bbox() == (0.0, 0.0, 10.0, 20.0)
    assert set(np.unique(a[5].image)) == {0, 1}
    assert a[6] is anns[6] and a[7] is anns[7]
    # the canonical encoding now records the resized pixels' checksum
    md5 = item_to_dict(it)["media"]["md5"]
    again = list(Dataset.from_items([item]).transform("resize", width=20, height=40))[0]
    assert len(md5) == 32 and item_to_dict(again)["media"]["md5"] == md5


def test_resize_without_pixels_or_media(tmp_path):
    gone = Item(id="g", media=Image(path=str(tmp_path / "gone.jpg"), size=(10, 10), name="gone.jpg"),
                annotations=(Bbox(x=1, y=1, w=2, h=2),))
    bare = Item(id="b", annotations=(Bbox(x=1, y=1, w=2, h=2),))
    same = Item(id="s", media=Image(size=(5, 5)), annotations=(Bbox(x=1, y=1, w=2, h=2),))
    out = list(Dataset.from_items([gone, bare, same]).transform("resize", width=5, height=5))
    assert out[0].media == Image(size=(5, 5), name="gone.jpg")
    assert out[0].media.data is None
    assert out[0].annotations == (Bbox(x=0.5, y=0.5, w=1, h=1),)
    assert out[1] is bare and out[2] is same
    assert encode_item(out[0]) == (b'{"anns":[{"b":[0.5,0.5,1.0,1.0],"t":"bbox"}],"id":"g",'
                                   b'"media":{"name":"gone.jpg","size":[5,5]},"s":"default"}')


def test_resize_errors(tmp_path):
    d = Dataset.from_items([Item(id="u", media=Image(path=str(tmp_path / "none.png")))])
    with pytest.raises(UsageError, match=r"resize: --width and --height are required"):
        d.transform("resize", width=3)
    with pytest.raises(UsageError, match=r"resize: --width and --height must be positive, got 0x3"):
        d.transform("resize", width=0, height=3)
    with pytest.raises(DatasetError, match=r"resize: image size of item default/u is unknown"):
        list(d.transform("resize", width=3, height=3))

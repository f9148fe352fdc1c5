"""Canonical encoding and content hashes: determinism and sensitivity."""

import math
import subprocess
import sys

import numpy as np
import pytest

from dsrepo.model import (
    Bbox, Caption, Categories, Ellipse, Image, Item, Label, LabelCategory, Mask, Points,
    PointsCategory, Polygon, Polyline,
)
from dsrepo.model.encoding import (
    categories_hash, decode_categories, decode_item, encode_categories, encode_item, item_hash,
)


def rich_item(**over):
    mask = Mask.from_array(np.pad(np.ones((3, 4), np.uint8), 2), label=1, id=5, attributes={"is_crowd": True})
    fields = dict(
        id="dir/img 1",
        subset="train",
        media=Image(size=(7, 8), name="dir/img 1.jpg", md5="0" * 32),
        annotations=(
            Label(label=0, attributes={"score": 0.25}),
            Caption(caption="a café", id=3),
            Bbox(x=1, y=2.5, w=3, h=4, label=1, id=1, group=1, z_order=2,
                 attributes={"occluded": False, "b": 1, "a": "x"}),
            Polygon(points=[0, 0, 4, 0, 4, 3], label=0, id=2, meta={"area": 6.0}),
            Polyline(points=[0.1, 0.2, 0.3, 0.4]),
            Points(points=[1, 1, 2, 2, 3, 3], visibility=[2, 1, 0], label=1),
            mask,
            Ellipse(x1=0, y1=0, x2=2, y2=4, label=0),
        ),
        attributes={"weather": "rain", "frame": 3},
        meta={"coco_id": 42},
    )
    fields.update(over)
    return Item(**fields)


def test_round_trip_is_exact():
    item = rich_item()
    data = encode_item(item)
    back = decode_item(data)
    assert back == item
    assert encode_item(back) == data


def test_decoded_shapes_are_the_objects_the_constructor_makes():
    """Boxes and polygons decoded from canonical data skip the constructor's checks: the
    result must be indistinguishable (fields, types, frozen maps, immutability)."""
    from dsrepo.model.encoding import annotation_from_dict, annotation_to_dict

    for a in rich_item().annotations[:6]:  # label, caption, box, polygon, polyline, points
        back = annotation_from_dict(annotation_to_dict(a))
        assert back == a and type(back) is type(a)
        assert type(back.attributes) is type(a.attributes) and type(back.meta) is type(a.meta)
        if hasattr(a, "get_bbox"):
            assert all(type(v) is float for v in (back.points if hasattr(back, "points") else back.get_bbox()))
        if hasattr(a, "visibility"):
            assert type(back.visibility) is tuple and back.visibility == (2, 1, 0)
        with pytest.raises(AttributeError):
            back.label = 3  # frozen as constructed ones are


@pytest.mark.parametrize("d, fixed", [
    ({"t": "bbox", "b": [1, 2, 3, 4]}, Bbox(x=1.0, y=2.0, w=3.0, h=4.0)),  # ints: coerced as by the constructor
    ({"t": "polygon", "p": [0, 0, 1.5, 0, 1, 1]}, Polygon(points=(0.0, 0.0, 1.5, 0.0, 1.0, 1.0))),
])
def test_non_canonical_shapes_still_go_through_the_constructor(d, fixed):
    from dsrepo.model.encoding import annotation_from_dict

    back = annotation_from_dict(d)
    assert back == fixed and all(type(v) is float for v in back.get_bbox())


@pytest.mark.parametrize("d, message", [
    ({"t": "bbox", "b": [0.0, 0.0, -1.0, 2.0]}, "bbox has negative size: w=-1.0, h=2.0"),
    ({"t": "polygon", "p": [0.0, 0.0, 1.0]}, "polygon: odd number of coordinates (3)"),
    ({"t": "polyline", "p": [0.0, 0.0], "l": -1}, "label index must be a non-negative int, got -1"),
    ({"t": "bbox", "b": [0.0, 0.0, 1.0, 2.0], "l": "cat"}, "label index must be a non-negative int, got 'cat'"),
    ({"t": "points", "p": [0.0, 0.0, 1.0, 1.0], "v": [2]}, "points: 2 points but 1 visibility values"),
    ({"t": "points", "p": [0.0, 0.0], "v": [3]}, "points: visibility must be 0, 1 or 2, got (3,)"),
    ({"t": "caption", "c": 5}, "caption must be a string"),
])
def test_invalid_stored_shapes_are_still_rejected(d, message):
    from dsrepo.model.encoding import annotation_from_dict

    with pytest.raises(ValueError) as e:
        annotation_from_dict(d)
    assert str(e.value) == message


def test_encoding_is_stable_bytes():
    item = Item(id="a", media=Image(size=(2, 3), md5="f" * 32),
                annotations=(Bbox(x=0.1, y=1e-7, w=3, h=1e20, label=0, attributes={"z": 1, "a": True}),))
    assert encode_item(item) == (
        b'{"anns":[{"a":{"a":true,"z":1},"b":[0.1,1e-7,3.0,1e+20],"l":0,"t":"bbox"}],'
        b'"id":"a","media":{"md5":"ffffffffffffffffffffffffffffffff","size":[2,3]},"s":"default"}'
    )


def test_hash_same_in_another_process():
    item = rich_item()
    code = (
        "import sys; sys.path.insert(0, '.');"
        "from tests.model.test_encoding import rich_item;"
        "from dsrepo.model.encoding import item_hash; print(item_hash(rich_item()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": ""})
    assert out.stdout.strip() == item_hash(item)


def test_int_and_float_coordinates_hash_alike():
    a = Item(id="x", annotations=(Bbox(x=1, y=2, w=3, h=4),))
    b = Item(id="x", annotations=(Bbox(x=1.0, y=2.0, w=3.0, h=4.0),))
    assert item_hash(a) == item_hash(b)


def test_negative_zero_normalised():
    a = Item(id="x", annotations=(Polygon(points=[-0.0, 0, 1, 0, 1, 1]),), attributes={"v": -0.0})
    b = Item(id="x", annotations=(Polygon(points=[0.0, 0, 1, 0, 1, 1]),), attributes={"v": 0.0})
    assert item_hash(a) == item_hash(b)


def test_attribute_order_does_not_matter():
    a = Item(id="x", attributes={"a": 1, "b": 2}, annotations=(Label(label=0, attributes={"p": 1, "q": 2}),))
    b = Item(id="x", attributes={"b": 2, "a": 1}, annotations=(Label(label=0, attributes={"q": 2, "p": 1}),))
    assert encode_item(a) == encode_item(b)


def test_numpy_scalars_normalised():
    a = Item(id="x", attributes={"n": np.int64(3), "f": np.float32(0.5)})
    b = Item(id="x", attributes={"n": 3, "f": 0.5})
    assert item_hash(a) == item_hash(b)


@pytest.mark.parametrize("change", [
    dict(id="dir/img 2"),
    dict(subset="val"),
    dict(media=Image(size=(7, 8), name="dir/img 1.jpg", md5="1" + "0" * 31)),
    dict(media=Image(size=(8, 8), name="dir/img 1.jpg", md5="0" * 32)),
    dict(attributes={"weather": "sun", "frame": 3}),
    dict(attributes={"weather": "rain", "frame": 3.0}),
    dict(attributes={"weather": "rain", "frame": True}),
    dict(meta={"coco_id": 43}),
])
def test_any_item_change_changes_hash(change):
    assert item_hash(rich_item(**change)) != item_hash(rich_item())


def _replace_ann(index, **changes):
    item = rich_item()
    anns = list(item.annotations)
    anns[index] = anns[index].with_(**changes)
    return item.with_(annotations=tuple(anns))


@pytest.mark.parametrize("index,changes", [
    (0, dict(label=1)), (0, dict(attributes={"score": 0.250001})),
    (1, dict(caption="a cafe")), (2, dict(x=1.0000001)), (2, dict(id=9)), (2, dict(group=0)),
    (2, dict(z_order=0)), (2, dict(attributes={"occluded": True, "b": 1, "a": "x"})),
    (3, dict(points=(0.0, 0.0, 4.0, 0.0, 4.0, 3.5))), (3, dict(meta={})),
    (5, dict(visibility=(2, 2, 0))), (7, dict(y2=4.5)),
])
def test_any_annotation_change_changes_hash(index, changes):
    assert item_hash(_replace_ann(index, **changes)) != item_hash(rich_item())


def test_mask_pixel_change_changes_hash():
    arr = np.zeros((5, 5), np.uint8)
    arr[1, 1] = 1
    a = Item(id="m", annotations=(Mask.from_array(arr),))
    arr[1, 2] = 1
    b = Item(id="m", annotations=(Mask.from_array(arr),))
    assert item_hash(a) != item_hash(b)


def test_annotation_order_matters():
    item = rich_item()
    swapped = item.with_(annotations=item.annotations[::-1])
    assert item_hash(swapped) != item_hash(item)


def test_media_md5_from_file(tmp_path):
    p = tmp_path / "a.jpg"
    p.write_bytes(b"abc")
    a = Item(id="a", media=Image(path=str(p), name="a.jpg"))
    h1 = item_hash(a)
    p.write_bytes(b"abd")
    assert item_hash(a) != h1
    # the absolute path is not part of the encoding: same content elsewhere, same hash
    q = tmp_path / "sub"
    q.mkdir()
    (q / "a.jpg").write_bytes(b"abd")
    assert item_hash(Item(id="a", media=Image(path=str(q / "a.jpg"), name="a.jpg"))) == item_hash(a)


def test_non_finite_rejected():
    with pytest.raises(ValueError, match="not a finite number"):
        Bbox(x=math.nan, y=0, w=1, h=1)
    with pytest.raises(ValueError, match="non-finite"):
        encode_item(Item(id="x", attributes={"s": math.inf}))


def test_invalid_geometry_rejected():
    with pytest.raises(ValueError, match="negative size"):
        Bbox(x=0, y=0, w=-1, h=1)
    with pytest.raises(ValueError, match="odd number"):
        Polygon(points=[1, 2, 3])
    with pytest.raises(ValueError, match="counts sum to 3, expected h\\*w = 4"):
        Mask(rle={"size": [2, 2], "counts": [1, 2]})


def test_uncompressed_and_compressed_rle_decode_alike():
    arr = np.zeros((4, 6), np.uint8)
    arr[1:3, 2:5] = 1
    comp = Mask.from_array(arr)
    from dsrepo.model.masks import uncompressed_counts

    unc = Mask(rle={"size": [4, 6], "counts": uncompressed_counts(comp.rle)})
    assert not unc.is_compressed and comp.is_compressed
    assert (unc.image == arr).all() and (comp.image == arr).all()
    assert unc.get_area() == comp.get_area() == 6
    assert unc.get_bbox() == comp.get_bbox() == (2.0, 1.0, 3.0, 2.0)


def test_categories_round_trip_and_hash():
    cats = Categories(
        labels=(LabelCategory("person", "human", ("age",), meta={"coco_id": 1}), LabelCategory("car")),
        points={0: PointsCategory(("nose", "eye"), ((1, 2),))},
        colormap={0: (1, 2, 3), 1: (4, 5, 6)},
        attributes=("occluded",),
    )
    data = encode_categories(cats)
    assert decode_categories(data) == cats
    assert categories_hash(cats) == categories_hash(decode_categories(data))
    renamed = cats.with_(labels=(LabelCategory("person", "human", ("age",), meta={"coco_id": 1}),
                                 LabelCategory("truck")))
    assert categories_hash(renamed) != categories_hash(cats)


def test_nested_values_normalise_and_bad_ones_name_their_path():
    from dsrepo.model.encoding import item_to_dict

    item = Item(id="x", attributes={"d": {"z": -0.0, "l": [-0.0, 1, "s", np.float64(2.5), (1.5,)]}})
    assert item_to_dict(item)["a"] == {"d": {"l": [0.0, 1, "s", 2.5, [1.5]], "z": 0.0}}
    assert repr(item_to_dict(item)["a"]["d"]["z"]) == "0.0"
    with pytest.raises(ValueError, match=r"^item x: attributes\.d\.l: non-finite number inf$"):
        encode_item(Item(id="x", attributes={"d": {"l": [1.0, float("inf")]}}))
    with pytest.raises(ValueError, match=r"^item x: attributes\.d: key 3 is not a string$"):
        encode_item(Item(id="x", attributes={"d": {3: 1}}))

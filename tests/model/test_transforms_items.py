"""rename, map_subsets, reindex, id_from_image_name, sort, remove_* transforms."""

import pytest

from dsrepo.errors import DatasetError, UsageError
from dsrepo.model import Bbox, Categories, Dataset, Image, Item, Label
from dsrepo.model.encoding import encode_item


def ds(items, subset_meta=None):
    return Dataset.from_items(items, Categories.from_names(["a", "b"]), subset_meta)


def keys(dataset):
    return [(it.subset, it.id) for it in dataset]


def test_rename_with_groups_and_nested_ids():
    d = ds([Item(id="frame_000012"), Item(id="video 1/frame_7", subset="val"), Item(id="other")])
    out = d.transform("rename", regex=r"|frame_0*(\d+)|img\1|")
    assert keys(out) == [("default", "img12"), ("val", "video 1/img7"), ("default", "other")]
    assert keys(d.transform("rename", regex="#^(.*)$#x/\\1#")) == [
        ("default", "x/frame_000012"), ("val", "x/video 1/frame_7"), ("default", "x/other")]


def test_rename_errors():
    d = ds([Item(id="a1"), Item(id="a2"), Item(id="b")])
    for bad in ("|a|", "a", "|a|b|c|", "||x|", None):
        with pytest.raises(UsageError, match=r"rename: --regex expects "):
            d.transform("rename", regex=bad)
    with pytest.raises(UsageError,
                       match=r"rename: bad pattern '\(': missing \), unterminated subpattern at position 0"):
        d.transform("rename", regex="|(|x|")
    with pytest.raises(UsageError, match=r"rename: bad replacement '\\\\2'"):
        d.transform("rename", regex=r"|(a)|\2|")
    with pytest.raises(DatasetError, match=r"rename: items default/a1 and default/a2 both become default/a"):
        list(d.transform("rename", regex=r"|\d||"))
    with pytest.raises(DatasetError, match=r"rename: item default/b gets an empty id"):
        list(d.transform("rename", regex="|b||"))


def test_map_subsets_moves_meta_and_merges():
    d = ds([Item(id="1", subset="train"), Item(id="2", subset="val"), Item(id="3", subset="test")],
           subset_meta={"train": {"coco": {"x": 1}}, "val": {"coco": {"x": 2}}, "extra": {"k": 3}})
    out = d.transform("map_subsets", mapping=["val:train", "test:holdout", "extra:more"])
    assert keys(out) == [("train", "1"), ("train", "2"), ("holdout", "3")]
    assert dict(out.subset_meta) == {"train": {"coco": {"x": 1}}, "more": {"k": 3}}
    assert out.subsets() == ["train", "holdout", "more"]


def test_map_subsets_errors():
    d = ds([Item(id="1", subset="train"), Item(id="1", subset="val")])
    with pytest.raises(DatasetError, match=r"map_subsets: items train/1 and val/1 both become all/1"):
        list(d.transform("map_subsets", mapping="train:all,val:all"))
    with pytest.raises(UsageError, match=r"map_subsets: empty destination subset in 'train:'"):
        d.transform("map_subsets", mapping=["train:"])
    with pytest.raises(UsageError, match=r"map_subsets: --mapping expects 'name:value', got ':x'"):
        d.transform("map_subsets", mapping=[":x"])


def test_reindex_across_subsets():
    d = ds([Item(id="x", subset="train"), Item(id="y", subset="val"), Item(id="z", subset="train")])
    assert keys(d.transform("reindex")) == [("train", "1"), ("val", "2"), ("train", "3")]
    assert keys(d.transform("reindex", start=0)) == [("train", "0"), ("val", "1"), ("train", "2")]
    assert keys(d.transform("reindex", start="10")) == [("train", "10"), ("val", "11"), ("train", "12")]


def test_id_from_image_name(tmp_path):
    d = ds([
        Item(id="1", media=Image(name="dir/sub/img one.JPG")),
        Item(id="2", media=Image(path=str(tmp_path / "photo.png"))),
        Item(id="3"),
        Item(id="4", media=Image(name="./ünï.jpeg", size=(2, 3))),
    ])
    out = list(d.transform("id_from_image_name"))
    assert [it.id for it in out] == ["dir/sub/img one", "photo", "3", "ünï"]
    assert out[3].media == Image(name="./ünï.jpeg", size=(2, 3))
    dup = ds([Item(id="1", media=Image(name="a.jpg")), Item(id="2", media=Image(name="a.png"))])
    with pytest.raises(DatasetError, match=r"id_from_image_name: items default/1 and default/2 both become default/a"):
        list(dup.transform("id_from_image_name"))


def test_sort_is_stable_by_id():
    d = ds([Item(id="b", subset="s1"), Item(id="a", subset="s2"), Item(id="b", subset="s0"),
            Item(id="a/c"), Item(id="A")])
    assert keys(d.transform("sort")) == [("default", "A"), ("s2", "a"), ("default", "a/c"), ("s1", "b"), ("s0", "b")]


def test_remove_items():
    d = ds([Item(id="1", subset="train"), Item(id="x:y", subset="train"), Item(id="1", subset="val")])
    assert keys(d.transform("remove_items", id=["train:1", "train:x:y", "val:missing"])) == [("val", "1")]
    with pytest.raises(UsageError, match="remove_items: no --id given"):
        d.transform("remove_items")
    with pytest.raises(UsageError, match=r"remove_items: --id expects 'subset:id', got 'train:'"):
        d.transform("remove_items", id=["train:"])


def anns():
    return (Bbox(id=1, x=0, y=0, w=1, h=1, label=0), Bbox(id=2, x=1, y=1, w=1, h=1, label=1), Label(id=2, label=0))


def test_remove_annotations():
    d = ds([Item(id="1", annotations=anns()), Item(id="2", annotations=anns()), Item(id="3:1", annotations=anns())])
    assert [len(it.annotations) for it in d.transform("remove_annotations")] == [0, 0, 0]
    out = list(d.transform("remove_annotations", id=["default:1:2", "default:2"]))
    assert [(a.type.value, a.id) for a in out[0].annotations] == [("bbox", 1)]
    assert out[1].annotations == ()
    assert out[2].annotations == anns()
    out = list(d.transform("remove_annotations", id="default:3:1"))
    assert [len(it.annotations) for it in out] == [3, 3, 0]
    out = list(d.transform("remove_annotations", id="default:3:1:1"))
    assert [[a.id for a in it.annotations] for it in out] == [[1, 2, 2], [1, 2, 2], [2, 2]]


def test_remove_attributes():
    item = Item(id="1", attributes={"frame": 3, "weather": "rain"},
                annotations=(Bbox(x=0, y=0, w=1, h=1, attributes={"occluded": True, "score": 0.5}), Label(label=0)))
    other = Item(id="2", attributes={"frame": 4})
    d = ds([item, other])
    out = list(d.transform("remove_attributes", attr=["frame", "occluded"]))
    assert out[0].attributes == {"weather": "rain"}
    assert out[0].annotations[0].attributes == {"score": 0.5}
    assert out[0].annotations[1] is item.annotations[1]
    assert out[1].attributes == {}
    out = list(d.transform("remove_attributes", id=["default:1"]))
    assert out[0].attributes == {} and out[0].annotations[0].attributes == {}
    assert out[1] == other
    assert encode_item(out[0]) == encode_item(Item(id="1", annotations=(Bbox(x=0, y=0, w=1, h=1), Label(label=0))))


def test_lazy_and_repeatable():
    calls = []

    def factory():
        calls.append(1)
        return iter([Item(id="b"), Item(id="a")])

    d = Dataset(Categories(), factory)
    out = d.transform("rename", regex="|^|x_|").transform("sort")
    assert calls == []
    assert keys(out) == [("default", "x_a"), ("default", "x_b")]
    assert keys(out) == [("default", "x_a"), ("default", "x_b")]
    assert len(calls) == 2

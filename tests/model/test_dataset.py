"""Dataset container behaviour."""

from dsrepo.model import Bbox, Categories, Dataset, Item, Label
from dsrepo.model.stats import summarize


def make():
    items = [
        Item(id="a", subset="train", annotations=(Label(label=0), Bbox(x=0, y=0, w=1, h=1, label=1))),
        Item(id="b", subset="val"),
        Item(id="c", subset="train", annotations=(Label(label=1),)),
    ]
    return Dataset.from_items(items, Categories.from_names(["cat", "dog"]))


def test_lazy_factory_reiterable():
    calls = []

    def factory():
        calls.append(1)
        yield Item(id="x")
        yield Item(id="y")

    ds = Dataset(Categories(), factory)
    assert [i.id for i in ds] == ["x", "y"]
    assert [i.id for i in ds] == ["x", "y"]
    assert len(calls) == 2
    assert len(ds) == 2


def test_subsets_get_and_summary():
    ds = make()
    assert ds.subsets() == ["train", "val"]
    assert ds.get("c", "train").annotations[0].label == 1
    assert ds.get("c", "val") is None
    s = summarize(ds)
    assert s["items"] == 3 and s["annotations"] == 3 and s["labels"] == 2
    assert s["subsets"] == {"train": {"items": 2, "annotations": 3}, "val": {"items": 1, "annotations": 0}}
    assert s["annotation_types"] == {"bbox": 1, "label": 2}


def test_map_items_drops_none():
    ds = make().map_items(lambda it: None if it.subset == "val" else it.with_(subset="all"))
    assert [(i.id, i.subset) for i in ds] == [("a", "all"), ("c", "all")]


def test_categories_find():
    cats = Categories.from_names(["cat", "dog"])
    assert cats.find("dog") == 1 and cats.find("cow") is None

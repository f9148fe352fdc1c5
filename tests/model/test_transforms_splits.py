"""random_split and split: exact sizes, stratification, determinism."""

from collections import Counter

import pytest

from dsrepo.errors import DatasetError, UsageError
from dsrepo.model import Bbox, Categories, Dataset, Item, Label, Mask, Polygon
from dsrepo.model.transforms.spec import apportion, stable_key
from dsrepo.model.transforms.splits import allocate


def plain(n, subset="default"):
    return Dataset.from_items([Item(id=f"img{i:03d}", subset=subset) for i in range(n)],
                              Categories.from_names(["a", "b", "c"]), {subset: {"coco": {"k": 1}}})


def subsets_of(dataset):
    return {it.id: it.subset for it in dataset}


def test_apportion_and_allocate():
    assert apportion(10, [0.67, 0.33]) == [7, 3]
    assert apportion(7, [0.5, 0.2, 0.3]) == [4, 1, 2]
    assert apportion(3, [1 / 3, 1 / 3, 1 / 3]) == [1, 1, 1]
    assert apportion(0, [0.5, 0.5]) == [0, 0]
    alloc = allocate([5, 3, 2], [0.5, 0.5])
    assert [sum(col) for col in zip(*alloc)] == [5, 5]
    assert [sum(row) for row in alloc] == [5, 3, 2]
    assert alloc == [[3, 2], [1, 2], [1, 1]]


def test_stable_key_is_fixed():
    assert stable_key(0, "train", "a") != stable_key(1, "train", "a")
    assert stable_key(0, "a", "bc") != stable_key(0, "ab", "c")
    # BLAKE2b-128 of b"7", b"\0s", b"\0id": the same bytes on every machine and Python
    assert stable_key(7, "s", "id").hex() == "1dc4980ef8c9681e0b75c069b46090f7"


def test_random_split_exact_sizes_deterministic_and_order_kept():
    d = plain(10)
    out = d.transform("random_split", subset=["train:0.5", "val:0.2", "test:0.3"], seed=3)
    assert [it.id for it in out] == [f"img{i:03d}" for i in range(10)]
    assert Counter(it.subset for it in out) == {"train": 5, "val": 2, "test": 3}
    first = subsets_of(out)
    assert subsets_of(d.transform("random_split", subset=["train:0.5", "val:0.2", "test:0.3"], seed=3)) == first
    assert subsets_of(out) == first
    other = subsets_of(d.transform("random_split", subset=["train:0.5", "val:0.2", "test:0.3"], seed=4))
    assert other != first
    assert dict(out.subset_meta) == {}


def test_random_split_selection_depends_only_on_keys():
    """Reversing the input order changes nothing about who goes where."""
    d = plain(9)
    rev = Dataset.from_items(list(d)[::-1], d.categories)
    a = subsets_of(d.transform("random_split", subset=["train:0.67", "test:0.33"]))
    b = subsets_of(rev.transform("random_split", subset=["train:0.67", "test:0.33"]))
    assert a == b
    assert Counter(a.values()) == {"train": 6, "test": 3}


def test_random_split_defaults_and_empty():
    out = plain(3).transform("random_split")
    assert Counter(it.subset for it in out) == {"train": 2, "test": 1}
    assert list(Dataset.from_items([]).transform("random_split")) == []


def test_random_split_errors():
    d = plain(4)
    with pytest.raises(UsageError, match=r"random_split: subset ratios must sum to 1, got 0.9"):
        d.transform("random_split", subset=["a:0.5", "b:0.4"])
    with pytest.raises(UsageError, match=r"random_split: ratio of subset 'a' is not a number: 'x'"):
        d.transform("random_split", subset=["a:x", "b:1"])
    with pytest.raises(UsageError, match=r"random_split: ratio of subset 'a' must be in \(0, 1\], got -0.5"):
        d.transform("random_split", subset=["a:-0.5", "b:1.5"])
    with pytest.raises(UsageError, match=r"random_split: subset 'a' given twice"):
        d.transform("random_split", subset=["a:0.5", "a:0.5"])
    with pytest.raises(UsageError, match=r"random_split: no --subset given"):
        d.transform("random_split", subset=[])
    with pytest.raises(UsageError, match=r"option --seed: expected int, got 'x'"):
        d.transform("random_split", seed="x")
    clash = Dataset.from_items([Item(id="1", subset="s1"), Item(id="1", subset="s2")])
    with pytest.raises(DatasetError, match=r"random_split: items s\d/1 and s\d/1 both become all/1"):
        list(clash.transform("random_split", subset=["all:1"]))


def test_split_classification_is_stratified():
    items = [Item(id=f"a{i}", annotations=(Label(label=0),)) for i in range(6)]
    items += [Item(id=f"b{i}", annotations=(Label(label=1),)) for i in range(4)]
    items += [Item(id=f"n{i}") for i in range(2)]
    d = Dataset.from_items(items, Categories.from_names(["a", "b"]))
    out = list(d.transform("split", task="classification", subset=["train:0.5", "test:0.5"], seed=11))
    per = Counter((it.id[0], it.subset) for it in out)
    assert per == {("a", "train"): 3, ("a", "test"): 3, ("b", "train"): 2, ("b", "test"): 2,
                   ("n", "train"): 1, ("n", "test"): 1}
    again = subsets_of(d.transform("split", task="classification", subset=["train:0.5", "test:0.5"], seed=11))
    assert again == {it.id: it.subset for it in out}


def test_split_detection_balances_rare_labels():
    box = lambda label: Bbox(x=0, y=0, w=1, h=1, label=label)
    # label 1 (rare) appears in 4 items that also hold the common label 0
    items = [Item(id=f"r{i}", annotations=(box(0), box(1))) for i in range(4)]
    items += [Item(id=f"c{i}", annotations=(box(0), box(0))) for i in range(6)]
    items += [Item(id=f"m{i}", annotations=(Polygon(points=(0, 0, 1, 0, 1, 1), label=2),)) for i in range(2)]
    d = Dataset.from_items(items, Categories.from_names(["common", "rare", "seg"]))
    for seed in range(5):
        out = list(d.transform("split", task="detection", subset=["train:0.75", "test:0.25"], seed=seed))
        per = Counter((it.id[0], it.subset) for it in out)
        assert per[("r", "train")] == 3 and per[("r", "test")] == 1
        assert Counter(it.subset for it in out) == {"train": 9, "test": 3}


def test_split_segmentation_uses_segments():
    mask = Mask.from_array([[1]], label=1)
    items = [Item(id=f"s{i}", annotations=(mask, Bbox(x=0, y=0, w=1, h=1, label=0))) for i in range(4)]
    items += [Item(id=f"p{i}", annotations=(Polygon(points=(0, 0, 1, 0, 1, 1), label=0),)) for i in range(4)]
    d = Dataset.from_items(items, Categories.from_names(["x", "y"]))
    out = list(d.transform("split", task="segmentation", subset=["train:0.5", "val:0.5"], seed=0))
    per = Counter((it.id[0], it.subset) for it in out)
    assert per == {("s", "train"): 2, ("s", "val"): 2, ("p", "train"): 2, ("p", "val"): 2}
    with pytest.raises(UsageError, match=r"option --task: expected one of classification, detection, segmentation"):
        d.transform("split", task="reid")

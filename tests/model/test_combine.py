"""merge-datasets policies."""

import pytest

from dsrepo.errors import DsrepoError, UsageError
from dsrepo.model import Bbox, Categories, Dataset, Item, Label
from dsrepo.model.combine import combine_datasets


def ds(items, names):
    return Dataset.from_items(items, Categories.from_names(names))


def test_exact_merges_and_reports_conflicts():
    a = ds([Item(id="1", annotations=(Label(label=0),)), Item(id="2")], ["cat", "dog"])
    b = ds([Item(id="1", annotations=(Label(label=1),)), Item(id="3")], ["cat", "dog"])
    out, rep = combine_datasets([a, b], "exact")
    assert [i.id for i in out] == ["1", "2", "3"]
    assert out.get("1").annotations == (Label(label=0),)
    assert rep["conflicts"] == [{"subset": "default", "id": "1", "source": 2,
                                 "reason": "item differs from an earlier source"}]


def test_exact_requires_same_categories():
    with pytest.raises(DsrepoError, match="categories of source 2 differ"):
        combine_datasets([ds([], ["a"]), ds([], ["b"])], "exact")


def test_union_remaps_and_suffixes():
    a = ds([Item(id="1", annotations=(Label(label=0),))], ["cat"])
    b = ds([Item(id="1", annotations=(Label(label=0),)), Item(id="2", annotations=(Label(label=1),))], ["dog", "cat"])
    out, rep = combine_datasets([a, b], "union")
    assert out.categories.label_names() == ["cat", "dog"]
    assert out.get("1").annotations == (Label(label=0),)
    assert out.get("1__1").annotations == (Label(label=1),)
    assert out.get("2").annotations == (Label(label=0),)
    assert rep["renamed"] == [{"subset": "default", "id": "1", "renamed_to": "1__1", "source": 2}]


def test_intersect_votes_with_quorum_and_score():
    box = lambda x, label: Bbox(x=x, y=0, w=10, h=10, label=label)
    a = ds([Item(id="1", annotations=(box(0, 0), box(100, 1)))], ["cat", "dog"])
    b = ds([Item(id="1", annotations=(box(1, 0),))], ["cat", "dog"])
    c = ds([Item(id="1", annotations=(box(0, 1), box(300, 1))), Item(id="2")], ["cat", "dog"])
    out, rep = combine_datasets([a, b, c], "intersect", groups=[["cat", "dog"]])
    anns = out.get("1").annotations
    assert len(anns) == 1 and anns[0].label == 0 and anns[0].attributes["score"] == pytest.approx(2 / 3)
    assert len(rep["unmatched_annotations"]) == 2
    assert rep["unmatched_items"] == [{"subset": "default", "id": "2", "missing_in": [1, 2]}]
    assert rep["errors"][0]["missing"] == ["dog"]
    with pytest.raises(UsageError, match="quorum must be between 1 and 3"):
        combine_datasets([a, b, c], "intersect", quorum=4)

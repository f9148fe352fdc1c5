"""Build pipeline: stages in the working tree, status/commit/checkout of stages, the
build cache, combining sources into the project, and export of any revision."""

from __future__ import annotations

import shutil

import pytest

from dsrepo.errors import ExportError, RepoError, UsageError
from dsrepo.formats.api import import_dataset

from .helpers import tree_digest


@pytest.fixture
def committed(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    return repo


def _labels(ds):
    names = ds.categories.label_names()
    return sorted({names[a.label] for it in ds for a in it.annotations if a.label is not None})


def test_stage_is_shown_by_status_recorded_by_commit_restored_by_checkout(committed):
    repo = committed
    r = repo.transform("remap_labels", "coco", {"label": ["cat:feline"]})
    assert r.recorded and r.stage.target == "coco" and r.stage.params == {"label": ["cat:feline"]}
    st = repo.status()
    assert not st.clean and [s.id for s in st.pipeline_change.added] == [r.stage.id]
    c = repo.commit("rename cat")
    assert c.summary == {"(stages)": {"state": "pipeline", "added": 1, "removed": 0, "policy": None}}
    assert repo.status().clean
    assert "feline" in _labels(repo.dataset("HEAD")) and "cat" not in _labels(repo.dataset("HEAD"))
    assert "cat" in _labels(repo.dataset("HEAD~1"))
    repo.checkout("HEAD~1")
    assert repo.stages().stages == ()
    repo.checkout("main")
    assert [s.id for s in repo.stages().stages] == [r.stage.id]


def test_dry_run_records_nothing_and_reports_the_effect(committed):
    repo = committed
    r = repo.filter('/item[subset="val2017"]', "coco", dry_run=True)
    assert not r.recorded and repo.stages().stages == ()
    assert [(s.label, s.items) for s in r.steps] == [("source coco", 8), ("filter '/item[subset=\"val2017\"]'", 3)]
    assert r.preview is not None and "<item>" in r.preview and "<subset>train2017</subset>" in r.preview
    assert repo.status().clean


def test_bad_stage_changes_nothing(committed):
    repo = committed
    with pytest.raises(UsageError, match="unknown transform 'nope'"):
        repo.transform("nope", "coco")
    with pytest.raises(UsageError, match="transform remap_labels: unknown option 'bogus'"):
        repo.transform("remap_labels", "coco", {"bogus": 1})
    with pytest.raises(RepoError, match="no source named 'other'"):
        repo.transform("sort", "other")
    with pytest.raises(UsageError, match="option --save-media|expected true or false"):
        repo.export("unused", "coco", "HEAD", options={"save_media": "maybe"})
    with pytest.raises(UsageError, match=r"/item\["):
        repo.filter("/item[", "coco")
    assert repo.stages().stages == () and repo.status().clean


def test_checkout_refuses_over_uncommitted_stages(committed):
    repo = committed
    repo.commit("again", allow_empty=True)
    repo.transform("sort", "coco")
    with pytest.raises(RepoError, match="local changes in the pipeline"):
        repo.checkout("HEAD~1")
    repo.checkout("HEAD~1", force=True)
    assert repo.stages().stages == ()


def test_build_cache_reuses_every_unchanged_step(committed):
    repo = committed
    a = repo.transform("remap_labels", "coco", {"label": ["cat:feline"]})
    repo.filter('/item[subset="train2017"]', "coco")
    b = repo.transform("random_split", "coco", {"subset": ["x:0.5", "y:0.5"], "seed": 3})
    first = repo.build(None, "coco")
    again = repo.build(None, "coco")
    assert [s.cached for s in again.steps] == [True, True, True, True]
    assert again.key == first.key
    # a new parameter for the last stage: earlier steps come from the cache
    repo.remove_stage(b.stage.id)
    r = repo.transform("random_split", "coco", {"subset": ["x:0.5", "y:0.5"], "seed": 4})
    assert [s.cached for s in r.steps] == [True, True, True, False]  # adding it built it
    changed = repo.build(None, "coco")
    assert [s.cached for s in changed.steps] == [True, True, True, True]
    assert changed.key != first.key
    # removing the first stage changes every later key
    repo.remove_stage(a.stage.id)
    assert [s.cached for s in repo.build(None, "coco").steps] == [True, False, False]


def test_stage_ids_and_remove_errors(committed):
    repo = committed
    s1 = repo.transform("sort", "coco").stage
    s2 = repo.transform("sort", "coco").stage
    assert s1.id != s2.id  # chained: the same stage twice gets two ids
    with pytest.raises(RepoError, match="no stage 'zzz' in the working pipeline"):
        repo.remove_stage("zzz")
    repo.remove_stage(s2.id)
    assert [s.id for s in repo.stages().stages] == [s1.id]


def test_export_is_byte_identical_and_never_deletes(committed, tmp_path):
    repo = committed
    repo.transform("remap_labels", "coco", {"label": ["cat:feline"]})
    repo.commit("pipeline")
    r1 = repo.export(tmp_path / "a", "coco", "HEAD", options={"save_media": True})
    r2 = repo.export(tmp_path / "b", "coco", "HEAD", options=["--save-media"])
    assert r1.items == 8 and r1.files == r2.files
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert "feline" in _labels(import_dataset(tmp_path / "a", "coco"))
    with pytest.raises(ExportError, match="folder is not empty"):
        repo.export(tmp_path / "a", "coco", "HEAD")
    (tmp_path / "a" / "mine.txt").write_text("keep me")
    repo.export(tmp_path / "a", "coco", "HEAD~1", overwrite=True)
    assert (tmp_path / "a" / "mine.txt").read_text() == "keep me"
    assert "cat" in _labels(import_dataset(tmp_path / "a", "coco"))


def test_export_with_filter_and_target(committed, tmp_path):
    repo = committed
    r = repo.export(tmp_path / "val", "coco", "HEAD", target="coco", filter_expr='/item[subset="val2017"]')
    assert r.items == 3
    assert {it.subset for it in import_dataset(tmp_path / "val", "coco")} == {"val2017"}


def test_project_combines_sources_by_policy(repo, coco_sample, coco_edited, tmp_path):
    repo.add(coco_sample, name="a", format="coco")
    repo.add(coco_sample, name="b", format="coco")
    repo.commit("two identical sources")
    assert len(repo.dataset("HEAD")) == 8  # identical items merge
    repo.update("b", coco_edited, format="coco")
    repo.commit("b edited")
    with pytest.raises(RepoError, match=r"item train2017/\S+ differs between sources 'a' and 'b'"):
        repo.dataset("HEAD")
    info = repo.info("HEAD")
    assert info.build_error and "differs between sources 'a' and 'b'" in info.build_error
    r = repo.export(tmp_path / "u", "datumaro", "HEAD", merge_policy="union")  # override for one export
    assert r.items > 8 and r.steps[-1].label == "project (union merge of 2 sources)"
    repo.set_merge_policy("union")
    assert repo.status().pipeline_change.policy == ("exact", "union")
    repo.commit("union")
    ids = sorted(it.id for it in repo.dataset("HEAD"))
    assert len(ids) == 8 + sum(1 for i in ids if i.endswith("__b")) and any(i.endswith("__b") for i in ids)


def test_info_shows_per_step_counts(committed):
    repo = committed
    repo.filter('/item[subset="val2017"]', "coco")
    repo.filter("/item/annotation[iscrowd=\"1\"]", "project", mode="annotations")
    repo.commit("filters")
    steps = repo.info("HEAD").steps
    assert [(s.target, s.items) for s in steps] == [("coco", 8), ("coco", 3), ("project", 3), ("project", 3)]
    assert steps[0].annotations > steps[1].annotations >= steps[3].annotations


def test_resized_images_are_stored_and_exported(committed, tmp_path):
    repo = committed
    repo.transform("resize", "coco", {"width": 32, "height": 24})
    repo.commit("small")
    repo.export(tmp_path / "out", "coco", "HEAD", options={"save_media": True})
    ds = import_dataset(tmp_path / "out", "coco")
    for it in ds:
        assert it.media.header_size() == (24, 32)
    # a second build reads the stored PNGs
    assert all(it.media.path and it.media.path.startswith(str(repo.layout.media)) for it in repo.dataset("HEAD"))


def test_source_named_project_is_refused(repo, coco_sample):
    with pytest.raises(RepoError, match="'project' is reserved"):
        repo.add(coco_sample, name="project", format="coco")
    shutil.rmtree(coco_sample)

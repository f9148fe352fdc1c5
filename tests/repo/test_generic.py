"""Format-independent behaviour, on the test-only ``tinyjson`` format: extra files,
symlinks, in-memory datasets, export options, unsafe stored paths."""

from __future__ import annotations

import os

import numpy as np
import orjson
import pytest

from dsrepo.errors import CorruptObjectError
from dsrepo.model import Bbox, Categories, Dataset, Image, Item
from dsrepo.progress import NullProgress
from dsrepo.repo.access import load_record
from dsrepo.repo.records import SourceRecord

from .helpers import tree_digest
from .tinyfmt import write_tiny


def _tiny(tmp_path, n=3, **kw):
    items = [{"id": f"i{k}", "image": f"img/{k}.png", "boxes": [[0, 1, 2, 3, 4]]} for k in range(n)]
    return write_tiny(tmp_path / "src", items, images={f"img/{k}.png": b"PNG%d" % k for k in range(n)}, **kw)


def test_extra_files_are_versioned_byte_for_byte(repo, tiny_format, tmp_path):
    repo.add(_tiny(tmp_path), name="t", format="tinyjson")
    repo.commit("init")
    wc = repo.layout.source_dir("t")
    (wc / "README.txt").write_text("notes v1")
    st = repo.status().get("t")
    assert st.state == "modified" and st.change.files == 1 and st.change.counts() == {
        "added": 0, "removed": 0, "modified": 0}
    repo.commit("readme")
    (wc / "README.txt").write_text("notes v2")
    repo.commit("readme 2")
    repo.checkout("HEAD~2")
    assert not (wc / "README.txt").exists()
    repo.checkout("main")
    assert (wc / "README.txt").read_text() == "notes v2"
    repo.checkout("HEAD~1")
    assert (wc / "README.txt").read_text() == "notes v1"


def test_image_edit_without_annotation_change(repo, tiny_format, tmp_path):
    repo.add(_tiny(tmp_path), name="t", format="tinyjson")
    c1 = repo.commit("init")
    img = repo.layout.source_dir("t") / "img" / "1.png"
    img.write_bytes(b"new pixels")
    st = repo.status().get("t")
    assert st.change.modified == (("default", "i1"),)
    repo.commit("new image")
    repo.checkout(c1.id)
    assert img.read_bytes() == b"PNG1"
    repo.checkout("main")
    assert img.read_bytes() == b"new pixels"


def test_symlink_leaving_the_source_is_not_followed(repo, tiny_format, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"SECRET")
    src = _tiny(tmp_path)
    os.symlink(secret, src / "img" / "evil.png")
    doc = orjson.loads((src / "items.json").read_bytes())
    doc["items"].append({"id": "evil", "image": "img/evil.png"})
    (src / "items.json").write_bytes(orjson.dumps(doc))
    progress = NullProgress()
    r = repo.add(src, name="t", format="tinyjson", progress=progress)
    assert r.files == 3
    assert progress.warnings == [
        "t: 1 images are symlinks pointing outside the dataset folder; not followed, not stored"]
    stored = [p for p in repo.layout.media.rglob("*") if p.is_file()]
    assert all(p.read_bytes() != b"SECRET" for p in stored)
    assert not (repo.layout.source_dir("t") / "img" / "evil.png").exists()
    # and inside a working copy too
    repo.commit("init")
    os.symlink(secret, repo.layout.source_dir("t") / "img" / "0b.png")
    st = repo.status().get("t")
    assert st.skipped == ("img/0b.png",)
    assert all(p.read_bytes() != b"SECRET" for p in repo.layout.media.rglob("*") if p.is_file())


def test_in_memory_dataset(repo, tiny_format):
    img = np.full((4, 6, 3), 7, np.uint8)
    ds = Dataset.from_items([Item("a", media=Image(data=img, name="a.png"),
                                  annotations=(Bbox(x=1, y=1, w=2, h=2, label=0),))],
                            Categories.from_names(["cat"]))
    r = repo.add(ds, name="mem", format="tinyjson")
    assert (r.items, r.files) == (1, 1)
    assert (repo.layout.source_dir("mem") / "images" / "a.png").is_file()
    repo.commit("from memory")
    (item,) = list(repo.dataset())
    assert item.annotations[0].x == 1.0
    import cv2

    assert np.array_equal(cv2.imread(item.media.path), img)


def test_export_options_are_recorded_and_reused(repo, tiny_format, tmp_path):
    src = _tiny(tmp_path)
    repo.add(src, name="t", format="tinyjson", export_options=["--indent"])
    c = repo.commit("init")
    assert repo.info().sources[0].export_options == {"indent": True}
    wc_file = repo.layout.source_dir("t") / "items.json"
    assert wc_file.read_bytes() == (src / "items.json").read_bytes()  # add copies the dataset as it is
    wc_file.unlink()
    repo.checkout(c.id, ["t"], force=True)  # annotation files are rebuilt by the exporter ...
    text = wc_file.read_text()
    assert "\n  " in text  # ... with the recorded export options
    assert repo.status().clean


def test_add_mirrors_the_dataset_folder(repo, tiny_format, tmp_path):
    src = _tiny(tmp_path)
    (src / "notes.txt").write_text("hello")
    (src / "img" / "unused.png").write_bytes(b"not an item")
    repo.add(src, name="t", format="tinyjson")
    wc = repo.layout.source_dir("t")
    assert tree_digest(wc) == tree_digest(src)
    repo.commit("init")
    assert repo.status().clean
    # files the format does not rebuild are not versioned: a checkout that rewrites the
    # annotation files drops them (the original folder still has them)
    (wc / "items.json").write_text((wc / "items.json").read_text().replace('"i0"', '"j0"'))
    repo.commit("rename an item")
    repo.checkout("HEAD~1")
    assert not (wc / "notes.txt").exists() and not (wc / "img" / "unused.png").exists()
    assert repo.status().clean


def test_unsafe_paths_in_a_stored_tree_are_refused(repo, tiny_format, tmp_path):
    repo.add(_tiny(tmp_path), name="t", format="tinyjson")
    repo.commit("init")
    # craft a record whose file list escapes the source folder
    from dsrepo.repo.lists import write_list

    rec = load_record(repo, repo.status().get("t").record)
    with repo.store.pack_session():
        evil_files = write_list(repo.store, [["../../outside.png", "0" * 32, 4, "m"]], 1)
    evil = SourceRecord(**{**{f: getattr(rec, f) for f in rec.__slots__}, "files": evil_files, "nfiles": 1})
    rid = repo.store.put_loose("source", evil.to_bytes())
    from dsrepo.repo.rewrite import rewrite_source
    from dsrepo.repo.working import examine

    before = tree_digest(tmp_path)
    with pytest.raises(CorruptObjectError, match=r"stored path of source 't' is unsafe: .*escapes the dataset folder"):
        rewrite_source(repo, "t", examine(repo, "t", True), rid)
    assert not (tmp_path / "outside.png").exists()
    assert tree_digest(tmp_path) == before


def test_update_from_another_format(repo, tiny_format, coco_sample, tmp_path):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("coco")
    src = _tiny(tmp_path)
    r = repo.update("coco", src, format="tinyjson")
    assert (r.format, r.items) == ("coco", 3)
    wc = repo.layout.source_dir("coco")
    assert (wc / "annotations" / "instances_default.json").is_file()  # the source keeps its format
    assert not (wc / "annotations" / "instances_train2017.json").exists()
    assert not (wc / "train2017").exists()
    st = repo.status().get("coco")
    assert st.change.counts() == {"added": 3, "removed": 8, "modified": 0}
    repo.commit("replaced by the tiny dataset")
    assert repo.status().clean
    # COCO names items after their image files (tiny's images are img/<k>.png)
    assert sorted(it.id for it in repo.dataset()) == ["0", "1", "2"]


def test_update_with_import_options_reads_back_with_the_source_options(repo, coco_sample, coco_edited):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("coco")
    repo.update("coco", coco_edited, format="coco", import_options=["--keep-original-category-ids"])
    repo.commit("edited, read with original category ids")
    assert repo.info().sources[0].import_options == {}
    assert repo.status().clean

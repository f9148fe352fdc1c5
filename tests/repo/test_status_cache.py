"""The stat cache: unchanged files are not read; changed ones are re-hashed, and only
real content changes re-import the working copy."""

from __future__ import annotations

import json
import os

import pytest

import dsrepo.digest as media_mod
import dsrepo.formats.api as api
from dsrepo.repo.worktree import load_state, save_state, scan_dir


@pytest.fixture
def committed(repo, coco_sample):
    repo.add(coco_sample, name="coco", format="coco")
    repo.commit("init")
    return repo


@pytest.fixture
def spy(monkeypatch):
    calls = {"md5": [], "import": 0}
    real_md5, real_import = media_mod.file_md5, api.import_dataset

    def md5(path):
        calls["md5"].append(os.path.basename(str(path)))
        return real_md5(path)

    def imp(*a, **k):
        calls["import"] += 1
        return real_import(*a, **k)

    monkeypatch.setattr(media_mod, "file_md5", md5)
    monkeypatch.setattr(api, "import_dataset", imp)
    return calls


def test_unchanged_project_reads_nothing(committed, spy):
    for _ in range(2):
        assert committed.status().clean
    assert spy == {"md5": [], "import": 0}


def test_touched_file_is_rehashed_not_reimported(committed, spy):
    img = committed.layout.source_dir("coco") / "train2017" / "000000000101.jpg"
    st = img.stat()
    os.utime(img, ns=(st.st_atime_ns, st.st_mtime_ns - 5_000_000_000))
    assert committed.status().clean
    assert spy == {"md5": ["000000000101.jpg"], "import": 0}
    spy["md5"].clear()
    assert committed.status().clean  # the cache was refreshed
    assert spy == {"md5": [], "import": 0}


def test_changed_content_is_reimported_once(committed, spy):
    ann = committed.layout.source_dir("coco") / "annotations" / "captions_val2017.json"
    doc = json.loads(ann.read_text())
    doc["annotations"][0]["caption"] = "changed"
    ann.write_text(json.dumps(doc))
    os.utime(ann, ns=(0, ann.stat().st_mtime_ns - 5_000_000_000))  # not racy
    st = committed.status()
    assert st.get("coco").state == "modified" and len(st.get("coco").change.modified) == 1
    assert spy["import"] == 1 and spy["md5"] == ["captions_val2017.json"]
    committed.status()
    c = committed.commit("caption")  # nothing is read again: status stored the new items
    assert spy["import"] == 1
    assert c.summary["coco"]["modified"] == 1


def test_changed_image_changes_its_item(committed, spy):
    img = committed.layout.source_dir("coco") / "val2017" / "000000000202.jpg"
    img.write_bytes(img.read_bytes() + b"\0")
    st = committed.status()
    assert st.get("coco").change.modified == (("val2017", "000000000202"),)
    assert st.get("coco").change.files == 1


def test_racy_entry_is_rehashed(committed, spy):
    """A file changed within the cache's clock tick, keeping size, mtime and inode."""
    ann = committed.layout.source_dir("coco") / "annotations" / "captions_val2017.json"
    before = ann.stat()
    data = ann.read_bytes()
    doc = json.loads(data)
    text = doc["annotations"][0]["caption"]
    doc["annotations"][0]["caption"] = ("Y" + text)[: len(text)]
    new = json.dumps(doc, separators=(",", ":")).encode()
    new = new + b" " * (len(data) - len(new))
    assert len(new) == len(data) and new != data
    with open(ann, "r+b") as f:  # in place: same inode
        f.write(new)
    os.utime(ann, ns=(before.st_atime_ns, before.st_mtime_ns))
    st = load_state(committed.layout, "coco")
    # the cache was taken in the same tick as the file's last write
    save_state(committed.layout, st.with_(time=before.st_mtime_ns))
    assert committed.status().get("coco").state == "modified"


def test_rescan_reads_everything(committed, spy):
    assert committed.status(rescan=True).clean
    assert len(spy["md5"]) == 14 and spy["import"] == 1



@pytest.mark.parametrize("cache_mb", [0, 256])  # (checkouts that export, and that place cached files)
def test_after_checkouts_the_cache_holds_the_folders_stats_and_status_reads_nothing(committed, coco_edited, spy,
                                                                                   cache_mb):
    from tests.repo.helpers import set_file_cache

    set_file_cache(committed, cache_mb)
    folder = committed.layout.source_dir("coco")
    (coco_edited / "README.md").write_text("a file only the second revision has")
    committed.update("coco", coco_edited, format="coco")
    committed.commit("edited, with a README")
    for rev, readme in (("HEAD~1", False), ("main", True), ("HEAD~1", False)):
        committed.checkout(rev)
        assert (folder / "README.md").exists() == readme
        files = load_state(committed.layout, "coco").files
        assert {rel: tuple(e[:3]) for rel, e in files.items()} == scan_dir(folder)[0]  # (not scanned again)
        spy["md5"].clear()
        spy["import"] = 0
        assert committed.status().clean and spy == {"md5": [], "import": 0}

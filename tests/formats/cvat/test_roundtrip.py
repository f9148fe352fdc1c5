"""import -> export -> import gives the same items (same order) and categories."""

from __future__ import annotations


import pytest

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model.dataset import Dataset

from .cvat_data import images_xml, make_images_task, make_project, make_video_task, task_meta, write_image
from .helpers import assert_round_trip, encodings, through_encoding

FIXTURES = {"images": make_images_task, "video": make_video_task, "project": make_project}


@pytest.mark.parametrize("name", sorted(FIXTURES))
@pytest.mark.parametrize("encode", [False, True])
def test_fixture_round_trip(tmp_path, name, encode):
    src = FIXTURES[name](tmp_path / "src")
    _, _, progress = assert_round_trip(src, tmp_path / "out", encode=encode)
    assert progress.warnings == []


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_round_trip_with_media_keeps_checksums(tmp_path, name):
    src = FIXTURES[name](tmp_path / "src")
    a = import_dataset(src, "cvat")
    export_dataset(a, tmp_path / "out", "cvat", ["--save-media"])
    b = import_dataset(tmp_path / "out", "cvat")
    assert encodings(a, with_md5=True) == encodings(b, with_md5=True)


def test_video_export_keeps_tracks(tmp_path):
    src = make_video_task(tmp_path / "src")
    assert_round_trip(src, tmp_path / "out")
    text = (tmp_path / "out" / "annotations.xml").read_text(encoding="utf-8")
    assert text.count("<track ") == 2 and "<image " not in text
    assert '<track id="1" label="person" source="auto" group_id="4">' in text
    assert ('<box frame="2" keyframe="1" outside="1" occluded="0" xtl="2.00" ytl="1.00" xbr="5.00" '
            'ybr="3.00" z_order="0">') in text


def test_video_exported_as_images_round_trips(tmp_path):
    src = make_video_task(tmp_path / "src")
    a = import_dataset(src, "cvat")
    export_dataset(a, tmp_path / "out", "cvat", ["--mode", "images"])
    text = (tmp_path / "out" / "annotations.xml").read_text(encoding="utf-8")
    assert '<image id="1" name="frame_000001.PNG" width="10" height="8">' in text
    assert 'track_id="0" keyframe="0" outside="0"' in text
    assert encodings(a) == encodings(import_dataset(tmp_path / "out", "cvat"))


@pytest.mark.parametrize("layout", ["single", "per-subset", "dirs"])
def test_project_round_trips_in_every_layout(tmp_path, layout):
    src = make_project(tmp_path / "src")
    assert_round_trip(src, tmp_path / "out", ["--layout", layout])
    names = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.xml"))
    assert names == {"single": ["annotations.xml"], "per-subset": ["Train.xml", "Validation.xml"],
                     "dirs": ["Train/annotations.xml", "Validation/annotations.xml"]}[layout]
    # and the re-export in the layout found keeps it
    assert_round_trip(tmp_path / "out", tmp_path / "again")
    again = sorted(str(p.relative_to(tmp_path / "again")) for p in (tmp_path / "again").rglob("*.xml"))
    assert again == names


def test_extra_decimals_and_awkward_floats_survive(tmp_path):
    body = ('  <image id="0" name="a.jpg" width="100" height="100">\n'
            '    <box label="car" source="manual" occluded="0" xtl="0.1" ytl="0.7" xbr="0.3" ybr="10.123456" '
            'z_order="0" rotation="12.3456"/>\n'
            '    <ellipse label="car" source="manual" occluded="0" cx="10.1" cy="3.3" rx="3.3" ry="0.1" z_order="0"/>\n'
            '    <polygon label="car" source="manual" occluded="0" points="1.005,2.0001;3.14159,2.71828;0,1e-7" '
            'z_order="0"/>\n  </image>\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "annotations.xml").write_text(images_xml(body=body), encoding="utf-8")
    a, _, _ = assert_round_trip(tmp_path / "src", tmp_path / "out")
    text = (tmp_path / "out" / "annotations.xml").read_text(encoding="utf-8")
    assert 'xtl="0.10" ytl="0.70" xbr="0.30" ybr="10.123456" z_order="0" rotation="12.3456"' in text
    assert 'cx="10.10" cy="3.30" rx="3.30" ry="0.10"' in text
    assert 'points="1.005,2.0001;3.14159,2.71828;0.00,1e-07"' in text
    assert list(a)[0].annotations[2].points[5] == 1e-7


def test_export_is_byte_identical_and_independent_of_storage(tmp_path):
    src = make_images_task(tmp_path / "src")
    a = import_dataset(src, "cvat")
    export_dataset(a, tmp_path / "a", "cvat", ["--save-media"])
    export_dataset(through_encoding(a), tmp_path / "b", "cvat", ["--save-media"])
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert [str(f) for f in files] == ["annotations.xml", "images/street 1.jpg", "images/été/ü ñ.jpg"]
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_items_stored_in_another_order_rebuild_the_same_file(tmp_path):
    src = make_project(tmp_path / "src")
    a = through_encoding(import_dataset(src, "cvat"))
    export_dataset(a, tmp_path / "a", "cvat")
    shuffled = Dataset(a.categories, sorted(a, key=lambda it: (it.id, it.subset), reverse=True), a.subset_meta)
    export_dataset(shuffled, tmp_path / "b", "cvat")
    assert (tmp_path / "a" / "annotations.xml").read_bytes() == (tmp_path / "b" / "annotations.xml").read_bytes()


def test_images_listed_out_of_id_order_keep_their_order(tmp_path):
    body = ('  <image id="5" name="z.jpg" width="4" height="4"/>\n'
            '  <image id="1" name="a.jpg" width="4" height="4"/>\n'
            '  <image id="3" name="m.jpg" width="4" height="4"/>\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "annotations.xml").write_text(images_xml(body=body), encoding="utf-8")
    a, b, _ = assert_round_trip(tmp_path / "src", tmp_path / "out")
    assert [(it.id, it.attributes["frame"]) for it in b] == [("z", 5), ("a", 1), ("m", 3)]


def test_unknown_elements_are_written_back(tmp_path):
    body = ('  <image id="0" name="a.jpg" width="4" height="4">\n'
            '    <skeleton label="person" source="manual" z_order="0">\n'
            '      <points label="nose" occluded="0" outside="0" points="1.00,2.00"/>\n'
            '    </skeleton>\n  </image>\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "annotations.xml").write_text(images_xml(body=body), encoding="utf-8")
    assert_round_trip(tmp_path / "src", tmp_path / "out")
    assert '<points label="nose" occluded="0" outside="0" points="1.00,2.00"/>' in \
        (tmp_path / "out" / "annotations.xml").read_text(encoding="utf-8")


def test_file_without_meta_round_trips(tmp_path):
    body = ('  <image id="0" name="a.jpg">\n'
            '    <box label="zebra" occluded="0" xtl="0" ytl="0" xbr="1" ybr="1">\n'
            '      <attribute name="age">3</attribute>\n    </box>\n  </image>\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.xml").write_text(images_xml(meta="", body=body), encoding="utf-8")
    write_image(tmp_path / "src" / "images" / "a" / "a.jpg", 3, 4)  # images/<subset>/ for a.xml's subset
    a, b, _ = assert_round_trip(tmp_path / "src", tmp_path / "out")
    assert list(a)[0].media.size == (3, 4)


def test_empty_subset_and_task_round_trip(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "annotations.xml").write_text(images_xml(task_meta(size=0, subset="Empty"), ""),
                                                      encoding="utf-8")
    a, b, _ = assert_round_trip(tmp_path / "src", tmp_path / "out")
    assert list(b) == [] and list(b.subset_meta) == ["Empty"]

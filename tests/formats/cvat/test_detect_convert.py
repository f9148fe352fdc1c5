"""Detection, the registry entry, conversion to and from COCO, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

from dsrepo.formats.api import convert, import_dataset
from dsrepo.formats.cvat import spec
from dsrepo.formats.registry import detect_formats, get_format
from dsrepo.progress import NullProgress

from .cvat_data import images_xml, make_images_task, make_project, make_video_task, task_meta


def test_detect(tmp_path):
    task = make_images_task(tmp_path / "t")
    assert spec.detect(task) == 0.9
    assert spec.detect(task / "annotations.xml") == 0.9
    assert spec.detect(task / "images") == 0.0
    assert spec.detect(task / "images" / "street 1.jpg") == 0.0
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "train.xml").write_text(images_xml(task_meta()), encoding="utf-8")
    assert spec.detect(tmp_path / "files") == 0.8
    (tmp_path / "dirs" / "val").mkdir(parents=True)
    (tmp_path / "dirs" / "val" / "annotations.xml").write_text(images_xml(task_meta()), encoding="utf-8")
    assert spec.detect(tmp_path / "dirs") == 0.7
    (tmp_path / "voc.xml").write_text("<annotation><object/></annotation>")
    assert spec.detect(tmp_path / "voc.xml") == 0.0
    (tmp_path / "bare.xml").write_text('<annotations>\n  <image id="0" name="a.jpg"/>\n</annotations>\n')
    assert spec.detect(tmp_path / "bare.xml") == 0.6


def test_registry_and_auto_detection(tmp_path):
    assert get_format("cvat") is spec.CVAT
    task = make_video_task(tmp_path / "v")
    assert detect_formats(task)[0] == ("cvat", 0.9)
    assert len(list(import_dataset(task))) == 5


def test_spec_options():
    assert [o.name for o in spec.CVAT.import_options] == ["skip-outside"]
    assert [o.name for o in spec.CVAT.export_options] == ["save-media", "image-ext", "strict", "layout", "mode"]


def test_spec_import_is_light():
    code = ("import sys; import dsrepo.formats.cvat.spec; "
            "print(sorted(m for m in ('lxml', 'numpy', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_convert_cvat_to_coco_and_back(tmp_path):
    src = make_project(tmp_path / "p")
    progress = NullProgress()
    convert(src, tmp_path / "coco", "coco", "cvat", progress=progress)
    doc = json.loads((tmp_path / "coco" / "annotations" / "instances_Train.json").read_text())
    assert [c["name"] for c in doc["categories"]] == ["car", "person", "road sign"]
    assert doc["annotations"][0]["bbox"] == [1.0, 1.0, 1.0, 1.0]
    assert doc["annotations"][0]["attributes"] == {"color": "red", "occluded": False, "parked": False,
                                                    "source": "manual", "speed": 1}
    progress = NullProgress()
    convert(tmp_path / "coco", tmp_path / "cvat", "cvat", "coco", progress=progress)
    back = import_dataset(tmp_path / "cvat", "cvat")
    train = [it for it in back if it.subset == "Train"]
    assert [it.id for it in train] == ["a", "b"]
    box = train[0].annotations[0]
    assert (box.x, box.y, box.w, box.h) == (1.0, 1.0, 1.0, 1.0)
    assert box.attributes["parked"] is False and box.attributes["color"] == "red"


def test_command_line_detect_and_convert(tmp_path):
    src = make_images_task(tmp_path / "t")
    run = [sys.executable, "-m", "dsrepo"]
    out = subprocess.run(run + ["detect", str(src)], capture_output=True, text=True)
    assert out.returncode == 0 and "cvat" in out.stdout
    out = subprocess.run(run + ["convert", "-i", str(src), "-o", str(tmp_path / "coco"), "-f", "coco"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "coco" / "annotations" / "instances_default.json").is_file()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "annotations.xml").write_text("<annotations><image id='0'></annotations>")
    out = subprocess.run(run + ["convert", "-i", str(bad), "-o", str(tmp_path / "x"), "-f", "coco", "-if", "cvat"],
                         capture_output=True, text=True)
    assert out.returncode == 3
    assert "annotations.xml: line 1, column 42: malformed XML: Opening and ending tag mismatch: image line 1 and annotations\n" in out.stderr

"""Detection, the light spec module, and conversions through the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dsrepo.commands.app import main
from dsrepo.formats.api import import_dataset
from dsrepo.formats.registry import detect_formats, get_format
from dsrepo.model.annotations import Bbox, Mask

from .voc_data import write

SAMPLE = Path(__file__).resolve().parents[3] / "dsrepo" / "data" / "sample"


def _voc_scores(path):
    return {n: c for n, c in detect_formats(path) if n.startswith("voc")}


def test_detect_folder_prefers_the_combined_format(voc2012):
    scores = _voc_scores(voc2012)
    assert scores["voc"] == 0.9
    assert all(c < 0.9 for n, c in scores.items() if n != "voc")
    assert detect_formats(voc2012)[0] == ("voc", 0.9)


def test_detect_list_file_and_nested_devkit(voc2012, tmp_path):
    assert _voc_scores(voc2012 / "ImageSets" / "Segmentation" / "train.txt") == {"voc": 0.8, "voc_segmentation": 0.6}
    write(tmp_path / "VOCdevkit" / "VOC2012" / "Annotations" / "a.xml", "<annotation/>")
    assert _voc_scores(tmp_path / "VOCdevkit")["voc"] == pytest.approx(0.81)
    (tmp_path / "plain").mkdir()
    assert _voc_scores(tmp_path / "plain") == {}


def test_spec_module_is_light():
    code = ("import sys, dsrepo.formats.voc.spec; "
            "print(sorted(m for m in ('numpy', 'cv2', 'lxml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert [o.name for o in get_format("voc").export_options] == [
        "save-media", "image-ext", "strict", "label-map", "allow-attributes", "keep-empty", "apply-colormap", "tasks"]
    assert "tasks" not in [o.name for o in get_format("voc_detection").export_options]


def _run(capsys, *argv):
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    out, err = capsys.readouterr()
    return e.value.code or 0, out, err


def test_cli_convert_coco_to_voc_and_back(tmp_path, capsys):
    code, out, err = _run(capsys, "convert", "-i", str(SAMPLE / "coco"), "-o", str(tmp_path / "voc"), "-f", "voc",
                          "--", "--save-media")
    assert code == 0, err
    assert "caption" in err  # COCO captions cannot be held: warned, counted
    ds = import_dataset(tmp_path / "voc", "voc")
    assert len(ds) == 8
    items = list(ds)
    assert all(it.media.path is not None and it.media.size is not None for it in items)
    boxes = sum(isinstance(a, Bbox) for it in items for a in it.annotations)
    masks = sum(isinstance(a, Mask) for it in items for a in it.annotations)
    assert boxes >= masks > 0
    code, out, err = _run(capsys, "detect", str(tmp_path / "voc"))
    assert code == 0 and out.splitlines()[0].split() == ["voc", "0.90"]
    code, out, err = _run(capsys, "convert", "-i", str(tmp_path / "voc"), "-o", str(tmp_path / "coco"), "-f", "coco")
    assert code == 0, err
    assert (tmp_path / "coco" / "annotations" / "instances_train2017.json").is_file()


def test_cli_reports_bad_input_on_one_line(tmp_path, capsys):
    write(tmp_path / "bad" / "Annotations" / "a.xml", "<annotation><object>")
    code, out, err = _run(capsys, "convert", "-i", str(tmp_path / "bad"), "-if", "voc", "-o", str(tmp_path / "o"),
                          "-f", "coco")
    assert code == 3
    assert "a.xml: line 1: malformed XML" in err and "Traceback" not in err

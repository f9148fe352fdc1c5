"""Detection and the command line: detect, convert to and from COCO, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dsrepo.commands.app import main
from dsrepo.formats.api import import_dataset
from dsrepo.formats.datumaro.spec import detect
from dsrepo.formats.registry import detect_formats

from coco.coco_data import make_rich as make_coco_rich
from .dm_data import write_json


def _run(capsys, *argv) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    out, err = capsys.readouterr()
    return e.value.code or 0, out, err


def test_detect_targets(rich, tmp_path):
    assert detect(rich) == 0.95
    assert detect(rich / "annotations") == 0.95
    assert detect(rich / "annotations" / "val.json") == 0.95
    assert detect(rich / "images") == 0.0
    assert detect_formats(rich)[0] == ("datumaro", 0.95)


def test_detect_legacy_and_foreign_files(tmp_path):
    legacy = write_json(tmp_path / "a" / "default.json",
                        {"categories": {"label": {"labels": []}}, "items": []})
    assert detect(legacy) == 0.6
    coco = make_coco_rich(tmp_path)
    assert detect(coco) == 0.0
    assert detect(coco / "annotations" / "instances_val.json") == 0.0
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.json").write_text("[1, 2]")
    assert detect(tmp_path / "b" / "x.json") == 0.0
    assert detect(tmp_path / "missing") == 0.0


def test_cli_detect_and_convert_round_trip_through_coco(rich, tmp_path, capsys):
    code, out, _ = _run(capsys, "detect", str(rich))
    assert code == 0 and out.splitlines()[0].split() == ["datumaro", "0.95"]
    code, out, err = _run(capsys, "convert", "-i", str(rich), "-o", str(tmp_path / "coco"), "-f", "coco")
    assert code == 0
    assert "datumaro: 1 cuboid_3d annotations kept as opaque item data" in err
    code, _, _ = _run(capsys, "convert", "-i", str(tmp_path / "coco"), "-o", str(tmp_path / "dm2"), "-f", "datumaro")
    assert code == 0
    back = {it.key: it for it in import_dataset(tmp_path / "dm2", "datumaro")}
    orig = {it.key: it for it in import_dataset(rich, "datumaro")}
    # what COCO holds survives both conversions: boxes keep their values
    box = [a for a in back[("train", "img 1")].annotations if a.id == 1][0]
    assert box.get_bbox() == (1.5, 2.0, 3.25, 4.0) and box.label == 0
    assert back[("val", "b")].media.size == orig[("val", "b")].media.size == (8, 8)


def test_cli_convert_coco_to_datumaro_to_coco(tmp_path, capsys):
    coco = make_coco_rich(tmp_path)
    assert _run(capsys, "convert", "-i", str(coco), "-o", str(tmp_path / "dm"), "-f", "datumaro",
                "--", "--save-media")[0] == 0
    assert sorted(p.name for p in (tmp_path / "dm" / "images" / "val").iterdir()) == ["img_a.jpg", "img_c.jpg",
                                                                                      "sub"]
    assert _run(capsys, "convert", "-i", str(tmp_path / "dm"), "-o", str(tmp_path / "back"), "-f", "coco")[0] == 0
    for name in ("instances_val.json", "person_keypoints_val.json", "captions_val.json"):
        a = json.loads((coco / "annotations" / name).read_text())
        b = json.loads((tmp_path / "back" / "annotations" / name).read_text())
        assert a == b, name


def test_cli_reports_bad_input_with_exit_code_3(tmp_path):
    bad = tmp_path / "d" / "annotations" / "default.json"
    ann = {"type": "bbox", "bbox": [1, 2]}
    write_json(bad, {"dm_format_version": "1.0", "items": [{"id": "x", "annotations": [ann]}]})
    cli = "from dsrepo.commands.app import main; main()"
    r = subprocess.run([sys.executable, "-c", cli, "convert", "-i", str(tmp_path / "d"),
                        "-o", str(tmp_path / "out"), "-f", "coco"], capture_output=True, text=True)
    assert r.returncode == 3
    assert f"{bad}: item 'x': annotation #0: bbox must be a list of 4 numbers, got [1,2]" in r.stderr
    assert "Traceback" not in r.stderr


def test_spec_module_is_light():
    code = ("import sys; import dsrepo.formats.datumaro.spec; "
            "print(sorted(m for m in ('numpy', 'msgspec', 'orjson', 'cv2', 'pycocotools') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


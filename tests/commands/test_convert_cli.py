"""``dsrepo convert`` reports what it read and what the output format could not hold."""

from __future__ import annotations

import json
from pathlib import Path

from tests.commands.helpers import run

SAMPLE = Path(__file__).resolve().parents[2] / "dsrepo" / "data" / "sample" / "coco"


def test_lossy_convert_says_counts_are_read_and_names_the_drops(tmp_path, capsys):
    code, out, err = run(capsys, "convert", "-i", str(SAMPLE), "-if", "coco", "-o", str(tmp_path / "y"), "-f", "yolo")
    assert code == 0
    assert out.splitlines() == [
        f"read 8 items, 35 annotations; wrote 12 files to {tmp_path / 'y'} as yolo",
        "  train2017: 5 items, 24 annotations",
        "  val2017: 3 items, 11 annotations",
        "  (4 warnings above: what yolo could not hold was dropped or changed)",
    ]
    assert err.splitlines() == ["warning: yolo cannot hold captions: 16 dropped",
                                "warning: yolo cannot hold masks: 1 dropped",
                                "warning: yolo cannot hold points: 1 dropped",
                                "warning: yolo cannot hold polygons: 16 dropped"]
    code, out, _err = run(capsys, "convert", "--json", "-i", str(SAMPLE), "-if", "coco", "-o", str(tmp_path / "y2"),
                          "-f", "yolo")
    doc = json.loads(out)
    assert (doc["counted"], doc["items"], doc["annotations"], doc["files"]) == ("input", 8, 35, 12)
    assert len(doc["warnings"]) == 4


def test_lossless_convert_has_no_warning_line(tmp_path, capsys):
    code, out, err = run(capsys, "convert", "-i", str(SAMPLE), "-if", "coco", "-o", str(tmp_path / "d"),
                         "-f", "datumaro")
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith("read 8 items, 35 annotations; wrote ")
    assert "warnings above" not in out

"""Detection, the command line, and a LabelMe source in a repository."""

from __future__ import annotations

import json

import pytest

from dsrepo.commands.app import main
from dsrepo.formats.api import import_dataset
from dsrepo.formats.labelme.spec import detect
from dsrepo.formats.registry import detect_formats

from .helpers import encoded
from .labelme_data import doc, make_rich, shape, write_doc


def test_detect_folder_file_and_others(tmp_path):
    rich = make_rich(tmp_path / "rich")
    assert detect(rich) == 0.8
    assert detect(rich / "cat 1.json") == 0.8
    assert detect(rich / "cat 1.jpg") == 0.0
    assert detect_formats(rich)[0] == ("labelme", 0.8)
    # json files only in first-level folders (subset layout)
    write_doc(tmp_path / "split" / "train" / "a.json", doc([], "a.jpg", 2, 2))
    assert detect(tmp_path / "split") == 0.8
    # a COCO file is not labelme
    coco = tmp_path / "coco" / "annotations" / "instances_val.json"
    coco.parent.mkdir(parents=True)
    coco.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    assert detect(tmp_path / "coco") == 0.0 and detect(coco) == 0.0
    # mixed folder: weak; empty folder: none
    (tmp_path / "split" / "train" / "other.json").write_text("{}")
    assert detect(tmp_path / "split") == 0.3
    (tmp_path / "empty").mkdir()
    assert detect(tmp_path / "empty") == 0.0


def test_detect_keys_at_the_end_of_a_big_file(tmp_path):
    """Files with sorted keys put a huge imageData before "shapes": the tail is read too."""
    d = {"flags": {}, "imageData": "A" * 300_000, "imageHeight": 2, "imagePath": "a.png", "imageWidth": 2,
         "shapes": [], "version": "5.0.1"}
    p = tmp_path / "a.json"
    p.write_text(json.dumps(d, sort_keys=True))
    assert detect(p) == 0.8


def _run(capsys, *argv) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    out, err = capsys.readouterr()
    return e.value.code or 0, out, err


def test_cli_convert_to_coco_and_back(tmp_path, capsys):
    src = tmp_path / "src"
    write_doc(src / "a.json", doc([shape("cat", [[1.0, 2.0], [5.0, 2.0], [5.0, 6.0]]),
                                   shape("dog", [[0.0, 0.0], [2.0, 3.0]], "rectangle")], "a.jpg", 10, 10))
    code, out, err = _run(capsys, "convert", "-i", str(src), "-o", str(tmp_path / "coco"), "-f", "coco")
    assert code == 0, err
    inst = json.loads((tmp_path / "coco" / "annotations" / "instances_default.json").read_text())
    assert [c["name"] for c in inst["categories"]] == ["cat", "dog"]
    assert [a["bbox"] for a in inst["annotations"]] == [[1.0, 2.0, 4.0, 4.0], [0.0, 0.0, 2.0, 3.0]]
    code, out, err = _run(capsys, "convert", "-i", str(tmp_path / "coco"), "-o", str(tmp_path / "back"),
                          "-f", "labelme")
    assert code == 0, err
    back = json.loads((tmp_path / "back" / "a.json").read_text())
    assert [(s["label"], s["shape_type"]) for s in back["shapes"]] == [("cat", "polygon"), ("dog", "rectangle")]
    assert back["shapes"][1]["points"] == [[0.0, 0.0], [2.0, 3.0]] and back["imagePath"] == "a.jpg"


def test_cli_reports_bad_file_on_one_line(tmp_path, capsys):
    write_doc(tmp_path / "src" / "a.json", doc([shape("x", [[0, 0]], "cuboid")], "a.jpg", 2, 2))
    code, out, err = _run(capsys, "convert", "-i", str(tmp_path / "src"), "-if", "labelme",
                          "-o", str(tmp_path / "o"), "-f", "coco")
    assert code == 3
    assert f"{tmp_path / 'src' / 'a.json'}: shapes[0]: unsupported shape_type 'cuboid'" in err
    assert len(err.strip().splitlines()) == 1


def test_repository_rebuilds_labelme_working_copy(tmp_path):
    """add -> commit -> edit -> commit -> checkout the first commit: the working copy is
    rebuilt by the exporter and imports exactly as the original (embedded image too)."""
    from dsrepo.repo.repo import Repo

    src = make_rich(tmp_path / "data")
    repo = Repo.create(tmp_path / "proj")
    repo.add(src, name="lm", format="labelme")
    first = repo.commit("first").id
    wc = tmp_path / "proj" / "lm"
    d = json.loads((wc / "cat 1.json").read_text())
    d["shapes"][0]["label"] = "dog"
    del d["imageData"]
    (wc / "cat 1.json").write_text(json.dumps(d))
    (wc / "embedded.json").unlink()
    repo.commit("edit")
    assert [it.id for it in import_dataset(wc, "labelme")] == ["cat 1", "empty", "missing", "nested/deep/dog"]
    repo.checkout(first)
    assert encoded(import_dataset(wc, "labelme")) == encoded(import_dataset(src, "labelme"))
    assert import_dataset(wc, "labelme").get("embedded").media.data.shape == (8, 10, 3)

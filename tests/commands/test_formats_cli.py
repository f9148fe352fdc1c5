"""``dsrepo formats`` says which formats export incrementally (have a patch hook)."""

from __future__ import annotations

import json

from tests.commands.helpers import run


def test_formats_list_their_capabilities(capsys):
    code, out, _err = run(capsys, "formats", "--json")
    info = {f["name"]: f for f in json.loads(out)}
    assert code == 0
    assert {n for n, f in info.items() if not f["incremental"]} == {"coco_panoptic", "image_zip"}
    assert not info["image_zip"]["source"] and info["cvat"]["source"]
    code, out, _err = run(capsys, "formats")
    assert "cvat  [import/export/incremental]  CVAT XML 1.1" in out
    assert "image_zip  [import/export]  images in a .zip file" in out

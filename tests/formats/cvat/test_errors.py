"""Bad CVAT input: one DatasetError naming the file, the line and the element."""

from __future__ import annotations

import re

import pytest

from dsrepo.errors import DatasetError
from dsrepo.formats.api import import_dataset

from .cvat_data import images_xml

HEAD_LINES = images_xml(body="").count("\n") - 1  # the first <image> starts on this line + 1


def _img(inner: str, attrs: str = 'id="0" name="a.jpg" width="4" height="4"') -> str:
    return images_xml(body=f"  <image {attrs}>\n{inner}  </image>\n")


L = HEAD_LINES + 2  # line of the first element inside the first image

CASES = [
    ("unknown label", _img('    <box label="dog" occluded="0" xtl="0" ytl="0" xbr="1" ybr="1"/>\n'),
     f"line {L} <box>: unknown label 'dog' (not in the <meta> labels)"),
    ("non-numeric coordinate", _img('    <box label="car" occluded="0" xtl="abc" ytl="0" xbr="1" ybr="1"/>\n'),
     f"line {L} <box>: attribute xtl: expected a number, got 'abc'"),
    ("nan coordinate", _img('    <box label="car" occluded="0" xtl="0" ytl="nan" xbr="1" ybr="1"/>\n'),
     f"line {L} <box>: attribute ytl: expected a number, got 'nan'"),
    ("missing coordinate", _img('    <box label="car" occluded="0" xtl="0" ytl="0" xbr="1"/>\n'),
     f"line {L} <box>: missing attribute 'ybr'"),
    ("inverted box", _img('    <box label="car" occluded="0" xtl="3" ytl="0" xbr="1" ybr="1"/>\n'),
     f"line {L} <box>: box has xbr < xtl or ybr < ytl (3.0, 0.0, 1.0, 1.0)"),
    ("bad points", _img('    <polygon label="car" occluded="0" points="1,2;3"/>\n'),
     f"line {L} <polygon>: attribute points: expected 'x,y;x,y;...', got '1,2;3'"),
    ("text in points", _img('    <polyline label="car" occluded="0" points="1,2;x,4"/>\n'),
     f"line {L} <polyline>: attribute points: expected 'x,y;x,y;...', got '1,2;x,4'"),
    ("rle sum", _img('    <mask label="car" occluded="0" rle="1, 2" left="0" top="0" width="2" height="2"/>\n'),
     f"line {L} <mask>: attribute rle: run lengths sum to 3, expected width*height = 4"),
    ("rle text", _img('    <mask label="car" occluded="0" rle="1, b" left="0" top="0" width="2" height="2"/>\n'),
     f"line {L} <mask>: attribute rle: expected comma-separated run lengths, got '1, b'"),
    ("rle negative", _img('    <mask label="car" occluded="0" rle="5, -1" left="0" top="0" width="2" height="2"/>\n'),
     f"line {L} <mask>: attribute rle: negative run length"),
    ("mask box", _img('    <mask label="car" occluded="0" rle="0" left="0" top="0" width="0" height="2"/>\n'),
     f"line {L} <mask>: mask box left=0 top=0 width=0 height=2 is invalid"),
    ("negative radius", _img('    <ellipse label="car" occluded="0" cx="1" cy="1" rx="-1" ry="1"/>\n'),
     f"line {L} <ellipse>: ellipse has a negative radius (-1.0, 1.0)"),
    ("z_order", _img('    <box label="car" occluded="0" xtl="0" ytl="0" xbr="1" ybr="1" z_order="top"/>\n'),
     f"line {L} <box>: attribute z_order: expected an integer, got 'top'"),
    ("no label", _img('    <tag source="manual"/>\n'), f"line {L} <tag>: missing attribute 'label'"),
    ("attribute name", _img('    <tag label="car">\n      <attribute>x</attribute>\n    </tag>\n'),
     f"line {L + 1} <attribute>: <attribute> without a name"),
    ("image id", _img("", 'id="x" name="a.jpg"'), f"line {L - 1} <image>: attribute id: expected an integer, got 'x'"),
    ("image name", _img("", 'id="0"'), f"line {L - 1} <image>: missing attribute 'name'"),
    ("escaping name", _img("", 'id="0" name="../../etc/passwd"'),
     f"line {L - 1} <image>: path '../../etc/passwd' escapes the dataset folder"),
    ("absolute name", _img("", 'id="0" name="/etc/passwd"'),
     f"line {L - 1} <image>: absolute path '/etc/passwd' is not allowed"),
    ("image size", _img("", 'id="0" name="a.jpg" width="0" height="3"'),
     f"line {L - 1} <image>: image size must be positive, got 0x3"),
    ("twice", images_xml(body='  <image id="0" name="a.jpg"/>\n  <image id="0" name="b.jpg"/>\n'),
     f"line {L} <image>: image id 0 is listed twice in subset 'default'"),
    ("same item id", images_xml(body='  <image id="0" name="a.jpg"/>\n  <image id="1" name="a.png"/>\n'),
     "image id 1: item id 'a' is already used in subset 'default'"),
    ("track frame", images_xml(body='  <track id="0" label="car">\n    <box xtl="0" ytl="0" xbr="1" ybr="1"/>\n'
                                    '  </track>\n'),
     f"line {L} <box>: missing attribute 'frame'"),
    ("track id", images_xml(body='  <track id="a" label="car">\n  </track>\n'),
     f"line {L - 1} <track>: attribute id: expected an integer, got 'a'"),
    ("wrong root", '<?xml version="1.0"?>\n<annotation>\n  <object/>\n</annotation>\n',
     "line 2 <annotation>: root element is <annotation>, expected <annotations> (not a CVAT XML file?)"),
    ("truncated", images_xml(body='  <image id="0" name="a.jpg">\n    <box label="car"'),
     f"line {L}, column 21: malformed XML: attributes construct error"),
    ("mismatched tags", images_xml(body='  <image id="0" name="a.jpg">\n  </track>\n'),
     f"line {L}, column 11: malformed XML: Opening and ending tag mismatch: image line {L - 1} and track"),
    ("entity bomb", '<?xml version="1.0"?>\n<!DOCTYPE a [\n <!ENTITY a "aaaaaaaaaa">\n <!ENTITY b "&a;&a;&a;&a;">\n]>\n'
                    '<annotations><image id="0" name="&b;"/></annotations>\n',
     "line 1: a DTD / entity declarations are not allowed in CVAT XML"),
    ("external entity", '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                        '<annotations><version>&x;</version></annotations>\n',
     "line 1: a DTD / entity declarations are not allowed in CVAT XML"),
    ("label without name", images_xml(meta="  <meta>\n    <task>\n      <labels>\n        <label>\n"
                                           "        </label>\n      </labels>\n    </task>\n  </meta>\n", body=""),
     "line 7 <label>: label without a name"),
]


@pytest.mark.parametrize("name, text, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input(tmp_path, name, text, message):
    path = tmp_path / "annotations.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError, match="^" + re.escape(f"{path}: {message}") + "$"):
        list(import_dataset(tmp_path, "cvat"))


def test_folder_without_xml(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match=re.escape(f"{tmp_path}: no CVAT XML file found (expected annotations.xml, "
                                                     "<subset>.xml or <subset>/annotations.xml)")):
        import_dataset(tmp_path, "cvat")


def test_binary_file(tmp_path):
    path = tmp_path / "annotations.xml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(DatasetError, match=re.escape(f"{path}: line 1, column 1: malformed XML: ")):
        import_dataset(tmp_path, "cvat")

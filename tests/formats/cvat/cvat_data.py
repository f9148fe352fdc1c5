"""Hand-written CVAT XML fixtures, laid out as CVAT writes them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

LABELS = """      <labels>
        <label>
          <name>car</name>
          <color>#fa3253</color>
          <type>any</type>
          <attributes>
            <attribute>
              <name>color</name>
              <mutable>False</mutable>
              <input_type>select</input_type>
              <default_value>red</default_value>
              <values>red
blue</values>
            </attribute>
            <attribute>
              <name>parked</name>
              <mutable>True</mutable>
              <input_type>checkbox</input_type>
              <default_value>false</default_value>
              <values>false</values>
            </attribute>
            <attribute>
              <name>speed</name>
              <mutable>True</mutable>
              <input_type>number</input_type>
              <default_value>0</default_value>
              <values>0
200
1</values>
            </attribute>
          </attributes>
        </label>
        <label>
          <name>person</name>
          <color>#33ddff</color>
          <type>any</type>
          <attributes>
          </attributes>
        </label>
        <label>
          <name>road sign</name>
          <color>#aaf0d1</color>
          <type>any</type>
          <attributes>
          </attributes>
        </label>
      </labels>
"""


def write_image(path: Path, h: int = 8, w: int = 10, value: int = 0) -> Path:
    """A tiny real image (PNG or JPEG by extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((h, w, 3), value, dtype=np.uint8)
    img[0, 0] = (value + 50) % 256
    ok, buf = cv2.imencode(path.suffix, img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def task_meta(name: str = "task 1", size: int = 3, mode: str = "annotation", subset: str = "",
              extra: str = "") -> str:
    """A ``<meta>`` block of a task export."""
    return f"""  <meta>
    <task>
      <id>7</id>
      <name>{name}</name>
      <size>{size}</size>
      <mode>{mode}</mode>
      <overlap>0</overlap>
      <bugtracker></bugtracker>
      <created>2024-03-01 10:00:00.000000+00:00</created>
      <updated>2024-03-02 11:00:00.000000+00:00</updated>
      <subset>{subset}</subset>
      <start_frame>0</start_frame>
      <stop_frame>{size - 1}</stop_frame>
      <frame_filter></frame_filter>
      <segments>
        <segment>
          <id>12</id>
          <start>0</start>
          <stop>{size - 1}</stop>
          <url>http://localhost:8080/api/jobs/12</url>
        </segment>
      </segments>
      <owner>
        <username>admin</username>
        <email>admin@example.com</email>
      </owner>
      <assignee></assignee>
{LABELS}{extra}    </task>
    <dumped>2024-03-02 11:05:00.000000+00:00</dumped>
  </meta>
"""


IMAGES_BODY = """  <image id="0" name="street 1.jpg" width="10" height="8">
    <box label="car" source="manual" occluded="0" xtl="1.00" ytl="2.50" xbr="6.33" ybr="7.10" z_order="1" group_id="3">
      <attribute name="color">blue</attribute>
      <attribute name="parked">true</attribute>
      <attribute name="speed">42</attribute>
    </box>
    <box label="person" source="auto" occluded="1" xtl="0.10" ytl="0.20" xbr="0.30" ybr="0.70" z_order="0" rotation="15.50">
    </box>
    <polygon label="road sign" source="manual" occluded="0" points="1.00,1.00;5.50,1.00;5.50,4.25" z_order="2">
    </polygon>
    <polyline label="person" source="manual" occluded="0" points="0.00,0.00;9.99,7.99" z_order="0">
    </polyline>
    <points label="person" source="semi-auto" occluded="0" points="2.00,3.00;4.123,5.5" z_order="0">
    </points>
    <ellipse label="car" source="manual" occluded="0" cx="5.10" cy="4.20" rx="2.30" ry="1.70" z_order="0">
    </ellipse>
    <mask label="car" source="manual" occluded="0" rle="1, 2, 2, 2, 1" left="3" top="2" width="4" height="2" z_order="0">
    </mask>
    <tag label="road sign" source="manual">
    </tag>
  </image>
  <image id="1" name="nested/dir/b.png" width="10" height="8">
  </image>
  <image id="2" name="été/ü ñ.jpg" width="12" height="6">
    <box label="car" source="manual" occluded="0" xtl="0.00" ytl="0.00" xbr="12.00" ybr="6.00" z_order="0">
      <attribute name="color">red</attribute>
      <attribute name="parked">false</attribute>
      <attribute name="speed">7</attribute>
    </box>
  </image>
"""


def images_xml(meta: str | None = None, body: str = IMAGES_BODY) -> str:
    """A full "CVAT for images" annotations.xml."""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n'
            + (task_meta() if meta is None else meta) + body + "</annotations>\n")


def make_images_task(root: Path, with_images: bool = True) -> Path:
    """A task export: annotations.xml + images/ (image 1 has no file)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "annotations.xml").write_text(images_xml(), encoding="utf-8")
    if with_images:
        write_image(root / "images" / "street 1.jpg", 8, 10, 10)
        write_image(root / "images" / "été" / "ü ñ.jpg", 6, 12, 20)
    return root


VIDEO_BODY = """  <track id="0" label="car" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="1.00" ytl="1.00" xbr="4.00" ybr="3.00" z_order="0">
      <attribute name="color">red</attribute>
      <attribute name="parked">false</attribute>
      <attribute name="speed">10</attribute>
    </box>
    <box frame="1" keyframe="0" outside="0" occluded="1" xtl="2.00" ytl="1.00" xbr="5.00" ybr="3.00" z_order="0">
      <attribute name="color">red</attribute>
      <attribute name="parked">false</attribute>
      <attribute name="speed">12</attribute>
    </box>
    <box frame="2" keyframe="1" outside="1" occluded="0" xtl="2.00" ytl="1.00" xbr="5.00" ybr="3.00" z_order="0">
      <attribute name="color">red</attribute>
      <attribute name="parked">false</attribute>
      <attribute name="speed">12</attribute>
    </box>
  </track>
  <track id="1" label="person" source="auto" group_id="4">
    <polygon frame="1" keyframe="1" outside="0" occluded="0" points="1.00,1.00;3.00,1.00;2.00,2.50" z_order="1">
    </polygon>
    <polygon frame="3" keyframe="1" outside="0" occluded="0" points="1.50,1.00;3.00,1.00;2.00,2.50" z_order="1">
    </polygon>
  </track>
"""


def video_xml(size: int = 5) -> str:
    """A "CVAT for video" annotations.xml: tracks, frame size in original_size."""
    extra = """      <original_size>
        <width>10</width>
        <height>8</height>
      </original_size>
"""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n'
            + task_meta("video", size, "interpolation", extra=extra) + VIDEO_BODY + "</annotations>\n")


def make_video_task(root: Path) -> Path:
    """A video task export with frames 0 and 1 saved as images/frame_00000N.PNG."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "annotations.xml").write_text(video_xml(), encoding="utf-8")
    write_image(root / "images" / "frame_000000.PNG", 8, 10, 1)
    write_image(root / "images" / "frame_000001.PNG", 8, 10, 2)
    return root


PROJECT_META = """  <meta>
    <project>
      <id>2</id>
      <name>streets</name>
      <created>2024-03-01 10:00:00.000000+00:00</created>
      <updated>2024-03-02 11:00:00.000000+00:00</updated>
""" + LABELS.replace("\n      ", "\n      ") + """      <tasks>
        <task>
          <id>7</id>
          <name>a</name>
          <size>2</size>
          <mode>annotation</mode>
          <subset>Train</subset>
        </task>
        <task>
          <id>8</id>
          <name>b</name>
          <size>1</size>
          <mode>annotation</mode>
          <subset>Validation</subset>
        </task>
      </tasks>
    </project>
    <dumped>2024-03-02 11:05:00.000000+00:00</dumped>
  </meta>
"""

PROJECT_BODY = """  <image id="0" name="a.jpg" subset="Train" task_id="7" width="10" height="8">
    <box label="car" source="manual" occluded="0" xtl="1.00" ytl="1.00" xbr="2.00" ybr="2.00" z_order="0">
      <attribute name="color">red</attribute>
      <attribute name="parked">false</attribute>
      <attribute name="speed">1</attribute>
    </box>
  </image>
  <image id="1" name="b.jpg" subset="Train" task_id="7" width="10" height="8">
  </image>
  <image id="2" name="a.jpg" subset="Validation" task_id="8" width="10" height="8">
    <tag label="person" source="manual">
    </tag>
  </image>
"""


def make_project(root: Path) -> Path:
    """A project export: one annotations.xml, images/<subset>/."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "annotations.xml").write_text(images_xml(PROJECT_META, PROJECT_BODY), encoding="utf-8")
    write_image(root / "images" / "Train" / "a.jpg", 8, 10, 30)
    write_image(root / "images" / "Validation" / "a.jpg", 8, 10, 40)
    return root

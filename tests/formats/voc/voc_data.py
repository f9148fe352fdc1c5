"""Hand-written VOC fixtures, laid out as VOC 2012 / CVAT / Datumaro write them."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

VOC_COLORS = {0: (0, 0, 0), 12: (64, 0, 128), 15: (192, 128, 128), 255: (224, 224, 192)}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def image(path: Path, h: int, w: int, ext: str = ".jpg") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((h, w, 3), 90, np.uint8)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def _chunk(t: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xFFFFFFFF)


def palette_png(path: Path, values: np.ndarray, colors: dict[int, tuple[int, int, int]] | None = None,
                n_colors: int = 256, trns: bool = False) -> Path:
    """An 8-bit indexed PNG as VOC ships them (rows with the Sub filter, like libpng may)."""
    from dsrepo.formats.voc.labelmap import voc_color

    h, w = values.shape
    rows = []
    for r in values.astype(np.uint8):
        sub = np.diff(np.concatenate(([0], r.astype(np.int16)))).astype(np.uint8)  # Sub filter
        rows.append(b"\x01" + sub.tobytes())
    pal = b"".join(bytes((colors or {}).get(i, voc_color(i))) for i in range(n_colors))
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
    data += _chunk(b"PLTE", pal)
    if trns:
        data += _chunk(b"tRNS", b"\x00" * 1)
    data += _chunk(b"IDAT", zlib.compress(b"".join(rows))) + _chunk(b"IEND", b"")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def grey_png(path: Path, values: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", values.astype(np.uint8))
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def rgb_png(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", rgb[:, :, ::-1].copy())
    assert ok
    path.write_bytes(buf.tobytes())
    return path


VOC2012_XML = """<annotation>
\t<folder>VOC2012</folder>
\t<filename>2007_000032.jpg</filename>
\t<source>
\t\t<database>The VOC2007 Database</database>
\t\t<annotation>PASCAL VOC2007</annotation>
\t\t<image>flickr</image>
\t</source>
\t<size>
\t\t<width>16</width>
\t\t<height>12</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>1</segmented>
\t<object>
\t\t<name>person</name>
\t\t<pose>Frontal</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>1</xmin>
\t\t\t<ymin>2</ymin>
\t\t\t<xmax>8</xmax>
\t\t\t<ymax>11</ymax>
\t\t</bndbox>
\t\t<part>
\t\t\t<name>head</name>
\t\t\t<bndbox>
\t\t\t\t<xmin>3</xmin>
\t\t\t\t<ymin>2</ymin>
\t\t\t\t<xmax>6</xmax>
\t\t\t\t<ymax>4</ymax>
\t\t\t</bndbox>
\t\t</part>
\t\t<actions>
\t\t\t<jumping>1</jumping>
\t\t\t<reading>0</reading>
\t\t</actions>
\t\t<point>
\t\t\t<x>4</x>
\t\t\t<y>3</y>
\t\t</point>
\t</object>
\t<object>
\t\t<name>tvmonitor</name>
\t\t<pose/>
\t\t<truncated>0</truncated>
\t\t<difficult/>
\t\t<bndbox>
\t\t\t<xmin>9.5</xmin>
\t\t\t<ymin>0.1</ymin>
\t\t\t<xmax>15.25</xmax>
\t\t\t<ymax>0.3</ymax>
\t\t</bndbox>
\t</object>
</annotation>
"""

CVAT_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotation>
  <folder></folder>
  <filename>{name}</filename>
  <source>
    <database>Unknown</database>
    <annotation>Unknown</annotation>
    <image>Unknown</image>
  </source>
  <size>
    <width>0</width>
    <height>0</height>
    <depth></depth>
  </size>
  <segmented>0</segmented>
  <object>
    <name>{label}</name>
    <occluded>1</occluded>
    <bndbox>
      <xmin>2.25</xmin>
      <ymin>1.0</ymin>
      <xmax>7.75</xmax>
      <ymax>5.5</ymax>
    </bndbox>
    <attributes>
      <attribute>
        <name>color</name>
        <value>dark blue</value>
      </attribute>
      <attribute>
        <name>speed</name>
        <value>12.5</value>
      </attribute>
      <attribute>
        <name>count</name>
        <value>3</value>
      </attribute>
      <attribute>
        <name>parked</name>
        <value>true</value>
      </attribute>
    </attributes>
  </object>
</annotation>
"""


def class_map() -> np.ndarray:
    """12x16 class indices: person (15) left, tvmonitor (20) top right, boundary 255."""
    m = np.zeros((12, 16), np.uint8)
    m[2:11, 1:8] = 15
    m[0:1, 10:15] = 20
    m[2:11, 8] = 255
    return m


def object_map() -> np.ndarray:
    m = np.zeros((12, 16), np.uint8)
    m[2:11, 1:8] = 1
    m[0:1, 10:15] = 2
    m[2:11, 8] = 255
    return m


def make_voc2012(root: Path) -> Path:
    """VOC 2012 shaped: default label map (no labelmap.txt), Main + label files,
    Segmentation, Action and Layout lists, palette masks with boundary, an image
    without XML (segmentation only), an empty subset and a missing image."""
    write(root / "Annotations" / "2007_000032.xml", VOC2012_XML)
    write(root / "Annotations" / "2007_000039.xml", VOC2012_XML.replace("2007_000032", "2007_000039")
          .replace("<segmented>1</segmented>", "<segmented>0</segmented>"))
    image(root / "JPEGImages" / "2007_000032.jpg", 12, 16)
    image(root / "JPEGImages" / "2008_000100.jpg", 12, 16)
    write(root / "ImageSets" / "Main" / "train.txt", "2007_000032\n2007_000039\n")
    write(root / "ImageSets" / "Main" / "val.txt", "")
    write(root / "ImageSets" / "Main" / "person_train.txt", "2007_000032  1\n2007_000039  0\n")
    write(root / "ImageSets" / "Main" / "tvmonitor_train.txt", "2007_000032  1\n2007_000039 -1\n")
    write(root / "ImageSets" / "Segmentation" / "train.txt", "2007_000032\n2008_000100\n")
    write(root / "ImageSets" / "Action" / "train.txt", "2007_000039\n")
    write(root / "ImageSets" / "Action" / "jumping_train.txt", "2007_000039 1  1\n")
    write(root / "ImageSets" / "Layout" / "train.txt", "2007_000032 1\n")
    palette_png(root / "SegmentationClass" / "2007_000032.png", class_map())
    palette_png(root / "SegmentationObject" / "2007_000032.png", object_map())
    cm = np.zeros((12, 16), np.uint8)
    cm[5:9, 5:9] = 12
    palette_png(root / "SegmentationClass" / "2008_000100.png", cm)
    return root


LABELMAP = """# label:color_rgb:parts:actions
background:0,0,0::
car:255,0,0:wheel,mirror:
person:0,0,255:head:waving,sitting
road:::
"""


def make_custom(root: Path) -> Path:
    """CVAT/Datumaro shaped: a custom label map, float coordinates, <attributes>,
    zero sizes (read from the image header), unicode, spaces and nested ids."""
    write(root / "labelmap.txt", LABELMAP)
    ids = ["frame 001", "sub/ünï", "sub/deep/x"]
    for i, item_id in enumerate(ids):
        name = item_id.rsplit("/", 1)[-1] + ".png"
        write(root / "Annotations" / f"{item_id}.xml", CVAT_XML.format(name=name, label="car"))
        if i < 2:
            image(root / "JPEGImages" / f"{item_id}.png", 10 + i, 20, ".png")
    write(root / "ImageSets" / "Main" / "default.txt", '"frame 001"\nsub/ünï\nsub/deep/x\n')
    return root

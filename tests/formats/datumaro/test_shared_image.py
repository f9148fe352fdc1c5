"""Two items of one subset that use the same image file export it once."""

from __future__ import annotations

import cv2
import numpy as np

from dsrepo.formats.api import export_dataset, import_dataset
from dsrepo.model import Categories, Dataset, Image, Item


def test_items_sharing_an_image_export_it_once(tmp_path):
    img = tmp_path / "shared.png"
    cv2.imwrite(str(img), np.zeros((3, 4, 3), np.uint8))
    media = Image(path=str(img), size=(3, 4), name="shared.png")
    ds = Dataset.from_items([Item("a", media=media), Item("b", media=media)], Categories())
    report = export_dataset(ds, tmp_path / "out", "datumaro", {"save_media": True})
    assert report.files == ("annotations/default.json", "images/default/shared.png")
    back = import_dataset(tmp_path / "out", "datumaro")
    assert [(it.id, it.media.name, it.media.size) for it in back] == [("a", "shared.png", (3, 4)),
                                                                     ("b", "shared.png", (3, 4))]

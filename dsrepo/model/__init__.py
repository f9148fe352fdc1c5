"""Dataset model: items, annotations, categories, datasets; canonical encoding + hashing."""

from dsrepo.model.annotations import (
    AnnType,
    Annotation,
    Bbox,
    Caption,
    Ellipse,
    Label,
    Mask,
    Points,
    Polygon,
    Polyline,
    Visibility,
)
from dsrepo.model.categories import Categories, LabelCategory, PointsCategory
from dsrepo.model.dataset import Dataset
from dsrepo.model.item import DEFAULT_SUBSET, Item
from dsrepo.model.media import Image

__all__ = [
    "AnnType", "Annotation", "Bbox", "Caption", "Ellipse", "Label", "Mask", "Points", "Polygon",
    "Polyline", "Visibility", "Categories", "LabelCategory", "PointsCategory", "Dataset",
    "DEFAULT_SUBSET", "Item", "Image",
]

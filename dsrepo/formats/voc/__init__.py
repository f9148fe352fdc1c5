"""Pascal VOC: the combined ``voc`` format and one format per task."""

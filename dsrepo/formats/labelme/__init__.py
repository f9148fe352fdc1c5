"""LabelMe: one JSON file per image, as written by the labelme annotation tool.

``spec`` is light (detection and options); ``importer``/``exporter`` hold the work.
Round-trip data lives under the ``"labelme"`` key of ``meta`` mappings (see ``meta``).
"""

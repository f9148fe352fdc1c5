"""COCO format package: ``spec`` (light) describes the formats; ``importer``/``exporter``
hold the import and export code, loaded only when used."""

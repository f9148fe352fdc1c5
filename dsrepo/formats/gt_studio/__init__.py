"""GT Studio JSON (per-image annotation files with normalised shapes and raster masks)."""

"""Helpers shared by format packages: safe paths, atomic writes, media, lossy-conversion reports."""

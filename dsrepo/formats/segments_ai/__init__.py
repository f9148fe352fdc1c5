"""Segments.ai release files (JSON + 32-bit RGBA instance bitmaps)."""

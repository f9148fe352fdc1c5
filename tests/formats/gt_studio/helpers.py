"""Round-trip helpers: the same as segments_ai's (import, export without media, place media
as the repository does, re-import)."""

from segments_ai.helpers import assert_invariant, place_media, through_encoding  # noqa: F401

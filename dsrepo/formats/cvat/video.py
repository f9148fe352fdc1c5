"""CVAT "for video" export: per-frame annotations regrouped into ``<track>`` elements."""

from __future__ import annotations

from typing import Any

from dsrepo.formats.cvat import writer as wr
from dsrepo.model.annotations import AnnType
from dsrepo.model.item import Item


def frame_name(n: int) -> str:
    """Item id of video frame ``n`` (as the importer names frames)."""
    return f"frame_{n:06d}"


class VideoFile:
    """Frames of one video-mode file: ``(frame, subset, [(annotation, label, geometry)])``."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, str, list[tuple[Any, str, list]]]] = []
        self.frame_size: tuple[int, int] | None = None

    def add(self, exp: Any, item: Item, frame: int) -> None:
        """Take one item (its annotations are checked by ``exp.annotation``)."""
        if item.id != frame_name(frame):
            exp.tracker.drop("item names (video frames are named frame_NNNNNN)")
        if self.frame_size is None and item.media is not None:
            self.frame_size = item.media.size or item.media.header_size()
        anns = []
        for ann in item.annotations:
            got = exp.annotation(ann)
            if got is not None:
                anns.append((ann, got[0], got[1]))
        self.frames.append((frame, item.subset, anns))

    def size(self) -> int:
        """Frame count: last frame + 1."""
        return max((f for f, _, _ in self.frames), default=-1) + 1

    def _tracks(self, exp: Any) -> tuple[dict[int, list], list, int]:
        tracks: dict[int, list] = {}
        heads: dict[int, tuple] = {}
        loose, tags = [], []
        for frame, subset, anns in sorted(self.frames, key=lambda f: f[0]):
            for ann, label, geom in anns:
                if ann.type is AnnType.label:
                    tags.append((frame, subset, ann, label))
                    continue
                tid = ann.attributes.get("track_id")
                head = (label, ann.type, str(ann.attributes.get("source", "manual")), ann.group, subset)
                ok = isinstance(tid, int) and not isinstance(tid, bool) and tid >= 0
                if ok and heads.setdefault(tid, head) == head:
                    tracks.setdefault(tid, []).append((frame, ann, geom))
                else:
                    loose.append((frame, ann, geom, head))
        nxt = max(tracks, default=-1) + 1
        split = 0
        for frame, ann, geom, head in loose:
            split += isinstance(ann.attributes.get("track_id"), int)
            heads[nxt] = head
            tracks[nxt] = [(frame, ann, geom)]
            nxt += 1
        if loose:
            exp.tracker.change("shapes without a consistent track_id", "written as one-frame tracks "
                               f"({split} of them split from a track)", len(loose))
        self.heads = heads
        return tracks, tags, split

    def write(self, exp: Any, f: Any) -> None:
        """Write the tracks (sorted by id) and frame tags into ``f.body``."""
        tracks, tags, _ = self._tracks(exp)
        implied = f.implied_subset()
        out: list[str] = []
        for tid in sorted(tracks):
            label, atype, source, group, subset = self.heads[tid]
            attrs = [("id", str(tid)), ("label", label), ("source", source)]
            if subset != implied:
                attrs.append(("subset", subset))
            if group:
                attrs.append(("group_id", str(int(group))))
            lines: list[str] = []
            for frame, ann, geom in tracks[tid]:
                a = ann.attributes
                info = {"frame": frame, "keyframe": a.get("keyframe", True), "outside": a.get("outside", False)}
                sa = wr.shape_attrs(ann, label, geom, info, False)
                kids = wr.attribute_children(a, exp.orders[ann.label], "      ")
                lines += wr.element(wr.TAGS[atype], sa, kids, "    ")
            out += wr.element("track", attrs, lines, "  ")
        for frame, subset, ann, label in tags:
            attrs = [("frame", str(frame)), ("label", label), ("source", str(ann.attributes.get("source", "manual")))]
            if ann.group:
                attrs.append(("group_id", str(int(ann.group))))
            if subset != implied:
                attrs.append(("subset", subset))
            kids = wr.attribute_children(ann.attributes, exp.orders[ann.label], "    ")
            out += wr.element("tag", attrs, kids, "  ")
        if out:
            f.video_text = "\n".join(out) + "\n"

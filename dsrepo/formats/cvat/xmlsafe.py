"""Safe, streaming XML reading for CVAT files (lxml iterparse without entities or DTDs).

Every parse problem becomes a :class:`DatasetError` naming the file and the line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from lxml import etree

from dsrepo.errors import DatasetError


def where(el: "etree._Element") -> str:
    """``"line N <tag>"``: the location of an element for error messages."""
    return f"line {el.sourceline} <{el.tag}>"


def _check_root(root, path: Path) -> None:
    info = root.getroottree().docinfo
    if info.internalDTD is not None or info.externalDTD is not None or info.doctype:
        raise DatasetError("a DTD / entity declarations are not allowed in CVAT XML", path, "line 1")
    if root.tag != "annotations":
        raise DatasetError(f"root element is <{root.tag}>, expected <annotations> (not a CVAT XML file?)",
                           path, where(root))


def iterparse(path: Path, tags: tuple[str, ...]) -> Iterator["etree._Element"]:
    """Top-level elements of ``path`` (children of the root) whose tag is in ``tags``,
    each yielded once fully parsed.

    Entities are never resolved, nothing is fetched from the network, and a document
    with a DTD (where entity declarations live) is refused: CVAT never writes one, and
    it is how entity-expansion and external-entity attacks start.
    """
    try:
        ctx = etree.iterparse(str(path), events=("end",), tag=tags, resolve_entities=False, no_network=True,
                              huge_tree=False, load_dtd=False, remove_comments=True, remove_pis=True)
        checked = False
        for _, el in ctx:
            parent = el.getparent()
            if not checked:
                checked = True
                _check_root(el.getroottree().getroot(), path)
            if parent is not None and parent.getparent() is None:
                yield el
        if not checked and ctx.root is not None:
            _check_root(ctx.root, path)
    except etree.XMLSyntaxError as e:
        msg = re.sub(r", line \d+, column \d+$", "", (e.msg or str(e)).strip())
        line, col = e.position if e.position else (e.lineno or 0, 0)
        raise DatasetError(f"malformed XML: {msg}", path, f"line {line}, column {col}") from None
    except OSError as e:
        raise DatasetError(f"cannot read: {e.strerror or e}", path) from None


def release(el: "etree._Element") -> None:
    """Free a processed element and its already processed siblings (constant memory)."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]

"""Ultralytics ``data.yaml``: reading (ruamel.yaml round trip) and its keys.

``names`` is a list or a ``{index: name}`` mapping (indices 0..n-1); ``nc`` (optional)
must match; ``kpt_shape`` is ``[keypoints, 2 or 3]`` for pose datasets. Split keys
are ``train``, ``val`` and ``test`` (a folder, a ``.txt`` image list, or a list of
those); other keys become splits only when their value is a path that exists.
"""

from __future__ import annotations

import io
import re
from typing import Any

from dsrepo.errors import DatasetError

STANDARD_SPLITS = ("train", "val", "test")
NOT_SPLITS = frozenset((
    "path", "names", "nc", "kpt_shape", "flip_idx", "kpt_names", "download", "yaml_file", "channels",
    "roboflow", "license", "url",
))
# Strings PyYAML (YAML 1.1, which Ultralytics uses) would not read back as strings.
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ./()+-]*$")
_YAML11_WORDS = frozenset("y yes n no true false on off null".split())


def _yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.allow_unicode = True
    y.width = 4096
    return y


def load_yaml(text: str, source: object) -> Any:
    """The round-trip document of ``text``; DatasetError if it is not a YAML mapping."""
    from ruamel.yaml.error import YAMLError

    try:
        doc = _yaml().load(text)
    except YAMLError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DatasetError(f"invalid YAML: {first}", source) from None
    if not isinstance(doc, dict):
        raise DatasetError("expected a YAML mapping at the top level", source)
    return doc


def dump_yaml(doc: Any) -> str:
    """YAML text of a (round-trip) document."""
    buf = io.StringIO()
    _yaml().dump(doc, buf)
    return buf.getvalue()


def _name(v: Any, key: Any, source: object) -> str:
    if isinstance(v, bool) or v is None or not isinstance(v, (str, int, float)):
        raise DatasetError(f"class name {v!r} is not a string", source, f"names[{key}]")
    s = str(v)
    if not s.strip():
        raise DatasetError("empty class name", source, f"names[{key}]")
    return s


def read_names(doc: Any, source: object) -> list[str]:
    """Class names from ``names`` (list or mapping) checked against ``nc``."""
    raw = doc.get("names")
    if raw is None:
        raise DatasetError("no 'names' key", source)
    if isinstance(raw, list):
        names = [_name(v, i, source) for i, v in enumerate(raw)]
    elif isinstance(raw, dict):
        keyed: dict[int, str] = {}
        for k, v in raw.items():
            if isinstance(k, bool) or not (isinstance(k, int) or (isinstance(k, str) and k.isdigit())):
                raise DatasetError(f"class index {k!r} is not an integer", source, "names")
            keyed[int(k)] = _name(v, k, source)
        if sorted(keyed) != list(range(len(keyed))):
            raise DatasetError(f"class indices must be 0..{len(keyed) - 1}, got {sorted(keyed)}", source, "names")
        names = [keyed[i] for i in range(len(keyed))]
    else:
        raise DatasetError("'names' must be a list or a mapping", source, "names")
    nc = doc.get("nc")
    if nc is not None and (isinstance(nc, bool) or not isinstance(nc, int) or nc != len(names)):
        raise DatasetError(f"nc = {nc!r} but 'names' has {len(names)} classes", source, "nc")
    return names


def read_kpt_shape(doc: Any, source: object) -> tuple[int, int] | None:
    """``kpt_shape`` as ``(K, D)``, None when absent."""
    raw = doc.get("kpt_shape")
    if raw is None:
        return None
    ok = isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                         for v in raw)
    if not ok or raw[0] < 1 or raw[1] not in (2, 3):
        raise DatasetError(f"kpt_shape must be [keypoints, 2 or 3], got {raw!r}", source, "kpt_shape")
    return int(raw[0]), int(raw[1])


def split_values(value: Any, key: str, source: object) -> list[str]:
    """The paths of a split entry (a string or a list of strings; empty for null)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise DatasetError(f"split {key!r} must be a path or a list of paths", source, key)


def names_node(names: list[str], as_list: bool) -> Any:
    """``names`` for the YAML: a mapping ``{i: name}`` (or a flow list), quoting names
    YAML 1.1 readers would take for something else."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    def q(n: str) -> Any:
        safe = _SAFE_NAME.match(n) and n.lower() not in _YAML11_WORDS
        return n if safe else SingleQuotedScalarString(n)

    if as_list:
        seq = CommentedSeq(q(n) for n in names)
        return seq
    return CommentedMap((i, q(n)) for i, n in enumerate(names))


def flow_list(values: list[int]) -> Any:
    """A YAML flow sequence ``[a, b]``."""
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq

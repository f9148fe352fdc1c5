"""JSON reading and value checks shared by the Segments.ai and GT Studio packages.

Every problem becomes a :class:`DatasetError` naming the file and the record.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import orjson

from dsrepo.errors import DatasetError


def type_name(v: Any) -> str:
    """Short English name of a JSON value's type ("an object", "a list", ...)."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null", int: "an integer", float: "a number"}.get(type(v), type(v).__name__)


def short(v: Any) -> str:
    """A JSON rendering of ``v`` cut to 60 characters, for error messages."""
    try:
        s = json.dumps(v, ensure_ascii=False)
    except (TypeError, ValueError):
        s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def is_int(v: Any) -> bool:
    """True for a JSON integer (not a boolean)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v: Any) -> bool:
    """True for a finite JSON number (not a boolean)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def load_json(path: Path) -> Any:
    """Parse the JSON file ``path``; DatasetError with line and column when it is not JSON."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read: {e.strerror or e}", path) from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatasetError(f"not UTF-8 text (byte {e.start})", path) from None
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise DatasetError(f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})", path) from None
    except ValueError as e:
        raise DatasetError(f"invalid JSON: {e}", path) from None
    except RecursionError:
        raise DatasetError("invalid JSON: nested too deeply", path) from None
    raise DatasetError("invalid JSON", path)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def peek(path: Path, n: int = 1 << 16) -> bytes:
    """The first ``n`` bytes of ``path`` (empty if unreadable); for cheap detection."""
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError:
        return b""

"""Command-line style options shared by formats and transforms.

An :class:`Option` describes one ``--name VALUE`` parameter; :func:`parse_options`
turns ``["--name", "v"]`` (or a dict) into a dict keyed by ``Option.dest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from dsrepo.errors import UsageError


@dataclass(frozen=True, slots=True)
class Option:
    """One format option, given on the command line as ``--name VALUE`` (or a bare flag).

    ``kind`` is ``"flag"`` (bool switch; ``--no-name`` turns it off), ``"str"``, ``"int"``,
    ``"float"``, ``"choice"`` (one of ``choices``) or ``"list"`` (comma-separated strings).
    """

    name: str
    kind: str = "str"
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


def _convert(opt: Option, raw: str) -> Any:
    try:
        if opt.kind == "int":
            return int(raw)
        if opt.kind == "float":
            return float(raw)
    except ValueError:
        raise UsageError(f"option --{opt.name}: expected {opt.kind}, got {raw!r}") from None
    if opt.kind == "choice":
        if raw not in opt.choices:
            raise UsageError(f"option --{opt.name}: expected one of {', '.join(opt.choices)}, got {raw!r}")
        return raw
    if opt.kind == "list":
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    if opt.kind == "flag":
        low = raw.strip().lower()
        if low not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
            raise UsageError(f"option --{opt.name}: expected true or false, got {raw!r}")
        return low in ("1", "true", "yes", "on")
    return raw


def parse_options(options: Sequence[Option], args: Sequence[str] | Mapping[str, Any] | None,
                  context: str = "format") -> dict[str, Any]:
    """Parse ``--name value`` style ``args`` (or validate a dict) against ``options``.

    Returns every option's ``dest`` with its default filled in. Unknown options and bad
    values raise :class:`UsageError` naming the option.
    """
    by_name = {o.name: o for o in options}
    out = {o.dest: o.default for o in options}
    if args is None:
        return out
    if isinstance(args, Mapping):
        by_dest = {o.dest: o for o in options}
        for key, value in args.items():
            opt = by_dest.get(key.replace("-", "_"))
            if opt is None:
                raise UsageError(f"{context}: unknown option {key!r}")
            if value is None and opt.kind == "list":
                value = ()
            elif isinstance(value, str) and opt.kind not in ("str", "choice"):
                value = _convert(opt, value)
            elif opt.kind == "choice" and value not in opt.choices:
                raise UsageError(f"option --{opt.name}: expected one of {', '.join(opt.choices)}, got {value!r}")
            out[opt.dest] = tuple(value) if opt.kind == "list" and not isinstance(value, str) else value
        return out
    i = 0
    args = list(args)
    while i < len(args):
        tok = args[i]
        if not tok.startswith("--"):
            raise UsageError(f"{context}: unexpected argument {tok!r}")
        name, eq, val = tok[2:].partition("=")
        opt = by_name.get(name)
        if opt is None and name.startswith("no-") and by_name.get(name[3:], Option("")).kind == "flag":
            out[by_name[name[3:]].dest] = False
            i += 1
            continue
        if opt is None:
            known = ", ".join("--" + o.name for o in options) or "none"
            raise UsageError(f"{context}: unknown option --{name} (known: {known})")
        if opt.kind == "flag":
            out[opt.dest] = True if not eq else val.lower() in ("1", "true", "yes", "on")
            i += 1
            continue
        if not eq:
            if i + 1 >= len(args):
                raise UsageError(f"option --{name} needs a value")
            val = args[i + 1]
            i += 1
        out[opt.dest] = _convert(opt, val)
        i += 1
    return out

"""The contract every format package implements, and option parsing.

A format package exposes one :class:`FormatSpec` object; the registry maps the
format name to ``"module:attr"`` of that object. ``load``/``save`` receive parsed
options (a dict keyed by option ``dest``) and a :class:`~dsrepo.progress.Progress`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from dsrepo.errors import UsageError
from dsrepo.model.dataset import Dataset
from dsrepo.progress import Progress


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


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export did: files written, plus notes (warnings already went to progress)."""

    files: tuple[str, ...] = ()
    missing_media: tuple[str, ...] = ()


LoadFn = Callable[[Path, Mapping[str, Any], Progress], Dataset]
SaveFn = Callable[[Dataset, Path, Mapping[str, Any], Progress], ExportReport]
DetectFn = Callable[[Path], float]


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """A format: detection, import, export and their options.

    ``detect(path) -> confidence`` in ``[0, 1]`` (0 = not this format) must be cheap:
    look at names and the first bytes of files, never parse whole datasets.
    """

    name: str
    description: str
    detect: DetectFn | None = None
    load: LoadFn | None = None
    save: SaveFn | None = None
    import_options: tuple[Option, ...] = ()
    export_options: tuple[Option, ...] = ()
    extensions: tuple[str, ...] = field(default=())


# Options every exporter accepts.
SAVE_MEDIA = Option("save-media", "flag", False, "copy (or re-encode) images into the export")
IMAGE_EXT = Option("image-ext", "str", None, "extension for saved images, e.g. .png (default: keep original)")
STRICT = Option("strict", "flag", False, "fail instead of warning when annotations cannot be represented")
COMMON_EXPORT_OPTIONS = (SAVE_MEDIA, IMAGE_EXT, STRICT)


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
            if isinstance(value, str) and opt.kind not in ("str", "choice"):
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

"""The build pipeline of a revision: stages (transforms and filters) and the rule that
combines sources into the project dataset.

A :class:`Stage` applies to one source (``target`` = its name) or to the project
(``target`` = ``"project"``: all sources combined). The working tree's pipeline lives
in ``.dsrepo/state/pipeline.json``; ``commit`` records it in the tree, ``checkout``
restores it. Stage ids are short content hashes chained to the previous stage, so a
stage's id names its position too, and equal pipelines have equal ids everywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import orjson

from dsrepo.errors import RepoError, UsageError
from dsrepo.formats.common.files import atomic_write_bytes
from dsrepo.repo.layout import Layout

PROJECT = "project"
TRANSFORM, FILTER = "transform", "filter"
MERGE_POLICIES = ("exact", "union")
FILTER_MODES = ("items", "annotations", "items+annotations")
FILTER_VERSION = 1
COMBINE_VERSION = 1


def _canon(d: Any) -> bytes:
    return orjson.dumps(d, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True, slots=True)
class Stage:
    """One recorded step: ``kind`` is "transform" (``name`` = transform name) or
    "filter" (``name`` = "filter", params ``expr``/``mode``/``remove_empty``)."""

    id: str
    target: str
    kind: str
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.target, "kind": self.kind, "name": self.name,
                "params": dict(self.params)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Stage":
        try:
            return cls(str(d["id"]), str(d["target"]), str(d["kind"]), str(d["name"]), dict(d.get("params") or {}))
        except (KeyError, TypeError) as e:
            raise RepoError(f"malformed stage {d!r}: {e}") from None

    def describe(self) -> str:
        """Human-readable one-liner, e.g. ``remap_labels --label cat:dog``."""
        if self.kind == FILTER:
            mode = self.params.get("mode", "items")
            return f"filter {self.params.get('expr')!r}" + (f" ({mode})" if mode != "items" else "")
        args = []
        for k, v in sorted(self.params.items()):
            if isinstance(v, bool):
                args.append(f"--{k.replace('_', '-')}" if v else f"--no-{k.replace('_', '-')}")
            elif isinstance(v, (list, tuple)):
                args.append(f"--{k.replace('_', '-')} {','.join(map(str, v))}")
            else:
                args.append(f"--{k.replace('_', '-')} {v}")
        return " ".join([self.name, *args])


def stage_id(prev: str, target: str, kind: str, name: str, params: Mapping[str, Any]) -> str:
    """The id of a stage following stage ``prev`` ("" for the first)."""
    raw = _canon({"prev": prev, "target": target, "kind": kind, "name": name, "params": dict(params)})
    return hashlib.sha256(raw).hexdigest()[:10]


def rechain(stages: Iterable[Stage]) -> tuple[Stage, ...]:
    """``stages`` with ids recomputed in order (after an insertion or removal)."""
    out: list[Stage] = []
    for s in stages:
        prev = out[-1].id if out else ""
        out.append(Stage(stage_id(prev, s.target, s.kind, s.name, s.params), s.target, s.kind, s.name, s.params))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Stages in order plus the project merge policy."""

    stages: tuple[Stage, ...] = ()
    merge_policy: str = "exact"

    def for_target(self, target: str) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.target == target)

    def to_json(self) -> dict[str, Any]:
        return {"merge_policy": self.merge_policy, "stages": [s.to_dict() for s in self.stages]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any] | None) -> "Pipeline":
        d = d or {}
        policy = str(d.get("merge_policy") or "exact")
        return cls(tuple(Stage.from_dict(s) for s in d.get("stages") or ()), policy)


def _path(layout: Layout):
    return layout.state / "pipeline.json"


def load_pipeline(layout: Layout) -> Pipeline:
    """The working tree's pipeline (empty when none was recorded)."""
    try:
        d = orjson.loads(_path(layout).read_bytes())
    except FileNotFoundError:
        return Pipeline()
    except orjson.JSONDecodeError:
        raise RepoError(f"{_path(layout)}: damaged pipeline state; run `dsrepo checkout --force`") from None
    return Pipeline.from_json(d)


def save_pipeline(layout: Layout, pipeline: Pipeline) -> None:
    """Write the working tree's pipeline atomically (caller holds the lock)."""
    atomic_write_bytes(_path(layout), _canon(pipeline.to_json()))


def validate_transform(name: str, params: Mapping[str, Any] | Sequence[str] | None) -> dict[str, Any]:
    """Parsed, JSON-plain parameters of transform ``name`` (UsageError if unknown or bad)."""
    from dsrepo.model.transforms import get_transform, parse_transform_args
    from dsrepo.options import parse_options
    from dsrepo.repo.snapshot import plain_options

    spec = get_transform(name)
    if params is None or isinstance(params, Mapping):
        parsed = parse_options(spec.options, params, f"transform {name}")
    else:
        parsed = parse_transform_args(name, list(params))
    defaults = {o.dest: o.default for o in spec.options}
    return plain_options({k: v for k, v in parsed.items() if v != defaults.get(k)})


def validate_filter(expr: str, mode: str, remove_empty: bool) -> dict[str, Any]:
    """Parameters of a filter stage; UsageError for an empty expression or bad mode."""
    if not expr or not expr.strip():
        raise UsageError("empty filter expression (use -e EXPR)")
    if mode not in FILTER_MODES:
        raise UsageError(f"filter mode must be one of {', '.join(FILTER_MODES)}, got {mode!r}")
    from dsrepo.model.filter import compile_expr

    compile_expr(expr.strip())  # a bad expression fails now, not at build time
    return {"expr": expr.strip(), "mode": mode, "remove_empty": bool(remove_empty)}


def stage_version(stage: Stage) -> int:
    """Implementation version of a stage (part of the build cache key)."""
    if stage.kind == FILTER:
        return FILTER_VERSION
    from dsrepo.model.transforms import get_transform

    return get_transform(stage.name).version


def stage_key(prev_key: str, stage: Stage) -> str:
    """Cache key of ``stage``'s output given its input's key."""
    raw = _canon({"in": prev_key, "kind": stage.kind, "name": stage.name, "params": dict(stage.params),
                  "version": stage_version(stage)})
    return hashlib.sha256(raw).hexdigest()


def project_key(policy: str, inputs: Sequence[tuple[str, str]]) -> str:
    """Cache key of the combined project dataset from ``(source name, key)`` pairs."""
    raw = _canon({"combine": policy, "version": COMBINE_VERSION, "inputs": [list(p) for p in inputs]})
    return hashlib.sha256(raw).hexdigest()


def apply_stage(ds: Any, stage: Stage) -> Any:
    """``stage`` applied to dataset ``ds`` (lazy where the transform is)."""
    if stage.kind == FILTER:
        p = stage.params
        return ds.filter(str(p["expr"]), mode=str(p.get("mode", "items")), remove_empty=bool(p.get("remove_empty")))
    from dsrepo.model.transforms import apply_transform

    return apply_transform(ds, stage.name, **dict(stage.params))

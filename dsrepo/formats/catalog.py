"""Descriptions of registered formats for ``dsrepo formats``."""

from __future__ import annotations

from typing import Any

from dsrepo.formats.registry import format_names, get_format


def describe_formats(name: str | None = None) -> list[dict[str, Any]]:
    """Name, description, capabilities and options of every format (or just ``name``)."""
    out = []
    for n in [name] if name else format_names():
        spec = get_format(n)
        out.append({
            "name": spec.name,
            "description": spec.description,
            "import": spec.load is not None,
            "export": spec.save is not None,
            "incremental": spec.patch is not None,  # (a patch hook: changed items only)
            "source": spec.repo_source,
            "import_options": [_opt(o) for o in spec.import_options],
            "export_options": [_opt(o) for o in spec.export_options],
        })
    return out


def describe_transforms(name: str | None = None) -> list[dict[str, Any]]:
    """Name, description, version and parameters of every transform (or just ``name``)."""
    from dsrepo.model.transforms import get_transform, transform_names

    out = []
    for n in [name] if name else transform_names():
        spec = get_transform(n)
        out.append({"name": spec.name, "description": spec.description, "version": spec.version,
                    "options": [_opt(o) for o in spec.options]})
    return out


def _opt(o: Any) -> dict[str, Any]:
    return {"name": o.name, "kind": o.kind, "default": o.default, "help": o.help, "choices": list(o.choices)}

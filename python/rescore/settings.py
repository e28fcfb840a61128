"""Settings objects: each command's options, with one name, one default and one doc.

A command (``rescore score``, ``rescore emergence``) has one frozen dataclass whose fields are
declared with :func:`setting`. Its command-line options are generated from those fields
(:func:`click_options`), its Python function takes the object (or the same names as keywords,
:func:`build`), and its manifest or summary records :func:`to_dict`. A setting is named the same
at every layer: the field ``batch_size`` is the keyword ``batch_size`` and the flag
``--batch-size``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from rescore.exceptions import InvalidOptionError

S = TypeVar("S")
F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True)
class SettingInfo:
    """What the command line needs to know about one setting, beyond its type and default."""

    doc: str
    short: str | None = None
    """A one-letter alias, e.g. ``-o``."""
    metavar: str | None = None
    envvar: str | None = None
    bounds: tuple[float | None, float | None] = (None, None)
    """Inclusive lower and upper bounds of a number (``None``: unbounded)."""
    parse: Callable[[Any], Any] | None = None
    """Turns what the command line gave (a string, or a tuple for repeatable options) into
    the setting's value; also applied to keyword values of the same raw form."""
    cli_type: Any = None
    """Overrides the click type derived from the annotation."""
    cli: bool = True
    """False: a Python-only setting (no flag)."""
    show_default: bool = True
    flag: str | None = None
    """The flag, when not ``--`` + the name with dashes (e.g. ``--option`` for ``options``)."""


def setting(
    default: Any,
    doc: str,
    *,
    short: str | None = None,
    metavar: str | None = None,
    envvar: str | None = None,
    bounds: tuple[float | None, float | None] = (None, None),
    parse: Callable[[Any], Any] | None = None,
    cli_type: Any = None,
    cli: bool = True,
    show_default: bool = True,
    flag: str | None = None,
) -> Any:
    """A settings field: its default and its one-line doc (shown by ``--help``)."""
    info = SettingInfo(
        doc, short, metavar, envvar, bounds, parse, cli_type, cli, show_default, flag
    )
    if default.__class__.__hash__ is None:  # a mapping: each instance gets its own copy
        return dataclasses.field(default_factory=lambda: default, metadata={"setting": info})
    return dataclasses.field(default=default, metadata={"setting": info})


def info(field: dataclasses.Field[Any]) -> SettingInfo:
    """The :class:`SettingInfo` of a settings field."""
    found = field.metadata.get("setting")
    if not isinstance(found, SettingInfo):
        msg = f"settings field `{field.name}` was not declared with rescore.settings.setting()"
        raise TypeError(msg)
    return found


def flag_name(name: str) -> str:
    """The command-line flag of a setting: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def _split_commas(values: Sequence[str]) -> tuple[str, ...]:
    """Repeatable options also take comma-separated lists: ``--metrics a,b --metrics c``."""
    return tuple(v.strip() for item in values for v in str(item).split(",") if v.strip())


def _base(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``| None``, and whether ``None`` was allowed."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True  # noqa: UP007
    return annotation, False


def _click_type(annotation: Any, bounds: tuple[float | None, float | None]) -> tuple[Any, bool]:
    """(click type, repeatable) for one field annotation."""
    base, _ = _base(annotation)
    origin = typing.get_origin(base)
    if origin is tuple:
        item = typing.get_args(base)[0]
        return _click_type(item, bounds)[0], True
    if origin is Literal:
        return click.Choice([str(v) for v in typing.get_args(base)]), False
    if isinstance(origin, type) and issubclass(origin, Mapping):  # repeated KEY=VALUE items, parsed
        return str, True
    if base is Path:
        return click.Path(path_type=Path), False
    lo, hi = bounds
    if base is int:
        if lo is None and hi is None:
            return int, False
        return click.IntRange(
            min=None if lo is None else int(lo), max=None if hi is None else int(hi)
        ), False
    if base is float:
        if lo is None and hi is None:
            return float, False
        return click.FloatRange(min=lo, max=hi), False
    return str, False


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def click_options(cls: type[Any]) -> Callable[[F], F]:
    """A decorator adding one click option per command-line setting of ``cls``.

    The click parameter of each option is named like the field, so the command's keyword
    arguments can be handed to :func:`from_cli` unchanged.
    """
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if info(f).cli]

    def decorate(command: F) -> F:
        for field in reversed(fields):
            meta = info(field)
            default = _default(field)
            annotation = hints[field.name]
            base, _ = _base(annotation)
            names = [meta.flag or flag_name(field.name)] + ([meta.short] if meta.short else [])
            kwargs: dict[str, Any] = {"help": meta.doc, "envvar": meta.envvar}
            if meta.metavar:
                kwargs["metavar"] = meta.metavar
            if base is bool:
                negative = "--no-" + field.name.replace("_", "-")
                names[0] = f"{names[0]}/{negative}"
                kwargs.update(default=default, show_default=meta.show_default)
            else:
                click_type, repeatable = _click_type(annotation, meta.bounds)
                if meta.cli_type is not None:
                    click_type = meta.cli_type
                if repeatable:
                    kwargs.update(multiple=True, type=click_type, default=())
                    if default and meta.show_default:
                        kwargs["help"] += f"  [default: {','.join(map(str, default))}]"
                else:
                    kwargs.update(type=click_type, default=None)
                    if meta.show_default and default is not None:
                        kwargs["help"] += f"  [default: {default}]"
            command = click.option(*names, field.name, **kwargs)(command)
        return command

    return decorate


def _coerce(cls: type[Any], name: str, value: Any) -> Any:
    """A value given on the command line or as a keyword, in the field's own form."""
    field = {f.name: f for f in dataclasses.fields(cls)}[name]
    meta = info(field)
    annotation = typing.get_type_hints(cls)[name]
    base, optional = _base(annotation)
    if value is None and optional:
        return None
    if typing.get_origin(base) is tuple and isinstance(value, str | list | tuple):
        value = _split_commas([value] if isinstance(value, str) else value)
    if isinstance(value, Mapping) or (isinstance(base, type) and isinstance(value, base)):
        return value  # already in the field's form (a keyword from Python)
    if meta.parse is not None:
        value = meta.parse(value)
    elif base is Path and isinstance(value, str):
        value = Path(value)
    return value


def from_cli(cls: type[S], params: Mapping[str, Any]) -> S:
    """Build settings from a click command's keyword arguments (unset options keep defaults)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name not in names or value is None or value == ():
            continue
        values[name] = _coerce(cls, name, value)
    return cls(**values)


def build(cls: type[S], settings: S | None, overrides: Mapping[str, Any]) -> S:
    """``settings`` (or the defaults) with keyword ``overrides``, each checked by name."""
    base = settings if settings is not None else cls()
    if settings is not None and not isinstance(settings, cls):
        msg = f"settings must be a {cls.__name__}, got {type(settings).__name__}"
        raise InvalidOptionError(msg)
    if not overrides:
        return base
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        msg = f"unknown {cls.__name__} setting(s): {', '.join(unknown)}; known: {', '.join(names)}"
        raise InvalidOptionError(msg)
    coerced = {k: _coerce(cls, k, v) for k, v in overrides.items()}
    return dataclasses.replace(base, **coerced)  # type: ignore[type-var]


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def to_dict(settings: Any) -> dict[str, Any]:
    """The settings as JSON-ready values (paths as strings, tuples as lists)."""
    return {f.name: _plain(getattr(settings, f.name)) for f in dataclasses.fields(settings)}


__all__ = [
    "SettingInfo",
    "build",
    "click_options",
    "flag_name",
    "from_cli",
    "info",
    "setting",
    "to_dict",
]

"""Typed metric options: a name, a type, a default and a one-line doc each.

A metric's options are the keyword-only parameters of its function (besides ``workers`` and
``on_error``, which every metric takes): :func:`options_from_signature` reads their types and
defaults, the entry supplies the docs. :meth:`Option.check` validates a value given on the
command line or in Python before any data is read, naming the metric and the option.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rescore.exceptions import InvalidOptionError

RUNTIME_KEYWORDS = ("workers", "on_error")
"""Keywords every metric function takes that are not options of the metric."""


@dataclass(frozen=True)
class Option:
    """One keyword option of a metric."""

    name: str
    default: Any
    doc: str
    annotation: Any = Any
    """The parameter's type (``Literal[...]``, ``bool``, ``float``, ``Sequence[str]``, ...)."""
    alias: str | None = None
    """A deprecated command-line flag that sets this option (hidden from ``--help``)."""

    def describe(self) -> str:
        """``name=default (one of a|b): doc`` for ``--help`` and docs."""
        choices = _literal_values(self.annotation)
        kind = f" (one of {'|'.join(_show(c) for c in choices)})" if choices else ""
        return f"{self.name}={_show(self.default)}{kind}: {self.doc}"

    def check(self, metric: str, value: Any) -> Any:
        """``value`` in this option's own form; :class:`InvalidOptionError` when it cannot be."""
        ok, fixed = _conforms(self.annotation, value)
        if ok:
            return fixed
        wanted = _type_words(self.annotation)
        msg = f"{metric}: option {self.name}={value!r} is not {wanted}"
        raise InvalidOptionError(msg)


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple | list):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return str(value)


def _parts(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _literal_values(annotation: Any) -> list[Any]:
    values: list[Any] = []
    for part in _parts(annotation):
        if typing.get_origin(part) is Literal:
            values += typing.get_args(part)
        elif part is type(None):
            values.append(None)
    return values if any(typing.get_origin(p) is Literal for p in _parts(annotation)) else []


def _type_words(annotation: Any) -> str:
    words = []
    for part in _parts(annotation):
        origin = typing.get_origin(part)
        if origin is Literal:
            words.append("one of " + ", ".join(_show(v) for v in typing.get_args(part)))
        elif part is type(None):
            words.append("none")
        elif origin is not None and origin in (Sequence, list, tuple):
            words.append("a list of strings")
        else:
            words.append(getattr(part, "__name__", str(part)))
    return " or ".join(words)


def _conforms(annotation: Any, value: Any) -> tuple[bool, Any]:
    """(whether ``value`` fits, the value in canonical form)."""
    for part in _parts(annotation):
        origin = typing.get_origin(part)
        if part is Any:
            return True, value
        if part is type(None):
            if value is None:
                return True, None
        elif origin is Literal:
            if value in typing.get_args(part) and type(value) in {
                type(v) for v in typing.get_args(part)
            }:
                return True, value
        elif part is bool:
            if isinstance(value, bool):
                return True, value
        elif part is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return True, float(value)
        elif part is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True, value
        elif part is str:
            if isinstance(value, str):
                return True, value
        elif origin is not None and origin in (Sequence, list, tuple):
            # One string where a list of strings is expected is a list of one (a CLI habit).
            items = [value] if isinstance(value, str) else value
            if isinstance(items, list | tuple) and all(isinstance(v, str) for v in items):
                return True, list(items)
        else:  # a type we cannot check here: the function checks it
            return True, value
    return False, value


def options_from_signature(
    function: Callable[..., Any],
    docs: Mapping[str, str],
    *,
    aliases: Mapping[str, str] | None = None,
) -> tuple[Option, ...]:
    """The options of ``function``: its keyword-only parameters but ``workers``/``on_error``."""
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):  # annotations that do not resolve: check nothing
        hints = {}
    out = []
    for p in inspect.signature(function).parameters.values():
        if p.kind is not inspect.Parameter.KEYWORD_ONLY or p.name in RUNTIME_KEYWORDS:
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        if isinstance(default, tuple):
            default = list(default)
        doc = docs.get(p.name, "")
        alias = (aliases or {}).get(p.name)
        out.append(Option(p.name, default, doc, hints.get(p.name, Any), alias))
    unknown = set(docs) - {o.name for o in out}
    if unknown:
        msg = f"docs for options {sorted(unknown)} that {function.__name__} does not take"
        raise TypeError(msg)
    return tuple(out)


__all__ = ["RUNTIME_KEYWORDS", "Option", "options_from_signature"]

"""Metrics written in Python: :func:`register_metric` and the boundary every plugin runs behind.

A plugin function receives one ``pyarrow.Array`` per input (chunks combined; view layouts
such as polars' ``string_view`` cast to the classic ones ``pyarrow.compute`` handles), of equal
length, and returns one value per row (anything Arrow-exportable, a NumPy array or a list).
Behind the boundary (:class:`PluginFunction`) rescore holds plugins to the rules of the
built-in kernels:

- **Nulls**: by default a row with a null input gets a null result and the function never
  sees it (it receives the other rows only). ``propagate_nulls=False`` hands it every row.
- **Errors**: a function raising on some rows is narrowed down (halving the batch) to the
  first row that raises; ``on_error="raise"`` raises :class:`~rescore.exceptions.PluginError`
  naming the metric, its source and the row, ``on_error="null"`` gives such rows a null.
- **Results**: the wrong number of values, or values that do not convert to the metric's
  output type, are a :class:`~rescore.exceptions.PluginError` naming the metric, whatever
  ``on_error`` says: that is a bug in the plugin, not a property of a row.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rescore._arrow import to_pyarrow
from rescore.exceptions import LengthMismatchError, PluginError, UnsupportedTypeError
from rescore.registry.aggregation import MEAN, Aggregation
from rescore.registry.entry import Metric
from rescore.registry.lookup import loading_source, register
from rescore.registry.options import options_from_signature
from rescore.registry.roles import INPUT_KINDS, InputKind

F = TypeVar("F", bound=Callable[..., Any])


class PluginFunction:
    """A Python metric function behind rescore's calling conventions (picklable for Ray)."""

    def __init__(
        self,
        function: Callable[..., Any],
        name: str,
        source: str,
        output_type: pa.DataType,
        propagate_nulls: bool,
    ) -> None:
        self.function = function
        self.name = name
        self.source = source
        self.output_type = output_type
        self.propagate_nulls = propagate_nulls

    def __call__(
        self, a: Any, b: Any, *, workers: int = -1, on_error: str = "raise", **options: Any
    ) -> pa.Array:
        del workers  # a Python function runs in the calling thread
        x = _plain(to_pyarrow(a, "first input"), "first input")
        y = _plain(to_pyarrow(b, "second input"), "second input")
        if len(x) != len(y):
            msg = f"{self.name}: inputs of different lengths ({len(x)} and {len(y)} rows)"
            raise LengthMismatchError(msg)
        n = len(x)
        if self.propagate_nulls and (x.null_count or y.null_count):
            valid = np.asarray(
                pc.and_(x.is_valid(), y.is_valid()).to_numpy(zero_copy_only=False),
                dtype=np.bool_,
            )
            rows = np.flatnonzero(valid)
            if len(rows) == 0:  # nothing to score (and an all-null column may have no type)
                return pa.nulls(n, self.output_type)
            mask = pa.array(valid)
            inner = self._rows(x.filter(mask), y.filter(mask), rows, on_error, options)
            out = np.full(n, -1, dtype=np.int64)
            out[rows] = np.arange(len(rows))
            return inner.take(pa.array(out, mask=~valid))
        return self._rows(x, y, np.arange(n), on_error, options)

    def _where(self) -> str:
        return f"metric {self.name!r} ({self.source})"

    def _rows(
        self, x: pa.Array, y: pa.Array, rows: np.ndarray[Any, Any], on_error: str, options: Any
    ) -> pa.Array:
        """Score ``x, y`` (whose original row numbers are ``rows``), isolating failing rows."""
        try:
            return self._once(x, y, options)
        except PluginError:
            raise
        except Exception as e:
            if len(x) == 1:
                if on_error == "null":
                    return pa.nulls(1, self.output_type)
                row = int(rows[0])
                msg = f"{self._where()} raised on row {row}: {type(e).__name__}: {e}"
                raise PluginError(msg, row=row) from e
            if len(x) == 0:  # pragma: no cover - a function failing on no rows at all
                msg = f"{self._where()} raised on empty input: {type(e).__name__}: {e}"
                raise PluginError(msg) from e
        half = len(x) // 2
        left = self._rows(x.slice(0, half), y.slice(0, half), rows[:half], on_error, options)
        right = self._rows(x.slice(half), y.slice(half), rows[half:], on_error, options)
        return pa.concat_arrays([left, right])

    def _once(self, x: pa.Array, y: pa.Array, options: Any) -> pa.Array:
        result = self.function(x, y, **options)
        try:
            out = to_pyarrow(result, "result")
        except (TypeError, ValueError) as e:
            kind = type(result).__name__
            msg = f"{self._where()} returned a {kind}, not one value per row: {e}"
            raise PluginError(msg) from None
        if len(out) != len(x):
            msg = f"{self._where()} returned {len(out)} values for {len(x)} rows"
            raise PluginError(msg)
        try:
            return out.cast(self.output_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
            msg = (
                f"{self._where()} returned values of type {out.type}, which do not convert "
                f"to its output type {self.output_type}: {e}"
            )
            raise PluginError(msg) from None


def _plain_type(t: pa.DataType) -> pa.DataType:
    """``t`` with view layouts (what polars exports) replaced by the classic ones."""
    if pa.types.is_string_view(t):
        return pa.large_string()
    if pa.types.is_binary_view(t):
        return pa.large_binary()
    if pa.types.is_list_view(t) or pa.types.is_large_list_view(t) or pa.types.is_large_list(t):
        return pa.large_list(_plain_type(t.value_type))
    if pa.types.is_list(t):
        return pa.list_(_plain_type(t.value_type))
    if pa.types.is_fixed_size_list(t):
        return pa.list_(_plain_type(t.value_type), t.list_size)
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_plain_type(f.type)) for f in t])
    if pa.types.is_dictionary(t):
        return pa.dictionary(t.index_type, _plain_type(t.value_type), t.ordered)
    return t


def _plain(array: pa.Array, argument: str) -> pa.Array:
    """Plugins get classic Arrow layouts: most of ``pyarrow.compute`` has no view kernels."""
    target = _plain_type(array.type)
    if target == array.type:
        return array
    try:
        return array.cast(target)
    except pa.ArrowException as e:
        msg = f"`{argument}`: cannot convert {array.type} to {target} for a plugin: {e}"
        raise UnsupportedTypeError(msg) from None


def _source_of(function: Callable[..., Any]) -> str:
    source = loading_source()
    if source is not None:
        return source
    where = inspect.getsourcefile(function) or "<unknown file>"
    return f"plugin {function.__module__}.{function.__qualname__} ({where})"


def register_metric(
    *,
    name: str,
    higher_is_better: bool,
    continuous: bool,
    inputs: InputKind,
    output_type: pa.DataType | None = None,
    range: tuple[float | None, float | None] = (None, None),
    definition: str | None = None,
    option_docs: Mapping[str, str] | None = None,
    aggregation: Aggregation = MEAN,
    propagate_nulls: bool = True,
) -> Callable[[F], F]:
    """Register a Python function as a metric, usable like a built-in one everywhere.

    Parameters
    ----------
    name
        The metric's name: ``--metrics`` value, output column, ``rescore.get_metric`` key.
    higher_is_better
        Its direction (the emergence analysis negates lower-is-better curves).
    continuous
        ``False`` for all-or-nothing per-row values (0/1), ``True`` for graded ones.
    inputs
        The input kind: ``"sequences"`` or ``"text"`` (the function gets predictions and
        references) or ``"choices"`` (per-choice scores and labels).
    output_type
        The Arrow type of its column (default ``float64``); results are cast to it.
    range
        Bounds of a per-row value (``None``: unbounded), for documentation.
    definition
        One line; default: the first line of the function's docstring.
    option_docs
        One-line docs of its keyword-only parameters, which become its options
        (``--option NAME.OPTION=VALUE``).
    aggregation
        How a group of rows aggregates (default: the mean).
    propagate_nulls
        ``True``: rows with a null input get a null result without calling the function.

    Examples
    --------
    >>> import pyarrow as pa, pyarrow.compute as pc
    >>> import rescore
    >>> @rescore.register_metric(name="length_ratio_doc", higher_is_better=True,
    ...                          continuous=True, inputs="text")
    ... def length_ratio(predictions: pa.Array, references: pa.Array) -> pa.Array:
    ...     '''Prediction length over reference length, in characters.'''
    ...     return pc.divide(pc.cast(pc.utf8_length(predictions), pa.float64()),
    ...                      pc.utf8_length(references))
    >>> rescore.get_metric("length_ratio_doc").function(["ab", None], ["abcd", "x"]).to_pylist()
    [0.5, None]
    >>> rescore.registry.unregister("length_ratio_doc")
    """
    if inputs not in INPUT_KINDS:
        msg = f"register_metric: inputs must be one of {', '.join(INPUT_KINDS)}, got {inputs!r}"
        raise PluginError(msg)

    def decorate(function: F) -> F:
        source = _source_of(function)
        out_type = output_type if output_type is not None else pa.float64()
        doc = (function.__doc__ or "").strip().splitlines()
        entry = Metric(
            name=name,
            higher_is_better=higher_is_better,
            inputs=inputs,
            continuous=continuous,
            definition=definition or (doc[0] if doc else name),
            range=range,
            function=PluginFunction(function, name, source, out_type, propagate_nulls),
            options=options_from_signature(function, option_docs or {}),
            output_type=_Fixed(out_type),
            aggregation=aggregation,
            source=source,
        )
        register(entry)
        return function

    return decorate


class _Fixed:
    """An output type that does not depend on the options (picklable, unlike a lambda)."""

    def __init__(self, dtype: pa.DataType) -> None:
        self.dtype = dtype

    def __call__(self, options: Mapping[str, Any]) -> pa.DataType:
        return self.dtype


__all__ = ["PluginFunction", "register_metric"]

"""The ``rescore`` expression namespace for Polars, eager, lazy and streaming.

>>> import polars as pl
>>> import rescore  # registers the namespace
>>> df = pl.DataFrame({"pred": ["a b c", "x"], "ref": ["a c", "x"]})
>>> out = df.select(pl.col("pred").rescore.token_edit_distance(pl.col("ref")))
>>> out["token_edit_distance"].to_list()
[1, 0]

Every metric of the registry is a method (plugins included): ``pl.col(a).rescore.<metric>(b,
**options)``, or ``pl.col(a).rescore.metric("name", b, **options)``. Each packs the two columns
in a struct and hands Arrow batches to the metric's function (``map_batches``, elementwise), so
it works in ``LazyFrame.collect(engine="streaming")`` too; the return dtype comes from the
entry's output type. It is not a compiled Polars plugin on purpose: a plugin's ABI ties the
wheel to one polars release. The result column is named after the metric; ``.alias()``
renames it.

A method takes the keywords of the metric's Python function. Those that take a column
(``acc_norm``'s ``choices``, ``acc_mutual_info``'s ``unconditional``, ``multiple_choice_grade``'s
``choices``) take an expression or a column name, packed into the same struct; the registry
options are checked as ``rescore score --option`` checks them; the function's other keywords
(``multiple_choice_grade``'s ``length_normalize``) go to it as given. A metric over one column
(``pass_at_k`` of ``list<bool>`` correctness flags) needs no ``other``:

>>> df = pl.DataFrame({"lls": [[-4.0, -3.0]], "gold": [0], "texts": [["a long one", "two"]]})
>>> df.select(pl.col("lls").rescore.multiple_choice_grade(
...     "gold", choices="texts", length_normalize="chars")).item()
1.0
>>> pl.DataFrame({"ok": [[True, False]]}).select(pl.col("ok").rescore.pass_at_k(k=1)).item()
0.5
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import polars as pl
import pyarrow as pa

from rescore._arrow import to_pyarrow
from rescore._typing import ColumnLike
from rescore.exceptions import InvalidOptionError
from rescore.registry import RUNTIME_KEYWORDS, Metric, get_metric
from rescore.registry.roles import KIND_ROLES

_A, _B = "__rescore_a", "__rescore_b"
_COLUMN_TYPES = frozenset(typing.get_args(ColumnLike))


def _expr(x: pl.Expr | str) -> pl.Expr:
    return pl.col(x) if isinstance(x, str) else x


def _polars_dtype(arrow_type: pa.DataType) -> pl.DataType:
    return pl.from_arrow(pa.array([], arrow_type)).dtype  # type: ignore[union-attr]


def _keywords(entry: Metric) -> tuple[frozenset[str], frozenset[str]]:
    """(keywords taking a column, all keyword-only parameters) of the entry's function."""
    function = inspect.unwrap(entry.function)
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):  # annotations that do not resolve: no typed columns
        hints = {}
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # a callable without a signature: registry options only
        parameters = []
    keyword_only = frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)
    typed = {k for k in keyword_only if _COLUMN_TYPES.issubset(typing.get_args(hints.get(k)))}
    return frozenset({*entry.column_inputs, *typed}), keyword_only


def _one_column(entry: Metric) -> bool:
    """Whether the metric can read a single column in both positions (``list<bool>``
    correctness flags), as the batch job hands it."""
    return any(a == b for a, b in KIND_ROLES[entry.inputs])


def metric_expr(
    name: str, left: pl.Expr, right: pl.Expr | str | None = None, **options: Any
) -> pl.Expr:
    """The expression computing metric ``name`` of ``left`` against ``right`` (see the module
    docs for the keywords)."""
    entry = get_metric(name)
    if right is None:
        if not _one_column(entry):
            msg = f"{name} reads two columns: give the other one (references, or labels)"
            raise InvalidOptionError(msg)
        right = left
    runtime = {k: options.pop(k) for k in RUNTIME_KEYWORDS if k in options}  # workers, on_error
    column_keywords, keyword_only = _keywords(entry)
    columns = {
        k: _expr(options.pop(k))
        for k in list(options)
        if k in column_keywords and isinstance(options[k], pl.Expr | str)
    }
    registry_options = {o.name for o in entry.options}
    passed = {
        k: options.pop(k) for k in list(options) if k not in registry_options and k in keyword_only
    }
    checked = entry.check_options(options)  # an unknown keyword fails here, listing the options
    dtype = _polars_dtype(entry.arrow_type(checked))
    function = entry.function
    fields = {k: f"__rescore_{k}" for k in columns}

    def batch(s: pl.Series) -> pl.Series:
        extra = {k: s.struct.field(f) for k, f in fields.items()}
        out = function(
            s.struct.field(_A), s.struct.field(_B), **runtime, **checked, **passed, **extra
        )
        if isinstance(out, pl.Series):  # the kernels answer polars in kind
            return out.alias(name)
        return pl.Series(name, to_pyarrow(out, name))

    packed = pl.struct(
        left.alias(_A),
        _expr(right).alias(_B),
        *(e.alias(fields[k]) for k, e in columns.items()),
    )
    return packed.map_batches(batch, return_dtype=dtype, is_elementwise=True).alias(name)


@pl.api.register_expr_namespace("rescore")
class RescoreExpr:
    """``pl.col("prediction").rescore.<metric>(pl.col("reference"), **options)``."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def metric(self, name: str, other: pl.Expr | str | None = None, **options: Any) -> pl.Expr:
        """Metric ``name`` of this column against ``other`` (references, or labels)."""
        return metric_expr(name, self._expr, other, **options)

    def __getattr__(self, name: str) -> Callable[..., pl.Expr]:
        if name.startswith("_"):
            raise AttributeError(name)
        get_metric(name)  # an unknown name fails here, listing the known ones

        def method(other: pl.Expr | str | None = None, **options: Any) -> pl.Expr:
            return metric_expr(name, self._expr, other, **options)

        method.__name__ = name
        method.__doc__ = f"Metric {name!r} of this column against ``other``."
        return method

    def __dir__(self) -> list[str]:
        from rescore.registry import METRICS

        return [*super().__dir__(), *METRICS]

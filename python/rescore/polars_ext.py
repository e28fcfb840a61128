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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pyarrow as pa

from rescore._arrow import to_pyarrow
from rescore.registry import RUNTIME_KEYWORDS, get_metric

_A, _B = "__rescore_a", "__rescore_b"


def _expr(x: pl.Expr | str) -> pl.Expr:
    return pl.col(x) if isinstance(x, str) else x


def _polars_dtype(arrow_type: pa.DataType) -> pl.DataType:
    return pl.from_arrow(pa.array([], arrow_type)).dtype  # type: ignore[union-attr]


def metric_expr(name: str, left: pl.Expr, right: pl.Expr | str, **options: Any) -> pl.Expr:
    """The expression computing metric ``name`` of ``left`` against ``right``."""
    entry = get_metric(name)
    runtime = {k: options.pop(k) for k in RUNTIME_KEYWORDS if k in options}  # workers, on_error
    checked = entry.check_options(options)
    dtype = _polars_dtype(entry.arrow_type(checked))
    function = entry.function

    def batch(s: pl.Series) -> pl.Series:
        out = function(s.struct.field(_A), s.struct.field(_B), **runtime, **checked)
        if isinstance(out, pl.Series):  # the kernels answer polars in kind
            return out.alias(name)
        return pl.Series(name, to_pyarrow(out, name))

    packed = pl.struct(left.alias(_A), _expr(right).alias(_B))
    return packed.map_batches(batch, return_dtype=dtype, is_elementwise=True).alias(name)


@pl.api.register_expr_namespace("rescore")
class RescoreExpr:
    """``pl.col("prediction").rescore.<metric>(pl.col("reference"), **options)``."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def metric(self, name: str, other: pl.Expr | str, **options: Any) -> pl.Expr:
        """Metric ``name`` of this column against ``other`` (references, or labels)."""
        return metric_expr(name, self._expr, other, **options)

    def __getattr__(self, name: str) -> Callable[..., pl.Expr]:
        if name.startswith("_"):
            raise AttributeError(name)
        get_metric(name)  # an unknown name fails here, listing the known ones

        def method(other: pl.Expr | str, **options: Any) -> pl.Expr:
            return metric_expr(name, self._expr, other, **options)

        method.__name__ = name
        method.__doc__ = f"Metric {name!r} of this column against ``other``."
        return method

    def __dir__(self) -> list[str]:
        from rescore.registry import METRICS

        return [*super().__dir__(), *METRICS]

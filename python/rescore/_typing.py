"""Structural types for what the API accepts: anything speaking the Arrow PyCapsule interface.

Following arro3, we name the protocols instead of pyarrow or polars classes, so any Arrow producer
(pyarrow, polars, pandas with Arrow dtypes, nanoarrow, DuckDB results) type-checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeAlias, cast, overload

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa


class ArrowArrayExportable(Protocol):
    """An object exporting one Arrow array (pyarrow ``Array``)."""

    def __arrow_c_array__(
        self, requested_schema: object | None = None
    ) -> tuple[object, object]: ...


class ArrowStreamExportable(Protocol):
    """An object exporting a stream of arrays (pyarrow ``ChunkedArray``, polars ``Series``)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


ColumnLike: TypeAlias = (
    ArrowArrayExportable | ArrowStreamExportable | npt.NDArray[Any] | Sequence[Any] | np.generic
)
"""A per-row column: Arrow objects, NumPy arrays (2-D for per-choice values), or Python lists."""


P = ParamSpec("P")


class MetricFunction(Protocol[P]):
    """A per-row metric function: a polars Series in gives a polars Series out, else pyarrow.

    ``P`` is the function's keyword options, so type checkers check them too.
    """

    @overload
    def __call__(
        self, a: pl.Series, b: ColumnLike | pl.Series, /, *args: P.args, **kwargs: P.kwargs
    ) -> pl.Series: ...
    @overload
    def __call__(
        self, a: ColumnLike, b: pl.Series, /, *args: P.args, **kwargs: P.kwargs
    ) -> pl.Series: ...
    @overload
    def __call__(
        self, a: ColumnLike, b: ColumnLike, /, *args: P.args, **kwargs: P.kwargs
    ) -> pa.Array: ...


def metric_function(function: Callable[Concatenate[Any, Any, P], Any]) -> MetricFunction[P]:
    """Type ``function`` as a :class:`MetricFunction` (no runtime change)."""
    return cast("MetricFunction[P]", function)

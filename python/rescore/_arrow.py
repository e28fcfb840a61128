"""Turn what users hand over into Arrow, and results back into the user's library.

Arrow producers (anything with ``__arrow_c_array__`` / ``__arrow_c_stream__``) go to the native
module untouched, zero-copy. NumPy arrays and Python sequences are converted with pyarrow here,
so the Rust side only ever sees Arrow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from rescore.exceptions import UnsupportedTypeError


def is_arrow(obj: object) -> bool:
    """Whether ``obj`` speaks the Arrow PyCapsule interface."""
    return hasattr(obj, "__arrow_c_array__") or hasattr(obj, "__arrow_c_stream__")


def is_polars(obj: object) -> bool:
    """Whether ``obj`` is a polars Series (without importing polars for other users)."""
    return type(obj).__module__.startswith("polars")


def _polars_null(obj: object) -> bool:
    """A polars Series of dtype ``Null``: its C stream export is not valid Arrow (a Null
    array with buffers), which arrow-rs rejects, so it goes over as a pyarrow null array."""
    if not is_polars(obj):
        return False
    import polars as pl

    return isinstance(obj, pl.Series) and obj.dtype == pl.Null


def as_arrow(obj: Any, argument: str) -> Any:
    """An Arrow-exportable view of ``obj`` for the native module."""
    if _polars_null(obj):
        return pa.nulls(len(obj))
    if is_arrow(obj):
        return obj
    try:
        if isinstance(obj, np.ndarray):
            if obj.ndim == 2:
                # (rows, choices): one fixed-size list per row, no per-row Python objects.
                flat = pa.array(np.ascontiguousarray(obj).reshape(-1))
                return pa.FixedSizeListArray.from_arrays(flat, obj.shape[1])
            if obj.ndim == 1:
                return pa.array(obj)
            msg = f"`{argument}`: expected a 1-D or 2-D array, got {obj.ndim} dimensions"
            raise UnsupportedTypeError(msg)
        return pa.array(obj)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as e:
        msg = f"`{argument}`: cannot convert {type(obj).__name__} to an Arrow array: {e}"
        raise UnsupportedTypeError(msg) from e


def to_pyarrow(obj: Any, argument: str) -> pa.Array:
    """``obj`` as one ``pyarrow.Array`` (chunks combined), for code written against pyarrow."""
    if isinstance(obj, pa.Array):
        return obj
    if isinstance(obj, pa.ChunkedArray):
        return obj.combine_chunks()
    obj = as_arrow(obj, argument)
    if isinstance(obj, pa.Array | pa.ChunkedArray):
        return to_pyarrow(obj, argument)
    try:
        if hasattr(obj, "__arrow_c_array__"):
            return pa.array(obj)
        return pa.chunked_array(obj).combine_chunks()
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as e:
        msg = f"`{argument}`: cannot read {type(obj).__name__} as an Arrow array: {e}"
        raise UnsupportedTypeError(msg) from e


def wrap_result(result: Any, name: str, *inputs: object) -> Any:
    """A polars Series if any input was one, else a pyarrow Array (both zero-copy)."""
    if any(is_polars(x) for x in inputs):
        import polars as pl

        return pl.Series(result).alias(name)
    # Straight through the C data interface: `pa.array(result)` would first probe for pandas
    # (importing it, about a second) before finding the capsule.
    return pa.Array._import_from_c_capsule(*result.__arrow_c_array__())

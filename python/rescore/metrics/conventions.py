"""Per-example metrics. Each returns one value per row, as an Arrow array.

Shared conventions:

- Inputs are any Arrow array or chunked array (pyarrow, polars, pandas with Arrow dtypes), NumPy
  arrays, or Python lists. A polars Series in gives a polars Series out; anything else gives a
  ``pyarrow.Array``.
- **Nulls**: a null prediction, reference, probability row or label gives a null result, never a
  made-up number. Inside a list of references, null entries are skipped; a row with no non-null
  reference gives null. A null *element* inside a token or probability list is an error.
- ``workers``: threads for the Rust kernels; ``-1`` means all cores. Results do not depend on it.
- ``on_error``: ``"raise"`` (default) fails on the first row that cannot be scored, naming the
  argument and row; ``"null"`` gives that row a null instead. Wrong types, options or lengths
  always raise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from rescore.exceptions import InvalidOptionError, UnsupportedTypeError

Normalize = Literal["max", "reference"] | None
OnError = Literal["raise", "null"]


def call_kernel(kernel: Callable[..., Any], *columns: Any, **options: Any) -> Any:
    """``kernel(*columns, **options)``; an option the binding cannot convert (``strip="yes"``,
    ``workers=2**70``) is an :class:`InvalidOptionError` naming the metric, not PyO3's
    ``TypeError`` or ``OverflowError``."""
    try:
        return kernel(*columns, **options)
    except UnsupportedTypeError:
        raise
    except (TypeError, OverflowError) as e:
        notes = "".join(f" ({note})" for note in getattr(e, "__notes__", ()))  # which option
        msg = f"{kernel.__name__}: {e}{notes}"
        raise InvalidOptionError(msg) from None


__all__ = ["Normalize", "OnError", "call_kernel"]

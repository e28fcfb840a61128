"""rescore: re-score stored language-model generations under many metrics, fast.

The per-example metrics run in a Rust core over Arrow data; see :mod:`rescore.metrics` for the
shared conventions (inputs, nulls, ``workers``, ``on_error``) and :mod:`rescore.registry` for
the metrics with their directions, options and aggregation (and how to add your own).
"""

from __future__ import annotations

import warnings

from rescore import _rescore, polars_ext, registry
from rescore.batch import score
from rescore.metrics import (
    brier_score,
    char_edit_distance,
    exact_match,
    multiple_choice_grade,
    token_edit_distance,
    token_f1,
)
from rescore.registry import METRICS, Metric, get_metric, register_metric

__version__: str = _rescore.__version__

if _rescore.DEBUG_BUILD:  # pragma: no cover - depends on how it was built
    warnings.warn(
        "rescore was built in debug mode and runs many times slower; "
        "install with `pip install .` or `maturin develop --release`",
        RuntimeWarning,
        stacklevel=2,
    )

del polars_ext  # imported for its side effect: the `rescore` Polars expression namespace

__all__ = [
    "METRICS",
    "Metric",
    "__version__",
    "brier_score",
    "char_edit_distance",
    "exact_match",
    "get_metric",
    "multiple_choice_grade",
    "register_metric",
    "registry",
    "score",
    "token_edit_distance",
    "token_f1",
]

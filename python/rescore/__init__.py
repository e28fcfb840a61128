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
    bits_per_byte,
    bleu,
    brier_score,
    byte_perplexity,
    char_edit_distance,
    chrf,
    corpus_bleu,
    corpus_chrf,
    exact_match,
    expected_calibration_error,
    gold_probability,
    majority_vote,
    multiple_choice_grade,
    pass_at_k,
    quasi_exact_match,
    rouge,
    rouge1,
    rouge2,
    rougeL,
    rougeLsum,
    sample_accuracy,
    token_edit_distance,
    token_f1,
    word_perplexity,
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
    "bits_per_byte",
    "bleu",
    "brier_score",
    "byte_perplexity",
    "char_edit_distance",
    "chrf",
    "corpus_bleu",
    "corpus_chrf",
    "exact_match",
    "expected_calibration_error",
    "get_metric",
    "gold_probability",
    "majority_vote",
    "multiple_choice_grade",
    "pass_at_k",
    "quasi_exact_match",
    "register_metric",
    "registry",
    "rouge",
    "rouge1",
    "rouge2",
    "rougeL",
    "rougeLsum",
    "sample_accuracy",
    "score",
    "token_edit_distance",
    "token_f1",
    "word_perplexity",
]

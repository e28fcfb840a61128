"""Per-example metrics, each returning one value per row (see :mod:`rescore.metrics.conventions`).

Importing this package registers the built-in metrics in :mod:`rescore.registry`; each family's
module holds its functions and their registry entries side by side.
"""

from __future__ import annotations

# Import order is registration order: the order of rescore.METRICS, of the default metric set
# and of the output columns.
# isort: off
from rescore.metrics.edit_distance import char_edit_distance, token_edit_distance
from rescore.metrics.exact_match import exact_match, quasi_exact_match
from rescore.metrics.choices import (
    acc_bytes,
    acc_mutual_info,
    acc_norm,
    brier_score,
    gold_probability,
    multiple_choice_grade,
)
from rescore.metrics.overlap import token_f1
from rescore.metrics.sampling import majority_vote, pass_at_k, sample_accuracy
from rescore.metrics.perplexity import bits_per_byte, byte_perplexity, word_perplexity
from rescore.metrics.calibration import choice_confidence, expected_calibration_error
from rescore.metrics.rouge import rouge, rouge1, rouge2, rougeL, rougeLsum
from rescore.metrics.translation import bleu, chrf, corpus_bleu, corpus_chrf

# isort: on

__all__ = [
    "acc_bytes",
    "acc_mutual_info",
    "acc_norm",
    "bits_per_byte",
    "bleu",
    "brier_score",
    "byte_perplexity",
    "char_edit_distance",
    "choice_confidence",
    "chrf",
    "corpus_bleu",
    "corpus_chrf",
    "exact_match",
    "expected_calibration_error",
    "gold_probability",
    "majority_vote",
    "multiple_choice_grade",
    "pass_at_k",
    "quasi_exact_match",
    "rouge",
    "rouge1",
    "rouge2",
    "rougeL",
    "rougeLsum",
    "sample_accuracy",
    "token_edit_distance",
    "token_f1",
    "word_perplexity",
]

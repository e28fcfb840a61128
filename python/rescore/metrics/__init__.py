"""Per-example metrics, each returning one value per row (see :mod:`rescore.metrics.conventions`).

Importing this package registers the built-in metrics in :mod:`rescore.registry`; each family's
module holds its functions and their registry entries side by side.
"""

from __future__ import annotations

# Import order is registration order: the order of rescore.METRICS, of the default metric set
# and of the output columns.
# isort: off
from rescore.metrics.edit_distance import char_edit_distance, token_edit_distance
from rescore.metrics.exact_match import exact_match
from rescore.metrics.choices import brier_score, multiple_choice_grade
from rescore.metrics.overlap import token_f1

# isort: on

__all__ = [
    "brier_score",
    "char_edit_distance",
    "exact_match",
    "multiple_choice_grade",
    "token_edit_distance",
    "token_f1",
]

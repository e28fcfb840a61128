"""The metric catalogue: the metrics rescore knows, by name (an alias of :mod:`rescore.registry`).

>>> from rescore.catalogue import get_metric
>>> m = get_metric("token_edit_distance")
>>> (m.higher_is_better, m.continuous, m.inputs)
(False, True, 'sequences')
"""

from __future__ import annotations

from rescore.registry import METRICS, InputKind, Metric, get_metric

__all__ = ["METRICS", "InputKind", "Metric", "get_metric"]

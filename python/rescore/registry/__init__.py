"""The metric registry: one entry per metric, read by every layer of rescore.

An entry (:class:`Metric`) holds every fact about a metric: its direction, whether it is
all-or-nothing, the input roles it reads, its output type, its typed options, how a group of
rows aggregates, and the function. Built-in metrics register when :mod:`rescore.metrics` is
imported; others through :func:`register_metric` or the ``rescore.metrics`` entry-point group
(see ``docs/extending.md``).

>>> from rescore.registry import get_metric
>>> m = get_metric("token_edit_distance")
>>> (m.higher_is_better, m.continuous, m.inputs)
(False, True, 'sequences')
"""

from __future__ import annotations

from rescore.registry.aggregation import MEAN, Aggregation
from rescore.registry.entry import InputContext, Metric
from rescore.registry.lookup import (
    ENTRY_POINT_GROUP,
    METRICS,
    builtin_metrics,
    ensure_registered,
    get_metric,
    load_plugins,
    register,
    unregister,
)
from rescore.registry.options import RUNTIME_KEYWORDS, Option, options_from_signature
from rescore.registry.plugins import PluginFunction, register_metric
from rescore.registry.roles import (
    DEFAULT_COLUMNS,
    INPUT_KINDS,
    KIND_ROLES,
    ROLE_TYPES,
    ROLES,
    InputKind,
    Role,
)

__all__ = [
    "DEFAULT_COLUMNS",
    "ENTRY_POINT_GROUP",
    "INPUT_KINDS",
    "KIND_ROLES",
    "MEAN",
    "METRICS",
    "ROLES",
    "ROLE_TYPES",
    "RUNTIME_KEYWORDS",
    "Aggregation",
    "InputContext",
    "InputKind",
    "Metric",
    "Option",
    "PluginFunction",
    "Role",
    "builtin_metrics",
    "ensure_registered",
    "get_metric",
    "load_plugins",
    "options_from_signature",
    "register",
    "register_metric",
    "unregister",
]

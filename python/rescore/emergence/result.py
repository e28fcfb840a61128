"""The emergence package's shared types, on its ground floor.

Every other module of :mod:`rescore.emergence` imports these from here, never from the module
that orchestrates them: :mod:`~rescore.emergence.pipeline` builds an :class:`EmergenceReport`,
:mod:`~rescore.emergence.report` and :mod:`~rescore.emergence.plots` read one, and none of them
imports another to get the type. This module imports nothing else from the
package but :mod:`~rescore.emergence.settings`, the other ground-floor module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from rescore.emergence.settings import EmergenceSettings


@dataclass(frozen=True)
class MetricColumn:
    """A metric column of the scores and how to read it.

    (Not the batch job's ``rescore.batch.spec.MetricSpec``, which says how to compute a metric.)
    """

    name: str
    """The column name."""
    higher_is_better: bool
    """Direction; curves of lower-is-better metrics are negated before scoring."""
    continuous: bool | None
    """``False`` for all-or-nothing metrics, ``True`` for graded ones, ``None`` if unknown (then
    inferred from the values: only 0 and 1 means all-or-nothing)."""
    origin: str
    """``"catalogue"`` (the metric registry) or ``"option"`` (``--higher-is-better`` /
    ``--lower-is-better``)."""


@dataclass
class EmergenceReport:
    """Everything :func:`rescore.emergence.analyze` found, as Polars frames.

    Write it with :func:`rescore.emergence.report.write_report` (or :meth:`write`).
    """

    emergence: pl.DataFrame
    """One row per curve (task, groups, family, metric): the scores and their reason codes."""
    curves: pl.DataFrame
    """The aggregated points: per model and metric, with family, scale, loss, mean, interval,
    n."""
    side_by_side: pl.DataFrame
    """Per (task, groups, family): the emergence score under each metric and the mirage flag."""
    models: pl.DataFrame
    """Where each model sits on the scale axis (unplaced models included, with a note)."""
    mirage: pl.DataFrame | None
    """Predicted next to observed exact match and edit distance (``None``: not computable)."""
    power_law: pl.DataFrame | None
    """The per-token loss power-law fit per curve (``None``: not computable)."""
    metrics: list[MetricColumn]
    """The metric columns analysed, with their directions."""
    keys: list[str]
    """Point keys: model column, task column, grouping columns."""
    curve_keys: list[str]
    """Curve keys: task column, grouping columns, ``family``."""
    forecast: pl.DataFrame | None = None
    """The forecasts asked for with ``forecast`` and their back-tests (``None``: none asked)."""
    examples: pl.DataFrame | None = None
    """Per (curve, metric, example): the models that scored it and the Spearman correlation of
    its score with scale, signed so positive means improving (``None``: rows are not examples
    with ids). ``emergence`` summarises it per curve (``smooth_example_share``)."""
    settings: EmergenceSettings = field(default_factory=EmergenceSettings)
    """The settings used (``summary.json`` records their ``to_dict()``)."""
    resolved: dict[str, Any] = field(default_factory=dict)
    """What the run decided from the data: ``input_kind`` (examples or runs), the metrics with
    their directions and origins (written to ``summary.json`` next to the settings)."""
    notes: list[str] = field(default_factory=list)
    """Things the user should know (unplaced models, families too small, skipped parts)."""

    def write(self, out_dir: str | Path, *, plots: bool = True, console: bool = False) -> Path:
        """Write the report directory (see :func:`rescore.emergence.report.write_report`)."""
        from rescore.emergence.report import write_report  # the one upward call, at run time

        return write_report(self, out_dir, plots=plots, console=console)


__all__ = ["EmergenceReport", "MetricColumn"]

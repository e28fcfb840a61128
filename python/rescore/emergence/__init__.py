"""Emergence analysis: scaling curves, emergence scores and the mirage model.

Is an ability emergent, or does it only look emergent under one metric? Following Schaeffer,
Miranda & Koyejo 2023 ("Are Emergent Abilities of Large Language Models a Mirage?") and Wei et
al. 2022, :func:`analyze` reads per-example scores (the output of ``rescore score``) or
aggregated result tables, places every model on a scale axis, aggregates with bootstrap
intervals, scores each curve and puts the metrics side by side::

    import rescore.emergence as em

    report = em.analyze("scores/", group=["num_fewshot"])
    report.emergence        # polars.DataFrame, one row per curve
    report.write("report/")  # CSV / Parquet / JSON / Markdown tables and plots

Modules: :mod:`~rescore.emergence.scale` (placing models), :mod:`~rescore.emergence.model_sizes`
(the built-in model sizes, read from a data file), :mod:`~rescore.emergence.aggregate`
(Polars aggregation and bootstrap), :mod:`~rescore.emergence.curves` (scores and reason codes),
:mod:`~rescore.emergence.mirage` (the mirage model and power-law fit),
:mod:`~rescore.emergence.simulate` (a simulated family), :mod:`~rescore.emergence.report` and
:mod:`~rescore.emergence.plots` (output), :mod:`~rescore.emergence.cli` (``rescore emergence``).
"""

from __future__ import annotations

from rescore.emergence.aggregate import Aggregated, aggregate
from rescore.emergence.curves import (
    REASONS,
    CurveScore,
    emergence_score,
    linearity,
    monotonicity,
    score_curve,
)
from rescore.emergence.inputs import read_scores, resolve_metrics
from rescore.emergence.mirage import PowerLaw, fit_power_law
from rescore.emergence.model_sizes import MODEL_SIZES, ModelSize
from rescore.emergence.pipeline import analyze
from rescore.emergence.report import write_report
from rescore.emergence.result import EmergenceReport, MetricColumn
from rescore.emergence.scale import parse_size, place_models, read_sizes_file
from rescore.emergence.settings import EmergenceSettings
from rescore.emergence.simulate import simulate_choices, simulate_family, simulate_generations

__all__ = [
    "MODEL_SIZES",
    "REASONS",
    "Aggregated",
    "CurveScore",
    "EmergenceReport",
    "EmergenceSettings",
    "MetricColumn",
    "ModelSize",
    "PowerLaw",
    "aggregate",
    "analyze",
    "emergence_score",
    "fit_power_law",
    "linearity",
    "monotonicity",
    "parse_size",
    "place_models",
    "read_scores",
    "read_sizes_file",
    "resolve_metrics",
    "score_curve",
    "simulate_choices",
    "simulate_family",
    "simulate_generations",
    "write_report",
]

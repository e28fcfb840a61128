"""The whole analysis: read, place models, aggregate, score curves, compare metrics, mirage.

:func:`analyze` runs the steps below in order; each is a function of its own, so a reader can
follow one without the others.

1. :func:`_resolve_columns`: check the key columns and decide which columns are metrics;
2. :func:`~rescore.emergence.aggregate.aggregate`: per-point means and bootstrap draws;
3. :func:`_place`: put every model on the scale axis;
4. :func:`_curve_points`: drop (task, metric) pairs without any value, attach the placement;
5. :func:`~rescore.emergence.curves.score_curves`: score every curve;
6. :func:`_views`: the newer views of scale (per-example correlation, the loss axis,
   resolution), as columns of the emergence table (:mod:`~rescore.emergence.views`);
7. :func:`_mirage`: the mirage model, when the data allow it;
8. :func:`_notes`: what the user should know.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from rescore import settings as st
from rescore.emergence.aggregate import ENGINE, Aggregated, aggregate
from rescore.emergence.curves import score_curves, side_by_side
from rescore.emergence.forecast import forecasts, parse_forecast
from rescore.emergence.inputs import Source, read_scores, resolve_metrics
from rescore.emergence.mirage import mirage_predictions
from rescore.emergence.result import EmergenceReport, MetricColumn
from rescore.emergence.scale import place_models, read_sizes_file
from rescore.emergence.settings import EmergenceSettings
from rescore.emergence.views import (
    add_views,
    default_chances,
    example_correlations,
    loss_view,
    model_losses,
    parse_chance,
    resolution_view,
    summarise_examples,
)
from rescore.exceptions import InvalidInputError, InvalidOptionError, MissingColumnError

CURVE_COLUMNS = (
    "scale",
    "params",
    "flops",
    "loss",
    "metric",
    "mean",
    "se",
    "ci_low",
    "ci_high",
    "n",
    "n_missing",
    "resolution",
    "n_replicates",
    "replicate_std",
    "unit",
    "ci_method",
)
"""The columns of ``curves`` after the curve keys and the model column."""


@dataclass(frozen=True)
class _Columns:
    """The key columns and the metric columns of one analysis."""

    keys: list[str]
    """Point keys: model, task, grouping columns."""
    curve_keys: list[str]
    """Curve keys: task, grouping columns, ``family``."""
    metrics: list[MetricColumn]


def _per_model(lf: pl.LazyFrame, model_col: str, column: str, what: str) -> dict[str, Any]:
    table = (
        lf.select(model_col, column)
        .drop_nulls()
        .unique()
        .group_by(model_col)
        .agg(pl.col(column))
        .collect(engine=ENGINE)
    )
    out: dict[str, Any] = {}
    for model, values in table.iter_rows():
        if len(values) != 1:
            shown = ", ".join(str(v) for v in values[:4])
            msg = f"{what} column `{column}` has several values for model {model!r}: {shown}"
            raise InvalidInputError(msg)
        out[str(model)] = values[0]
    return out


def _resolve_columns(schema: pl.Schema, s: EmergenceSettings) -> _Columns:
    """Check that the key columns exist and decide which columns are metrics."""
    for column, what in ((s.model_col, "model"), (s.task_col, "task")):
        if column not in schema:
            msg = (
                f"{what} column `{column}` not in the input (columns: {', '.join(schema)}); "
                f"name it with --{what}-col"
            )
            raise MissingColumnError(msg)
    optional = [c for c in (s.replicate_col, s.scale_col, s.family_col) if c]
    for column in [*s.group, *optional]:
        if column not in schema:
            msg = f"column `{column}` not in the input; columns: {', '.join(schema)}"
            raise MissingColumnError(msg)
    keys = [s.model_col, s.task_col, *s.group]
    exclude = {*keys, *optional, *([s.doc_col] if s.doc_col else [])}
    metrics = resolve_metrics(
        schema,
        metrics=list(s.metrics) or None,
        higher_is_better=s.higher_is_better,
        lower_is_better=s.lower_is_better,
        exclude=exclude,
    )
    clash = sorted({m.name for m in metrics} & exclude)
    if clash:
        msg = f"{', '.join(clash)}: a key column cannot also be a metric"
        raise InvalidOptionError(msg)
    return _Columns(keys, [s.task_col, *s.group, "family"], metrics)


def _place(lf: pl.LazyFrame, agg: Aggregated, s: EmergenceSettings) -> pl.DataFrame:
    """Where each model of the aggregated points sits on the scale axis."""
    names = sorted({str(m) for m in agg.points[s.model_col].cast(pl.String).to_list() if m})
    data_scale = _per_model(lf, s.model_col, s.scale_col, "scale") if s.scale_col else None
    data_family = _per_model(lf, s.model_col, s.family_col, "family") if s.family_col else None
    sizes = read_sizes_file(s.sizes) if isinstance(s.sizes, Path) else s.sizes
    return place_models(
        names,
        sizes=sizes,
        data_scale={k: float(v) for k, v in data_scale.items()} if data_scale else None,
        data_family={k: str(v) for k, v in data_family.items()} if data_family else None,
        axis=s.axis,
        builtin_sizes=s.builtin_sizes,
    )


def _curve_points(
    agg: Aggregated, models: pl.DataFrame, cols: _Columns
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The points of real curves, with their placement; and the (task, metric) left empty.

    A (task, metric) with no value at all (a metric of another task) is not a curve. It is
    worth a note only when the metric has values for the same task under other settings (not
    when it simply belongs to another task, as in a mixed batch-job output).
    """
    model_col, task_col = cols.keys[0], cols.keys[1]
    on = [*cols.keys[1:], "metric"]
    present = (
        agg.points.group_by(on)
        .agg((pl.col("n") > 0).any().alias("_any"))
        .filter(pl.col("_any"))
        .drop("_any")
    )
    points = agg.points.join(present, on=on, how="semi", nulls_equal=True)
    empty = (
        agg.points.join(present, on=on, how="anti", nulls_equal=True)
        .join(present.select(task_col, "metric").unique(), on=[task_col, "metric"], how="semi")
        .group_by(on, maintain_order=True)
        .agg(pl.col("n_missing").sum())
    )
    placement = models.select(
        pl.col("model").alias(model_col), "family", "scale", "params", "flops", "placed"
    )
    points = points.with_columns(pl.col(model_col).cast(pl.String)).join(
        placement, on=model_col, how="left"
    )
    return points, empty


@dataclass(frozen=True)
class _Views:
    emergence: pl.DataFrame
    points: pl.DataFrame
    """The curve points with each model's ``loss`` (null when no loss is known)."""
    examples: pl.DataFrame | None
    loss_source: str | None
    notes: list[str]


def _views(
    lf: pl.LazyFrame,
    agg: Aggregated,
    models: pl.DataFrame,
    points: pl.DataFrame,
    emergence: pl.DataFrame,
    cols: _Columns,
    s: EmergenceSettings,
    continuous: dict[str, bool],
) -> _Views:
    """Per-example correlation, the loss axis and resolution, as emergence-table columns."""
    notes: list[str] = []
    parts: list[pl.DataFrame] = []
    model_col = cols.keys[0]
    examples = None
    has_doc = s.doc_col is not None and s.doc_col in lf.collect_schema()
    if agg.input_kind == "examples" and has_doc:
        assert s.doc_col is not None  # for mypy: has_doc checks it
        examples = example_correlations(
            lf,
            models,
            cols.metrics,
            keys=cols.keys,
            curve_keys=cols.curve_keys,
            doc_col=s.doc_col,
            null_values=s.null_values,
        )
        parts.append(
            summarise_examples(
                examples,
                cols.curve_keys,
                min_models=s.min_models,
                smooth_correlation=s.smooth_correlation,
            )
        )
    elif agg.input_kind == "examples":
        notes.append(f"per-example correlation skipped: no example id column `{s.doc_col}`")
    found = model_losses(lf, model_col, s.loss_col)
    loss_source = None
    if found is None:
        points = points.with_columns(pl.lit(None, pl.Float64).alias("loss"))
    else:
        losses, loss_source = found
        points = points.join(losses, on=model_col, how="left")
        chances = default_chances(lf, cols.metrics, continuous, s.task_col, parse_chance(s.chance))
        directions = {m.name: m.higher_is_better for m in cols.metrics}
        parts.append(loss_view(points, chances, curve_keys=cols.curve_keys, directions=directions))
    parts.append(resolution_view(points, cols.curve_keys, continuous))
    return _Views(
        add_views(emergence, parts, cols.curve_keys), points, examples, loss_source, notes
    )


def _mirage(
    lf: pl.LazyFrame, agg: Aggregated, models: pl.DataFrame, cols: _Columns, s: EmergenceSettings
) -> tuple[pl.DataFrame | None, pl.DataFrame | None, str | None]:
    """The mirage model's predictions and fits, or why it was skipped."""
    if agg.input_kind != "examples":
        return None, None, "rows are runs, not examples"
    found = mirage_predictions(
        lf,
        agg.points,
        models,
        keys=cols.keys,
        curve_keys=cols.curve_keys,
        length_col=s.length_col,
        null_values=s.null_values,
        confidence=s.confidence,
        doc_col=s.doc_col,
        replicate_col=s.replicate_col,
    )
    if isinstance(found, str):
        return None, None, found
    return found[0], found[1], None


def _notes(
    models: pl.DataFrame,
    emergence: pl.DataFrame,
    empty: pl.DataFrame,
    agg: Aggregated,
    mirage_skipped: str | None,
    s: EmergenceSettings,
) -> list[str]:
    notes: list[str] = list(agg.notes)
    unplaced = models.filter(~pl.col("placed"))
    if unplaced.height:
        listed = ", ".join(f"{m} ({n})" for m, n in unplaced.select("model", "note").rows())
        notes.append(f"{unplaced.height} model(s) not placed on the scale axis: {listed}")
    small = emergence.filter(pl.col("reason") == "too_few_models")
    if small.height:
        fams = sorted({str(f) for f in small["family"].to_list()})
        notes.append(
            f"{small.height} curve(s) have fewer than {s.min_models} placed models and are not "
            f"scored (families: {', '.join(fams)})"
        )
    if empty.height:
        listed = "; ".join(
            f"{'/'.join(str(v) for v in row[:-1])} ({row[-1]} missing)" for row in empty.rows()
        )
        notes.append(f"no values at all (left out of the curves): {listed}")
    if agg.input_kind == "runs":
        notes.append(
            "rows are runs (aggregated results): intervals are over replicates, when there are "
            "several; a single run per point has no interval"
        )
    if mirage_skipped is not None:
        notes.append(f"mirage model skipped: {mirage_skipped}")
    return notes


def analyze(
    data: Source | Sequence[Source],
    settings: EmergenceSettings | None = None,
    **overrides: Any,
) -> EmergenceReport:
    """Is an ability emergent, or does it only look emergent under one metric?

    Reads per-example scores (or aggregated result tables), places each model on a scale axis,
    aggregates per (family, model, task, groups, metric) with bootstrap intervals, scores every
    curve (emergence score, linearity, monotonicity, with reason codes for degenerate curves
    and a bootstrap interval for the score), puts metrics side by side with the mirage flag,
    and runs the mirage model when exact match, token edit distance and target lengths exist.

    Parameters
    ----------
    data
        A directory of Parquet files (the batch job's output), Parquet/CSV/JSON files, or
        Polars frames; several are concatenated.
    settings
        An :class:`~rescore.emergence.settings.EmergenceSettings` (default: the defaults).
    **overrides
        Any setting by its name (``group="shots"``, ``n_boot=200``, ``sizes="sizes.csv"``,
        ...), replacing the value in ``settings``; the names, defaults and docs are those of
        :class:`~rescore.emergence.settings.EmergenceSettings` (``rescore emergence --help``
        shows them as flags). An unknown name is an error listing the known ones.

    Returns
    -------
    EmergenceReport
        Polars frames: ``emergence``, ``curves``, ``side_by_side``, ``models``, ``mirage``,
        ``power_law``; the ``settings`` used and what was ``resolved`` from the data.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({
    ...     "model": ["m-1b", "m-2b", "m-4b", "m-8b"] * 2,
    ...     "task": ["t"] * 8, "doc_id": [0, 0, 0, 0, 1, 1, 1, 1],
    ...     "exact_match": [False, False, False, True, False, False, False, True],
    ...     "token_edit_distance": [4, 3, 2, 0, 5, 3, 2, 0]})
    >>> report = analyze(df, n_boot=200)
    >>> report.emergence.select("metric", "emergence_score", "reason", "shape").rows()
    [('exact_match', None, 'median_step_zero', 'emergent'), \
('token_edit_distance', 3.0, '', 'smooth')]
    """
    s = st.build(EmergenceSettings, settings, overrides)
    parse_forecast(s.forecast)
    parse_chance(s.chance)
    lf = read_scores(data)
    cols = _resolve_columns(lf.collect_schema(), s)
    agg = aggregate(
        lf,
        cols.metrics,
        model_col=s.model_col,
        task_col=s.task_col,
        group=s.group,
        doc_col=s.doc_col,
        replicate_col=s.replicate_col,
        null_values=s.null_values,
        input_kind=s.input_kind,
        n_boot=s.n_boot,
        seed=s.seed,
        confidence=s.confidence,
        bootstrap=s.bootstrap,
    )
    models = _place(lf, agg, s)
    points, empty = _curve_points(agg, models, cols)
    directions = {m.name: m.higher_is_better for m in cols.metrics}
    continuous = {
        m.name: m.continuous if m.continuous is not None else not agg.binary[m.name]
        for m in cols.metrics
    }
    emergence = score_curves(
        points,
        agg.draws,
        keys=cols.keys,
        curve_keys=cols.curve_keys,
        directions=directions,
        continuous=continuous,
        confidence=s.confidence,
        clip=s.clip,
        min_models=s.min_models,
        emergent_threshold=s.emergent_threshold,
    )
    views = _views(lf, agg, models, points, emergence, cols, s, continuous)
    emergence = views.emergence
    agg.notes.extend(views.notes)
    curves = views.points.select(*cols.curve_keys, s.model_col, *CURVE_COLUMNS).sort(
        [*cols.curve_keys, "metric", "scale", s.model_col], nulls_last=True
    )
    mirage, power, mirage_skipped = _mirage(lf, agg, models, cols, s)
    forecast = None
    if s.forecast:
        found = forecasts(
            lf,
            models,
            keys=cols.keys,
            curve_keys=cols.curve_keys,
            targets=s.forecast,
            length_col=s.length_col,
            n_boot=s.n_boot,
            seed=s.seed,
            confidence=s.confidence,
        )
        if isinstance(found, str):
            agg.notes.append(f"forecast skipped: {found}")
        else:
            forecast = found
    resolved: dict[str, Any] = {
        "input_kind": agg.input_kind,
        "metrics": [
            {
                "name": m.name,
                "direction": "higher" if directions[m.name] else "lower",
                "continuous": continuous[m.name],
                "origin": m.origin,
            }
            for m in cols.metrics
        ],
        "loss": views.loss_source,
    }
    return EmergenceReport(
        emergence=emergence,
        curves=curves,
        side_by_side=side_by_side(emergence, cols.curve_keys),
        models=models,
        mirage=mirage,
        power_law=power,
        metrics=list(cols.metrics),
        forecast=forecast,
        examples=views.examples,
        keys=cols.keys,
        curve_keys=cols.curve_keys,
        settings=s,
        resolved=resolved,
        notes=_notes(models, emergence, empty, agg, mirage_skipped, s),
    )


__all__ = ["analyze"]

"""The whole analysis: read, place models, aggregate, score curves, compare metrics, mirage."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from rescore.emergence.aggregate import DEFAULT_N_BOOT, ENGINE, Aggregated, Kind, aggregate
from rescore.emergence.curves import DEFAULT_EMERGENT_THRESHOLD, score_curves, side_by_side
from rescore.emergence.inputs import Source, read_scores, resolve_metrics
from rescore.emergence.mirage import mirage_predictions
from rescore.emergence.result import EmergenceReport
from rescore.emergence.scale import Axis, place_models, read_scale_file
from rescore.exceptions import InvalidInputError, InvalidOptionError, MissingColumnError


def _split(values: str | Iterable[str] | None) -> list[str]:
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    return [v.strip() for item in items for v in item.split(",") if v.strip()]


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


def analyze(
    data: Source | Sequence[Source],
    *,
    model_col: str = "model",
    task_col: str = "task",
    group: str | Sequence[str] = (),
    metrics: str | Sequence[str] | None = None,
    higher_is_better: str | Sequence[str] = (),
    lower_is_better: str | Sequence[str] = (),
    replicate_col: str | None = None,
    doc_col: str | None = "doc_id",
    null_values: Iterable[float] = (),
    kind: Kind = "auto",
    scale: str | Path | pl.DataFrame | None = None,
    scale_col: str | None = None,
    family_col: str | None = None,
    axis: Axis = "params",
    use_catalogue: bool = True,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
    confidence: float = 0.95,
    clip: float | None = None,
    min_models: int = 3,
    emergent_threshold: float = DEFAULT_EMERGENT_THRESHOLD,
    length_col: str | None = None,
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
    model_col, task_col
        The model and task columns.
    group
        Extra grouping columns (prompt type, number of shots, lm-eval ``filter``, ...); each
        combination of values is its own curve.
    metrics
        Metric columns (default: every catalogue metric present, plus the columns given a
        direction). Comma-separated strings are split.
    higher_is_better, lower_is_better
        Directions of metric columns outside the catalogue (an unknown column without one is
        an error).
    replicate_col
        Seed or replicate column: replicates are averaged first and their spread reported.
    doc_col
        Example id column (pairs replicates of an example; ignored when absent).
    null_values
        Sentinel values meaning "missing" (e.g. ``-100``); never averaged in, always counted.
    kind
        ``"examples"`` (per-example rows), ``"runs"`` (one row per run) or ``"auto"``.
    scale, scale_col, family_col, axis, use_catalogue
        How models are placed: a mapping file or frame, a scale column of the data, a family
        column, the axis (``"params"``, ``"flops"`` = given or 6ND, ``"tokens"``) and whether to
        use the built-in catalogue and sizes written in names.
    n_boot, seed, confidence
        Bootstrap resamples, seed and interval level.
    clip
        Clip emergence scores to ``[-clip, clip]`` (BIG-bench style); reasons are kept.
    min_models
        Minimum models per curve (3).
    emergent_threshold
        A curve is ``emergent`` when its score is at least this times ``n_models - 1``.
    length_col
        Target-length column for the mirage model (default: ``target_length``,
        ``reference_ids`` lengths or ``reference`` word counts).

    Returns
    -------
    EmergenceReport
        Polars frames: ``emergence``, ``curves``, ``side_by_side``, ``models``, ``mirage``,
        ``power_law``.

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
    groups = _split(group)
    if min_models < 2:
        msg = f"`min_models` must be at least 2, got {min_models}"
        raise InvalidOptionError(msg)
    lf = read_scores(data)
    schema = lf.collect_schema()
    for column, what in ((model_col, "model"), (task_col, "task")):
        if column not in schema:
            msg = (
                f"{what} column `{column}` not in the input (columns: {', '.join(schema)}); "
                f"name it with --{what}-col"
            )
            raise MissingColumnError(msg)
    for column in [*groups, *(c for c in (replicate_col, scale_col, family_col) if c)]:
        if column not in schema:
            msg = f"column `{column}` not in the input; columns: {', '.join(schema)}"
            raise MissingColumnError(msg)
    keys = [model_col, task_col, *groups]
    exclude = {*keys, *(c for c in (replicate_col, doc_col, scale_col, family_col) if c)}
    specs = resolve_metrics(
        schema,
        metrics=_split(metrics) if metrics is not None else None,
        higher_is_better=_split(higher_is_better),
        lower_is_better=_split(lower_is_better),
        exclude=exclude,
    )
    clash = sorted({s.name for s in specs} & exclude)
    if clash:
        msg = f"{', '.join(clash)}: a key column cannot also be a metric"
        raise InvalidOptionError(msg)
    sentinels = [float(v) for v in null_values]

    mapping = read_scale_file(scale) if isinstance(scale, str | Path) else scale
    agg: Aggregated = aggregate(
        lf,
        specs,
        model_col=model_col,
        task_col=task_col,
        group=groups,
        doc_col=doc_col,
        replicate_col=replicate_col,
        null_values=sentinels,
        kind=kind,
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
    )
    model_names = sorted(
        {str(m) for m in agg.points[model_col].cast(pl.String).to_list() if m is not None}
    )
    data_scale = _per_model(lf, model_col, scale_col, "scale") if scale_col else None
    data_family = _per_model(lf, model_col, family_col, "family") if family_col else None
    models = place_models(
        model_names,
        mapping=mapping,
        data_scale={k: float(v) for k, v in data_scale.items()} if data_scale else None,
        data_family={k: str(v) for k, v in data_family.items()} if data_family else None,
        axis=axis,
        use_catalogue=use_catalogue,
    )
    # A (task, metric) with no value at all (a metric of another task) is not a curve.
    present = (
        agg.points.group_by(task_col, *groups, "metric")
        .agg((pl.col("n") > 0).any().alias("_any"))
        .filter(pl.col("_any"))
        .drop("_any")
    )
    on = [task_col, *groups, "metric"]
    points = agg.points.join(present, on=on, how="semi", nulls_equal=True)
    # Worth a note only when the metric has values for the same task under other settings
    # (not when it simply belongs to another task, as in a mixed batch-job output).
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
    curve_keys = [task_col, *groups, "family"]
    directions = {s.name: s.higher_is_better for s in specs}
    continuous = {
        s.name: s.continuous if s.continuous is not None else not agg.binary[s.name] for s in specs
    }
    emergence = score_curves(
        points,
        agg.draws,
        keys=keys,
        curve_keys=curve_keys,
        directions=directions,
        continuous=continuous,
        confidence=confidence,
        clip=clip,
        min_models=min_models,
        emergent_threshold=emergent_threshold,
    )
    curves = points.select(
        *curve_keys[:-1],
        "family",
        model_col,
        "scale",
        "params",
        "flops",
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
    ).sort([*curve_keys, "metric", "scale", model_col], nulls_last=True)

    notes: list[str] = []
    unplaced = models.filter(~pl.col("placed"))
    if unplaced.height:
        listed = ", ".join(f"{m} ({n})" for m, n in unplaced.select("model", "note").rows())
        notes.append(f"{unplaced.height} model(s) not placed on the scale axis: {listed}")
    small = emergence.filter(pl.col("reason") == "too_few_models")
    if small.height:
        fams = sorted({str(f) for f in small["family"].to_list()})
        notes.append(
            f"{small.height} curve(s) have fewer than {min_models} placed models and are not "
            f"scored (families: {', '.join(fams)})"
        )
    if empty.height:
        listed = "; ".join(
            f"{'/'.join(str(v) for v in row[:-1])} ({row[-1]} missing)" for row in empty.rows()
        )
        notes.append(f"no values at all (left out of the curves): {listed}")
    if agg.kind == "runs":
        notes.append(
            "rows are runs (aggregated results): intervals are over replicates, when there are "
            "several; a single run per point has no interval"
        )

    mirage = power = None
    skipped = "rows are runs, not examples"
    if agg.kind == "examples":
        found = mirage_predictions(
            lf,
            agg.points,
            models,
            keys=keys,
            curve_keys=curve_keys,
            length_col=length_col,
            null_values=sentinels,
            confidence=confidence,
        )
        if isinstance(found, str):
            skipped = found
        else:
            mirage, power = found
    if mirage is None:
        notes.append(f"mirage model skipped: {skipped}")
    options: dict[str, Any] = {
        "model_col": model_col,
        "task_col": task_col,
        "group": groups,
        "metrics": [
            {
                "name": s.name,
                "direction": directions[s.name],
                "continuous": continuous[s.name],
                "origin": s.origin,
            }
            for s in specs
        ],
        "replicate_col": replicate_col,
        "doc_col": doc_col,
        "null_values": sentinels,
        "kind": agg.kind,
        "axis": axis,
        "scale": str(scale) if isinstance(scale, str | Path) else None,
        "scale_col": scale_col,
        "family_col": family_col,
        "n_boot": n_boot,
        "seed": seed,
        "confidence": confidence,
        "clip": clip,
        "min_models": min_models,
        "emergent_threshold": emergent_threshold,
    }
    return EmergenceReport(
        emergence=emergence,
        curves=curves,
        side_by_side=side_by_side(emergence, curve_keys),
        models=models,
        mirage=mirage,
        power_law=power,
        metrics=list(specs),
        keys=keys,
        curve_keys=curve_keys,
        options=options,
        notes=notes,
    )


__all__ = ["analyze"]

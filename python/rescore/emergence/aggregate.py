"""Per-model aggregates of per-example scores, with Polars, and their bootstrap distributions.

For each (model, task, grouping columns, metric) the aggregate is the mean, its standard error,
a bootstrap confidence interval over examples, the number of examples ``n`` (non-missing
values), the number of missing values, and the resolution ``1 / n`` (the smallest step an
accuracy over ``n`` examples can take).

**Replicates** (a seed column): replicates are averaged first and their spread is reported
(``n_replicates``, ``replicate_std``: the standard deviation of the replicate means). With an
example id column, each example's values are averaged over replicates and the bootstrap
resamples examples; without one, the bootstrap resamples examples within each replicate.

**Aggregated tables** (one row per run): the units are runs; with several replicates per
(model, task, settings) the mean, standard error and bootstrap are over replicates, and with a
single run there is no uncertainty to report (null interval).

**The bootstrap** is exact and cheap for discrete scores: resampling ``n`` examples with
replacement is a multinomial draw over the distinct values, so a group with ``k <=``
:data:`MAX_DISTINCT` distinct values costs ``n_boot * k``, not ``n_boot * n``. A group with more
distinct values (a continuous score over many examples) draws its bootstrap means from the
normal approximation ``N(mean, s^2 / n)``, the limit the bootstrap distribution of a mean
converges to; the ``ci_method`` column says which was used. Each group has its own random
stream derived from ``seed`` and the group's key, so results do not depend on row or group
order.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from rescore.emergence.inputs import clean_metrics
from rescore.emergence.paired import MAX_PAIRED_ROWS, paired_draws, partitions, shared_partitions
from rescore.emergence.result import MetricColumn
from rescore.emergence.settings import BOOTSTRAPS, DEFAULT_N_BOOT, INPUT_KINDS, Bootstrap, InputKind
from rescore.exceptions import InvalidInputError, InvalidOptionError, MissingColumnError
from rescore.registry import MEAN, METRICS

FloatArray = npt.NDArray[np.float64]

MAX_DISTINCT = 1024
"""Groups with at most this many distinct values get the exact multinomial bootstrap."""

ENGINE: Literal["streaming"] = "streaming"
"""Polars engine for the passes over the scores: the streaming engine keeps memory flat on
100M-row inputs (0.3 GiB peak in ``benches/bench_emergence.py``) and was the faster one there."""

_STATS = ("n", "n_missing", "mean", "var", "n_unique", "min", "max", "binary")


@dataclass(frozen=True)
class Aggregated:
    """The aggregated points and their bootstrap distributions."""

    points: pl.DataFrame
    """One row per (model, task, groups..., metric): ``mean, se, ci_low, ci_high, n,
    n_missing, resolution, n_replicates, replicate_std, unit, ci_method``."""
    draws: dict[tuple[Any, ...], FloatArray] = field(repr=False)
    """Bootstrap means per point, keyed by ``(*key values, metric)``; absent when the point
    has no uncertainty estimate (fewer than two units)."""
    input_kind: Literal["examples", "runs"]
    """Whether rows were examples or runs."""
    binary: dict[str, bool]
    """Per metric: whether every value was 0 or 1 (an all-or-nothing score)."""
    notes: list[str] = field(default_factory=list)
    """What the user should know about the bootstrap (a paired one skipped, and why)."""


def _rng(seed: int, key: tuple[Any, ...]) -> np.random.Generator:
    digest = zlib.crc32(repr(key).encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([seed, digest]))


def detect_kind(
    lf: pl.LazyFrame, keys: Sequence[str], doc_col: str | None, replicate_col: str | None
) -> Literal["examples", "runs"]:
    """``"examples"`` if there is an example id column or several rows per run, else ``"runs"``."""
    names = lf.collect_schema().names()
    if doc_col is not None and doc_col in names:
        return "examples"
    by = [*keys, *([replicate_col] if replicate_col else [])]
    most = lf.group_by(by).len().select(pl.col("len").max()).collect(engine=ENGINE).item()
    return "runs" if most is None or most <= 1 else "examples"


def _stat_exprs(metric: str) -> list[pl.Expr]:
    c = pl.col(metric)
    return [
        c.count().alias(f"{metric}\x1fn"),
        c.null_count().alias(f"{metric}\x1fn_missing"),
        c.mean().alias(f"{metric}\x1fmean"),
        c.var().alias(f"{metric}\x1fvar"),
        c.approx_n_unique().alias(f"{metric}\x1fn_unique"),
        c.min().alias(f"{metric}\x1fmin"),
        c.max().alias(f"{metric}\x1fmax"),
        pl.lit(None, pl.Boolean).alias(f"{metric}\x1fbinary"),
    ]


def _long(wide: pl.DataFrame, by: Sequence[str], metrics: Sequence[str]) -> pl.DataFrame:
    parts = [
        wide.select(
            *by,
            pl.lit(m).alias("metric"),
            *[pl.col(f"{m}\x1f{s}").alias(s) for s in _STATS],
        ).with_columns(
            pl.col("n", "n_missing", "n_unique").cast(pl.Int64),
            pl.col("mean", "var", "min", "max").cast(pl.Float64),
        )
        for m in metrics
    ]
    return pl.concat(parts)


def _check_mean_aggregation(metrics: Sequence[str]) -> None:
    """Per-example rows are bootstrapped as means: a metric that aggregates otherwise (a
    corpus-level score from per-row statistics) needs its per-model values instead."""
    for metric in metrics:
        entry = METRICS.get(metric)
        if entry is not None and entry.aggregation != MEAN:
            msg = (
                f"metric `{metric}` aggregates by {entry.aggregation.name} "
                f"({entry.aggregation.doc}), not by the mean of its rows that the emergence "
                f"analysis bootstraps; pass a table of per-model {metric} values instead"
            )
            raise InvalidOptionError(msg)


def _check_ranges(stats: pl.DataFrame, null_values: Sequence[float]) -> None:
    for metric, lo, hi in (
        stats.group_by("metric").agg(pl.col("min").min(), pl.col("max").max()).rows()
    ):
        entry = METRICS.get(metric)
        if entry is None or lo is None:
            continue
        low, high = entry.range
        below = low is not None and lo < low
        bad = lo if below else hi if high is not None and hi > high else None
        if bad is not None:
            hint = "" if null_values else "; if it marks a missing value, pass --null-value"
            bounds = ("-inf" if low is None else f"{low:g}", "inf" if high is None else f"{high:g}")
            msg = (
                f"metric `{metric}` has value {bad:g} outside its range "
                f"[{bounds[0]}, {bounds[1]}]{hint}"
            )
            raise InvalidInputError(msg)


def _counts_by_group(
    counts: pl.DataFrame, by: Sequence[str], metric: str
) -> dict[tuple[Any, ...], tuple[FloatArray, FloatArray]]:
    out: dict[tuple[Any, ...], tuple[FloatArray, FloatArray]] = {}
    nonnull = counts.filter(pl.col(metric).is_not_null()).sort([*by, metric], nulls_last=True)
    for key, part in nonnull.partition_by(by, as_dict=True, maintain_order=True).items():
        if part.height > MAX_DISTINCT:  # too many distinct values: the normal draw
            continue
        values = part[metric].cast(pl.Float64).to_numpy()
        out[key] = (values, part["len"].cast(pl.Float64).to_numpy())
    return out


def _stats_from_counts(counts: pl.DataFrame, by: Sequence[str], metric: str) -> pl.DataFrame:
    """Exact per-group statistics of a metric from its value counts (nulls counted apart)."""
    v, w = pl.col(metric).cast(pl.Float64), pl.col("len").cast(pl.Float64)
    mean = (v * w).sum() / w.sum()
    present = (
        counts.filter(pl.col(metric).is_not_null())
        .group_by(by)
        .agg(
            w.sum().cast(pl.Int64).alias("n"),
            mean.alias("mean"),
            pl.when(w.sum() > 1)
            .then(((v - mean) ** 2 * w).sum() / (w.sum() - 1))
            .otherwise(None)
            .alias("var"),
            pl.len().cast(pl.Int64).alias("n_unique"),
            v.min().alias("min"),
            v.max().alias("max"),
            ((v == 0) | (v == 1)).all().alias("binary"),
        )
    )
    absent = (
        counts.filter(pl.col(metric).is_null())
        .group_by(by)
        .agg(pl.col("len").sum().cast(pl.Int64).alias("n_missing"))
    )
    return (
        counts.select(by)
        .unique()
        .join(present, on=list(by), how="left", nulls_equal=True)
        .join(absent, on=list(by), how="left", nulls_equal=True)
        .select(
            *by,
            pl.lit(metric).alias("metric"),
            pl.col("n").fill_null(0),
            pl.col("n_missing").fill_null(0),
            "mean",
            "var",
            pl.col("n_unique").fill_null(0),
            "min",
            "max",
            "binary",
        )
    )


def _value_counts(
    units: pl.LazyFrame, by: Sequence[str], stats: pl.DataFrame, metric: str
) -> dict[tuple[Any, ...], tuple[FloatArray, FloatArray]]:
    small = stats.filter(
        (pl.col("metric") == metric) & (pl.col("n") > 0) & (pl.col("n_unique") <= MAX_DISTINCT)
    ).select(by)
    if small.height == 0:
        return {}
    lf = units.select(*by, metric).filter(pl.col(metric).is_not_null())
    total = stats.filter(pl.col("metric") == metric).height
    if small.height < total:
        lf = lf.join(small.lazy(), on=list(by), how="semi", nulls_equal=True)
    return _counts_by_group(lf.group_by(*by, metric).len().collect(engine=ENGINE), by, metric)


def _bootstrap(
    stats: pl.DataFrame,
    counts: dict[str, dict[tuple[Any, ...], tuple[FloatArray, FloatArray]]],
    by: Sequence[str],
    n_boot: int,
    seed: int,
) -> tuple[dict[tuple[Any, ...], FloatArray], list[str | None]]:
    draws: dict[tuple[Any, ...], FloatArray] = {}
    methods: list[str | None] = []
    for row in stats.iter_rows(named=True):
        key = tuple(row[c] for c in by)
        n, mean, var = row["n"], row["mean"], row["var"]
        exact = counts.get(row["metric"], {}).get(key)
        rng = _rng(seed, (*key, row["metric"]))
        if n == 0:
            methods.append(None)
            continue
        if exact is not None:
            values, freq = exact
            if values.size == 1:
                sample = np.full(n_boot, values[0])
            else:
                picks = rng.multinomial(n, freq / freq.sum(), size=n_boot)
                sample = picks @ values / n
            methods.append("bootstrap")
        else:
            sd = math.sqrt(var / n) if var is not None and n > 1 else 0.0
            sample = mean + sd * rng.standard_normal(n_boot)
            methods.append("normal")
        draws[(*key, row["metric"])] = sample
    return draws, methods


def _paired(
    units: pl.LazyFrame,
    names: Sequence[str],
    model_col: str,
    part_cols: list[str],
    doc_col: str,
    bootstrap: Bootstrap,
    n_boot: int,
    seed: int,
) -> tuple[dict[tuple[Any, ...], tuple[FloatArray, str]], list[str]]:
    """Paired draws keyed like the points, for the partitions whose models share examples."""
    shared = shared_partitions(units, model_col, part_cols, doc_col, ENGINE)
    wanted = shared if bootstrap == "paired" else shared.filter(pl.col("shared"))
    if wanted.height == 0:
        return {}, []
    rows = int(units.select(pl.len()).collect(engine=ENGINE).item())
    if rows > MAX_PAIRED_ROWS:
        note = (
            f"paired bootstrap skipped: {rows:,} per-example rows exceed {MAX_PAIRED_ROWS:,} "
            "(it holds one value per model and example); intervals use independent draws"
        )
        return {}, [note]
    table = (
        units.join(wanted.select(part_cols).lazy(), on=part_cols, how="semi", nulls_equal=True)
        .select(*part_cols, model_col, doc_col, *names)
        .collect(engine=ENGINE)
    )
    out: dict[tuple[Any, ...], tuple[FloatArray, str]] = {}
    for part in partitions(table, model_col, part_cols, doc_col, names):
        draws, method = paired_draws(part, names, n_boot, seed)
        for metric, matrix in draws.items():
            for i, model in enumerate(part.models):
                if np.isfinite(matrix[:, i]).all():
                    out[(model, *part.key, metric)] = (matrix[:, i], method)
    return out, []


def aggregate(
    lf: pl.LazyFrame,
    metrics: Sequence[MetricColumn],
    *,
    model_col: str = "model",
    task_col: str = "task",
    group: Sequence[str] = (),
    doc_col: str | None = "doc_id",
    replicate_col: str | None = None,
    null_values: Iterable[float] = (),
    input_kind: InputKind = "auto",
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
    confidence: float = 0.95,
    bootstrap: Bootstrap = "auto",
) -> Aggregated:
    """Aggregate per-example (or per-run) scores per (model, task, groups..., metric).

    Parameters
    ----------
    lf
        Scores, one row per example (or per run for aggregated tables).
    metrics
        The metric columns (see :func:`~rescore.emergence.inputs.resolve_metrics`).
    model_col, task_col, group
        The key columns: every aggregate is per model, task and value of each ``group`` column.
    doc_col
        Example id column; used to pair replicates of an example (ignored if absent).
    replicate_col
        Seed or replicate column: replicates are averaged first, their spread reported.
    null_values
        Sentinel values meaning "missing" (besides null and NaN).
    input_kind
        ``"examples"``, ``"runs"`` or ``"auto"`` (examples when ``doc_col`` exists or a run has
        several rows).
    n_boot, seed, confidence
        Bootstrap resamples, seed (reproducible, order-independent) and interval level.
    bootstrap
        ``"auto"``: the paired bootstrap (:mod:`~rescore.emergence.paired`) in every
        (task, groups) where models share example ids, the independent one elsewhere;
        ``"paired"``: paired wherever example ids exist; ``"independent"``: never paired.
        ``ci_method`` says which each point got.

    Returns
    -------
    Aggregated
        ``points`` (a frame) and the bootstrap ``draws`` per point.

    Examples
    --------
    >>> import polars as pl
    >>> from rescore.emergence.inputs import resolve_metrics
    >>> df = pl.DataFrame({"model": ["a"] * 4, "task": ["t"] * 4, "doc_id": [0, 1, 2, 3],
    ...                    "exact_match": [True, False, True, None]})
    >>> agg = aggregate(df.lazy(), resolve_metrics(df.schema))
    >>> agg.points.select("mean", "n", "n_missing", "resolution").row(0)
    (0.6666666666666666, 3, 1, 0.3333333333333333)
    """
    if n_boot < 1:
        msg = f"`n_boot` must be at least 1, got {n_boot}"
        raise InvalidOptionError(msg)
    if not 0.0 < confidence < 1.0:
        msg = f"`confidence` must be in (0, 1), got {confidence}"
        raise InvalidOptionError(msg)
    if bootstrap not in BOOTSTRAPS:
        msg = f"`bootstrap` must be one of {', '.join(BOOTSTRAPS)}, got {bootstrap!r}"
        raise InvalidOptionError(msg)
    if input_kind not in INPUT_KINDS:
        msg = f"`input_kind` must be 'auto', 'examples' or 'runs', got {input_kind!r}"
        raise InvalidOptionError(msg)
    names = [m.name for m in metrics]
    keys = [model_col, task_col, *group]
    schema = lf.collect_schema()
    needed = [*keys, *([replicate_col] if replicate_col else [])]
    missing = [c for c in needed if c not in schema]
    if missing:
        msg = f"column(s) {', '.join(missing)} not in the input; columns: {', '.join(schema)}"
        raise MissingColumnError(msg)
    sentinels = [float(v) for v in null_values]
    has_doc = doc_col is not None and doc_col in schema
    resolved = detect_kind(lf, keys, doc_col, replicate_col) if input_kind == "auto" else input_kind
    if resolved == "examples":
        _check_mean_aggregation(names)
    base = clean_metrics(
        lf.select(*keys, *([doc_col] if has_doc else []), *needed[len(keys) :], *names),
        names,
        sentinels,
    )

    strata: list[str] = []
    units = base
    rep_stats: pl.DataFrame | None = None
    if replicate_col is not None and resolved == "examples":
        per_rep = base.group_by(*keys, replicate_col).agg(pl.col(names).mean())
        rep = per_rep.group_by(keys).agg(
            *[pl.col(m).count().alias(f"{m}\x1fn_replicates") for m in names],
            *[pl.col(m).std().alias(f"{m}\x1freplicate_std") for m in names],
        )
        rep_wide = rep.collect(engine=ENGINE)
        rep_stats = pl.concat(
            [
                rep_wide.select(
                    *keys,
                    pl.lit(m).alias("metric"),
                    pl.col(f"{m}\x1fn_replicates").cast(pl.Int64).alias("n_replicates"),
                    pl.col(f"{m}\x1freplicate_std").cast(pl.Float64).alias("replicate_std"),
                )
                for m in names
            ]
        )
        if has_doc:
            assert doc_col is not None  # for mypy: has_doc checks it
            # Materialised once: every later pass reads it (as many rows as examples).
            per_doc = base.group_by(*keys, doc_col).agg(pl.col(names).mean())
            units = per_doc.collect(engine=ENGINE).lazy()
        else:
            strata = [replicate_col]

    by = [*keys, *strata]
    # Integer and boolean scores (exact match, edit distances, grades stored as ints): one
    # value-count pass gives exact statistics and the bootstrap's counts at once. Float
    # scores: one pass for all of them, then value counts where few distinct values exist.
    unit_schema = units.collect_schema()
    discrete = [m for m in names if unit_schema[m].is_integer() or unit_schema[m] == pl.Boolean]
    floats = [m for m in names if m not in discrete]
    parts: list[pl.DataFrame] = []
    counts: dict[str, dict[tuple[Any, ...], tuple[FloatArray, FloatArray]]] = {}
    for m in discrete:
        table = units.group_by(*by, m).len().collect(engine=ENGINE)
        parts.append(_stats_from_counts(table, by, m))
        counts[m] = _counts_by_group(table, by, m)
    if floats:
        wide = (
            units.group_by(by)
            .agg(*[e for m in floats for e in _stat_exprs(m)])
            .collect(engine=ENGINE)
        )
        parts.append(_long(wide, by, floats))
    stats = pl.concat(parts).sort([*by, "metric"], nulls_last=True)
    _check_ranges(stats, sentinels)
    binary = {
        m: bool(stats.filter(pl.col("metric") == m)["binary"].fill_null(True).all())
        for m in discrete
    }
    for m in floats:
        counts[m] = _value_counts(units, by, stats, m)
        # A float score is all-or-nothing if every group's few distinct values are 0 and 1.
        small = stats.filter((pl.col("metric") == m) & (pl.col("n") > 0)).height
        binary[m] = len(counts[m]) == small and all(
            bool(np.isin(values, (0.0, 1.0)).all()) for values, _ in counts[m].values()
        )
    draws_by_stratum, methods = _bootstrap(stats, counts, by, n_boot, seed)
    notes: list[str] = []
    paired: dict[tuple[Any, ...], str] = {}
    if bootstrap != "independent" and has_doc and resolved == "examples" and not strata:
        assert doc_col is not None  # for mypy: has_doc checks it
        paired_found, notes = _paired(
            units, names, model_col, [task_col, *group], doc_col, bootstrap, n_boot, seed
        )
        for key, (sample, method) in paired_found.items():
            if key in draws_by_stratum:
                draws_by_stratum[key] = sample
                paired[key] = method
        if paired:
            methods = [
                paired.get((*row[:-1], row[-1]), method)
                for row, method in zip(
                    stats.select(*by, "metric").iter_rows(), methods, strict=True
                )
            ]
    elif bootstrap == "paired":
        notes.append(
            "paired bootstrap not possible: it needs per-example rows with an example id column"
            + (
                " (replicates without example ids are resampled within each replicate)"
                if strata
                else ""
            )
        )
    stats = stats.with_columns(pl.Series("ci_method", methods, dtype=pl.String))

    # Combine strata (replicates without example ids): the mean of the stratum means.
    combined = (
        stats.filter(pl.col("n") > 0)
        .group_by(*keys, "metric", maintain_order=True)
        .agg(
            pl.col("mean").mean(),
            ((pl.col("var").fill_null(0.0) / pl.col("n")).sum().sqrt() / pl.len()).alias(
                "se_combined"
            ),
            pl.col("n").sum(),
            pl.col("ci_method").first(),
            (pl.col("n") < 2).any().alias("thin"),
        )
    )
    missing_counts = stats.group_by(*keys, "metric").agg(pl.col("n_missing").sum())
    points = missing_counts.join(combined, on=[*keys, "metric"], how="left", nulls_equal=True)

    draws: dict[tuple[Any, ...], FloatArray] = {}
    if strata:
        grouped: dict[tuple[Any, ...], list[FloatArray]] = {}
        for key, sample in draws_by_stratum.items():
            *k, stratum, metric = key
            del stratum
            grouped.setdefault((*k, metric), []).append(sample)
        draws = {k: np.mean(np.stack(v), axis=0) for k, v in grouped.items()}
    else:
        draws = draws_by_stratum

    alpha = (1.0 - confidence) / 2.0
    rows = []
    for key_vals in points.select(*keys, "metric").iter_rows():
        found = draws.get(tuple(key_vals))
        rows.append(
            (None, None)
            if found is None
            else (float(np.quantile(found, alpha)), float(np.quantile(found, 1.0 - alpha)))
        )
    points = points.with_columns(
        pl.Series("ci_low", [r[0] for r in rows], dtype=pl.Float64),
        pl.Series("ci_high", [r[1] for r in rows], dtype=pl.Float64),
    )
    unit = "example" if resolved == "examples" else "run"
    thin = pl.col("thin").fill_null(True) | pl.col("n").is_null()
    points = points.with_columns(
        pl.when(thin).then(None).otherwise(pl.col("se_combined")).alias("se"),
        pl.when(thin).then(None).otherwise(pl.col("ci_low")).alias("ci_low"),
        pl.when(thin).then(None).otherwise(pl.col("ci_high")).alias("ci_high"),
        pl.when(thin).then(None).otherwise(pl.col("ci_method")).alias("ci_method"),
        pl.col("n").fill_null(0),
        (
            pl.when((pl.col("n") > 0) & pl.lit(unit == "example"))
            .then(1.0 / pl.col("n"))
            .otherwise(None)
        ).alias("resolution"),
        pl.lit(unit).alias("unit"),
    )
    # Drop the thin points' draws too: no uncertainty to propagate.
    for key_vals in points.filter(thin).select(*keys, "metric").iter_rows():
        draws.pop(tuple(key_vals), None)

    if rep_stats is not None:
        points = points.join(rep_stats, on=[*keys, "metric"], how="left", nulls_equal=True)
        if has_doc:
            # Each example's value is a rate over k samples: the mean moves in steps of
            # 1 / (n k), the finer resolution that repeated sampling buys (Hu et al. 2023).
            points = points.with_columns(
                (pl.col("resolution") / pl.col("n_replicates").fill_null(1).clip(1, None)).alias(
                    "resolution"
                )
            )
    elif resolved == "runs":
        points = points.with_columns(
            pl.col("n").alias("n_replicates"),
            pl.col("se").mul(pl.col("n").cast(pl.Float64).sqrt()).alias("replicate_std"),
        )
    else:
        points = points.with_columns(
            pl.lit(1, pl.Int64).alias("n_replicates"),
            pl.lit(None, pl.Float64).alias("replicate_std"),
        )
    points = points.select(
        *keys,
        "metric",
        "mean",
        "se",
        "ci_low",
        "ci_high",
        pl.col("n").cast(pl.Int64),
        pl.col("n_missing").cast(pl.Int64),
        "resolution",
        pl.col("n_replicates").cast(pl.Int64),
        "replicate_std",
        "unit",
        "ci_method",
    ).sort([*keys, "metric"], nulls_last=True)
    return Aggregated(points=points, draws=draws, input_kind=resolved, binary=binary, notes=notes)


__all__ = ["MAX_DISTINCT", "Aggregated", "aggregate", "detect_kind"]

"""Points and bootstrap draws of metrics that aggregate from per-row statistics.

Corpus BLEU, perplexities and calibration errors are not means of per-row values (see
:mod:`rescore.registry.aggregation`): a model's score on a task is ``combine`` of its rows'
statistics (the ``<metric>_stats`` column the batch job writes), and its bootstrap resamples
rows and recomputes ``combine``, as the mean's bootstrap resamples examples.

- **Additive statistics, small groups** (``n * n_boot`` at most :data:`MAX_EXACT_WORK`): exact
  resampling, each draw the sum of ``n`` rows drawn with replacement (``ci_method``
  ``"bootstrap"``).
- **Additive statistics, large groups**: the draw's mean statistics vector from its normal
  limit ``N(mu, Sigma / n)`` (the multivariate form of the mean's normal draw; ``"normal"``),
  from the group's field means and covariance, one streaming pass, no per-row values in memory.
- **Non-additive** (quantile-binned calibration): exact resampling of the group's rows.

Rows are pooled over replicates (a corpus score over every sample); models get independent
draws (the paired bootstrap pairs per-example values, which these metrics do not have).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from rescore.emergence.streams import ENGINE, FloatArray, rng_for
from rescore.registry import StatisticsAggregation, stats_column

MAX_EXACT_WORK = 20_000_000
"""Largest ``n * n_boot`` resampled row by row; larger additive groups use the normal limit."""

_CHUNK = 4_000_000  # rows x draws gathered at once by the exact resampling


def _field_exprs(metric: str, fields: Sequence[str]) -> list[pl.Expr]:
    stats = pl.col(stats_column(metric))
    return [stats.struct.field(f).cast(pl.Float64).alias(f) for f in fields]


def _moments(rows: pl.LazyFrame, by: Sequence[str], fields: Sequence[str]) -> pl.DataFrame:
    """Per group: ``n``, the sum of each field and the sum of each pair's product."""
    exprs = [pl.len().alias("\x1fn")]
    exprs += [pl.col(f).sum().alias(f"s\x1f{f}") for f in fields]
    exprs += [
        (pl.col(f) * pl.col(g)).sum().alias(f"p\x1f{f}\x1f{g}")
        for i, f in enumerate(fields)
        for g in fields[i:]
    ]
    return rows.group_by(by).agg(exprs).collect(engine=ENGINE)


def _normal_draws(
    row: Mapping[str, Any],
    fields: Sequence[str],
    n_boot: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Draws of the summed statistics, ``n * N(mu, Sigma / n)``, shape ``(n_boot, fields)``."""
    n = int(row["\x1fn"])
    mu = np.array([row[f"s\x1f{f}"] for f in fields], dtype=np.float64) / n
    cov = np.empty((len(fields), len(fields)))
    for i, f in enumerate(fields):
        for j in range(i, len(fields)):
            prod = row[f"p\x1f{f}\x1f{fields[j]}"] / n
            cov[i, j] = cov[j, i] = (prod - mu[i] * mu[j]) * n / max(n - 1, 1)
    # Statistics are often exactly collinear (a BLEU total is a function of a length):
    # an eigen-decomposition with negative rounding clipped is the stable square root.
    values, vectors = np.linalg.eigh(cov)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    z = rng.standard_normal((n_boot, len(fields)))
    means: FloatArray = mu + (z @ root.T) / np.sqrt(n)
    return means * n


def _exact_draws(values: FloatArray, n_boot: int, rng: np.random.Generator) -> FloatArray:
    """Sums of ``n`` rows of ``values`` (``n x fields``) drawn with replacement, per draw."""
    n = values.shape[0]
    out = np.empty((n_boot, values.shape[1]))
    step = max(1, _CHUNK // max(n, 1))
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        picks = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = values[picks].sum(axis=1)
    return out


def _combine_sums(agg: StatisticsAggregation, sums: FloatArray) -> FloatArray:
    return np.asarray(
        agg.combine({f: sums[:, i] for i, f in enumerate(agg.fields)}), dtype=np.float64
    )


def _resampled_scores(
    agg: StatisticsAggregation, values: FloatArray, n_boot: int, rng: np.random.Generator
) -> FloatArray:
    """Non-additive statistics: ``combine`` on each resample of the group's rows."""
    n = values.shape[0]
    out = np.empty(n_boot)
    for b in range(n_boot):
        picks = values[rng.integers(0, n, size=n)]
        out[b] = agg.combine({f: picks[:, i] for i, f in enumerate(agg.fields)})[0]
    return out


def statistic_points(
    lf: pl.LazyFrame,
    keys: Sequence[str],
    aggregations: Mapping[str, StatisticsAggregation],
    *,
    n_boot: int,
    seed: int,
    confidence: float,
) -> tuple[pl.DataFrame, dict[tuple[Any, ...], FloatArray]]:
    """One point per (keys..., metric) with its bootstrap draws, for statistics metrics.

    The frame has the columns of :class:`~rescore.emergence.aggregate.Aggregated`'s points;
    ``mean`` holds the metric's aggregate (its corpus score), ``se`` the draws' standard
    deviation.
    """
    alpha = (1.0 - confidence) / 2.0
    records: list[dict[str, Any]] = []
    draws: dict[tuple[Any, ...], FloatArray] = {}
    for metric, agg in aggregations.items():
        stats = pl.col(stats_column(metric))
        counts = (
            lf.group_by(keys)
            .agg(stats.is_not_null().sum().alias("n"), stats.is_null().sum().alias("n_missing"))
            .collect(engine=ENGINE)
        )
        rows = lf.filter(stats.is_not_null()).select(*keys, *_field_exprs(metric, agg.fields))
        # Groups resampled row by row are read once; the others only through their moments.
        exact = counts.filter(
            (pl.col("n") > 0)
            & (pl.lit(not agg.additive) | (pl.col("n") * n_boot <= MAX_EXACT_WORK))
        ).select(keys)
        per_row = (
            rows.join(exact.lazy(), on=list(keys), how="semi", nulls_equal=True)
            .collect(engine=ENGINE)
            .partition_by(keys, as_dict=True, maintain_order=True)
        )
        large = exact.height < counts.filter(pl.col("n") > 0).height
        moments = (
            {
                tuple(r[k] for k in keys): r
                for r in _moments(rows, keys, agg.fields).iter_rows(named=True)
            }
            if large
            else {}
        )
        for key_row in counts.iter_rows(named=True):
            key = tuple(key_row[k] for k in keys)
            n = int(key_row["n"])
            rec: dict[str, Any] = {k: key_row[k] for k in keys}
            rec.update(metric=metric, n=n, n_missing=int(key_row["n_missing"]))
            rec.update(mean=None, se=None, ci_low=None, ci_high=None, ci_method=None)
            records.append(rec)
            if n == 0:
                continue
            rng = rng_for(seed, (*key, metric))
            group = per_row.get(key)
            if group is not None:
                values = group.select(agg.fields).to_numpy().astype(np.float64, copy=False)
                sums = values.sum(axis=0, keepdims=True)
            else:
                m = moments[key]
                sums = np.array([[m[f"s\x1f{f}"] for f in agg.fields]], dtype=np.float64)
            if agg.additive:
                point = float(_combine_sums(agg, sums)[0])
            else:
                point = float(agg.combine({f: values[:, i] for i, f in enumerate(agg.fields)})[0])
            rec["mean"] = point if np.isfinite(point) else None
            if n < 2:
                continue
            if not agg.additive:
                sample = _resampled_scores(agg, values, n_boot, rng)
                rec["ci_method"] = "bootstrap"
            elif group is not None:
                sample = _combine_sums(agg, _exact_draws(values, n_boot, rng))
                rec["ci_method"] = "bootstrap"
            else:
                sample = _combine_sums(agg, _normal_draws(moments[key], agg.fields, n_boot, rng))
                rec["ci_method"] = "normal"
            sample = sample[np.isfinite(sample)]
            if sample.size < 2:
                rec["ci_method"] = None
                continue
            rec["se"] = float(sample.std(ddof=1))
            rec["ci_low"] = float(np.quantile(sample, alpha))
            rec["ci_high"] = float(np.quantile(sample, 1.0 - alpha))
            draws[(*key, metric)] = sample
    schema: dict[str, Any] = {k: lf.collect_schema()[k] for k in keys}
    schema.update(
        metric=pl.String,
        mean=pl.Float64,
        se=pl.Float64,
        ci_low=pl.Float64,
        ci_high=pl.Float64,
        n=pl.Int64,
        n_missing=pl.Int64,
        ci_method=pl.String,
    )
    frame = pl.DataFrame(records, schema=schema)
    frame = frame.with_columns(
        pl.when(pl.col("n") > 0).then(1.0 / pl.col("n")).otherwise(None).alias("resolution"),
        pl.lit(1, pl.Int64).alias("n_replicates"),
        pl.lit(None, pl.Float64).alias("replicate_std"),
        pl.lit("example").alias("unit"),
    )
    return frame, draws


__all__ = ["MAX_EXACT_WORK", "statistic_points"]

"""Forecast: the scale at which a curve's metric would reach a threshold, with a back-test.

From the per-token law of the mirage model (:mod:`~rescore.emergence.mirage`), ``-ln p(N) =
(N / c) ** alpha`` fitted to each model's per-token accuracy ``p = 1 - sum(edit distance) /
sum(target length)``, the metric at scale ``N`` is predicted as

- exact match: the mean over the curve's target lengths of ``p(N) ** L`` (rising in ``N``);
- token edit distance: ``mean(L) * (1 - p(N))`` (falling in ``N``),

so the threshold ``t`` is reached where ``p(N) = p*`` (``p*`` solves the equation above for
``t``), that is at ``N* = c * (-ln p*) ** (1 / alpha)``. The interval is a percentile bootstrap:
each model's examples are resampled, ``p`` re-estimated, the law refitted and ``N*`` solved
again.

The **back-test** makes the same forecast from only the smallest :data:`BACKTEST_FRACTION` of
each curve's models and checks it against the larger ones: the observed crossing is where the
observed curve first reaches ``t``, interpolated linearly in ``log N`` between the two models
around it (null when no model reaches it). rescore's own convention; no peer offers a
forecast.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from rescore.emergence.aggregate import ENGINE
from rescore.emergence.mirage import EDIT_DISTANCE, EXACT_MATCH, target_length_expr
from rescore.emergence.paired import weight_chunks
from rescore.exceptions import InvalidOptionError
from rescore.registry import get_metric

FloatArray = npt.NDArray[np.float64]

FORECASTABLE = (EXACT_MATCH, EDIT_DISTANCE)
"""The metrics the per-token law predicts."""
BACKTEST_FRACTION = 0.6
"""The back-test fits on this share of each curve's models, the smallest ones (at least 2)."""
_EPS = 1e-12


def parse_forecast(items: Iterable[str]) -> tuple[str, ...]:
    """Check ``METRIC=THRESHOLD`` items; returns them normalised (``exact_match=0.5``).

    >>> parse_forecast(["exact_match=0.5"])
    ('exact_match=0.5',)
    """
    out = []
    for item in items:
        metric, _, value = str(item).partition("=")
        metric = metric.strip()
        try:
            threshold = float(value)
        except ValueError:
            threshold = math.nan
        if metric not in FORECASTABLE or not math.isfinite(threshold):
            msg = (
                f"forecast {item!r}: expected METRIC=THRESHOLD with METRIC one of "
                f"{', '.join(FORECASTABLE)} (the metrics the per-token law predicts)"
            )
            raise InvalidOptionError(msg)
        low, high = get_metric(metric).range  # the bounds are never reached by the law
        if (low is not None and threshold <= low) or (high is not None and threshold >= high):
            bounds = f"({_bound(low, '-inf')}, {_bound(high, 'inf')})"
            msg = f"forecast {item!r}: a {metric} threshold must be in {bounds}"
            raise InvalidOptionError(msg)
        out.append(f"{metric}={threshold:g}")
    return tuple(out)


def _bound(value: float | None, unbounded: str) -> str:
    return unbounded if value is None else f"{value:g}"


def target_p(metric: str, threshold: float, lengths: FloatArray) -> float | None:
    """The per-token probability at which ``metric`` reaches ``threshold`` (``None``: never)."""
    if metric == EDIT_DISTANCE:
        p = 1.0 - threshold / float(lengths.mean())
        return p if 0.0 < p < 1.0 else None
    lo, hi = 0.0, 1.0
    for _ in range(200):  # bisection: mean(p ** L) rises with p from 0 to 1
        mid = (lo + hi) / 2.0
        if float(np.mean(mid**lengths)) < threshold:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def _crossing(x: FloatArray, ln_loss: FloatArray, target: float) -> FloatArray:
    """``N*`` per row of ``ln_loss`` (models in columns) from the least-squares log-log line."""
    lx = np.log(x)
    xc = lx - lx.mean()
    slope = (ln_loss - ln_loss.mean(axis=1, keepdims=True)) @ xc / float(xc @ xc)
    intercept = ln_loss.mean(axis=1) - slope * lx.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_n = (math.log(-math.log(target)) - intercept) / slope
    out: FloatArray = np.where(slope < 0, np.exp(ln_n), np.nan)
    return out


def _observed_crossing(
    scale: FloatArray, observed: FloatArray, threshold: float, rising: bool
) -> float | None:
    reached = observed >= threshold if rising else observed <= threshold
    hits = np.flatnonzero(reached)
    if hits.size == 0:
        return None
    i = int(hits[0])
    if i == 0:
        return float(scale[0])
    y0, y1 = observed[i - 1], observed[i]
    share = (threshold - y0) / (y1 - y0) if y1 != y0 else 0.0
    return float(math.exp(math.log(scale[i - 1]) + share * math.log(scale[i] / scale[i - 1])))


def forecasts(
    lf: pl.LazyFrame,
    models: pl.DataFrame,
    *,
    keys: Sequence[str],
    curve_keys: Sequence[str],
    targets: Sequence[str],
    length_col: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pl.DataFrame | str:
    """One row per (curve, target, fit): the forecast scale, its interval and the back-test.

    Returns a reason string when the data cannot support a forecast (no edit distances or
    target lengths).
    """
    schema = lf.collect_schema()
    length = target_length_expr(schema, length_col)
    if EDIT_DISTANCE not in schema or length is None:
        return f"a forecast needs per-example {EDIT_DISTANCE} and target lengths"
    has_em = EXACT_MATCH in schema
    rows = (
        lf.select(
            *keys,
            pl.col(EDIT_DISTANCE).cast(pl.Float64).alias("_ted"),
            length[0].alias("_len"),
            *([pl.col(EXACT_MATCH).cast(pl.Float64).alias("_em")] if has_em else []),
        )
        .filter(pl.col("_ted").is_not_null() & pl.col("_len").is_not_null() & (pl.col("_len") > 0))
        .collect(engine=ENGINE)
        .with_columns(pl.col(keys[0]).cast(pl.String))
        .join(
            models.select(pl.col("model").alias(keys[0]), "family", "scale"),
            on=keys[0],
            how="inner",
        )
        .filter(pl.col("scale").is_not_null())
    )
    alpha = (1.0 - confidence) / 2.0
    parsed = [(t.partition("=")[0], float(t.partition("=")[2])) for t in parse_forecast(targets)]
    out: list[dict[str, Any]] = []
    for key, curve in rows.partition_by(
        list(curve_keys), as_dict=True, maintain_order=True
    ).items():
        per_model = curve.partition_by(keys[0], as_dict=True, maintain_order=True)
        order = sorted(per_model, key=lambda k: (float(per_model[k]["scale"][0]), str(k[0])))
        if len(order) < 3:
            continue
        scale = np.array([float(per_model[k]["scale"][0]) for k in order])
        digest = zlib.crc32(repr(("forecast", *key)).encode("utf-8"))
        rng = np.random.default_rng(np.random.SeedSequence([seed, digest]))
        p_hat = np.empty(len(order))
        p_boot = np.empty((n_boot, len(order)))
        observed: dict[str, FloatArray] = {EDIT_DISTANCE: np.empty(len(order))}
        if has_em:
            observed[EXACT_MATCH] = np.empty(len(order))
        for j, k in enumerate(order):
            part = per_model[k]
            ted, lengths = part["_ted"].to_numpy(), part["_len"].to_numpy()
            p_hat[j] = 1.0 - ted.sum() / lengths.sum()
            blocks = [1.0 - (w @ ted) / (w @ lengths) for w in weight_chunks(rng, ted.size, n_boot)]
            p_boot[:, j] = np.concatenate(blocks)
            observed[EDIT_DISTANCE][j] = ted.mean()
            if has_em:
                observed[EXACT_MATCH][j] = part["_em"].mean()  # type: ignore[assignment]
        all_lengths = curve["_len"].to_numpy()

        def ln_loss(p: FloatArray) -> FloatArray:
            out_: FloatArray = np.log(-np.log(np.clip(p, _EPS, 1.0 - 1e-9)))
            return out_

        n_small = max(2, int(BACKTEST_FRACTION * len(order)))
        for metric, threshold in parsed:
            p_star = target_p(metric, threshold, all_lengths)
            for fit_on, used in (("all", len(order)), (f"smallest {n_small}", n_small)):
                row: dict[str, Any] = dict(zip(curve_keys, key, strict=True))
                row |= {
                    "metric": metric,
                    "threshold": threshold,
                    "fit_on": fit_on,
                    "n_models_fit": used,
                    "largest_fit_scale": float(scale[used - 1]),
                    "forecast_scale": None,
                    "ci_low": None,
                    "ci_high": None,
                }
                if p_star is not None:
                    point = _crossing(scale[:used], ln_loss(p_hat[np.newaxis, :used]), p_star)
                    boot = _crossing(scale[:used], ln_loss(p_boot[:, :used]), p_star)
                    boot = boot[np.isfinite(boot)]
                    row["forecast_scale"] = float(point[0]) if np.isfinite(point[0]) else None
                    if boot.size:
                        lo, hi = np.exp(np.quantile(np.log(boot), [alpha, 1.0 - alpha]))
                        row["ci_low"], row["ci_high"] = float(lo), float(hi)
                seen = observed.get(metric)
                crossing = (
                    None
                    if seen is None
                    else _observed_crossing(
                        scale, seen, threshold, get_metric(metric).higher_is_better
                    )
                )
                row["observed_crossing"] = crossing
                row["within_ci"] = (
                    None
                    if crossing is None or row["ci_low"] is None
                    else bool(row["ci_low"] <= crossing <= row["ci_high"])
                )
                out.append(row)
    schema_out: dict[str, Any] = {k: rows.schema[k] for k in curve_keys}
    schema_out |= {
        "metric": pl.String,
        "threshold": pl.Float64,
        "fit_on": pl.String,
        "n_models_fit": pl.Int64,
        "largest_fit_scale": pl.Float64,
        "forecast_scale": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "observed_crossing": pl.Float64,
        "within_ci": pl.Boolean,
    }
    return pl.DataFrame(out, schema=schema_out)


__all__ = ["BACKTEST_FRACTION", "FORECASTABLE", "forecasts", "parse_forecast", "target_p"]

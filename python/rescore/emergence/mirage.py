"""The mirage model of Schaeffer, Miranda & Koyejo 2023, as a tool.

If a model gets each target token right independently with probability ``p``, then on an
example with a target of ``L`` tokens

- exact match is ``p ** L`` (all-or-nothing: sharp in ``p``), and
- the token edit distance is about ``L * (1 - p)`` (linear in ``p``).

From the per-example scores we estimate ``p`` per model, either from the per-token accuracy
(``p = 1 - sum(token edit distance) / sum(L)``) or, when a ``token_logprobs`` column holds the
per-token log-probabilities of the targets, as ``exp(mean log-probability)``; then predict exact
match as the mean of ``p ** L`` over the examples and the edit distance as ``mean(L) * (1 - p)``
and put the predictions next to the observed aggregates and their confidence intervals. (When
``p`` comes from the edit distance, the predicted edit distance equals the observed one by
construction; exact match is the real test.)

The observed exact-match interval here is the Wilson score interval, not the bootstrap one of
``curves.csv``: a bootstrap interval collapses to a point when every example scores 0 (as small
models do on long targets), which would make any positive prediction "outside" it, while the
Wilson interval keeps the width that ``n`` examples really allow.

Across a family we fit the per-token loss power law ``L_CE(N) = (N / c) ** alpha`` with
``L_CE = -ln p``, by least squares of ``ln L_CE`` on ``ln N`` (``N`` is the scale axis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
import polars as pl

from rescore.emergence.aggregate import ENGINE
from rescore.exceptions import InvalidInputError

FloatArray = npt.NDArray[np.float64]

EXACT_MATCH = "exact_match"
EDIT_DISTANCE = "token_edit_distance"
LOGPROBS = "token_logprobs"
_L = "__rescore_target_length"


def target_length_expr(
    schema: pl.Schema, length_col: str | None = None
) -> tuple[pl.Expr, str] | None:
    """How to get each example's target length in tokens, and from which column.

    ``length_col`` if given; else ``target_length``; else the length of ``reference_ids``;
    else the number of whitespace-separated tokens of ``reference`` (as
    :func:`rescore.token_edit_distance` splits text). ``None`` if there is no way.
    """
    if length_col is not None:
        if length_col not in schema:
            msg = f"length column `{length_col}` not in the input"
            raise InvalidInputError(msg)
        return pl.col(length_col).cast(pl.Float64), length_col
    if "target_length" in schema:
        return pl.col("target_length").cast(pl.Float64), "target_length"
    if "reference_ids" in schema and isinstance(schema["reference_ids"], pl.List | pl.Array):
        return pl.col("reference_ids").list.len().cast(pl.Float64), "reference_ids"
    if "reference" in schema and schema["reference"] == pl.String:
        return pl.col("reference").str.count_matches(r"\S+").cast(pl.Float64), "reference"
    return None


@dataclass(frozen=True)
class PowerLaw:
    """``L_CE(N) = (N / c) ** alpha`` fitted to per-token losses."""

    alpha: float
    c: float
    r2: float
    n_models: int

    def loss(self, n: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Per-token cross-entropy at scale ``n``."""
        out: npt.NDArray[np.float64] = (np.asarray(n, dtype=np.float64) / self.c) ** self.alpha
        return out

    def p(self, n: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Per-token probability ``exp(-L_CE(n))`` at scale ``n``."""
        out: npt.NDArray[np.float64] = np.exp(-self.loss(n))
        return out


def wilson_interval(mean: pl.Expr, n: pl.Expr, confidence: float = 0.95) -> tuple[pl.Expr, pl.Expr]:
    """The Wilson score interval of a proportion ``mean`` over ``n`` trials, as expressions.

    >>> import polars as pl
    >>> lo, hi = wilson_interval(pl.lit(0.0), pl.lit(200), 0.95)
    >>> [round(v, 4) for v in pl.select(lo.alias("lo"), hi.alias("hi")).row(0)]
    [0.0, 0.0188]
    """
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    nf = n.cast(pl.Float64)
    denominator = 1.0 + z**2 / nf
    center = (mean + z**2 / (2.0 * nf)) / denominator
    half = z * (mean * (1.0 - mean) / nf + z**2 / (4.0 * nf**2)).sqrt() / denominator
    return (center - half).clip(0.0, 1.0), (center + half).clip(0.0, 1.0)


def fit_power_law(scale: npt.ArrayLike, p: npt.ArrayLike) -> PowerLaw | None:
    """Fit ``-ln p = (N / c) ** alpha``; ``None`` with fewer than 2 usable points or no trend.

    Points with ``p`` outside ``(0, 1)`` carry no information about the loss and are skipped.

    Examples
    --------
    >>> import numpy as np
    >>> n = np.array([1e8, 1e9, 1e10])
    >>> law = fit_power_law(n, np.exp(-((n / 2e7) ** -0.5)))
    >>> round(law.alpha, 6), round(law.c / 2e7, 6), round(law.r2, 6)
    (-0.5, 1.0, 1.0)
    """
    ns = np.asarray(scale, dtype=np.float64)
    ps = np.asarray(p, dtype=np.float64)
    keep = (ns > 0) & (ps > 0) & (ps < 1) & np.isfinite(ns) & np.isfinite(ps)
    if keep.sum() < 2:
        return None
    x, y = np.log(ns[keep]), np.log(-np.log(ps[keep]))
    if np.ptp(x) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    if slope == 0:
        return None
    residual = y - (slope * x + intercept)
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / total if total > 0 else 1.0
    return PowerLaw(float(slope), float(math.exp(-intercept / slope)), r2, int(keep.sum()))


def _decoding(use_logprobs: bool) -> str:
    if use_logprobs:
        return (
            "sampling at temperature 1: p is the model's probability of each gold token, so "
            "p^L is the chance a sample reproduces the target (greedy decoding can match far "
            "more often)"
        )
    return (
        "the decoding that produced the generations, with tokens right independently: p is "
        "their per-token accuracy"
    )


def unbiased_power(
    correct: npt.ArrayLike, total: npt.ArrayLike, length: npt.ArrayLike
) -> FloatArray:
    """``C(S, L) / C(K, L)``: an unbiased estimate of ``p ** L`` from ``S`` right of ``K`` tokens.

    With ``K`` independent tokens each right with probability ``p`` (``k`` samples of an
    ``L``-token target), the share of ``L``-subsets of them that are all right is unbiased for
    ``p ** L`` (a U-statistic, Hoeffding 1948). With one sample (``K = L``) it is the observed
    exact match itself, so a per-example *prediction* needs several samples or log-probs.

    >>> unbiased_power([3, 4], [4, 4], [2, 2]).tolist()  # C(3,2)/C(4,2), C(4,2)/C(4,2)
    [0.5, 1.0]
    """
    s = np.asarray(correct, dtype=np.float64)
    k = np.asarray(total, dtype=np.float64)
    length = np.asarray(length, dtype=np.int64)
    out = np.ones(s.shape)
    for t in range(int(length.max(initial=0))):
        active = t < length
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(active, np.clip(s - t, 0.0, None) / (k - t), 1.0)
        out *= factor
    result: FloatArray = np.clip(out, 0.0, 1.0)
    return result


def _per_example_prediction(
    rows: pl.LazyFrame,
    schema: pl.Schema,
    keys: Sequence[str],
    use_logprobs: bool,
    doc_col: str | None,
    replicate_col: str | None,
) -> tuple[pl.DataFrame, str | None]:
    """Per model: the mean over examples of each example's own ``p_i ** L_i`` (no Jensen gap).

    From per-token log-probs: ``exp(sum log p)`` per example, the probability of sampling the
    whole target. Else, with several samples per example: :func:`unbiased_power` of the
    example's right tokens over its samples. Else null (one generation per example cannot
    tell an example's own ``p_i`` from its exact match).
    """
    column = "predicted_exact_match_per_example"
    empty = rows.select(*keys).unique().collect(engine=ENGINE)
    if use_logprobs:
        found = (
            rows.group_by(keys)
            .agg(pl.col(LOGPROBS).list.sum().exp().mean().alias(column))
            .collect(engine=ENGINE)
        )
        return found, "per-example exp(sum token_logprobs)"
    if doc_col is None or doc_col not in schema or replicate_col is None:
        return empty.with_columns(pl.lit(None, pl.Float64).alias(column)), None
    per_doc = (
        rows.group_by(*keys, doc_col)
        .agg(
            pl.col(_L).sum().alias("_k"),
            (pl.col(_L) - pl.col(EDIT_DISTANCE)).clip(0.0, None).sum().alias("_s"),
            pl.col(_L).first().alias("_l"),
            pl.len().alias("_samples"),
        )
        .collect(engine=ENGINE)
    )
    if per_doc.height == 0 or int(per_doc["_samples"].max()) < 2:  # type: ignore[arg-type]
        return empty.with_columns(pl.lit(None, pl.Float64).alias(column)), None
    u = unbiased_power(per_doc["_s"].to_numpy(), per_doc["_k"].to_numpy(), per_doc["_l"].to_numpy())
    found = (
        per_doc.with_columns(pl.Series("_u", u))
        .group_by(keys)
        .agg(pl.col("_u").mean().alias(column))
    )
    return found, "per-example unbiased p^L from repeated samples (C(S, L) / C(K, L))"


def mirage_predictions(
    lf: pl.LazyFrame,
    points: pl.DataFrame,
    models: pl.DataFrame,
    *,
    keys: Sequence[str],
    curve_keys: Sequence[str],
    length_col: str | None = None,
    null_values: Sequence[float] = (),
    confidence: float = 0.95,
    doc_col: str | None = None,
    replicate_col: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame] | str:
    """Predicted next to observed exact match and token edit distance, per model, and the fits.

    Parameters
    ----------
    lf
        Per-example scores with ``exact_match``, ``token_edit_distance`` (raw counts) and a way to
        get target lengths (see :func:`target_length_expr`); optional ``token_logprobs``.
    points
        The aggregated points (observed means and intervals come from there).
    models
        The placement table (``model``, ``family``, ``scale``).
    keys, curve_keys
        Point keys (model, task, groups) and curve keys (task, groups, family).
    doc_col, replicate_col
        Example id and sample (replicate) columns: with several samples per example and no
        log-probabilities, the per-example prediction is the U-statistic below.

    Returns
    -------
    (predictions, fits) or str
        The two frames, or why the model cannot run (a missing column, normalised edit
        distances). Rows use only examples where exact match, edit distance and length are all
        present.
    """
    schema = lf.collect_schema()
    if EXACT_MATCH not in schema or EDIT_DISTANCE not in schema:
        return f"it needs per-example {EXACT_MATCH} and {EDIT_DISTANCE} columns"
    length = target_length_expr(schema, length_col)
    if length is None:
        return (
            "it needs target lengths: a target_length, reference_ids or reference column "
            "(keep one with `rescore score --keep-cols reference_ids`) or --length-col"
        )
    length_expr, length_source = length
    use_logprobs = LOGPROBS in schema and isinstance(schema[LOGPROBS], pl.List)
    sentinels = [float(v) for v in null_values]
    ted = pl.col(EDIT_DISTANCE).cast(pl.Float64)
    em = pl.col(EXACT_MATCH).cast(pl.Float64)
    valid = ted.is_not_null() & ~ted.is_nan() & em.is_not_null() & ~em.is_nan()
    if sentinels:
        valid = valid & ~ted.is_in(sentinels) & ~em.is_in(sentinels)
    cols = [*keys, EDIT_DISTANCE, EXACT_MATCH, *([LOGPROBS] if use_logprobs else [])]
    if doc_col is not None and doc_col in schema and doc_col not in cols:
        cols.append(doc_col)
    rows = (
        lf.select(*cols, length_expr.alias(_L))
        .filter(valid & pl.col(_L).is_not_null() & (pl.col(_L) > 0))
        .with_columns(ted.alias(EDIT_DISTANCE))
    )
    agg = [
        pl.len().alias("n_used"),
        pl.col(_L).mean().alias("mean_target_length"),
        (1.0 - pl.col(EDIT_DISTANCE).sum() / pl.col(_L).sum()).clip(0.0, 1.0).alias("p_accuracy"),
        (pl.col(EDIT_DISTANCE) != pl.col(EDIT_DISTANCE).round()).any().alias("_fractional"),
    ]
    if use_logprobs:
        agg.append(
            (pl.col(LOGPROBS).list.sum().sum() / pl.col(LOGPROBS).list.len().sum())
            .exp()
            .alias("p_logprobs")
        )
    per_model = rows.group_by(keys).agg(agg).collect(engine=ENGINE)
    if per_model.height == 0:
        return "no example has exact match, edit distance and a target length together"
    if per_model["_fractional"].any():
        return (
            f"{EDIT_DISTANCE} holds fractions (normalised?); the mirage model needs raw edit "
            "counts (the batch job's default)"
        )
    per_model = per_model.drop("_fractional")
    if use_logprobs:
        per_model = per_model.with_columns(
            pl.coalesce("p_logprobs", "p_accuracy").alias("p"),
            pl.when(pl.col("p_logprobs").is_not_null())
            .then(pl.lit(LOGPROBS))
            .otherwise(pl.lit(f"1 - {EDIT_DISTANCE} / length ({length_source})"))
            .alias("p_source"),
        ).drop("p_logprobs")
    else:
        per_model = per_model.with_columns(
            pl.col("p_accuracy").alias("p"),
            pl.lit(f"1 - {EDIT_DISTANCE} / length ({length_source})").alias("p_source"),
        )
    per_model = per_model.drop("p_accuracy").join(
        models.select("model", "family", "scale").rename({"model": keys[0]}),
        on=keys[0],
        how="left",
    )

    # Fit the power law per curve, then predict from the per-model p and from the fitted p,
    # both averaged over each model's own histogram of target lengths.
    fits = []
    p_fit = []
    parts = per_model.partition_by(list(curve_keys), as_dict=True, maintain_order=True)
    for key, part in parts.items():
        placed = part.filter(pl.col("scale").is_not_null())
        law = fit_power_law(placed["scale"].to_numpy(), placed["p"].to_numpy())
        fit_row = dict(zip(curve_keys, key, strict=True))
        fit_row |= {
            "n_models": None if law is None else law.n_models,
            "alpha": None if law is None else law.alpha,
            "c": None if law is None else law.c,
            "r2": None if law is None else law.r2,
        }
        fits.append(fit_row)
        if law is not None and placed.height >= 3:
            p_fit.append(
                placed.select(*keys).with_columns(pl.Series("p_fit", law.p(placed["scale"])))
            )
    fit_schema = {k: per_model.schema[k] for k in curve_keys} | {
        "n_models": pl.Int64,
        "alpha": pl.Float64,
        "c": pl.Float64,
        "r2": pl.Float64,
    }
    fit_frame = pl.DataFrame(fits, schema=fit_schema)
    if p_fit:
        per_model = per_model.join(pl.concat(p_fit), on=list(keys), how="left", nulls_equal=True)
    else:
        per_model = per_model.with_columns(pl.lit(None, pl.Float64).alias("p_fit"))

    histogram = rows.group_by(*keys, _L).len().collect(engine=ENGINE)
    predicted = (
        histogram.join(per_model.select(*keys, "p", "p_fit"), on=list(keys), nulls_equal=True)
        .group_by(keys)
        .agg(
            ((pl.col("p") ** pl.col(_L)) * pl.col("len"))
            .sum()
            .truediv(pl.col("len").sum())
            .alias("predicted_exact_match"),
            ((pl.col("p_fit") ** pl.col(_L)) * pl.col("len"))
            .sum()
            .truediv(pl.col("len").sum())
            .alias("predicted_exact_match_fit"),
            pl.col("p_fit").is_null().any().alias("_no_fit"),
        )
        .with_columns(
            pl.when(pl.col("_no_fit"))
            .then(None)
            .otherwise(pl.col("predicted_exact_match_fit"))
            .alias("predicted_exact_match_fit")
        )
        .drop("_no_fit")
    )
    per_example, per_example_source = _per_example_prediction(
        rows, schema, keys, use_logprobs, doc_col, replicate_col
    )
    predicted = predicted.join(per_example, on=list(keys), how="left", nulls_equal=True)
    wilson_low, wilson_high = wilson_interval(pl.col("mean"), pl.col("n"), confidence)
    observed = {
        EXACT_MATCH: points.filter(pl.col("metric") == EXACT_MATCH).select(
            *keys,
            pl.col("mean").alias(f"observed_{EXACT_MATCH}"),
            wilson_low.alias(f"{EXACT_MATCH}_ci_low"),
            wilson_high.alias(f"{EXACT_MATCH}_ci_high"),
            pl.lit("wilson").alias(f"{EXACT_MATCH}_ci_method"),
        ),
        EDIT_DISTANCE: points.filter(pl.col("metric") == EDIT_DISTANCE).select(
            *keys,
            pl.col("mean").alias(f"observed_{EDIT_DISTANCE}"),
            pl.col("ci_low").alias(f"{EDIT_DISTANCE}_ci_low"),
            pl.col("ci_high").alias(f"{EDIT_DISTANCE}_ci_high"),
            pl.col("ci_method").alias(f"{EDIT_DISTANCE}_ci_method"),
        ),
    }
    out = (
        per_model.join(predicted, on=list(keys), how="left", nulls_equal=True)
        .with_columns(
            (pl.col("mean_target_length") * (1.0 - pl.col("p"))).alias(
                "predicted_token_edit_distance"
            )
        )
        .join(observed[EXACT_MATCH], on=list(keys), how="left", nulls_equal=True)
        .join(observed[EDIT_DISTANCE], on=list(keys), how="left", nulls_equal=True)
    )
    out = out.with_columns(
        pl.lit(per_example_source, pl.String).alias("per_example_source"),
        pl.lit(_decoding(use_logprobs), pl.String).alias("prediction_assumes"),
        (
            (pl.col("predicted_exact_match_per_example") >= pl.col(f"{EXACT_MATCH}_ci_low") - 1e-12)
            & (
                pl.col("predicted_exact_match_per_example")
                <= pl.col(f"{EXACT_MATCH}_ci_high") + 1e-12
            )
        ).alias("exact_match_per_example_within_ci"),
    )
    for metric in (EXACT_MATCH, EDIT_DISTANCE):
        pred = pl.col(f"predicted_{metric}")
        out = out.with_columns(
            (
                (pred >= pl.col(f"{metric}_ci_low") - 1e-12)
                & (pred <= pl.col(f"{metric}_ci_high") + 1e-12)
            ).alias(f"{metric}_within_ci")
        )
    out = out.select(
        *curve_keys[:-1],
        "family",
        keys[0],
        "scale",
        "n_used",
        "mean_target_length",
        "p",
        "p_source",
        "p_fit",
        "observed_exact_match",
        "exact_match_ci_low",
        "exact_match_ci_high",
        "exact_match_ci_method",
        "predicted_exact_match",
        "exact_match_within_ci",
        "predicted_exact_match_fit",
        "predicted_exact_match_per_example",
        "exact_match_per_example_within_ci",
        "per_example_source",
        "prediction_assumes",
        "observed_token_edit_distance",
        "token_edit_distance_ci_low",
        "token_edit_distance_ci_high",
        "token_edit_distance_ci_method",
        "predicted_token_edit_distance",
        "token_edit_distance_within_ci",
    ).sort([*curve_keys, "scale", keys[0]], nulls_last=True)
    return out, fit_frame


__all__ = [
    "PowerLaw",
    "fit_power_law",
    "mirage_predictions",
    "target_length_expr",
    "unbiased_power",
    "wilson_interval",
]

"""Scores of a scaling curve: emergence (breakthroughness), linearity, monotonicity.

A curve is one metric's aggregate ``y`` over the models of a family, ordered by scale. Before
scoring, lower-is-better metrics (edit distances, Brier) are negated, so that a positive score
always means "improves with scale". Only the order of the models matters, not their spacing.

With consecutive differences ``z_i = y_{i+1} - y_i`` and the overall improvement
``I(y) = sign(argmax y - argmin y) * (max y - min y)``:

- **Emergence score** (Schaeffer, Miranda & Koyejo 2023, eq. 2), which is BIG-bench's
  *breakthroughness* (Srivastava et al. 2022, Appendix B): ``B = I(y) / sqrt(median(z_i^2))``.
- **Linearity** (Srivastava et al. 2022, Appendix B): ``L = I(y) / sqrt(mean(z_i^2))``, the same
  improvement over the *root mean square* step instead of the root median square one.

  The primary appendix text was not reachable from this machine; the definition was checked
  against its restatement by Xia et al. 2023 ("Training Trajectories of Language Models Across
  Scales", Appendix D.3, eq. 4), which writes the mean as ``(1/n) sum_i z_i^2``. We read ``n``
  as the number of differences (``np.mean`` over ``z``), so a straight line scores
  ``L = B = n_models - 1``; if ``n`` counts models instead, BIG-bench's value is ours times
  ``sqrt((n_models - 1) / n_models)`` (the same ordering of curves for a fixed number of models).

- **Monotonicity**: Spearman's rank correlation between scale and ``y`` (average ranks for ties).

Both B and L are invariant to positive affine rescaling of ``y`` and change sign under
negation. B is infinite when at least half of the steps are exactly flat (the median squared
step is zero) and undefined for a flat curve; such curves get a reason code (:data:`REASONS`)
and a null score rather than ``inf``/``NaN``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from rescore.emergence.settings import DEFAULT_EMERGENT_THRESHOLD
from rescore.exceptions import InvalidInputError

FloatArray = npt.NDArray[np.float64]

TOO_FEW_MODELS = "too_few_models"
FLAT = "flat"
MEDIAN_STEP_ZERO = "median_step_zero"
MEDIAN_STEP_BELOW_RESOLUTION = "median_step_below_resolution"
CLIPPED = "clipped"

REASONS: Mapping[str, str] = {
    TOO_FEW_MODELS: "fewer placed models with data than the minimum (3 by default)",
    FLAT: "every model scores the same: the emergence score and linearity are 0/0",
    MEDIAN_STEP_ZERO: "at least half the steps are exactly flat: the emergence score is "
    "infinite (its sign is the sign of `improvement`)",
    MEDIAN_STEP_BELOW_RESOLUTION: "at least half the steps are smaller than the curve's "
    "resolution (1/n examples, 1/(n k) with k samples each): such a step is noise, so it counts "
    "as flat and the emergence score is infinite (its sign is the sign of `improvement`); the "
    "interval applies the same rule to every bootstrap curve",
    CLIPPED: "the emergence score was clipped to the --clip bound",
}
"""Reason codes in the ``reason`` column, and what they mean. Empty: a finite, unclipped score."""

INFINITE = frozenset({MEDIAN_STEP_ZERO, MEDIAN_STEP_BELOW_RESOLUTION})
"""The reasons whose (unclipped) emergence score is infinite, reported as null."""


def _as_rows(y: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        msg = f"a curve must be 1-D (or 2-D: one curve per row), got {arr.ndim} dimensions"
        raise InvalidInputError(msg)
    if not np.isfinite(arr).all():
        msg = "a curve must hold finite values (missing models are left out, not NaN)"
        raise InvalidInputError(msg)
    return arr


def improvement_rows(y: npt.ArrayLike) -> FloatArray:
    """``I(y) = sign(argmax y - argmin y) * (max y - min y)`` for each row of ``y``."""
    arr = _as_rows(y)
    sign = np.sign(np.argmax(arr, axis=1) - np.argmin(arr, axis=1)).astype(np.float64)
    out: FloatArray = sign * (arr.max(axis=1) - arr.min(axis=1))
    return out


def breakthroughness_rows(
    y: npt.ArrayLike, step_resolution: npt.ArrayLike | None = None
) -> FloatArray:
    """The raw emergence score of each row of ``y`` (``inf``/``nan`` where degenerate).

    ``step_resolution`` (one value per step, or a scalar): steps smaller in size than it count
    as flat (zero) in the median, so a curve whose steps are mostly below its resolution scores
    ``inf`` like one whose steps are mostly exactly flat.
    """
    arr = _as_rows(y)
    diffs = np.diff(arr, axis=1)
    if step_resolution is not None:
        diffs = np.where(np.abs(diffs) < np.asarray(step_resolution, dtype=np.float64), 0.0, diffs)
    steps = np.sqrt(np.median(diffs**2, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = improvement_rows(arr) / steps
    return out


def linearity_rows(y: npt.ArrayLike) -> FloatArray:
    """The raw linearity of each row of ``y`` (``nan`` where flat)."""
    arr = _as_rows(y)
    steps = np.sqrt(np.mean(np.diff(arr, axis=1) ** 2, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = improvement_rows(arr) / steps
    return out


def _oriented(y: npt.ArrayLike, higher_is_better: bool) -> FloatArray:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2:
        msg = f"a curve needs at least 2 points in a 1-D array, got shape {arr.shape}"
        raise InvalidInputError(msg)
    return arr if higher_is_better else -arr


def emergence_score(y: npt.ArrayLike, *, higher_is_better: bool = True) -> float:
    """The emergence score (breakthroughness) of one curve, models ordered by scale.

    ``B = sign(argmax y - argmin y) * (max y - min y) / sqrt(median of squared steps)``, after
    negating ``y`` for a lower-is-better metric. This raw function returns ``inf`` (at least
    half the steps flat) or ``nan`` (a flat curve) as they are; :func:`score_curve` turns them
    into reason codes.

    Examples
    --------
    >>> emergence_score([0.0, 1.0, 2.0, 3.0])  # a straight line: n - 1
    3.0
    >>> emergence_score([0.0, 0.01, 0.02, 0.9])  # a breakthrough
    90.0
    >>> emergence_score([4, 3, 2, 1], higher_is_better=False)  # an edit distance falling
    3.0
    """
    return float(breakthroughness_rows(_oriented(y, higher_is_better))[0])


def linearity(y: npt.ArrayLike, *, higher_is_better: bool = True) -> float:
    """BIG-bench's linearity of one curve: ``I(y) / sqrt(mean of squared steps)``.

    Examples
    --------
    >>> linearity([0.0, 1.0, 2.0, 3.0])
    3.0
    >>> round(linearity([0.0, 0.0, 0.0, 3.0]), 4)  # one jump: sqrt(n - 1)
    1.7321
    """
    return float(linearity_rows(_oriented(y, higher_is_better))[0])


def _ranks(a: FloatArray) -> FloatArray:
    order = np.argsort(a, kind="stable")
    ranks = np.empty(a.size, dtype=np.float64)
    ranks[order] = np.arange(1, a.size + 1, dtype=np.float64)
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    averaged: FloatArray = sums[inverse] / counts[inverse]
    return averaged


def monotonicity(x: npt.ArrayLike, y: npt.ArrayLike, *, higher_is_better: bool = True) -> float:
    """Spearman's rank correlation between scale ``x`` and ``y`` (``nan`` if either is constant).

    Examples
    --------
    >>> monotonicity([1, 10, 100, 1000], [0.1, 0.3, 0.2, 0.9])
    0.8
    >>> monotonicity([1, 10, 100], [5.0, 3.0, 1.0], higher_is_better=False)
    1.0
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = _oriented(y, higher_is_better)
    if xs.shape != ys.shape:
        msg = f"`x` and `y` must have the same length, got {xs.size} and {ys.size}"
        raise InvalidInputError(msg)
    rx, ry = _ranks(xs) - (xs.size + 1) / 2, _ranks(ys) - (ys.size + 1) / 2
    denominator = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry) / denominator if denominator > 0 else math.nan


@dataclass(frozen=True)
class CurveScore:
    """The scores of one curve, with degenerate cases spelled out."""

    n_models: int
    improvement: float | None
    """``I(y)`` after orientation: positive when the best model is larger than the worst."""
    emergence_score: float | None
    emergence_ci_low: float | None
    emergence_ci_high: float | None
    emergence_ci_degenerate: float | None
    """Fraction of bootstrap curves whose score was infinite or undefined."""
    linearity: float | None
    monotonicity: float | None
    reason: str
    """Empty for a finite, unclipped score; else a key of :data:`REASONS`."""
    shape: str
    """``emergent``, ``smooth``, ``flat``, ``worsens`` or ``undetermined``."""


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def score_curve(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    higher_is_better: bool = True,
    draws: npt.ArrayLike | None = None,
    confidence: float = 0.95,
    clip: float | None = None,
    min_models: int = 3,
    emergent_threshold: float = DEFAULT_EMERGENT_THRESHOLD,
    resolution: npt.ArrayLike | None = None,
) -> CurveScore:
    """Score one curve (points already ordered by scale ``x``), with reason codes.

    Parameters
    ----------
    x, y
        Scale and aggregate metric value per model, in the metric's own units.
    higher_is_better
        Direction of the metric; lower-is-better curves are negated first.
    draws
        Bootstrap replicates of ``y``, shape ``(n_boot, n_models)``: the percentile interval
        of their scores is the score's confidence interval. ``None``: no interval.
    clip
        If given, scores (and interval bounds) are clipped to ``[-clip, clip]``, BIG-bench
        style, so infinite scores become ``+-clip`` (the reason still says why).
    min_models
        Fewer models than this give reason ``too_few_models`` and no scores.
    emergent_threshold
        ``shape`` is ``emergent`` when the score is at least this times ``n_models - 1``.
    resolution
        The smallest step each point's mean can take (``1 / n`` for a mean over ``n``
        examples; a scalar or one value per point). A step between two models smaller than the
        larger of their resolutions is noise, not a step: it counts as flat, in the score and
        in every bootstrap curve (reason ``median_step_below_resolution`` when that makes at
        least half the steps flat). ``None``: only exactly flat steps are flat.

    Examples
    --------
    >>> s = score_curve([1, 2, 3, 4], [0.0, 0.0, 0.0, 0.5])
    >>> (s.emergence_score, s.reason, s.improvement, s.shape)
    (None, 'median_step_zero', 0.5, 'emergent')
    >>> score_curve([1, 2, 3], [0.2, 0.2, 0.2]).reason
    'flat'
    >>> score_curve([1, 2, 3, 4], [0.0, 1e-6, 0.0, 0.9], resolution=1 / 1000).reason
    'median_step_below_resolution'
    """
    n = int(np.asarray(y).size)
    if n < max(min_models, 2):
        return CurveScore(
            n, None, None, None, None, None, None, None, TOO_FEW_MODELS, "undetermined"
        )
    ys = _oriented(y, higher_is_better)
    xs = np.asarray(x, dtype=np.float64)
    improvement = float(improvement_rows(ys)[0])
    step_res: FloatArray | None = None
    if resolution is not None:
        res = np.broadcast_to(np.asarray(resolution, dtype=np.float64), (n,))
        step_res = np.maximum(res[:-1], res[1:])
    unresolved = float(breakthroughness_rows(ys)[0])
    raw = float(breakthroughness_rows(ys, step_res)[0])
    lin = float(linearity_rows(ys)[0])
    mono = monotonicity(xs, ys)
    reason = ""
    if improvement == 0.0:
        reason = FLAT
    elif math.isinf(raw):
        reason = MEDIAN_STEP_ZERO if math.isinf(unresolved) else MEDIAN_STEP_BELOW_RESOLUTION
    score: float | None = _finite(raw)
    if clip is not None and not math.isnan(raw):
        clipped = float(np.clip(raw, -clip, clip))
        if clipped != raw and reason == "":
            reason = CLIPPED
        score = clipped
    ci_low = ci_high = degenerate = None
    if draws is not None:
        boot = np.asarray(draws, dtype=np.float64)
        if boot.ndim != 2 or boot.shape[1] != n:
            msg = f"`draws` must have shape (n_boot, {n}), got {boot.shape}"
            raise InvalidInputError(msg)
        scores = breakthroughness_rows(boot if higher_is_better else -boot, step_res)
        degenerate = float(np.mean(~np.isfinite(scores)))
        defined = scores[~np.isnan(scores)]
        if clip is not None:
            defined = np.clip(defined, -clip, clip)
        if defined.size:
            alpha = (1.0 - confidence) / 2.0
            lo, hi = np.quantile(defined, [alpha, 1.0 - alpha], method="inverted_cdf")
            ci_low, ci_high = _finite(float(lo)), _finite(float(hi))
    if reason == FLAT:
        shape = "flat"
    elif improvement < 0:
        shape = "worsens"
    elif math.isinf(raw) or raw >= emergent_threshold * (n - 1):
        shape = "emergent"
    else:
        shape = "smooth"
    return CurveScore(
        n_models=n,
        improvement=improvement,
        emergence_score=score,
        emergence_ci_low=ci_low,
        emergence_ci_high=ci_high,
        emergence_ci_degenerate=degenerate,
        linearity=_finite(lin),
        monotonicity=_finite(mono),
        reason=reason,
        shape=shape,
    )


def score_curves(
    points: pl.DataFrame,
    draws: Mapping[tuple[Any, ...], FloatArray],
    *,
    keys: Sequence[str],
    curve_keys: Sequence[str],
    directions: Mapping[str, bool],
    continuous: Mapping[str, bool | None],
    confidence: float = 0.95,
    clip: float | None = None,
    min_models: int = 3,
    emergent_threshold: float = DEFAULT_EMERGENT_THRESHOLD,
) -> pl.DataFrame:
    """Score every curve of an aggregated points frame.

    ``points`` has the point ``keys`` (model, task, groups), ``metric``, ``mean``, ``family``,
    ``scale``; a curve is the placed points sharing ``curve_keys`` (task, groups, family) and a
    metric. Points with a null mean (every value missing) are left out of the curve. The
    interval comes from ``draws``, keyed like the points; it is null if any point lacks draws.
    """
    out = []
    placed = points.filter(pl.col("scale").is_not_null() & pl.col("mean").is_not_null())
    parts = placed.partition_by([*curve_keys, "metric"], as_dict=True, maintain_order=True)
    for key, part in parts.items():
        part = part.sort(["scale", keys[0]])
        metric = str(key[-1])
        samples = [draws.get((*row, metric)) for row in part.select(keys).iter_rows()]
        matrix = None
        if samples and all(s is not None for s in samples):
            matrix = np.stack([s for s in samples if s is not None], axis=1)
        methods = part["ci_method"].to_list() if "ci_method" in part.columns else []
        if matrix is None:
            pairing = None
        elif methods and all(str(m).startswith("paired") for m in methods):
            pairing = "paired"
        else:
            pairing = "independent"
        resolution = (
            part["resolution"].fill_null(0.0).to_numpy() if "resolution" in part.columns else None
        )
        scored = score_curve(
            part["scale"].to_numpy(),
            part["mean"].to_numpy(),
            higher_is_better=directions[metric],
            draws=matrix,
            confidence=confidence,
            clip=clip,
            min_models=min_models,
            emergent_threshold=emergent_threshold,
            resolution=resolution,
        )
        row: dict[str, Any] = dict(zip([*curve_keys, "metric"], key, strict=True))
        row |= {
            "direction": "higher" if directions[metric] else "lower",
            "continuous": continuous.get(metric),
            "n_models": scored.n_models,
            "models": ",".join(part[keys[0]].cast(pl.String).to_list()),
            "improvement": scored.improvement,
            "emergence_score": scored.emergence_score,
            "emergence_ci_low": scored.emergence_ci_low,
            "emergence_ci_high": scored.emergence_ci_high,
            "emergence_ci_degenerate": scored.emergence_ci_degenerate,
            "bootstrap": pairing,
            "linearity": scored.linearity,
            "monotonicity": scored.monotonicity,
            "reason": scored.reason,
            "shape": scored.shape,
        }
        out.append(row)
    schema: dict[str, Any] = {k: points.schema[k] for k in curve_keys}
    schema |= {
        "metric": pl.String,
        "direction": pl.String,
        "continuous": pl.Boolean,
        "n_models": pl.Int64,
        "models": pl.String,
        "improvement": pl.Float64,
        "emergence_score": pl.Float64,
        "emergence_ci_low": pl.Float64,
        "emergence_ci_high": pl.Float64,
        "emergence_ci_degenerate": pl.Float64,
        "bootstrap": pl.String,
        "linearity": pl.Float64,
        "monotonicity": pl.Float64,
        "reason": pl.String,
        "shape": pl.String,
    }
    return pl.DataFrame(out, schema=schema)


def side_by_side(emergence: pl.DataFrame, curve_keys: Sequence[str]) -> pl.DataFrame:
    """Per (task, groups, family): the emergence score under every metric, and the mirage flag.

    The mirage signature (Schaeffer et al. 2023): the curve is ``emergent`` under an
    all-or-nothing metric (exact match, multiple-choice grade) yet ``smooth`` under a
    continuous one (token edit distance, Brier) computed on the same outputs.

    Examples
    --------
    >>> import polars as pl
    >>> e = pl.DataFrame({"task": ["t", "t"], "family": ["f", "f"],
    ...                   "metric": ["exact_match", "token_edit_distance"],
    ...                   "continuous": [False, True], "n_models": [5, 5],
    ...                   "emergence_score": [40.0, 4.1], "shape": ["emergent", "smooth"]})
    >>> out = side_by_side(e, ["task", "family"])
    >>> out.select("mirage", "emergent_under", "smooth_under").row(0)
    (True, 'exact_match', 'token_edit_distance')
    """
    if emergence.height == 0:
        return pl.DataFrame(
            schema={**{k: emergence.schema[k] for k in curve_keys}, "mirage": pl.Boolean}
        )
    keys = list(curve_keys)
    wide = emergence.pivot(
        on="metric", index=keys, values="emergence_score", aggregate_function="first"
    )
    renamed = {c: f"emergence_{c}" for c in wide.columns if c not in keys}
    wide = wide.rename(renamed)
    flags = emergence.group_by(keys, maintain_order=True).agg(
        pl.col("n_models").max(),
        pl.col("metric")
        .filter(pl.col("continuous").not_() & (pl.col("shape") == "emergent"))
        .str.join(",")
        .alias("emergent_under"),
        pl.col("metric")
        .filter(pl.col("continuous") & (pl.col("shape") == "smooth"))
        .str.join(",")
        .alias("smooth_under"),
    )
    flags = flags.with_columns(
        ((pl.col("emergent_under") != "") & (pl.col("smooth_under") != "")).alias("mirage")
    )
    return flags.join(wide, on=keys, how="left", nulls_equal=True).select(
        *keys, "n_models", "mirage", "emergent_under", "smooth_under", *renamed.values()
    )


__all__ = [
    "CLIPPED",
    "DEFAULT_EMERGENT_THRESHOLD",
    "FLAT",
    "INFINITE",
    "MEDIAN_STEP_BELOW_RESOLUTION",
    "MEDIAN_STEP_ZERO",
    "REASONS",
    "TOO_FEW_MODELS",
    "CurveScore",
    "breakthroughness_rows",
    "emergence_score",
    "improvement_rows",
    "linearity",
    "linearity_rows",
    "monotonicity",
    "score_curve",
    "score_curves",
    "side_by_side",
]

"""Expected calibration error: an aggregate over a group of predictions, not a per-row value."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rescore import _rescore
from rescore._arrow import as_arrow, to_pyarrow, wrap_result
from rescore._typing import ColumnLike
from rescore.exceptions import InvalidInputError, InvalidOptionError, LengthMismatchError
from rescore.metrics.choices import _brier_inputs, multiple_choice_grade
from rescore.metrics.conventions import OnError, call_kernel
from rescore.registry import InputContext, Metric, options_from_signature, register
from rescore.registry.aggregation import statistics_aggregation

Binning = Literal["uniform", "quantile"]
FloatArray = npt.NDArray[np.float64]


def _as_floats(values: ColumnLike, argument: str) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    array = to_pyarrow(as_arrow(values, argument), argument)
    if pa.types.is_boolean(array.type) or pa.types.is_integer(array.type):
        array = array.cast(pa.float64())
    if not pa.types.is_floating(array.type) and not pa.types.is_null(array.type):
        from rescore.exceptions import UnsupportedTypeError

        msg = f"unsupported type for `{argument}`: got {array.type}, expected numbers or booleans"
        raise UnsupportedTypeError(msg)
    valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    floats = np.asarray(
        array.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False), np.float64
    )
    return floats, valid


def _edges(confidences: FloatArray, bins: int, binning: Binning) -> FloatArray:
    """Upper bin edges; a value equal to an edge falls in the bin it closes."""
    if binning == "uniform":
        return np.arange(1, bins + 1, dtype=np.float64) / bins
    # Equal mass (uncertainty-calibration's get_equal_bins): split the sorted confidences into
    # min(bins, n) near-equal parts; an edge is the midpoint between two neighbouring parts.
    ordered = np.sort(confidences)
    parts = np.array_split(ordered, min(bins, len(ordered)))
    edges = [(a[-1] + b[0]) / 2.0 for a, b in pairwise(parts)]
    return np.unique(np.array([*edges, 1.0], dtype=np.float64))


def calibration_error(
    confidences: FloatArray, correct: FloatArray, *, bins: int, binning: Binning
) -> float:
    """ECE of checked NumPy arrays: ``sum_b (n_b / n) |mean correct_b - mean confidence_b|``."""
    n = len(confidences)
    if n == 0:
        return float("nan")
    edges = _edges(confidences, bins, binning)
    which = np.searchsorted(edges, confidences, side="left")
    counts = np.bincount(which, minlength=len(edges)).astype(np.float64)
    conf = np.bincount(which, weights=confidences, minlength=len(edges))
    acc = np.bincount(which, weights=correct, minlength=len(edges))
    occupied = counts > 0
    gaps = np.abs(acc[occupied] - conf[occupied]) / counts[occupied]
    return float(np.sum(counts[occupied] / n * gaps))


def expected_calibration_error(
    confidences: ColumnLike,
    correct: ColumnLike,
    *,
    bins: int = 10,
    binning: Binning = "uniform",
    on_error: OnError = "raise",
) -> float:
    """Expected calibration error of a group of predictions (lower is better), one number.

    ``sum_b (n_b / n) * |acc_b - conf_b|`` over bins ``b`` of the confidences, with ``acc_b``
    the mean correctness and ``conf_b`` the mean confidence of the bin's ``n_b`` rows.

    Parameters
    ----------
    confidences
        The model's confidence in its answer per row, in [0, 1] (from multiple-choice rows:
        the top choice's probability, see :func:`choice_confidence`).
    correct
        Whether the answer was right: booleans, or grades in [0, 1] (soft targets).
    bins
        Number of bins (at least 1).
    binning
        ``"uniform"``: equal-width bins over [0, 1], ``uncertainty-calibration``'s ``get_ece``;
        ``"quantile"``: equal-mass bins, its ``get_ece_em`` (what HELM reports). A value on an
        edge falls in the bin below it, as both do.
    on_error
        ``"raise"``: a confidence outside [0, 1] or NaN, or a grade outside [0, 1], is an
        :class:`~rescore.exceptions.InvalidInputError` naming the row and argument;
        ``"null"``: such rows are left out, like rows with a null in either input.

    Returns
    -------
    float
        The ECE in [0, 1]; NaN when no row is left.

    Examples
    --------
    >>> expected_calibration_error([0.75, 0.75, 0.25, 0.25], [True, False, False, False], bins=2)
    0.25
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        msg = f"expected_calibration_error: bins must be a positive integer, got {bins!r}"
        raise InvalidOptionError(msg)
    if binning not in ("uniform", "quantile"):
        msg = (
            f"expected_calibration_error: binning must be 'uniform' or 'quantile', got {binning!r}"
        )
        raise InvalidOptionError(msg)
    if on_error not in ("raise", "null"):
        msg = f"expected_calibration_error: on_error must be 'raise' or 'null', got {on_error!r}"
        raise InvalidOptionError(msg)
    conf, conf_ok = _as_floats(confidences, "confidences")
    corr, corr_ok = _as_floats(correct, "correct")
    if len(conf) != len(corr):
        msg = f"length mismatch: `confidences` has {len(conf)} rows but `correct` has {len(corr)}"
        raise LengthMismatchError(msg)
    keep = conf_ok & corr_ok
    for values, name in ((conf, "confidences"), (corr, "correct")):
        bad = keep & ~((values >= 0.0) & (values <= 1.0))  # NaN fails too
        if bad.any() and on_error == "raise":
            row = int(np.flatnonzero(bad)[0])
            what = "confidence" if name == "confidences" else "grade"
            msg = f"`{name}` row {row}: {values[row]} is not a {what} in [0, 1]"
            raise InvalidInputError(msg)
        keep &= ~bad
    return calibration_error(conf[keep], corr[keep], bins=bins, binning=binning)


def choice_confidence(
    scores: ColumnLike,
    labels: ColumnLike,
    *,
    from_logprobs: bool = True,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """The top choice's probability per multiple-choice row: the confidence ECE bins.

    The softmax of the per-choice log-likelihoods (``from_logprobs=True``), or the
    probabilities as given; null where the label is null (the grade is needed too).

    >>> import math
    >>> choice_confidence([[math.log(0.3), math.log(0.7)]], [0]).to_pylist()
    [0.7]
    """
    out = call_kernel(
        _rescore.choice_probability,
        as_arrow(scores, "scores"),
        as_arrow(labels, "labels"),
        which="top",
        from_logprobs=from_logprobs,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "choice_confidence", scores, labels)


def _ece_rows(
    scores: ColumnLike,
    labels: ColumnLike,
    *,
    bins: int = 10,
    binning: Binning = "uniform",
    from_logprobs: bool = True,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """The registry's per-row column: the top choice's probability (the group value, from
    the statistics, is the ECE)."""
    del bins, binning  # they shape the aggregate only
    return choice_confidence(
        scores, labels, from_logprobs=from_logprobs, workers=workers, on_error=on_error
    )


def _ece_statistics(
    scores: ColumnLike,
    labels: ColumnLike,
    *,
    bins: int = 10,
    binning: Binning = "uniform",
    from_logprobs: bool = True,
    workers: int = -1,
    on_error: OnError = "raise",
) -> pa.StructArray:
    """Per row: confidence and grade; ``bins`` and ``quantile`` carry the options to
    :func:`_ece_combine` (the aggregation contract hands it statistics only)."""
    conf = pa.array(
        choice_confidence(
            scores, labels, from_logprobs=from_logprobs, workers=workers, on_error=on_error
        )
    )
    grade = pa.array(multiple_choice_grade(scores, labels, workers=workers, on_error=on_error))
    n = len(conf)
    valid = np.asarray(conf.is_valid().to_numpy(zero_copy_only=False)) & np.asarray(
        grade.is_valid().to_numpy(zero_copy_only=False)
    )
    mask = pa.array(~valid)
    return pa.StructArray.from_arrays(
        [
            conf.cast(pa.float64()),
            grade.cast(pa.float64()),
            pa.array(np.full(n, float(bins))),
            pa.array(np.full(n, 1.0 if binning == "quantile" else 0.0)),
        ],
        names=["confidence", "correct", "bins", "quantile"],
        mask=mask,
    )


def _ece_combine(stats: Mapping[str, FloatArray]) -> FloatArray:
    conf, correct = stats["confidence"], stats["correct"]
    if len(conf) == 0:
        return np.array([np.nan])
    bins = int(stats["bins"][0])
    binning: Binning = "quantile" if stats["quantile"][0] > 0 else "uniform"
    return np.array([calibration_error(conf, correct, bins=bins, binning=binning)])


def _validate(options: Mapping[str, Any]) -> None:
    bins = options.get("bins", 10)
    if bins < 1:
        msg = f"expected_calibration_error: bins must be at least 1, got {bins}"
        raise InvalidOptionError(msg)


def _logprob_inputs(context: InputContext) -> Mapping[str, Any]:
    return {"from_logprobs": _brier_inputs(context)["from_logprobs"]}


register(
    Metric(
        name="expected_calibration_error",
        higher_is_better=False,
        inputs="choices",
        continuous=True,
        definition="sum over confidence bins of (n_b/n)|acc_b - conf_b| (per row: the top "
        "choice's probability)",
        range=(0.0, 1.0),
        function=_ece_rows,
        options=options_from_signature(
            _ece_rows,
            {
                "bins": "number of confidence bins",
                "binning": "uniform (equal width, get_ece) or quantile (equal mass, get_ece_em)",
                "from_logprobs": "softmax per-choice log-likelihoods first (default: inferred)",
            },
        ),
        aggregation=statistics_aggregation(
            "expected_calibration_error",
            "ECE of the group's (confidence, grade) rows, binned as the options say",
            fields=("confidence", "correct", "bins", "quantile"),
            statistics=_ece_statistics,
            combine=_ece_combine,
            additive=False,
        ),
        infer_options=_logprob_inputs,
        validate=_validate,
    )
)

__all__ = ["calibration_error", "choice_confidence", "expected_calibration_error"]

"""Multiple-choice metrics: Brier score, multiple-choice grade (lm-eval acc, acc_norm, acc_bytes,
acc_mutual_info) and the gold choice's probability."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rescore import _rescore
from rescore._arrow import as_arrow, to_pyarrow, wrap_result
from rescore._typing import ColumnLike, metric_function
from rescore.exceptions import InvalidInputError, LengthMismatchError, UnsupportedTypeError
from rescore.metrics.conventions import OnError, call_kernel
from rescore.registry import InputContext, Metric, options_from_signature, register


@metric_function
def brier_score(
    probabilities: ColumnLike,
    labels: ColumnLike,
    *,
    convention: Literal["sum", "class_mean"] = "sum",
    from_logprobs: bool = False,
    tolerance: float = 1e-4,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """Brier score of a multiple-choice prediction, per example (lower is better).

    ``sum_k (p_k - y_k)^2`` with ``y`` the one-hot gold choice (or the soft target scores).

    Parameters
    ----------
    probabilities
        Per-choice probabilities (``list<float>``; rows may have different numbers of choices;
        a 2-D NumPy array works too). Each must be in [0, 1] and each row must sum to 1 within
        ``tolerance``.
    labels
        The gold choice index per row (any integer type), or per-choice target scores in [0, 1]
        (``list<float>``, as BIG-bench ``target_scores``).
    convention
        ``"sum"``: lm-eval-harness, range [0, 2]. ``"class_mean"``: BIG-bench, the sum divided
        by the number of choices. They differ by a factor K.
    from_logprobs
        ``probabilities`` are per-choice log-likelihoods (what lm-eval logs): a softmax per row
        is applied first, as lm-eval does. ``-inf`` is a zero-probability choice.

    Examples
    --------
    >>> import rescore
    >>> rescore.brier_score([[0.6, 0.3, 0.1]], [0]).to_pylist()  # 0.16 + 0.09 + 0.01
    [0.26]
    >>> rescore.brier_score([[0.5, 0.5]], [1], convention="class_mean").to_pylist()
    [0.25]
    """
    out = call_kernel(
        _rescore.brier_score,
        as_arrow(probabilities, "probabilities"),
        as_arrow(labels, "labels"),
        convention=convention,
        from_logprobs=from_logprobs,
        tolerance=tolerance,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "brier_score", probabilities, labels)


@metric_function
def multiple_choice_grade(
    scores: ColumnLike,
    labels: ColumnLike,
    *,
    choices: ColumnLike | None = None,
    length_normalize: Literal["chars", "bytes"] | None = None,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """1.0 if the highest-scored choice is the gold one, else 0.0, per example.

    ``scores`` are any per-choice scores (log-likelihoods, probabilities; ``-inf`` allowed, NaN
    rejected). Ties go to the lowest choice index, like ``numpy.argmax`` in lm-eval's ``acc``
    (BIG-bench breaks ties by a hash). With per-choice target scores as ``labels`` (BIG-bench
    ``target_scores``), the grade is the target score of the chosen choice.

    Parameters
    ----------
    choices
        The text of each choice per row (``list<string>``, as many as scores), needed by
        ``length_normalize``. For lm-eval logs these are the continuations without the task's
        target delimiter (what ``doc_to_choice`` gives): the lm-eval reader removes it.
    length_normalize
        ``"chars"``: divide each log-likelihood by its choice's length in characters (Unicode
        code points, Python's ``len``) before the argmax, lm-eval's ``acc_norm``; ``"bytes"``:
        by its UTF-8 length, lm-eval's ``acc_bytes``. The scores are then log-likelihoods:
        ``+inf`` is an error too, and a row whose texts are missing (null) or of another
        count than its scores is an error naming the row and ``choices``.

    Examples
    --------
    >>> import rescore
    >>> rescore.multiple_choice_grade([[-3.2, -0.4, -2.0], [-1.0, -1.0]], [1, 1]).to_pylist()
    [1.0, 0.0]
    >>> rescore.multiple_choice_grade(
    ...     [[-4.0, -3.0]], [0], choices=[["a long one", "two"]], length_normalize="chars"
    ... ).to_pylist()  # -0.4 per character beats -1.0
    [1.0]
    """
    extra: dict[str, Any] = {}
    if choices is not None:
        extra["choices"] = as_arrow(choices, "choices")
    out = call_kernel(
        _rescore.multiple_choice_grade,
        as_arrow(scores, "scores"),
        as_arrow(labels, "labels"),
        length_normalize=length_normalize,
        workers=workers,
        on_error=on_error,
        **extra,
    )
    return wrap_result(out, "multiple_choice_grade", scores, labels)


def acc_norm(
    scores: ColumnLike,
    labels: ColumnLike,
    *,
    choices: ColumnLike,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """lm-eval's ``acc_norm``: :func:`multiple_choice_grade` with ``length_normalize="chars"``.

    >>> import rescore
    >>> acc_norm([[-4.0, -3.0]], [0], choices=[["a long one", "two"]]).to_pylist()
    [1.0]
    """
    return multiple_choice_grade(
        scores,
        labels,
        choices=choices,
        length_normalize="chars",
        workers=workers,
        on_error=on_error,
    )


def acc_bytes(
    scores: ColumnLike,
    labels: ColumnLike,
    *,
    choices: ColumnLike,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """lm-eval's ``acc_bytes``: :func:`multiple_choice_grade` with ``length_normalize="bytes"``.

    >>> import rescore
    >>> acc_bytes([[-4.0, -3.0]], [1], choices=[["éé", "abc"]]).to_pylist()  # 4 bytes vs 3
    [0.0]
    """
    return multiple_choice_grade(
        scores,
        labels,
        choices=choices,
        length_normalize="bytes",
        workers=workers,
        on_error=on_error,
    )


def _invalid_rows(
    bad: np.ndarray[Any, np.dtype[np.bool_]], message: str, on_error: OnError
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    if on_error == "raise" and bad.any():
        row = int(np.flatnonzero(bad)[0])
        msg = message.format(row=row)
        raise InvalidInputError(msg)
    return bad


def acc_mutual_info(
    scores: ColumnLike,
    labels: ColumnLike,
    *,
    unconditional: ColumnLike,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """lm-eval's ``acc_mutual_info``: the grade of ``log P(choice | context) - log P(choice)``.

    ``unconditional`` holds each choice's log-likelihood without the context (the second half
    of the requests lm-eval makes for this metric, ``("", delimiter + choice)``), as many per
    row as ``scores`` and finite; a row where they differ in count or hold NaN or an infinity
    is an error naming the row and ``unconditional`` (null under ``on_error="null"``).

    >>> import rescore
    >>> acc_mutual_info([[-2.0, -3.0]], [1], unconditional=[[-1.0, -5.0]]).to_pylist()
    [1.0]
    """
    s = to_pyarrow(as_arrow(scores, "scores"), "scores")
    u = to_pyarrow(as_arrow(unconditional, "unconditional"), "unconditional")
    if len(s) != len(u):
        msg = f"length mismatch: `scores` has {len(s)} rows but `unconditional` has {len(u)}"
        raise LengthMismatchError(msg)
    if not (_float_lists(s) and _float_lists(u)):
        if not _float_lists(s) or pa.types.is_null(u.type):
            # the kernel says what is wrong with the scores (or gives nulls for null rows)
            base = pa.array(multiple_choice_grade(s, labels, workers=workers, on_error=on_error))
            if pa.types.is_null(u.type):
                return pc.if_else(pc.is_valid(u), base, pa.scalar(None, pa.float64()))
            if not _float_lists(u):
                msg = f"unsupported type for `unconditional`: got {u.type}, expected list<float>"
                raise UnsupportedTypeError(msg)
            return base
        msg = f"unsupported type for `unconditional`: got {u.type}, expected list<float>"
        raise UnsupportedTypeError(msg)
    s_len = pc.fill_null(pc.list_value_length(s), -1).to_numpy(zero_copy_only=False)
    u_len = pc.fill_null(pc.list_value_length(u), -1).to_numpy(zero_copy_only=False)
    both = (s_len >= 0) & (u_len >= 0)
    bad = _invalid_rows(
        both & (s_len != u_len),
        "row {row}: `unconditional` has another number of choices than `scores`",
        on_error,
    )
    u_values = _flat_floats(u)
    row_of = np.repeat(np.arange(len(u)), np.maximum(u_len, 0))
    nonfinite_rows = np.zeros(len(u), dtype=np.bool_)
    nonfinite_rows[row_of[~np.isfinite(u_values)]] = True
    bad |= _invalid_rows(
        both & ~bad & nonfinite_rows,
        "`unconditional` row {row}: an unconditional log-likelihood is NaN, null or infinite",
        on_error,
    )
    keep = both & ~bad
    # Differences row by row over the rows kept (the others become null rows); NaN or +inf
    # in the scores stays for the kernel to report.
    s_values = _flat_floats(s)
    s_rows = np.repeat(np.arange(len(s)), np.maximum(s_len, 0))
    s_kept = s_values[keep[s_rows]]
    u_kept = u_values[keep[row_of]]
    lengths = np.where(keep, s_len, 0)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    diff = pa.LargeListArray.from_arrays(
        pa.array(offsets), pa.array(s_kept - u_kept, pa.float64()), mask=pa.array(~keep)
    )
    # rows whose scores are present but unconditional values are not: null (counted by the
    # batch job as unscorable)
    out = multiple_choice_grade(diff, labels, workers=workers, on_error=on_error)
    return wrap_result(out, "acc_mutual_info", scores, labels)


def _float_lists(array: pa.Array) -> bool:
    t = array.type
    listy = pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    return bool(listy) and bool(
        pa.types.is_floating(t.value_type) or pa.types.is_integer(t.value_type)
    )


def _flat_floats(array: pa.Array) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The list values of the rows, in row order (null rows hold none), nulls as NaN."""
    values = pc.list_flatten(array).cast(pa.float64())
    return np.asarray(values.fill_null(np.nan).to_numpy(zero_copy_only=False), np.float64)


@metric_function
def gold_probability(
    scores: ColumnLike,
    labels: ColumnLike,
    *,
    from_logprobs: bool = True,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """The probability of the gold choice, per example (continuous, higher is better).

    The measure of Schaeffer et al. (2024): the probability mass a model puts on the correct
    choice, which moves smoothly where accuracy jumps.

    Parameters
    ----------
    scores
        Per-choice log-likelihoods (``from_logprobs=True``, what lm-eval logs: their softmax
        per row is taken, ``-inf`` a zero-probability choice; NaN, ``+inf`` or a row of only
        ``-inf`` are errors), or probabilities (``from_logprobs=False``: each in [0, 1], the
        row summing to 1 within 1e-4).
    labels
        The gold choice index per row, or per-choice target scores in [0, 1]: then the
        target-weighted sum of the probabilities.

    Examples
    --------
    >>> import math, rescore
    >>> rescore.gold_probability([[math.log(0.2), math.log(0.8)]], [1]).to_pylist()
    [0.8]
    >>> rescore.gold_probability([[0.2, 0.8]], [[0.5, 0.5]], from_logprobs=False).to_pylist()
    [0.5]
    """
    out = call_kernel(
        _rescore.choice_probability,
        as_arrow(scores, "scores"),
        as_arrow(labels, "labels"),
        which="gold",
        from_logprobs=from_logprobs,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "gold_probability", scores, labels)


def _brier_inputs(context: InputContext) -> Mapping[str, Any]:
    """Log-likelihoods get a softmax first: lm-eval logs hold them, and so does a choices
    column whose name says so."""
    column = (context.columns.get("choices") or "").lower()
    logprobs = "lm-eval" in context.formats or "logprob" in column or "loglik" in column
    return {"from_logprobs": logprobs}


register(
    Metric(
        name="brier_score",
        default=True,
        higher_is_better=False,
        inputs="choices",
        continuous=True,
        definition="sum over choices of (p_k - y_k)^2 (lm-eval) or its mean (BIG-bench)",
        range=(0.0, 2.0),
        function=brier_score,
        options=options_from_signature(
            brier_score,
            {
                "convention": "sum (lm-eval, in [0, 2]) or class_mean (BIG-bench, / choices)",
                "from_logprobs": "softmax per-choice log-likelihoods first (default: inferred)",
                "tolerance": "how far a probability row may sum from 1",
            },
            aliases={"convention": "--brier-convention"},
        ),
        infer_options=_brier_inputs,
    )
)
register(
    Metric(
        name="multiple_choice_grade",
        default=True,
        higher_is_better=True,
        inputs="choices",
        continuous=False,
        definition="1 if the highest-scored choice is the gold one, else 0 (first max wins ties)",
        range=(0.0, 1.0),
        function=multiple_choice_grade,
    )
)


def _logprob_inputs(context: InputContext) -> Mapping[str, Any]:
    return {"from_logprobs": _brier_inputs(context)["from_logprobs"]}


for _name, _fn, _definition in (
    ("acc_norm", acc_norm, "lm-eval acc_norm: argmax of log-likelihood per character"),
    ("acc_bytes", acc_bytes, "lm-eval acc_bytes: argmax of log-likelihood per UTF-8 byte"),
):
    register(
        Metric(
            name=_name,
            higher_is_better=True,
            inputs="choices",
            continuous=False,
            definition=_definition,
            range=(0.0, 1.0),
            function=_fn,
            column_inputs={"choices": "choice_texts"},
        )
    )
register(
    Metric(
        name="acc_mutual_info",
        higher_is_better=True,
        inputs="choices",
        continuous=False,
        definition="lm-eval acc_mutual_info: argmax of conditional minus unconditional "
        "log-likelihood",
        range=(0.0, 1.0),
        function=acc_mutual_info,
        column_inputs={"unconditional": "unconditional_logprobs"},
    )
)
register(
    Metric(
        name="gold_probability",
        higher_is_better=True,
        inputs="choices",
        continuous=True,
        definition="probability of the gold choice (softmax of log-likelihoods), soft "
        "targets weighted",
        range=(0.0, 1.0),
        function=gold_probability,
        options=options_from_signature(
            gold_probability,
            {"from_logprobs": "softmax per-choice log-likelihoods first (default: inferred)"},
        ),
        infer_options=_logprob_inputs,
    )
)

__all__ = [
    "acc_bytes",
    "acc_mutual_info",
    "acc_norm",
    "brier_score",
    "gold_probability",
    "multiple_choice_grade",
]

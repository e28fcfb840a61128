"""Multiple-choice metrics: Brier score and multiple-choice grade."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from rescore import _rescore
from rescore._arrow import as_arrow, wrap_result
from rescore._typing import ColumnLike, metric_function
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
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """1.0 if the highest-scored choice is the gold one, else 0.0, per example.

    ``scores`` are any per-choice scores (log-likelihoods, probabilities; ``-inf`` allowed, NaN
    rejected). Ties go to the lowest choice index, like ``numpy.argmax`` in lm-eval's ``acc``
    (BIG-bench breaks ties by a hash). With per-choice target scores as ``labels`` (BIG-bench
    ``target_scores``), the grade is the target score of the chosen choice.

    Examples
    --------
    >>> import rescore
    >>> rescore.multiple_choice_grade([[-3.2, -0.4, -2.0], [-1.0, -1.0]], [1, 1]).to_pylist()
    [1.0, 0.0]
    """
    out = call_kernel(
        _rescore.multiple_choice_grade,
        as_arrow(scores, "scores"),
        as_arrow(labels, "labels"),
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "multiple_choice_grade", scores, labels)


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

__all__ = ["brier_score", "multiple_choice_grade"]

"""Token-overlap metrics of generated text: the SQuAD token F1."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rescore import _rescore
from rescore._arrow import as_arrow, wrap_result
from rescore._typing import ColumnLike, metric_function
from rescore.metrics.conventions import OnError, call_kernel
from rescore.registry import Metric, options_from_signature, register


@metric_function
def token_f1(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    ignore_case: bool = True,
    ignore_punctuation: bool = True,
    ignore_articles: bool = True,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """The SQuAD token F1 of each prediction against its best reference, in [0, 1].

    The SQuAD v2.0 official script's ``compute_f1`` after its ``normalize_answer``: lower case,
    Python's ``string.punctuation`` deleted, the articles a/an/the deleted as whole words
    (words as Python's ``re`` sees them), whitespace collapsed; then the harmonic mean of
    precision and recall of the shared tokens (counted with repeats). When a side has no token
    left, 1.0 if neither has, else 0.0. ``references`` may hold a list of acceptable answers per
    row: the best one counts, as in the script.

    Examples
    --------
    >>> import rescore
    >>> rescore.token_f1(["The Eiffel Tower", "in Paris"], [["Eiffel tower"], ["Rome"]]).to_pylist()
    [1.0, 0.0]
    >>> rescore.token_f1(["red car"], ["a blue car park"]).to_pylist()
    [0.4]
    """
    out = call_kernel(
        _rescore.token_f1,
        as_arrow(predictions, "predictions"),
        as_arrow(references, "references"),
        ignore_case=ignore_case,
        ignore_punctuation=ignore_punctuation,
        ignore_articles=ignore_articles,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "token_f1", predictions, references)


register(
    Metric(
        name="token_f1",
        higher_is_better=True,
        inputs="text",
        continuous=True,
        definition="SQuAD F1 of the normalised tokens, best reference",
        range=(0.0, 1.0),
        function=token_f1,
        options=options_from_signature(
            token_f1,
            {
                "ignore_case": "lower-case both sides",
                "ignore_punctuation": "delete ASCII punctuation (string.punctuation)",
                "ignore_articles": "delete the words a, an, the",
            },
        ),
        output_type=lambda _options: pa.float64(),
    )
)

__all__ = ["token_f1"]

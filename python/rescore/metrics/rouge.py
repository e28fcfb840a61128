"""ROUGE as Google's ``rouge-score`` computes it: ``rouge`` and one entry per variant."""

from __future__ import annotations

from typing import Any, Literal

import pyarrow as pa

from rescore import _rescore
from rescore._arrow import as_arrow, wrap_result
from rescore._typing import ColumnLike, metric_function
from rescore.metrics.conventions import OnError, call_kernel
from rescore.registry import Metric, options_from_signature, register

RougeVariant = Literal["rouge1", "rouge2", "rougeL", "rougeLsum"]

USE_STEMMER_DOC = "stem tokens longer than 3 characters with NLTK's Porter stemmer"


@metric_function
def rouge(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    variant: RougeVariant = "rougeL",
    use_stemmer: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """The ROUGE F-measure of each prediction against its best reference, in [0, 1].

    Equal to ``rouge_score.rouge_scorer.RougeScorer([variant], use_stemmer=use_stemmer)``:
    ``.score(reference, prediction)[variant].fmeasure``, and ``.score_multi`` (the best
    F-measure) when ``references`` holds a list per row. Its tokenizer: lower case, every run of
    characters outside ``[a-z0-9]`` a break (so non-Latin text has no tokens). With
    ``use_stemmer``, tokens longer than three characters go through NLTK's
    ``PorterStemmer()`` (its default ``NLTK_EXTENSIONS`` mode), re-implemented in the kernel.

    - ``rouge1``, ``rouge2``: unigram and bigram overlap.
    - ``rougeL``: longest common subsequence of the whole texts.
    - ``rougeLsum``: summary-level LCS, sentences being the texts' lines (``"\\n"``), as
      ``rouge-score`` splits them (put one sentence per line first, as its users do).

    A side without tokens scores 0.0 (series from polars are named after ``variant``). Nulls:
    a null prediction or reference row, or a row whose reference list is empty or all null,
    gives null.

    Examples
    --------
    >>> import rescore
    >>> ref = "The quick brown fox jumps over the lazy dog"
    >>> rescore.rouge(["The quick brown dog jumps on the log."], [ref]).to_pylist()
    [0.5882352941176471]
    >>> rescore.rouge(["the dogs ran"], [["a dog runs", "cats ran"]], variant="rouge1",
    ...               use_stemmer=True).to_pylist()
    [0.4]
    """
    out = call_kernel(
        _rescore.rouge,
        as_arrow(predictions, "predictions"),
        as_arrow(references, "references"),
        variant=variant,
        use_stemmer=use_stemmer,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, variant, predictions, references)


@metric_function
def rouge1(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    use_stemmer: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """``rouge(..., variant="rouge1")``: unigram overlap F-measure, best reference.

    >>> import rescore
    >>> rescore.rouge1(["a b c"], ["a b d e"]).to_pylist()
    [0.5714285714285715]
    """
    return rouge(
        predictions,
        references,
        variant="rouge1",
        use_stemmer=use_stemmer,
        workers=workers,
        on_error=on_error,
    )


@metric_function
def rouge2(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    use_stemmer: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """``rouge(..., variant="rouge2")``: bigram overlap F-measure, best reference.

    >>> import rescore
    >>> rescore.rouge2(["a b c"], ["a b d e"]).to_pylist()
    [0.4]
    """
    return rouge(
        predictions,
        references,
        variant="rouge2",
        use_stemmer=use_stemmer,
        workers=workers,
        on_error=on_error,
    )


@metric_function
def rougeL(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    use_stemmer: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """``rouge(..., variant="rougeL")``: longest-common-subsequence F-measure, best reference.

    >>> import rescore
    >>> rescore.rougeL(["a c b"], ["a b"]).to_pylist()
    [0.8]
    """
    return rouge(
        predictions,
        references,
        variant="rougeL",
        use_stemmer=use_stemmer,
        workers=workers,
        on_error=on_error,
    )


@metric_function
def rougeLsum(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    use_stemmer: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """``rouge(..., variant="rougeLsum")``: summary-level LCS F-measure over the texts' lines.

    >>> import rescore
    >>> rescore.rougeLsum(["c d\\na b"], ["a b\\nc d"]).to_pylist()
    [1.0]
    """
    return rouge(
        predictions,
        references,
        variant="rougeLsum",
        use_stemmer=use_stemmer,
        workers=workers,
        on_error=on_error,
    )


register(
    Metric(
        name="rouge",
        higher_is_better=True,
        inputs="text",
        continuous=True,
        definition="rouge-score's F-measure of the chosen variant, best reference",
        range=(0.0, 1.0),
        function=rouge,
        options=options_from_signature(
            rouge,
            {
                "variant": "rouge1, rouge2 (n-grams), rougeL (LCS), rougeLsum (LCS over lines)",
                "use_stemmer": USE_STEMMER_DOC,
            },
        ),
        output_type=lambda _options: pa.float64(),
    )
)

for _name, _function, _definition in [
    ("rouge1", rouge1, "rouge-score's ROUGE-1 F-measure (unigrams), best reference"),
    ("rouge2", rouge2, "rouge-score's ROUGE-2 F-measure (bigrams), best reference"),
    (
        "rougeL",
        rougeL,
        "rouge-score's ROUGE-L F-measure (longest common subsequence), best reference",
    ),
    ("rougeLsum", rougeLsum, "rouge-score's ROUGE-Lsum F-measure (LCS over lines), best reference"),
]:
    register(
        Metric(
            name=_name,
            higher_is_better=True,
            inputs="text",
            continuous=True,
            definition=_definition,
            range=(0.0, 1.0),
            function=_function,
            options=options_from_signature(_function, {"use_stemmer": USE_STEMMER_DOC}),
            output_type=lambda _options: pa.float64(),
        )
    )

__all__ = ["rouge", "rouge1", "rouge2", "rougeL", "rougeLsum"]

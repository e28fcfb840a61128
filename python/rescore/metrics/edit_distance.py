"""Levenshtein distances: over token ids or tokenised text, and over characters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pyarrow as pa

from rescore import _rescore
from rescore._arrow import as_arrow, wrap_result
from rescore._typing import ColumnLike, metric_function
from rescore.metrics.conventions import Normalize, OnError, call_kernel
from rescore.registry import Metric, options_from_signature, register


@metric_function
def token_edit_distance(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    normalize: Normalize = None,
    tokenizer: Literal["whitespace", "characters"] = "whitespace",
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """Levenshtein distance (unit costs) between token sequences, per row.

    Parameters
    ----------
    predictions
        Token-id lists (``list<int>`` of any integer width and list layout), or strings, which
        are split by ``tokenizer``.
    references
        The same kind as ``predictions``, or a list of acceptable references per row
        (``list<list<int>>`` / ``list<string>``): the best (smallest) distance is kept.
    normalize
        ``None``: the raw edit count (``uint32``). ``"max"``: divided by the longer length, as
        rapidfuzz's normalized distance (in [0, 1]; two empty sequences give 0).
        ``"reference"``: divided by the reference length, the WER/CER convention (unbounded
        above); an empty reference counts as length 1, so it gives the prediction's length.
    tokenizer
        For string columns: ``"whitespace"`` splits on Unicode whitespace (words, as WER counts
        them); ``"characters"`` uses Unicode scalar values (as CER counts them).
    workers, on_error
        See the module documentation.

    Examples
    --------
    >>> import rescore
    >>> rescore.token_edit_distance([[1, 2, 3], [7, 8]], [[1, 3], [7, 8]]).to_pylist()
    [1, 0]
    >>> rescore.token_edit_distance(["the cat sat"], ["the dog sat down"],
    ...                             normalize="reference").to_pylist()
    [0.5]
    >>> rescore.token_edit_distance([[5, 6]], [[[9], [5, 6, 7]]]).to_pylist()  # two references
    [1]
    """
    out = call_kernel(
        _rescore.token_edit_distance,
        as_arrow(predictions, "predictions"),
        as_arrow(references, "references"),
        normalize=normalize,
        tokenizer=tokenizer,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "token_edit_distance", predictions, references)


@metric_function
def char_edit_distance(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    normalize: Normalize = None,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """Levenshtein distance between strings over Unicode scalar values (characters), per row.

    Same as :func:`token_edit_distance` with ``tokenizer="characters"``, for string columns only;
    ``references`` may hold a list of strings per row. ``normalize="reference"`` gives the CER.

    Examples
    --------
    >>> import rescore
    >>> rescore.char_edit_distance(["kitten", "naïve"], ["sitting", "naive"]).to_pylist()
    [3, 1]
    >>> rescore.char_edit_distance(["abc"], ["abcd"], normalize="max").to_pylist()
    [0.25]
    """
    out = call_kernel(
        _rescore.char_edit_distance,
        as_arrow(predictions, "predictions"),
        as_arrow(references, "references"),
        normalize=normalize,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "char_edit_distance", predictions, references)


def _distance_type(options: Mapping[str, Any]) -> pa.DataType:
    return pa.uint32() if options["normalize"] is None else pa.float64()


_NORMALIZE_DOC = "none: the edit count; max: / longer length; reference: / reference length (WER)"

register(
    Metric(
        name="token_edit_distance",
        default=True,
        higher_is_better=False,
        inputs="sequences",
        continuous=True,
        definition="Levenshtein distance over token ids (or words / characters of text)",
        range=(0.0, None),
        function=token_edit_distance,
        options=options_from_signature(
            token_edit_distance,
            {
                "normalize": _NORMALIZE_DOC,
                "tokenizer": "text split into words (whitespace) or characters",
            },
        ),
        output_type=_distance_type,
        tokenizes=True,
    )
)
register(
    Metric(
        name="char_edit_distance",
        default=True,
        higher_is_better=False,
        inputs="text",
        continuous=True,
        definition="Levenshtein distance over Unicode characters",
        range=(0.0, None),
        function=char_edit_distance,
        options=options_from_signature(char_edit_distance, {"normalize": _NORMALIZE_DOC}),
        output_type=_distance_type,
    )
)

__all__ = ["char_edit_distance", "token_edit_distance"]

"""Exact match, with lm-eval-harness's normalisations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pyarrow as pa

from rescore import _rescore
from rescore._arrow import as_arrow, wrap_result
from rescore._typing import ColumnLike, metric_function
from rescore.metrics.conventions import OnError, call_kernel
from rescore.registry import Metric, options_from_signature, register


@metric_function
def exact_match(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    strip: bool = False,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    regexes_to_ignore: Sequence[str] = (),
    punctuation: Literal["ascii", "unicode"] = "ascii",
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """Whether the prediction equals a reference, per row (boolean).

    Normalisations apply to both sides in lm-eval-harness / HF ``evaluate`` order: each regex in
    ``regexes_to_ignore`` is deleted, then text is lower-cased (``ignore_case``), then
    punctuation deleted, then ASCII digits deleted; ``strip`` trims whitespace last. Like
    lm-eval, there is no implicit strip.

    Parameters
    ----------
    predictions, references
        Strings (``references`` may hold a list of acceptable strings per row: true if any
        matches). Token-id lists are compared element by element, without normalisation.
    punctuation
        What ``ignore_punctuation`` deletes: ``"ascii"`` is Python's ``string.punctuation``
        (lm-eval, HF evaluate); ``"unicode"`` every character of the Unicode categories P*
        and S*, a superset for non-English text.
    regexes_to_ignore
        Rust ``regex`` syntax: Python's ``re`` less look-around and back-references. An invalid
        pattern raises :class:`~rescore.exceptions.InvalidOptionError` naming it.

    Examples
    --------
    >>> import rescore
    >>> rescore.exact_match(["Paris.", "paris"], ["paris", "Rome"], ignore_case=True,
    ...                     ignore_punctuation=True).to_pylist()
    [True, False]
    >>> rescore.exact_match(["4"], [["four", "4"]]).to_pylist()
    [True]
    """
    out = call_kernel(
        _rescore.exact_match,
        as_arrow(predictions, "predictions"),
        as_arrow(references, "references"),
        strip=strip,
        ignore_case=ignore_case,
        ignore_punctuation=ignore_punctuation,
        ignore_numbers=ignore_numbers,
        regexes_to_ignore=_patterns(regexes_to_ignore),
        punctuation=punctuation,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "exact_match", predictions, references)


def _check_regexes(options: Mapping[str, Any]) -> None:
    """Invalid patterns fail here, before any data is read (the kernel compiles them)."""
    patterns = options.get("regexes_to_ignore")
    if patterns:
        empty = pa.array([], pa.string())
        call_kernel(_rescore.exact_match, empty, empty, regexes_to_ignore=_patterns(patterns))


def _patterns(regexes: Any) -> list[Any]:
    """A single pattern given as a string is one pattern, not a list of characters."""
    return [regexes] if isinstance(regexes, str) else list(regexes)


register(
    Metric(
        name="exact_match",
        default=True,
        higher_is_better=True,
        inputs="sequences",
        continuous=False,
        definition="1 if the (normalised) prediction equals a reference, else 0",
        range=(0.0, 1.0),
        function=exact_match,
        options=options_from_signature(
            exact_match,
            {
                "strip": "trim whitespace (last)",
                "ignore_case": "lower-case both sides",
                "ignore_punctuation": "delete punctuation (see punctuation)",
                "ignore_numbers": "delete ASCII digits",
                "regexes_to_ignore": "delete matches of these regexes first (JSON list)",
                "punctuation": "what ignore_punctuation deletes: ascii or unicode P*/S*",
            },
        ),
        output_type=lambda _options: pa.bool_(),
        validate=_check_regexes,
    )
)

__all__ = ["exact_match"]

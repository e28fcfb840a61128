"""Perplexities of documents from their rolling log-likelihoods, as lm-eval defines them.

lm-eval's ``loglikelihood_rolling`` tasks (wikitext and the like) log one log-likelihood per
document; its metrics weigh documents by their length over the corpus:

- ``word_perplexity = exp(-sum(loglikelihood) / sum(words))``
- ``byte_perplexity = exp(-sum(loglikelihood) / sum(bytes))``
- ``bits_per_byte = -sum(loglikelihood) / sum(bytes) / ln 2``

with ``words = len(re.split(r"\\s+", document))`` and ``bytes = len(document.encode("utf-8"))``
(lm-eval's ``count_words`` and ``count_bytes``). Per row, each function gives the document's own
value (the formula over that one document); a group of rows (a model on a task) aggregates
from the per-row statistics (log-likelihood, count), so the batch summary and
``rescore emergence`` give the corpus value lm-eval reports, not a mean of per-document values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rescore import _rescore
from rescore._arrow import as_arrow, wrap_result
from rescore._typing import ColumnLike, metric_function
from rescore.metrics.conventions import OnError, call_kernel
from rescore.registry import Metric, options_from_signature, register, statistics_aggregation

Unit = Literal["words", "bytes"]


def _statistics(
    loglikelihoods: ColumnLike,
    documents: ColumnLike,
    unit: Unit,
    workers: int,
    on_error: OnError,
) -> pa.StructArray:
    """Per row: the log-likelihood and the document's length in ``unit`` (null together)."""
    out = call_kernel(
        _rescore.rolling_statistics,
        as_arrow(loglikelihoods, "loglikelihoods"),
        as_arrow(documents, "documents"),
        unit=unit,
        workers=workers,
        on_error=on_error,
    )
    array = pa.Array._import_from_c_capsule(*out.__arrow_c_array__())
    assert isinstance(array, pa.StructArray)  # the kernel's output type
    return array


def _per_row(stats: pa.StructArray, value: Callable[[pa.Array, pa.Array], pa.Array]) -> pa.Array:
    ll = stats.field("loglikelihood")
    count = stats.field("count")
    return value(ll, count)


def _perplexity(ll: pa.Array, count: pa.Array) -> pa.Array:
    return pc.exp(pc.negate(pc.divide(ll, count)))


def _bits(ll: pa.Array, count: pa.Array) -> pa.Array:
    return pc.divide(pc.negate(pc.divide(ll, count)), math.log(2))


@metric_function
def word_perplexity(
    loglikelihoods: ColumnLike,
    documents: ColumnLike,
    *,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """A document's perplexity per word, ``exp(-loglikelihood / words)`` (lower is better).

    ``words`` is lm-eval's ``count_words``: ``len(re.split(r"\\s+", document))``. A group of
    rows aggregates as lm-eval's ``weighted_perplexity``: ``exp(-sum loglikelihood / sum
    words)`` (see :mod:`rescore.metrics.perplexity`).

    Parameters
    ----------
    loglikelihoods
        The rolling log-likelihood of each document (float), as lm-eval logs it; ``-inf``
        gives an infinite perplexity, NaN or a positive value is an error naming the row.
    documents
        The text the log-likelihood was computed on (an empty one is an error).

    Examples
    --------
    >>> import rescore
    >>> rescore.word_perplexity([-6.0], ["two words"]).to_pylist()  # exp(6 / 2)
    [20.085536923187668]
    """
    stats = _statistics(loglikelihoods, documents, "words", workers, on_error)
    return wrap_result(_per_row(stats, _perplexity), "word_perplexity", loglikelihoods, documents)


@metric_function
def byte_perplexity(
    loglikelihoods: ColumnLike,
    documents: ColumnLike,
    *,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """A document's perplexity per UTF-8 byte, ``exp(-loglikelihood / bytes)`` (lower is
    better); a group aggregates as ``exp(-sum loglikelihood / sum bytes)``.

    Inputs as :func:`word_perplexity`.

    Examples
    --------
    >>> import rescore
    >>> rescore.byte_perplexity([-4.0], ["abcd"]).to_pylist()  # exp(4 / 4)
    [2.718281828459045]
    """
    stats = _statistics(loglikelihoods, documents, "bytes", workers, on_error)
    return wrap_result(_per_row(stats, _perplexity), "byte_perplexity", loglikelihoods, documents)


@metric_function
def bits_per_byte(
    loglikelihoods: ColumnLike,
    documents: ColumnLike,
    *,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """A document's bits per UTF-8 byte, ``-loglikelihood / bytes / ln 2`` (lower is better);
    a group aggregates as ``-sum loglikelihood / sum bytes / ln 2``.

    Inputs as :func:`word_perplexity`.

    Examples
    --------
    >>> import math, rescore
    >>> rescore.bits_per_byte([-4 * math.log(2)], ["abcd"]).to_pylist()
    [1.0]
    """
    stats = _statistics(loglikelihoods, documents, "bytes", workers, on_error)
    return wrap_result(_per_row(stats, _bits), "bits_per_byte", loglikelihoods, documents)


class RollingStatistics:
    """The per-row statistics of a perplexity: its log-likelihood and its length in ``unit``,
    as a struct with the Float64 fields ``loglikelihood`` and ``words`` (or ``bytes``); called
    like the metric's function. Picklable (a batch job ships it to Ray workers)."""

    def __init__(self, unit: Unit) -> None:
        self.unit: Unit = unit

    def __call__(
        self,
        loglikelihoods: ColumnLike,
        documents: ColumnLike,
        *,
        workers: int = -1,
        on_error: OnError = "raise",
    ) -> pa.StructArray:
        stats = _statistics(loglikelihoods, documents, self.unit, workers, on_error)
        fields = [pa.field("loglikelihood", pa.float64()), pa.field(self.unit, pa.float64())]
        return pa.StructArray.from_arrays(
            [stats.field("loglikelihood"), stats.field("count")],
            fields=fields,
            mask=stats.is_null(),
        )


class CorpusCombine:
    """lm-eval's corpus aggregation from summed statistics: ``exp(-Σ ll / Σ count)`` (a
    perplexity) or ``-Σ ll / Σ count / ln 2`` (bits per byte)."""

    def __init__(self, unit: Unit, bits: bool = False) -> None:
        self.unit: Unit = unit
        self.bits = bits

    def __call__(self, sums: Mapping[str, np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
        ll = np.asarray(sums["loglikelihood"], dtype=np.float64)
        count = np.asarray(sums[self.unit], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            per_unit = -ll / count
            out = per_unit / math.log(2) if self.bits else np.exp(per_unit)
        return np.where(count > 0, out, np.nan)


_METRICS: tuple[tuple[str, Any, Unit, bool, str], ...] = (
    (
        "word_perplexity",
        word_perplexity,
        "words",
        False,
        "exp(-loglikelihood / words) per document; exp(-Σ loglikelihood / Σ words) per group",
    ),
    (
        "byte_perplexity",
        byte_perplexity,
        "bytes",
        False,
        "exp(-loglikelihood / bytes) per document; exp(-Σ loglikelihood / Σ bytes) per group",
    ),
    (
        "bits_per_byte",
        bits_per_byte,
        "bytes",
        True,
        "-loglikelihood / bytes / ln 2 per document; -Σ loglikelihood / Σ bytes / ln 2 per group",
    ),
)

for _name, _function, _unit, _bits_out, _definition in _METRICS:
    register(
        Metric(
            name=_name,
            higher_is_better=False,
            inputs="rolling",
            continuous=True,
            definition=_definition,
            range=(0.0, None) if _bits_out else (1.0, None),
            function=_function,
            options=options_from_signature(_function, {}),
            aggregation=statistics_aggregation(
                "bits_per_byte" if _bits_out else "weighted_perplexity",
                f"lm-eval's corpus value from summed (loglikelihood, {_unit})",
                fields=("loglikelihood", _unit),
                statistics=RollingStatistics(_unit),
                combine=CorpusCombine(_unit, bits=_bits_out),
            ),
        )
    )

__all__ = [
    "CorpusCombine",
    "RollingStatistics",
    "bits_per_byte",
    "byte_perplexity",
    "word_perplexity",
]

"""How a group of rows (one model on one task) aggregates a metric's per-row values.

Most metrics aggregate by the mean of their per-row values (:data:`MEAN`). Some do not: corpus
BLEU is not the mean of sentence BLEU, a perplexity is weighted by the words of each document,
an expected calibration error bins a whole group. Those metrics carry a
:class:`StatisticsAggregation`: per row they also compute *statistics* (n-gram matches and
totals, log-likelihood and word count, ...), written by the batch job as a struct column
``<metric>_stats`` beside the per-row value, and a group's score is ``combine`` of them. The
batch summary and ``rescore emergence`` (whose bootstrap resamples rows and recomputes
``combine``) both go through :meth:`Aggregation.partials` and :meth:`Aggregation.finish`, so
they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

FloatArray = npt.NDArray[np.float64]

STATS_SUFFIX = "_stats"
"""A metric's statistics column is its name followed by this suffix."""

_SEP = "\x1f"  # partial aggregate columns: "<metric>\x1f<field>", never a user column name


def stats_column(metric: str) -> str:
    """The name of ``metric``'s statistics column (``bleu`` -> ``bleu_stats``)."""
    return metric + STATS_SUFFIX


@dataclass(frozen=True)
class Aggregation:
    """One way of reducing a group's per-row values to one number: the mean of a column."""

    name: str
    doc: str
    reduce: Callable[[pl.Expr], pl.Expr]
    """Per-row values of the group (the metric's column) to one ``Float64`` value."""

    def expr(self, column: str) -> pl.Expr:
        """The aggregate of ``column`` per group, named after the column."""
        return self.reduce(pl.col(column)).alias(column)

    def partials(self, column: str) -> list[pl.Expr]:
        """Per-group expressions (for ``group_by().agg``) that :meth:`finish` turns into the
        aggregate; they read ``column`` (and, for statistics, its ``_stats`` column)."""
        return [self.expr(column)]

    def finish(self, frame: pl.DataFrame, column: str) -> pl.Series:
        """The aggregate per row of ``frame``, the result of :meth:`partials` per group."""
        return frame[column].cast(pl.Float64)

    def partial_columns(self, column: str) -> list[str]:
        """The columns :meth:`partials` adds."""
        return [column]


@dataclass(frozen=True)
class StatisticsAggregation(Aggregation):
    """A group's score computed from per-row statistics, not from the per-row values."""

    fields: tuple[str, ...]
    """Names of the per-row statistics (``Float64`` fields of the ``<metric>_stats`` column)."""
    statistics: Callable[..., Any]
    """Called like the metric's function (same inputs, same keyword options, ``workers`` and
    ``on_error``): a struct array with :attr:`fields`, one row per input row, null where the
    metric's value is null."""
    combine: Callable[[Mapping[str, FloatArray]], FloatArray]
    """``additive``: field -> the field summed over each group, shape ``(m,)`` for ``m``
    groups (or bootstrap draws), to the ``m`` scores. Otherwise: field -> the per-row values
    of one group, shape ``(n,)``, to its score, shape ``(1,)``."""
    additive: bool = True
    """Whether a group's statistics are the sums of its rows' (then a bootstrap draw is a sum
    of resampled rows, and large groups need no per-row values in memory)."""

    def expr(self, column: str) -> pl.Expr:  # pragma: no cover - summaries use partials
        msg = f"{self.name} aggregates from statistics: use partials() and finish()"
        raise TypeError(msg)

    def partials(self, column: str) -> list[pl.Expr]:
        stats = pl.col(stats_column(column))
        present = stats.is_not_null()
        out = []
        for f in self.fields:
            value = stats.struct.field(f).cast(pl.Float64)
            if self.additive:
                out.append(value.filter(present).sum().alias(f"{column}{_SEP}{f}"))
            else:  # the group's rows, as a list: quantile bins need them all
                out.append(value.filter(present).alias(f"{column}{_SEP}{f}"))
        out.append(present.sum().alias(f"{column}{_SEP}"))
        return out

    def partial_columns(self, column: str) -> list[str]:
        return [f"{column}{_SEP}{f}" for f in (*self.fields, "")]

    def finish(self, frame: pl.DataFrame, column: str) -> pl.Series:
        rows = frame[f"{column}{_SEP}"].to_numpy()
        if self.additive:
            sums = {f: frame[f"{column}{_SEP}{f}"].cast(pl.Float64).to_numpy() for f in self.fields}
            scores = np.asarray(self.combine(sums), dtype=np.float64) if len(rows) else rows
        else:
            scores = np.array(
                [
                    self.combine(
                        {
                            f: np.asarray(frame[f"{column}{_SEP}{f}"][i].to_numpy(), np.float64)
                            for f in self.fields
                        }
                    )[0]
                    if rows[i]
                    else np.nan
                    for i in range(frame.height)
                ],
                dtype=np.float64,
            )
        # a group without a scored row has no score (not NaN, not 0)
        scores = np.where(rows > 0, scores, np.nan)
        return pl.Series(column, scores, dtype=pl.Float64).fill_nan(None)


def statistics_aggregation(
    name: str,
    doc: str,
    *,
    fields: tuple[str, ...],
    statistics: Callable[..., Any],
    combine: Callable[[Mapping[str, FloatArray]], FloatArray],
    additive: bool = True,
) -> StatisticsAggregation:
    """A :class:`StatisticsAggregation` (its ``reduce`` is unused: groups go through
    :meth:`~StatisticsAggregation.partials` and :meth:`~StatisticsAggregation.finish`)."""
    if not fields:
        msg = f"aggregation {name!r} needs at least one statistics field"
        raise ValueError(msg)
    return StatisticsAggregation(
        name=name,
        doc=doc,
        reduce=lambda values: values,
        fields=tuple(fields),
        statistics=statistics,
        combine=combine,
        additive=additive,
    )


MEAN = Aggregation(
    "mean",
    "mean of the per-row values, nulls left out",
    lambda values: values.cast(pl.Float64).mean(),
)

__all__ = [
    "MEAN",
    "STATS_SUFFIX",
    "Aggregation",
    "StatisticsAggregation",
    "statistics_aggregation",
    "stats_column",
]

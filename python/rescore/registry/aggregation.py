"""How a group of rows (one model on one task) aggregates a metric's per-row values.

An aggregation is a Polars expression over the metric's output column, so the batch job's
summary and the emergence analysis compute it the same way, lazily, per group. The mean is
today's only one; corpus-level metrics (BLEU, chrF) write per-row sufficient statistics (a
struct column) and reduce them with their own expression (sum the statistics, then combine).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Aggregation:
    """One way of reducing a group's per-row values to one number."""

    name: str
    doc: str
    reduce: Callable[[pl.Expr], pl.Expr]
    """Per-row values of the group (the metric's column) to one ``Float64`` value."""

    def expr(self, column: str) -> pl.Expr:
        """The aggregate of ``column`` per group, named after the column."""
        return self.reduce(pl.col(column)).alias(column)


MEAN = Aggregation(
    "mean",
    "mean of the per-row values, nulls left out",
    lambda values: values.cast(pl.Float64).mean(),
)

__all__ = ["MEAN", "Aggregation"]

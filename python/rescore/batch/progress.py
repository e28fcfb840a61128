"""Progress bar (only on a terminal) and the end-of-job summary table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from rescore.registry import Aggregation


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


class RowProgress:
    """A rows-done progress bar on stderr; does nothing unless ``enabled`` and on a terminal."""

    def __init__(self, total: int | None, *, enabled: bool, done: int = 0) -> None:
        console = Console(stderr=True)
        self._progress: Progress | None = None
        if enabled and console.is_terminal:
            self._progress = Progress(
                TextColumn("[bold]scoring"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rows"),
                _RowsPerSecond(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )
            self._task = self._progress.add_task("scoring", total=total, completed=done)

    def __enter__(self) -> RowProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, rows: int) -> None:
        """Count ``rows`` more rows done."""
        if self._progress is not None:
            self._progress.advance(self._task, rows)


def summarise(
    out: Path,
    aggregations: Mapping[str, Aggregation],
    error_groups: Mapping[tuple[str | None, str | None], int],
) -> pl.DataFrame:
    """Rows, unscorable rows and each metric's aggregate (its entry's: the mean for most) per
    model and task of an output."""
    metrics = list(aggregations)
    parts = sorted(out.glob("part-*.parquet"))
    keys = ["model", "task"]
    if parts:
        scores = pl.scan_parquet(parts)
        means = [agg.expr(m) for m, agg in aggregations.items()]
        grouped = scores.group_by(keys).agg(pl.len().alias("rows"), *means)
        frame = grouped.collect(engine="streaming")  # bounded memory on any output size
    else:
        schema: dict[str, Any] = {"model": pl.String, "task": pl.String, "rows": pl.UInt32}
        schema.update({m: pl.Float64 for m in metrics})
        frame = pl.DataFrame(schema=schema)
    errs = pl.DataFrame(
        {
            "model": [k[0] for k in error_groups],
            "task": [k[1] for k in error_groups],
            "errors": list(error_groups.values()),
        },
        schema={"model": pl.String, "task": pl.String, "errors": pl.Int64},
    )
    frame = frame.with_columns(pl.col("model").cast(pl.String), pl.col("task").cast(pl.String))
    joined = frame.join(errs, on=keys, how="full", coalesce=True, nulls_equal=True)
    joined = joined.with_columns(
        pl.col("rows").fill_null(0).cast(pl.Int64), pl.col("errors").fill_null(0)
    )
    return joined.select([*keys, "rows", "errors", *metrics]).sort(keys, nulls_last=True)


def print_summary(
    summary: pl.DataFrame, errors: Mapping[str, int], console: Console | None = None
) -> None:
    """Print the summary as a table, then the unscorable rows per metric."""
    console = console or Console()
    table = Table(title="rescore score: mean per model and task", title_justify="left")
    for col in summary.columns:
        numeric = col not in ("model", "task")
        table.add_column(col, justify="right" if numeric else "left")
    for row in summary.iter_rows():
        cells = []
        for value in row:
            if value is None:
                cells.append("-")
            elif isinstance(value, float):
                cells.append(f"{value:.4f}")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    console.print(table)
    if any(errors.values()):
        parts = ", ".join(f"{m}: {n}" for m, n in errors.items() if n)
        console.print(f"unscorable rows per metric: {parts}")


__all__ = ["RowProgress", "print_summary", "summarise"]

"""Units of work: what a job reads and scores, plain data whichever engine runs it.

An :class:`InputPlan` is one input file with its column types; a :class:`UnitJob` reads a
file's units and scores one (both engines call the same two methods); :func:`run_local` is the
local engine. The Ray engine (:mod:`rescore.batch.ray_engine`) imports these from here, and
:func:`rescore.batch.job.score` builds them: no module imports the one above it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from rescore.batch.progress import RowProgress
from rescore.batch.readers import InputFile, iter_units
from rescore.batch.score_table import score_table_with_errors
from rescore.batch.spec import ScoreSpec
from rescore.batch.writer import OutputDir
from rescore.exceptions import PluginError, UnscorableRowError


def _with_model_task(table: pa.Table, model: str | None, task: str | None) -> pa.Table:
    n = table.num_rows
    for name, value in (("model", model), ("task", task)):
        if name not in table.column_names:
            table = table.append_column(name, pa.repeat(pa.scalar(value, pa.string()), n))
        elif value is not None:
            i = table.column_names.index(name)
            col = table.column(i).cast(pa.string())
            table = table.set_column(i, name, pc.coalesce(col, pa.scalar(value, pa.string())))
    return table


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    arrays = [table.column(f.name).cast(f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _error_groups(table: pa.Table, mask: Any) -> list[list[Any]]:
    if not mask.any():
        return []
    bad = table.select(["model", "task"]).filter(pa.array(mask))
    counts = Counter(
        zip(bad.column("model").to_pylist(), bad.column("task").to_pylist(), strict=True)
    )
    return [[m, t, n] for (m, t), n in sorted(counts.items(), key=str)]


def _locate(table: pa.Table, row: int) -> str:
    parts = []
    for key in ("doc_id", "filter"):
        if key in table.column_names:
            parts.append(f"{key} {table.column(key)[row].as_py()!r}")
    return f" ({', '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class InputPlan:
    """One input file of a job: where it is, how to type its columns, its parts' metadata."""

    index: int
    file: InputFile
    types: Mapping[str, pa.DataType]
    part_meta: Mapping[str, Any]


@dataclass(frozen=True)
class UnitJob:
    """How a job reads and scores one unit, whatever the engine runs it.

    Plain data, so the Ray engine ships it to its workers: both engines read units with
    :meth:`units` and score them with :meth:`score`, one code path.
    """

    spec: ScoreSpec
    out_schema: pa.Schema
    batch_size: int
    columns: tuple[str, ...]
    keep: tuple[str, ...]
    list_errors: Mapping[str, str]
    model: str | None
    task: str | None

    def units(self, plan: InputPlan, first_unit: int = 0) -> Iterator[tuple[int, pa.Table]]:
        """``(unit index, table)`` for the units of ``plan``'s file from ``first_unit`` on."""
        return iter_units(
            plan.file,
            self.columns,
            plan.types,
            self.batch_size,
            first_unit=first_unit,
            keep=self.keep,
            list_errors=self.list_errors,
        )

    def score(self, table: pa.Table, path: str, first_row: int) -> tuple[pa.Table, dict[str, Any]]:
        """Score rows ``first_row, first_row + 1, ...`` of input ``path``.

        Returns the part's table (the output schema) and its manifest record. An unscorable row
        with ``on_error="raise"`` raises :class:`UnscorableRowError` naming file and row.
        """
        table = _with_model_task(table, self.model, self.task)
        try:
            scored = score_table_with_errors(table, self.spec)
        except PluginError as e:  # a plugin's bug (wrong length or type): say where it happened
            msg = f"{path}: rows {first_row}-{first_row + table.num_rows - 1}: {e}"
            raise PluginError(msg) from None
        except UnscorableRowError as e:
            row = first_row + e.row
            where = _locate(table, e.row)
            detail = str(e).split(": ", 1)[1]
            msg = f"{path}: row {row}{where}: {detail}"
            raise UnscorableRowError(msg, row=row, metric=e.metric) from None
        record = {
            "rows_in": table.num_rows,
            "rows_out": scored.table.num_rows,
            "errors": dict(scored.errors),
            "error_rows": int(scored.error_rows.sum()),
            "error_groups": _error_groups(table, scored.error_rows),
            "source": {"path": path, "first_row": first_row},
        }
        return _conform(scored.table, self.out_schema), record


def run_local(
    plans: Sequence[InputPlan], unit_job: UnitJob, out_dir: OutputDir, bar: RowProgress
) -> None:
    """The local engine: every unit not yet written, in order, in this process."""
    for plan in plans:
        fi, f = plan.index, plan.file
        if out_dir.file_complete(fi):
            continue
        done = out_dir.done_units(fi)
        first_unit = next(k for k in range(len(done) + 1) if k not in done)
        last = first_unit - 1
        for k, table in unit_job.units(plan, first_unit):
            last = k
            if k in done:
                continue
            out_table, record = unit_job.score(table, str(f.path), k * unit_job.batch_size)
            out_dir.write_part(fi, k, out_table, record, plan.part_meta)
            bar.advance(table.num_rows)
        units_total = max(last + 1, max(done, default=-1) + 1)
        out_dir.finish_file(fi, units_total, out_dir.file_rows_done(fi))


__all__ = ["InputPlan", "UnitJob", "run_local"]

"""Units of work: what a job reads and scores, plain data whichever engine runs it.

An :class:`InputPlan` is one input file with its column types; a :class:`UnitJob` reads a
file's units and scores one (both engines call the same two methods); :func:`run_local` is the
local engine. The Ray engine (:mod:`rescore.batch.ray_engine`) imports these from here, and
:func:`rescore.batch.job.score` builds them: no module imports the one above it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
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
from rescore.batch.stages import PoolMeter, StageClock
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
    for key in ("doc_id", "filter", "example_id", "sample"):
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


@dataclass(frozen=True)
class _Unit:
    """A unit read, to score."""

    plan: InputPlan
    index: int
    table: pa.Table


@dataclass(frozen=True)
class _Part:
    """A unit scored, to write."""

    plan: InputPlan
    index: int
    table: pa.Table
    record: dict[str, Any]
    rows: int


@dataclass(frozen=True)
class _FileEnd:
    """Every unit of a file has been read: ``units_total`` units in all."""

    plan: InputPlan
    units_total: int


@dataclass(frozen=True)
class _Failed:
    """The reader stopped on this error (after handing on every unit before it)."""

    error: BaseException


_END = None  # no more messages


def _read(
    todo: Sequence[tuple[InputPlan, set[int]]], unit_job: UnitJob, clock: StageClock
) -> Iterator[_Unit | _FileEnd]:
    """Every unit not yet written, in order, each file followed by its :class:`_FileEnd`."""
    for plan, done in todo:
        first_unit = next(k for k in range(len(done) + 1) if k not in done)
        last = first_unit - 1
        units = unit_job.units(plan, first_unit)
        while True:
            with clock.stage("read"):
                item = next(units, None)
            if item is None:
                break
            k, table = item
            last = k
            if k not in done:
                yield _Unit(plan, k, table)
        yield _FileEnd(plan, max(last + 1, max(done, default=-1) + 1))


def _score(unit_job: UnitJob, unit: _Unit, clock: StageClock) -> _Part:
    with clock.stage("score"):
        first_row = unit.index * unit_job.batch_size
        table, record = unit_job.score(unit.table, str(unit.plan.file.path), first_row)
        return _Part(unit.plan, unit.index, table, record, unit.table.num_rows)


def _write(out_dir: OutputDir, bar: RowProgress, item: _Part | _FileEnd, clock: StageClock) -> None:
    with clock.stage("write"):
        fi = item.plan.index
        if isinstance(item, _FileEnd):
            out_dir.finish_file(fi, item.units_total, out_dir.file_rows_done(fi))
            return
        out_dir.write_part(fi, item.index, item.table, item.record, item.plan.part_meta)
    bar.advance(item.rows)


class _Writer(threading.Thread):
    """Writes parts and file ends in the order they come; after an error it writes nothing
    more but keeps taking messages, so the scorer never blocks on it."""

    def __init__(
        self, out_dir: OutputDir, bar: RowProgress, clock: StageClock, in_flight: int
    ) -> None:
        super().__init__(name="rescore-writer", daemon=True)
        self.inbox: queue.Queue[_Part | _FileEnd | None] = queue.Queue(maxsize=in_flight)
        self.error: BaseException | None = None
        self._out_dir, self._bar, self._clock = out_dir, bar, clock

    def run(self) -> None:
        while (item := self.inbox.get()) is not _END:
            if self.error is None:
                try:
                    _write(self._out_dir, self._bar, item, self._clock)
                except BaseException as e:  # handed to the scorer thread, which raises it
                    self.error = e


class _Reader(threading.Thread):
    """Reads units ahead of the scorer, at most ``in_flight`` waiting; ends with ``_END`` or a
    :class:`_Failed`."""

    def __init__(
        self,
        todo: Sequence[tuple[InputPlan, set[int]]],
        unit_job: UnitJob,
        clock: StageClock,
        in_flight: int,
    ) -> None:
        super().__init__(name="rescore-reader", daemon=True)
        self.outbox: queue.Queue[_Unit | _FileEnd | _Failed | None] = queue.Queue(maxsize=in_flight)
        self.stop = threading.Event()
        self._todo, self._unit_job, self._clock = todo, unit_job, clock

    def _put(self, item: _Unit | _FileEnd | _Failed | None) -> bool:
        while not self.stop.is_set():
            try:
                self.outbox.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            for item in _read(self._todo, self._unit_job, self._clock):
                if not self._put(item):
                    return
        except BaseException as e:  # handed to the scorer thread, in order, which raises it
            self._put(_Failed(e))
            return
        self._put(_END)

    def close(self) -> None:
        """Stop reading and wait for the thread (unblocking a pending hand-over)."""
        self.stop.set()
        while self.is_alive():
            with contextlib.suppress(queue.Empty):
                self.outbox.get(timeout=0.05)
        self.join()


def _run_pipelined(
    todo: Sequence[tuple[InputPlan, set[int]]],
    unit_job: UnitJob,
    out_dir: OutputDir,
    bar: RowProgress,
    clock: StageClock,
    in_flight: int,
    meter: PoolMeter,
) -> None:
    reader = _Reader(todo, unit_job, clock, in_flight)
    writer = _Writer(out_dir, bar, clock, in_flight)
    reader.start()
    writer.start()
    meter.exclude(threading.get_native_id())
    for t in (reader, writer):
        if t.native_id is not None:
            meter.exclude(t.native_id)
    try:
        while (item := reader.outbox.get()) is not _END and writer.error is None:
            if isinstance(item, _Failed):
                raise item.error
            writer.inbox.put(_score(unit_job, item, clock) if isinstance(item, _Unit) else item)
    finally:
        # Units scored before a failure are written first, as one stage after another would;
        # a write error is the earlier failure, so it is the one raised.
        writer.inbox.put(_END)
        writer.join()
        reader.close()
        if writer.error is not None:
            raise writer.error


def run_local(
    plans: Sequence[InputPlan],
    unit_job: UnitJob,
    out_dir: OutputDir,
    bar: RowProgress,
    *,
    in_flight: int = 2,
    clock: StageClock | None = None,
) -> None:
    """The local engine: every unit not yet written, in order, in this process.

    With ``in_flight`` >= 1, reading, scoring and writing run on three threads at once (Arrow
    decodes and encodes, and the kernels compute, with the GIL released): up to ``in_flight``
    units wait between reader and scorer, as many between scorer and writer, so memory is
    bounded by about ``2 * in_flight + 3`` units whatever the input size. One writer writes the
    parts in unit order, each atomically, and records it after it is in place, so the output
    and what a kill leaves behind are those of running the stages one after another, which
    ``in_flight=0`` does. Stage times go to ``clock``.
    """
    clock = clock or StageClock()
    todo = [(p, out_dir.done_units(p.index)) for p in plans if not out_dir.file_complete(p.index)]
    meter = PoolMeter()
    meter.start()
    t0 = time.perf_counter()
    try:
        _run(todo, unit_job, out_dir, bar, clock, in_flight, meter)
    finally:  # the parts written before a failure are listed, not only found, on the next run
        out_dir.save(force=True)
    meter.stop(clock, time.perf_counter() - t0)


def _run(
    todo: Sequence[tuple[InputPlan, set[int]]],
    unit_job: UnitJob,
    out_dir: OutputDir,
    bar: RowProgress,
    clock: StageClock,
    in_flight: int,
    meter: PoolMeter,
) -> None:
    if in_flight >= 1:
        _run_pipelined(todo, unit_job, out_dir, bar, clock, in_flight, meter)
    else:
        meter.exclude(threading.get_native_id())
        for item in _read(todo, unit_job, clock):
            _write(
                out_dir,
                bar,
                _score(unit_job, item, clock) if isinstance(item, _Unit) else item,
                clock,
            )


__all__ = ["InputPlan", "UnitJob", "run_local"]

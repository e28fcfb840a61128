"""The batch job on Ray Data: ``rescore score --engine ray`` and :func:`score_dataset`.

Install with ``pip install 'rescore[ray]'``. Two entry points share the local engine's code:

- :func:`score_dataset` takes any ``ray.data.Dataset`` (read from local paths or any filesystem
  pyarrow supports, with Ray Data's own readers) and returns one with the score columns added:
  each block reaches :func:`~rescore.batch.score_table.score_table` as a ``pyarrow.Table``
  (``map_batches(..., batch_format="pyarrow")``), with no pandas or Python objects between.
- :func:`run` is the engine behind ``rescore.score(..., engine="ray")``: the same settings, the
  same output directory (parts, manifest, metadata), the same rows in the same order.

How :func:`run` works. A Ray Data datasource reads the job's units (``batch_size`` consecutive
rows of one file, cut as the local engine cuts them, by the same reader) in read tasks of a few
units each, starting each task at a Parquet row group so no task decodes much twice. Every row
carries where it comes from: its input file index (``__rescore_file``), its row in that file
(``__rescore_row``) and the row count of its unit (``__rescore_unit_rows``). A ``map_batches``
task (fused with the read) cuts each batch it gets back into units by these columns, scores each
unit with :meth:`~rescore.batch.units.UnitJob.score` (the local engine's function) and writes the
unit's part itself, atomically, with the local engine's writer; it sends the driver one small
record per unit, which the driver adds to the manifest while a progress bar counts rows. Ray Data
re-blocks data as it likes (it merges small blocks and slices large ones), so a unit may reach
two tasks in pieces: a task then sends the scored piece back instead, and the driver writes the
part once it holds every piece. Either way each unit is written exactly once per attempt, under
its own name.

Row order and identity. The output's rows are the local engine's rows, in the local engine's
order: part ``part-FFFFF-UUUUUU.parquet`` holds unit ``UUUUUU`` of input file ``FFFFF`` (files
in discovery order, rows in file order), and :meth:`~rescore.batch.job.ScoreResult.read` reads
parts in name order. ``(__rescore_file, __rescore_row)`` is the sort key that decides which part
a row lands in; it is not written.

Failures. A row that cannot be scored (with ``on_error="raise"``) or a file that cannot be read
fails its task. Ray Data does not retry user errors (its tasks' ``retry_exceptions`` is
``[RaySystemError]``; ``DataContext.max_map_retries`` / ``retried_map_errors`` default to no
retry): it stops the job, and :func:`run` raises the original error, which names file and row as
the local engine's does (the job sets Ray Data's ``raise_original_map_exception``, so the error
crosses from the worker intact). A worker process that dies (killed, out of memory, node lost)
fails its task with a system error, which Ray Data retries (its tasks run with
``max_retries=-1``). The retried task reads and scores the same units again and rewrites the
same part names (a rename replaces a part whole), and the driver counts each unit once, so the
output is complete and holds no duplicate. Parts written before the driver itself is stopped
stay, and a rerun with the same arguments (on either engine) finishes the rest.

A worker that dies every time (a poison row that crashes a plugin, say) would be retried
forever, so the job bounds the attempts itself: a :class:`DeathCounter` actor counts, per step
of work (reading a unit; scoring and writing a unit or piece), the attempts that began and never
ended; once a step has killed ``1 + max_retries`` workers, its next attempt raises
:class:`~rescore.exceptions.WorkerDiedError` instead, naming the file and rows, which stops the
job as bad input does. (Ray 2.60's Data API takes a task's ``max_retries`` only through
``ray_remote_args``, deprecated and due to go in Ray 2.64, and its ``WorkerCrashedError`` does
not say which task died; the actor costs one round trip per step.)

Cluster. ``address=None`` starts a local cluster for the job (no dashboard, no usage
statistics) and stops it after, unless this process already joined one; an address (e.g.
``auto`` or ``head-ip:6379``) joins that cluster. Every node must have ``rescore`` installed
and see the input files and the output directory: at the same local paths (a shared file
system), or as URIs (``s3://``, ``gs://``, ``hf://``, ...) that the workers read and write
themselves, with credentials from each worker's environment (a local cluster's workers inherit
the driver's; on a cluster, set them on every node or in the job's ``runtime_env``).
``memory://`` lives in one process and is refused.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import io
import itertools
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rescore import _rescore
from rescore.batch.score_table import score_table
from rescore.batch.settings import DEFAULT_MAX_RETRIES
from rescore.batch.spec import ScoreSpec, with_workers
from rescore.batch.storage import AnyPath, RemotePath, arrow_source
from rescore.batch.units import InputPlan, UnitJob
from rescore.batch.writer import METADATA_KEY, OutputDir, write_part_file
from rescore.exceptions import InvalidOptionError, UnscorableRowError, WorkerDiedError

if TYPE_CHECKING:
    from rescore.batch.progress import RowProgress

FILE_COLUMN = "__rescore_file"
"""Index of a row's input file (in discovery order), carried through the Ray pipeline."""
ROW_COLUMN = "__rescore_row"
"""A row's index in its input file."""
UNIT_ROWS_COLUMN = "__rescore_unit_rows"
"""Rows in a row's unit (``batch_size``, or fewer for a file's last unit)."""
SOURCE_COLUMNS = (FILE_COLUMN, ROW_COLUMN, UNIT_ROWS_COLUMN)

TASK_UNITS = 8
"""Fewest units per read task of a Parquet file (bar short files). Each cut between two tasks
decodes up to one unit twice; at 8 units a task that is at most 1/8 more decoding, and a 10M-row
file at the default batch size is still about 19 tasks (``benches/bench_ray.py``)."""

RESULT_SCHEMA = pa.schema(
    [
        ("file", pa.int32()),
        ("unit", pa.int64()),
        ("offset", pa.int64()),
        ("unit_rows", pa.int64()),
        ("rows_in", pa.int64()),
        ("record", pa.string()),
        ("piece", pa.binary()),
    ]
)
"""What a scoring task sends the driver: one row per unit written (``piece`` null) or per piece
of a unit (``offset`` rows into it; ``piece`` the scored rows as Arrow IPC)."""


# --- the cluster --------------------------------------------------------------------------------


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as e:
        msg = f"the ray engine needs Ray Data: pip install 'rescore[ray]' ({e})"
        raise InvalidOptionError(msg) from None
    return ray


@contextmanager
def connected(address: str | None = None) -> Iterator[Any]:
    """Join a Ray cluster for the duration of a job, yielding the ``ray`` module.

    Parameters
    ----------
    address
        A cluster to join (``auto``, ``head-ip:6379``). ``None`` reuses the cluster this
        process already joined, else starts a local one (all CPUs, no dashboard, usage
        statistics off unless ``RAY_USAGE_STATS_ENABLED`` says otherwise) and stops it on exit.
    """
    ray = _import_ray()
    if ray.is_initialized():
        yield ray
        return
    if address is None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(address="local", include_dashboard=False, logging_level=logging.WARNING)
    else:
        ray.init(address=address, logging_level=logging.WARNING)
    try:
        yield ray
    finally:
        ray.shutdown()


class _QuietConsole(logging.Filter):
    """Keep Ray Data's console to warnings: the job shows its own progress bar and summary."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING and not record.getMessage().startswith(
            "Progress bars disabled"
        )


@contextmanager
def _quiet_console() -> Iterator[None]:
    logger = logging.getLogger("ray.data")  # its file log (in the Ray session) keeps everything
    handlers = [h for h in logger.handlers if type(h).__name__ == "PlainRayHandler"]
    quiet = _QuietConsole()
    for h in handlers:
        h.addFilter(quiet)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(quiet)


# Ray Data appends its retry advice to the message of a task's exception ("Failed to apply UDF
# transform after 1/1 attempts ..."); the job's errors read as the local engine's without it.
_RAY_RETRY_NOTE = re.compile(
    r"\nFailed to .* after \d+/\d+ attempts \(total backoff .*\Z", re.DOTALL
)


def unwrap_error(error: BaseException) -> BaseException | None:
    """The error a Ray error wraps, if it is a user-level one (bad input, unreadable file).

    Ray raises a task's exception wrapped (``RayTaskError``, Ray Data's ``UserCodeException``);
    this finds the :class:`ValueError`, :class:`TypeError` or :class:`OSError` inside, e.g. the
    :class:`~rescore.exceptions.UnscorableRowError` of :func:`score_dataset`, with the retry
    advice Ray Data appends to its message taken off again.
    """
    ray = _import_ray()
    stack, seen = [error], set()
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, (ValueError, TypeError, OSError)) and not isinstance(
            e, ray.exceptions.RayError
        ):
            if e.args and isinstance(e.args[0], str):
                e.args = (_RAY_RETRY_NOTE.sub("", e.args[0]), *e.args[1:])
            return e
        for nxt in (getattr(e, "cause", None), e.__cause__, e.__context__):
            if isinstance(nxt, BaseException):
                stack.append(nxt)
    return None


# --- workers that die ----------------------------------------------------------------------------


class DeathCounter:
    """A Ray actor's class: per step of work (reading a unit, scoring and writing a piece),
    the attempts that began and never ended, i.e. the workers that died in it."""

    def __init__(self) -> None:
        self.begun: Counter[str] = Counter()
        self.ended: Counter[str] = Counter()

    def begin(self, step: str) -> int:
        """Start an attempt at ``step``; return how many earlier attempts died in it."""
        deaths = self.begun[step] - self.ended[step]
        self.begun[step] += 1
        return deaths

    def end(self, step: str) -> None:
        self.ended[step] += 1


@dataclass(frozen=True)
class DeathGuard:
    """Bounds the attempts at a step of work whose worker died (see :func:`run`)."""

    counter: Any
    """A :class:`DeathCounter` actor's handle."""
    max_retries: int

    @contextmanager
    def step(self, path: str, first_row: int, last_row: int, what: str) -> Iterator[None]:
        """Run a step on rows ``first_row`` to ``last_row`` of ``path``; raise
        :class:`~rescore.exceptions.WorkerDiedError` instead once it has killed
        ``max_retries + 1`` workers."""
        import ray

        key = f"{what} {path} {first_row}"
        deaths = int(ray.get(self.counter.begin.remote(key)))
        if deaths > self.max_retries:
            msg = (
                f"{path}: rows {first_row}-{last_row}: the Ray worker {what} them died "
                f"{deaths} times (max_retries={self.max_retries}); a row there kills the "
                "process (a plugin crashing on it, say; --engine local shows the crash), or "
                "the workers ran out of memory (a smaller --batch-size), or nodes were lost "
                "(a larger --max-retries)"
            )
            raise WorkerDiedError(
                msg, path=path, first_row=first_row, last_row=last_row, deaths=deaths
            )
        try:
            yield
        finally:  # not reached when the process dies: the attempt stays begun, a death
            self.counter.end.remote(key)


@contextmanager
def _guarded(
    guard: DeathGuard | None, path: str, first_row: int, last_row: int, what: str
) -> Iterator[None]:
    if guard is None:
        yield
    else:
        with guard.step(path, first_row, last_row, what):
            yield


# --- score_dataset: any Ray Dataset -------------------------------------------------------------


def _row_place(batch: pa.Table, row: int) -> str:
    parts = []
    for key in ("path", "doc_id", "filter"):
        if key in batch.column_names:
            parts.append(f"{key} {batch.column(key)[row].as_py()!r}")
    return f"row {row} of a batch" + (f" ({', '.join(parts)})" if parts else "")


def _score_block(batch: pa.Table, spec: ScoreSpec, keep_input: bool, metadata: bytes) -> pa.Table:
    if keep_input:  # every input column is a key: score_table keeps them, in order
        spec = replace(spec, columns=replace(spec.columns, keys=tuple(batch.column_names)))
    try:
        out = score_table(batch, spec)
    except UnscorableRowError as e:
        detail = str(e).split(": ", 1)[1]
        msg = f"{_row_place(batch, e.row)}: {detail}"
        raise UnscorableRowError(msg, row=e.row, metric=e.metric) from None
    return out.replace_schema_metadata({METADATA_KEY: metadata})


def score_dataset(ds: Any, spec: ScoreSpec, *, keep_input: bool = True) -> Any:
    """Add ``spec``'s score columns to a Ray Dataset (lazily, like any Ray Data transform).

    Parameters
    ----------
    ds
        A ``ray.data.Dataset`` with the columns ``spec.columns`` names, e.g. from
        ``ray.data.read_parquet("s3://bucket/generations/")``.
    spec
        Metrics, options, column roles, tokenizer and error policy (see
        :class:`~rescore.batch.spec.ScoreSpec`). ``spec.workers`` is the kernels' threads per
        Ray task and the CPUs each task reserves (``-1``: one).
    keep_input
        ``True``: every input column, then ``target_length`` (with a tokenizing metric) and one
        column per metric (a metric named like an input column replaces it in place).
        ``False``: ``spec.columns.keys`` then those, as
        :func:`~rescore.batch.score_table.score_table` returns them.

    Returns
    -------
    ray.data.Dataset
        Scored blocks, in the input's block order; with ``on_error="skip"`` unscorable rows are
        dropped. Each block's schema carries the settings (``rescore`` metadata key: version and
        ``spec.to_dict()``), so ``write_parquet`` writes them into every file. With
        ``on_error="raise"``, executing it raises a Ray error whose message holds the
        :class:`~rescore.exceptions.UnscorableRowError`'s, which names the row in its batch and
        its ``path`` (read with ``include_paths=True``), ``doc_id`` and ``filter`` where the
        data has them. With ``DataContext.raise_original_map_exception = True`` the Ray error
        is an instance of it, and :func:`unwrap_error` returns the error itself.

    Examples
    --------
    >>> import ray  # doctest: +SKIP
    >>> from rescore.batch import ColumnMap, MetricSpec, ScoreSpec
    >>> from rescore.batch.ray_engine import score_dataset
    >>> spec = ScoreSpec(metrics=(MetricSpec("exact_match", {"ignore_case": True}),),
    ...                  columns=ColumnMap(prediction="pred", reference="ref"))
    >>> ds = ray.data.from_items([{"pred": "Paris", "ref": "paris"}])  # doctest: +SKIP
    >>> score_dataset(ds, spec).take_all()  # doctest: +SKIP
    [{'pred': 'Paris', 'ref': 'paris', 'exact_match': True}]
    """
    _import_ray()
    threads = spec.workers if spec.workers > 0 else 1
    spec = with_workers(spec, threads)
    meta = {"rescore_version": _rescore.__version__, "spec": spec.to_dict()}
    fn = functools.partial(
        _score_block,
        spec=spec,
        keep_input=keep_input,
        metadata=json.dumps(meta, sort_keys=True).encode(),
    )
    return ds.map_batches(fn, batch_format="pyarrow", batch_size=None, num_cpus=threads)


# --- the job: reading units ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReadRange:
    """What one read task reads: units ``[first_unit, stop_unit)`` of one input, less ``skip``."""

    plan: InputPlan
    first_unit: int
    stop_unit: int | None
    """Exclusive; ``None``: to the end of the file."""
    skip: frozenset[int]
    """Units already written (a resumed job)."""
    rows: int | None
    """Rows it reads, if known (for Ray's progress and planning)."""


def read_ranges(
    plans: Sequence[InputPlan],
    batch_size: int,
    out_dir: OutputDir,
    *,
    task_units: int = TASK_UNITS,
) -> list[ReadRange]:
    """Cut the units not yet written into read tasks.

    A Parquet file is cut where a row group starts (at the first unit starting in it), into
    tasks of at least ``task_units`` units: a task enters its file at a row group, decoding
    fewer than ``batch_size`` rows it drops, and reads into the next row group only to finish
    its last unit. A file of another format is one task: JSONL and CSV cannot be entered in the
    middle.
    """
    ranges = []
    for plan in plans:
        fi = plan.index
        if out_dir.file_complete(fi):
            continue
        done = frozenset(out_dir.done_units(fi))
        if plan.file.format != "parquet":
            first = next(k for k in range(len(done) + 1) if k not in done)
            ranges.append(ReadRange(plan, first, None, done, None))
            continue
        meta = pq.ParquetFile(arrow_source(plan.file.path)).metadata
        n = int(meta.num_rows)
        n_units = -(-n // batch_size)
        starts, row = {0}, 0
        for rg in range(meta.num_row_groups):
            starts.add(-(-row // batch_size))  # the first unit starting at or after the group
            row += meta.row_group(rg).num_rows
        cuts = [0]
        for s in sorted(starts):
            if s - cuts[-1] >= task_units and n_units - s >= task_units:
                cuts.append(s)
        for a, b in itertools.pairwise([*cuts, n_units]):
            todo = [k for k in range(a, b) if k not in done]
            if todo:
                lo, hi = todo[0], todo[-1] + 1
                rows = min(hi * batch_size, n) - lo * batch_size
                skip = frozenset(k for k in done if lo <= k < hi)
                ranges.append(ReadRange(plan, lo, hi, skip, rows - len(skip) * batch_size))
    return ranges


def read_units(
    task: ReadRange, job: UnitJob, guard: DeathGuard | None = None
) -> Iterator[pa.Table]:
    """The units of ``task`` as the local engine reads them, plus the source columns."""
    fi, b, path = task.plan.index, job.batch_size, str(task.plan.file.path)
    units = job.units(task.plan, task.first_unit)
    k = task.first_unit
    while True:
        with _guarded(guard, path, k * b, (k + 1) * b - 1, "reading"):
            item = next(units, None)
        if item is None:
            return
        k, table = item
        if k not in task.skip:
            n, first = table.num_rows, k * job.batch_size
            table = table.append_column(FILE_COLUMN, pa.array(np.full(n, fi, np.int32)))
            table = table.append_column(ROW_COLUMN, pa.array(np.arange(first, first + n)))
            yield table.append_column(UNIT_ROWS_COLUMN, pa.array(np.full(n, n, np.int64)))
        if task.stop_unit is not None and k + 1 >= task.stop_unit:
            return  # before the reader decodes the next task's rows
        k += 1


def _block_metadata(rows: int | None, path: str) -> Any:
    from ray.data.block import BlockMetadata

    # Its fields changed across Ray releases (``schema`` moved to ReadTask): pass those it has.
    names = {f.name for f in dataclasses.fields(BlockMetadata)}
    values: dict[str, Any] = {
        "num_rows": rows,
        "size_bytes": None,
        "schema": None,
        "input_files": [path],
        "exec_stats": None,
    }
    return BlockMetadata(**{k: v for k, v in values.items() if k in names})


@functools.cache
def _unit_datasource() -> type:
    """The datasource class (built on first use: ``ray`` is an optional import)."""
    from ray.data import Datasource, ReadTask

    limit_param = "per_task_row_limit" in inspect.signature(ReadTask).parameters

    class RescoreUnitsDatasource(Datasource):
        """Reads a job's units with the local engine's reader, one task per :class:`ReadRange`."""

        def __init__(
            self, ranges: Sequence[ReadRange], job: UnitJob, guard: DeathGuard | None = None
        ) -> None:
            self._ranges = list(ranges)
            self._job = job
            self._guard = guard

        def get_name(self) -> str:
            return "RescoreUnits"

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(
            self,
            parallelism: int,
            per_task_row_limit: int | None = None,
            data_context: Any = None,
        ) -> list[Any]:
            tasks = []
            for r in self._ranges:
                read = functools.partial(read_units, r, self._job, self._guard)
                meta = _block_metadata(r.rows, str(r.plan.file.path))
                if limit_param and per_task_row_limit is not None:
                    tasks.append(ReadTask(read, meta, per_task_row_limit=per_task_row_limit))
                else:
                    tasks.append(ReadTask(read, meta))
            return tasks

    return RescoreUnitsDatasource


# --- the job: scoring and writing units ---------------------------------------------------------


@dataclass(frozen=True)
class WorkerJob:
    """What a scoring task needs: the unit job and where parts go."""

    job: UnitJob
    out: AnyPath
    fingerprint: str
    paths: tuple[str, ...]
    part_meta: tuple[Mapping[str, Any], ...]
    guard: DeathGuard | None = None


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def unit_pieces(batch: pa.Table, batch_size: int) -> Iterator[tuple[int, int, int, pa.Table]]:
    """Cut a batch into runs of consecutive rows of one unit: ``(file, unit, offset, rows)``.

    ``offset`` is the run's first row within its unit; a run is the whole unit when ``offset``
    is 0 and it holds ``__rescore_unit_rows`` rows. Rows out of order are sorted first.
    """
    files = np.asarray(batch.column(FILE_COLUMN).to_numpy(), dtype=np.int64)
    rows = np.asarray(batch.column(ROW_COLUMN).to_numpy(), dtype=np.int64)
    if len(rows) > 1 and not bool(
        np.all((files[1:] > files[:-1]) | ((files[1:] == files[:-1]) & (rows[1:] > rows[:-1])))
    ):
        order = np.lexsort((rows, files))
        batch, files, rows = batch.take(pa.array(order)), files[order], rows[order]
    units = rows // batch_size
    cuts = (files[1:] != files[:-1]) | (units[1:] != units[:-1]) | (rows[1:] != rows[:-1] + 1)
    edges = [0, *(np.flatnonzero(cuts) + 1).tolist(), len(rows)]
    for lo, hi in itertools.pairwise(edges):
        if hi > lo:
            k = int(units[lo])
            yield int(files[lo]), k, int(rows[lo]) - k * batch_size, batch.slice(lo, hi - lo)


def score_units(batch: pa.Table, work: WorkerJob) -> pa.Table:
    """Score and write every whole unit of ``batch``; return pieces of units to the driver."""
    results = []
    b = work.job.batch_size
    for fi, k, offset, piece in unit_pieces(batch, b):
        unit_rows = int(piece.column(UNIT_ROWS_COLUMN)[0].as_py())
        table = piece.drop_columns(list(SOURCE_COLUMNS))
        first = k * b + offset
        whole = offset == 0 and piece.num_rows == unit_rows
        with _guarded(work.guard, work.paths[fi], first, first + piece.num_rows - 1, "scoring"):
            scored, record = work.job.score(table, work.paths[fi], first)
            if whole:
                record = write_part_file(
                    work.out, work.fingerprint, fi, k, scored, record, work.part_meta[fi]
                )
        results.append(
            {
                "file": fi,
                "unit": k,
                "offset": offset,
                "unit_rows": unit_rows,
                "rows_in": piece.num_rows,
                "record": json.dumps(record),
                "piece": None if whole else _ipc(scored),
            }
        )
    return pa.Table.from_pylist(results, schema=RESULT_SCHEMA)


def _merge_records(
    records: Sequence[Mapping[str, Any]], path: str, first_row: int
) -> dict[str, Any]:
    """One unit's record from its pieces' records (what scoring it whole would have given)."""
    groups: Counter[tuple[Any, Any]] = Counter()
    for r in records:
        for m, t, n in r["error_groups"]:
            groups[(m, t)] += int(n)
    return {
        "rows_in": sum(int(r["rows_in"]) for r in records),
        "rows_out": sum(int(r["rows_out"]) for r in records),
        "errors": {m: sum(int(r["errors"][m]) for r in records) for m in records[0]["errors"]},
        "error_rows": sum(int(r["error_rows"]) for r in records),
        "error_groups": [[m, t, n] for (m, t), n in sorted(groups.items(), key=str)],
        "source": {"path": path, "first_row": first_row},
    }


class _Collector:
    """The driver's side: manifest entries, progress, and units that arrive in pieces."""

    def __init__(self, plans: Sequence[InputPlan], job: UnitJob, out_dir: OutputDir) -> None:
        self.plans = {p.index: p for p in plans}
        self.job = job
        self.out_dir = out_dir
        self.seen: set[tuple[int, int, int]] = set()
        self.pieces: dict[tuple[int, int], dict[int, tuple[int, dict[str, Any], bytes]]] = {}

    def add(self, results: pa.Table, advance: Callable[[int], None]) -> None:
        for r in results.to_pylist():
            fi, k, offset = int(r["file"]), int(r["unit"]), int(r["offset"])
            if (fi, k, offset) in self.seen:  # delivered twice: already counted
                continue
            self.seen.add((fi, k, offset))
            record = json.loads(r["record"])
            if r["piece"] is None:
                self.out_dir.add_part(fi, k, record)
            else:
                held = self.pieces.setdefault((fi, k), {})
                held[offset] = (int(r["rows_in"]), record, r["piece"])
                if sum(n for n, _, _ in held.values()) == int(r["unit_rows"]):
                    self._write_pieces(fi, k)
            advance(int(r["rows_in"]))

    def _write_pieces(self, fi: int, k: int) -> None:
        held = self.pieces.pop((fi, k))
        offsets = sorted(held)
        tables = [_from_ipc(held[o][2]) for o in offsets]
        plan = self.plans[fi]
        first_row = k * self.job.batch_size
        record = _merge_records([held[o][1] for o in offsets], str(plan.file.path), first_row)
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        self.out_dir.write_part(fi, k, table, record, plan.part_meta)

    def finish(self) -> None:
        """Check every unit is written, then record each file's unit count."""
        if self.pieces:
            units = ", ".join(f"file {fi} unit {k}" for fi, k in sorted(self.pieces))
            msg = f"the Ray job ended with units missing pieces ({units}); run it again"
            raise RuntimeError(msg)
        for fi, plan in self.plans.items():
            if self.out_dir.file_complete(fi):
                continue
            done = self.out_dir.done_units(fi)
            total = max(done, default=-1) + 1
            expected = None
            if plan.file.format == "parquet":
                n = int(pq.ParquetFile(arrow_source(plan.file.path)).metadata.num_rows)
                expected = -(-n // self.job.batch_size)
            if len(done) != total or (expected is not None and total != expected):
                msg = f"the Ray job ended with units of {plan.file.path} missing; run it again"
                raise RuntimeError(msg)
            self.out_dir.finish_file(fi, total, self.out_dir.file_rows_done(fi))


@contextmanager
def _death_guard(ray: Any, max_retries: int) -> Iterator[DeathGuard]:
    counter = ray.remote(num_cpus=0)(DeathCounter).remote()
    try:
        yield DeathGuard(counter, max_retries)
    finally:
        ray.kill(counter)


def check_shared(paths: Sequence[AnyPath]) -> None:
    """Refuse paths that Ray workers cannot share with the driver (``memory://``)."""
    for p in paths:
        if isinstance(p, RemotePath) and p.protocol == "memory":
            msg = (
                f"{p}: memory:// paths live in one process, and Ray workers are other "
                "processes; use --engine local, or a path every node sees (a shared file "
                "system, s3://, gs://, ...)"
            )
            raise InvalidOptionError(msg)


def run(
    plans: Sequence[InputPlan],
    job: UnitJob,
    out_dir: OutputDir,
    bar: RowProgress,
    *,
    address: str | None = None,
    workers: int = -1,
    max_retries: int = DEFAULT_MAX_RETRIES,
    before_score: Callable[[pa.Table], pa.Table] | None = None,
) -> None:
    """Write every unit of ``plans`` not yet in ``out_dir`` with Ray Data tasks.

    Parameters
    ----------
    plans, job, out_dir, bar
        What :func:`rescore.batch.job.score` prepared: the inputs, how to read and score a
        unit, the opened output directory, and the progress bar to advance.
    address
        The Ray cluster (see :func:`connected`).
    workers
        Kernel threads per task, and the CPUs each task reserves (``-1``: one).
    max_retries
        Attempts after the first at a unit (reading it, or scoring and writing it) whose
        worker died; one more death raises :class:`~rescore.exceptions.WorkerDiedError`
        naming its file and rows.
    before_score
        A function applied to each batch before scoring, in the same task (for tests: e.g. a
        map function that kills its worker).
    """
    ranges = read_ranges(plans, job.batch_size, out_dir)
    threads = workers if workers > 0 else 1
    job = replace(job, spec=with_workers(job.spec, threads))
    collector = _Collector(plans, job, out_dir)
    if ranges:
        with connected(address) as ray, _death_guard(ray, max_retries) as guard:
            work = WorkerJob(
                job,
                out_dir.path,
                out_dir.fingerprint,
                tuple(str(p.file.path) for p in plans),
                tuple(p.part_meta for p in plans),
                guard,
            )
            source = _unit_datasource()(ranges, job, guard)
            ds = ray.data.read_datasource(source, override_num_blocks=len(ranges))
            # Our progress bar counts rows; Ray's bars would fight it on the terminal.
            ds.context.enable_progress_bars = False
            # Send a task's own exception (not a text-only UserCodeException) to the driver.
            if hasattr(ds.context, "raise_original_map_exception"):
                ds.context.raise_original_map_exception = True
            if before_score is not None:
                ds = ds.map_batches(before_score, batch_format="pyarrow", batch_size=None)
            fn = functools.partial(score_units, work=work)
            ds = ds.map_batches(fn, batch_format="pyarrow", batch_size=None, num_cpus=threads)
            try:
                with _quiet_console():
                    for results in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
                        collector.add(results, bar.advance)
            except Exception as e:
                original = unwrap_error(e)
                if original is None:
                    raise
                raise original from None
    collector.finish()


__all__ = [
    "FILE_COLUMN",
    "ROW_COLUMN",
    "SOURCE_COLUMNS",
    "UNIT_ROWS_COLUMN",
    "DeathCounter",
    "DeathGuard",
    "ReadRange",
    "check_shared",
    "connected",
    "read_ranges",
    "read_units",
    "run",
    "score_dataset",
    "score_units",
    "unit_pieces",
    "unwrap_error",
]

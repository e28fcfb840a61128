"""``rescore.score``: the batch job, reading inputs, scoring units, writing a resumable output.

The job runs in four steps: :func:`_plan_inputs` finds the files and their schemas,
:func:`_resolve_spec` turns the settings into a :class:`ScoreSpec` (columns, metrics with
checked options, tokenizer) before any work, :func:`_open_output` opens (or resumes) the output
directory, and an engine scores the units; :func:`_finish` writes the totals and summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from rescore import _rescore
from rescore.batch import lm_eval
from rescore.batch.formats import RECORD_FORMATS
from rescore.batch.progress import RowProgress, summarise
from rescore.batch.readers import (
    InputFile,
    count_rows,
    discover,
    normalize_type,
    peek_schema,
)
from rescore.batch.settings import ScoreSettings
from rescore.batch.spec import (
    KEY_COLUMNS,
    ROLE_TYPES,
    ROLES,
    ColumnMap,
    MetricSpec,
    Role,
    ScoreSpec,
    TokenizerSpec,
    applicable_metrics,
    check_metric_columns,
    metric_roles,
    missing_column_message,
    resolve_columns,
)
from rescore.batch.stages import StageClock, StageTime
from rescore.batch.storage import AnyPath, arrow_source, as_path
from rescore.batch.tokenize import resolve_tokenizer
from rescore.batch.units import InputPlan, UnitJob, run_local
from rescore.batch.writer import OutputDir, list_parts
from rescore.exceptions import MissingColumnError
from rescore.registry import InputContext, get_metric
from rescore.registry.entry import TOKENIZER_OPTION
from rescore.settings import build, to_dict


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score` did."""

    out: AnyPath
    """The output directory (a :class:`~rescore.batch.storage.RemotePath` for a URI)."""
    spec: ScoreSpec
    """The resolved settings (columns, metrics with options, tokenizer)."""
    rows_in: int
    """Input rows covered by the output."""
    rows_out: int
    """Rows written (fewer than ``rows_in`` with ``on_error="skip"``)."""
    errors: Mapping[str, int]
    """Unscorable rows per metric."""
    error_rows: int
    """Rows unscorable under at least one metric."""
    summary: pl.DataFrame
    """Rows, errors and the mean of each metric per model and task."""
    resumed: bool
    """Whether an interrupted run's output was continued."""
    stages: Mapping[str, StageTime] = field(default_factory=dict)
    """Wall and CPU seconds per stage (see :mod:`rescore.batch.stages`)."""

    def read(self) -> pa.Table:
        """The scores, all parts in order, as one table."""
        parts = list_parts(self.out)
        if not parts:
            return self.spec.output_schema({}).empty_table()
        tables = [pq.read_table(arrow_source(p)) for p in parts]
        return pa.concat_tables(tables).replace_schema_metadata()


def _metric_specs(
    names: Sequence[str],
    options: Mapping[str, Mapping[str, Any]],
    context: InputContext,
) -> tuple[MetricSpec, ...]:
    """Each metric with its options: checked by name and type, then inferred from the input
    where the user gave none (the entry says which and how)."""
    for metric, opts in options.items():
        get_metric(metric).check_options(opts)
    specs = []
    for name in dict.fromkeys(names):
        entry = get_metric(name)
        opts = entry.check_options(options.get(name, {}))
        if entry.tokenizes:  # the job's tokenizer setting owns it
            opts.pop(TOKENIZER_OPTION, None)
        if entry.infer_options is not None:
            inferred = entry.infer_options(context)
            opts = {**{k: v for k, v in inferred.items() if k not in opts}, **opts}
        specs.append(MetricSpec(name, opts, plugin=None if entry.builtin else entry))
    return tuple(specs)


def _key_types(keys: Sequence[str], schemas: Sequence[pa.Schema]) -> dict[str, pa.DataType]:
    types: dict[str, pa.DataType] = {}
    for k in keys:
        if k in (*KEY_COLUMNS, "filter"):
            types[k] = pa.string()
            continue
        for s in schemas:
            if k in s.names:
                t = normalize_type(s.field(k).type)
                types[k] = pa.string() if pa.types.is_null(t) else t
                break
    return types


def _read_types(
    f: InputFile, schema: pa.Schema, columns: ColumnMap, key_types: Mapping[str, pa.DataType]
) -> dict[str, pa.DataType]:
    types = dict(key_types)
    if f.format in ("jsonl", "csv"):
        for role in ROLES:
            col = columns.role(role)
            if col is None or col not in schema.names:
                continue
            t = normalize_type(schema.field(col).type)
            if role in ("prediction", "reference"):
                if pa.types.is_null(t) or (f.format == "csv" and not pa.types.is_list(t)):
                    t = pa.string()
                types[col] = t
            else:
                types[col] = ROLE_TYPES[role]
    return types


@dataclass(frozen=True)
class _Inputs:
    files: list[InputFile]
    schemas: list[pa.Schema]
    keep: list[str]


def _plan_inputs(inputs: str | Path | Sequence[str | Path], settings: ScoreSettings) -> _Inputs:
    paths = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    files = discover(paths, settings.format)
    keep = list(dict.fromkeys(settings.keep_cols))
    return _Inputs(files, [peek_schema(f, keep) for f in files], keep)


def _tokenizer_value(settings: ScoreSettings) -> str | None:
    """``--tokenizer``, else a tokenizing metric's ``tokenizer`` option (an older spelling)."""
    if settings.tokenizer is not None:
        return settings.tokenizer
    for name, opts in settings.options.items():
        if get_metric(name).tokenizes and TOKENIZER_OPTION in opts:
            return str(opts[TOKENIZER_OPTION])
    return None


def _resolve_spec(settings: ScoreSettings, inp: _Inputs) -> ScoreSpec:
    """Columns, metrics and tokenizer, checked against every input before any work."""
    first, where = inp.schemas[0], str(inp.files[0].path)
    explicit: dict[Role, str | None] = {r: getattr(settings, f"{r}_col") for r in ROLES}
    formats = frozenset(f.format for f in inp.files)
    keys = list(KEY_COLUMNS)
    for f, s in zip(inp.files, inp.schemas, strict=True):  # an evaluation log's own keys
        if f.format in RECORD_FORMATS:
            keys += RECORD_FORMATS[f.format].key_columns(s)
    if any("doc_id" in s.names for s in inp.schemas):
        keys.append("doc_id")
    keys = list(dict.fromkeys([*keys, *inp.keep]))
    # Keys found in any input (another task's harness metrics) count as present: files without
    # them get nulls.
    names = list(dict.fromkeys([*first.names, *(k for k in keys if k not in inp.keep)]))
    columns = resolve_columns(names, explicit=explicit, keys=keys, where=where)
    has_ids = columns.prediction_ids is not None and columns.reference_ids is not None
    tok: TokenizerSpec = resolve_tokenizer(_tokenizer_value(settings), has_ids=has_ids)
    names = list(settings.metrics) or applicable_metrics(columns, tok)
    if not names:
        msg = (
            "no metric can be computed: no prediction/reference or choices/label columns in "
            f"{where}; available columns: {', '.join(first.names)}"
        )
        raise MissingColumnError(msg)
    context = InputContext(columns={r: columns.role(r) for r in ROLES}, formats=formats)
    metric_specs = _metric_specs(names, settings.options, context)
    check_metric_columns(metric_specs, columns, tok, first.names, where)
    needed = {
        c
        for m in metric_specs
        for r in (*metric_roles(m.entry, columns, tok), *m.entry.column_inputs.values())
        if (c := columns.role(r)) is not None
    }
    for f, s in zip(inp.files, inp.schemas, strict=True):
        for c in sorted(needed) + inp.keep:
            if c not in s.names:
                msg = missing_column_message("input", c, s.names, str(f.path))
                raise MissingColumnError(msg)
    return ScoreSpec(metric_specs, columns, tok, settings.on_error, settings.workers)


def _recorded(spec: ScoreSpec, settings: ScoreSettings) -> dict[str, Any]:
    """The settings that decide the output, as the manifest records them."""
    recorded = {**spec.to_dict()}
    del recorded["workers"]  # results never depend on it
    job = to_dict(settings)
    recorded.update({k: job[k] for k in ("batch_size", "model", "task", "format")})
    return recorded


def _open_output(
    out: str | Path, spec: ScoreSpec, settings: ScoreSettings, inp: _Inputs
) -> tuple[OutputDir, list[dict[str, Any]], dict[str, Any]]:
    input_prints = [f.fingerprint() for f in inp.files]
    recorded = _recorded(spec, settings)
    fingerprint = spec.fingerprint(
        inputs=input_prints,
        batch_size=settings.batch_size,
        model=settings.model,
        task=settings.task,
        format=settings.format,
        rescore_version=_rescore.__version__,
    )
    out_dir = OutputDir(
        as_path(out),
        fingerprint=fingerprint,
        settings=recorded,
        inputs=input_prints,
        rescore_version=_rescore.__version__,
        overwrite=settings.overwrite,
    )
    return out_dir, input_prints, recorded


def _plans(
    spec: ScoreSpec,
    settings: ScoreSettings,
    inp: _Inputs,
    input_prints: Sequence[Mapping[str, Any]],
    recorded: Mapping[str, Any],
) -> tuple[UnitJob, list[InputPlan]]:
    columns = spec.columns
    key_types = _key_types(columns.keys, inp.schemas)
    list_errors = {
        c: lm_eval.ERROR_CHOICES if r == "choices" else lm_eval.ERROR_TEXT
        for r in ("prediction_ids", "reference_ids", "choices", "samples", "correct")
        if (c := columns.role(r)) is not None
    }
    unit_job = UnitJob(
        spec,
        spec.output_schema(key_types),
        settings.batch_size,
        tuple(columns.input_columns()),
        tuple(inp.keep),
        list_errors,
        settings.model,
        settings.task,
    )
    plans = [
        InputPlan(
            fi,
            f,
            _read_types(f, schema, columns, key_types),
            {
                "rescore_version": _rescore.__version__,
                "settings": recorded,
                "tokenizer": spec.tokenizer.describe(),
                "input": input_prints[fi],
            },
        )
        for fi, (f, schema) in enumerate(zip(inp.files, inp.schemas, strict=True))
    ]
    return unit_job, plans


def _finish(out_dir: OutputDir, spec: ScoreSpec, clock: StageClock) -> ScoreResult:
    records = out_dir.records()
    names = [m.name for m in spec.metrics]
    errors = {m: sum(int(r["errors"].get(m, 0)) for r in records) for m in names}
    groups: Counter[tuple[str | None, str | None]] = Counter()
    for r in records:
        for m_, t_, n_ in r["error_groups"]:
            groups[(m_, t_)] += int(n_)
    rows_in = sum(int(r["rows_in"]) for r in records)
    rows_out = sum(int(r["rows_out"]) for r in records)
    error_rows = sum(int(r["error_rows"]) for r in records)
    out_dir.finish(
        {"rows_in": rows_in, "rows_out": rows_out, "errors": errors, "error_rows": error_rows}
    )
    aggregations = {m.name: m.entry.aggregation for m in spec.metrics}
    with clock.stage("summary"):
        summary = summarise(out_dir.path, aggregations, groups)
    return ScoreResult(
        out=out_dir.path,
        spec=spec,
        rows_in=rows_in,
        rows_out=rows_out,
        errors=errors,
        error_rows=error_rows,
        summary=summary,
        resumed=out_dir.resumed,
        stages=clock.times(),
    )


def score(
    inputs: str | Path | Sequence[str | Path],
    out: str | Path,
    settings: ScoreSettings | None = None,
    **overrides: Any,
) -> ScoreResult:
    """Score stored generations under several metrics; write them as a Parquet dataset.

    Reads Parquet (files or hive-partitioned directories), JSONL, CSV and lm-evaluation-harness
    ``--log_samples`` files (recognised by name and fields), streaming them in units of
    ``batch_size`` rows, and writes ``out/part-*.parquet`` (key columns ``model``, ``task``,
    ``filter`` for lm-eval logs, ``doc_id`` when present and ``keep_cols``, then one column
    per metric, named after it) with a manifest ``out/_manifest.json``. Killed and run again
    with the same arguments, it finishes the remaining units; an ``out`` written with other
    settings is refused unless ``overwrite``.

    Parameters
    ----------
    inputs
        Files or directories, local or URIs (``s3://bucket/prefix/``, ``gs://``,
        ``hf://datasets/<org>/<name>/...``, any fsspec protocol).
    out
        Output directory (created if needed), local or a URI.
    settings
        A :class:`~rescore.batch.settings.ScoreSettings`; default: its defaults.
    **overrides
        Any :class:`~rescore.batch.settings.ScoreSettings` field by name (the same names as
        ``rescore score``'s flags), e.g. ``metrics="exact_match,brier_score"``,
        ``options={"exact_match": {"ignore_case": True}}``, ``on_error="null"``,
        ``engine="ray"``, ``progress=True``. An unknown name raises
        :class:`~rescore.exceptions.InvalidOptionError`.

    Returns
    -------
    ScoreResult
        Counts, the per-model-and-task summary, and :meth:`ScoreResult.read`.
    """
    settings = build(ScoreSettings, settings, overrides)
    clock = StageClock()
    with clock.stage("plan"):
        inp = _plan_inputs(inputs, settings)
        spec = _resolve_spec(settings, inp)
        if settings.engine == "ray":  # before the output is opened
            from rescore.batch.ray_engine import check_shared

            check_shared([as_path(out), *(f.path for f in inp.files)])
        out_dir, input_prints, recorded = _open_output(out, spec, settings, inp)
    try:
        with clock.stage("plan"):
            unit_job, plans = _plans(spec, settings, inp, input_prints, recorded)
            # Counting opens every file once more: only for the progress bar.
            totals = [count_rows(f) for f in inp.files] if settings.progress else [None]
            total = None if any(t is None for t in totals) else sum(t or 0 for t in totals)
            done_rows = sum(out_dir.file_rows_done(i) for i in range(len(inp.files)))
        with RowProgress(total, enabled=settings.progress, done=done_rows) as bar:
            if settings.engine == "ray":
                from rescore.batch import ray_engine  # optional dependency: imported on demand

                ray_engine.run(
                    plans,
                    unit_job,
                    out_dir,
                    bar,
                    address=settings.ray_address,
                    workers=settings.workers,
                    max_retries=settings.max_retries,
                )
            else:
                run_local(plans, unit_job, out_dir, bar, in_flight=settings.in_flight, clock=clock)
        return _finish(out_dir, spec, clock)
    finally:  # a failed job's output is free for the rerun at once, traceback or not
        out_dir.release()


__all__ = ["ScoreResult", "score"]

"""Score one Arrow table: the engine-agnostic step of the batch job.

:func:`score_table` depends only on its arguments (the table and a :class:`ScoreSpec`), so the
same function runs in the local job, in Ray Data (``ds.map_batches(fn,
batch_format="pyarrow")``), in Dask (``map_partitions`` over Arrow tables) or in Spark
(``mapInArrow``, one record batch at a time).

Which rows are errors. A metric reads two columns (e.g. prediction and reference). A row where
both are null is *not applicable* (a generation row has no choices): its score is null and it
is not an error. A row is *unscorable* for the metric when only one of the two is null (a null
reference), when the kernel rejects its values (probabilities not summing to 1, a label out of
range, NaN), or when the reader could not read its values (the reserved columns
``__rescore_error_text`` / ``__rescore_error_choices``). Unscorable rows follow
``spec.on_error``: ``"raise"`` raises :class:`~rescore.exceptions.UnscorableRowError` for the
first one, ``"null"`` gives them a null score, ``"skip"`` drops them from the output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rescore.batch import lm_eval
from rescore.batch.spec import (
    ROLE_TYPES,
    TARGET_LENGTH,
    MetricSpec,
    Role,
    ScoreSpec,
    metric_roles,
)
from rescore.batch.tokenize import encode, load_hf_tokenizer
from rescore.exceptions import InvalidInputError, PluginError, UnscorableRowError
from rescore.metrics import token_edit_distance
from rescore.registry import ensure_registered
from rescore.registry.entry import TOKENIZER_OPTION
from rescore.registry.roles import TOKEN_ROLES

ERROR_COLUMN = {"choices": lm_eval.ERROR_CHOICES, "sequences": lm_eval.ERROR_TEXT}
ERROR_COLUMN["text"] = lm_eval.ERROR_TEXT


@dataclass(frozen=True)
class ScoredTable:
    """What :func:`score_table_with_errors` returns."""

    table: pa.Table
    """Key columns, ``target_length`` (with a tokenizing metric), then one column per metric
    (rows dropped with ``on_error="skip"``)."""
    errors: Mapping[str, int]
    """Unscorable rows per metric."""
    error_rows: np.ndarray[Any, np.dtype[np.bool_]]
    """Per input row: unscorable for at least one metric."""


def _as_table(data: pa.Table | pa.RecordBatch) -> pa.Table:
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    return data


def _column(table: pa.Table, name: str, role: Role) -> pa.ChunkedArray:
    col = table.column(name)  # chunked as it comes: the kernels read every chunk, no copy
    if pa.types.is_null(col.type):  # an all-null column carries no type: give it the role's
        return pa.chunked_array([pa.nulls(len(col), ROLE_TYPES[role])])
    return col


def _valid(col: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.bool_]]:
    mask = col.is_valid()
    if isinstance(mask, pa.ChunkedArray):
        return np.asarray(mask.to_numpy(), dtype=np.bool_)
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _kernel_kwargs(metric: MetricSpec, spec: ScoreSpec, a: Role) -> dict[str, Any]:
    opts = dict(metric.options)
    if metric.entry.tokenizes:  # the job's tokenizer, not an option: rules go to the kernel
        opts.pop(TOKENIZER_OPTION, None)
        if a not in TOKEN_ROLES and spec.tokenizer.kind in ("whitespace", "characters"):
            opts[TOKENIZER_OPTION] = spec.tokenizer.kind
    return opts


def _hf_encoded(metric: MetricSpec, spec: ScoreSpec, a: Role) -> bool:
    """Whether this metric reads text through a Hugging Face tokenizer (ids made here)."""
    return metric.entry.tokenizes and spec.tokenizer.kind == "hf" and a not in TOKEN_ROLES


def _inputs(
    table: pa.Table, metric: MetricSpec, spec: ScoreSpec, cache: dict[str, Any]
) -> tuple[Any, Any, Role, Role]:
    a, b = metric_roles(metric.entry, spec.columns, spec.tokenizer)
    col_a, col_b = spec.columns.role(a), spec.columns.role(b)
    if col_a is None or col_b is None:
        missing = a if col_a is None else b
        msg = f"{metric.name} needs a {missing} column; the spec maps none"
        raise InvalidInputError(msg)
    x, y = _column(table, col_a, a), _column(table, col_b, b)
    if _hf_encoded(metric, spec, a):
        tok = load_hf_tokenizer(spec.tokenizer)
        if "ids_a" not in cache:
            cache["ids_a"], cache["ids_b"] = encode(tok, x), encode(tok, y)
        x, y = cache["ids_a"], cache["ids_b"]
    return x, y, a, b


def _target_length(x: Any, y: Any, spec: ScoreSpec) -> pa.Array:
    """Tokens of each row's reference as the token edit distance counts them (the shortest of
    several references): its distance from an empty prediction. Null where the reference is."""
    n = len(x)
    if pa.types.is_list(x.type) or pa.types.is_large_list(x.type):  # token ids: empty lists
        offsets = pa.array(np.zeros(n + 1, dtype=np.int32))
        empty = pa.ListArray.from_arrays(offsets, pa.array([], x.type.value_type))
    else:
        empty = pa.repeat(pa.scalar("", pa.string()), n)
    # text is split by the job's rules; token ids (given, or from a tokenizer.json) are counted
    rules: Literal["whitespace", "characters"] = (
        "characters" if spec.tokenizer.kind == "characters" else "whitespace"
    )
    lengths = token_edit_distance(empty, y, tokenizer=rules, workers=spec.workers, on_error="null")
    return pa.array(lengths).cast(pa.uint32())


def run_metric(metric: MetricSpec, spec: ScoreSpec, x: Any, y: Any, a: Role, on_error: str) -> Any:
    """The metric's function on two columns, with the job's options and error policy."""
    fn = metric.entry.function
    return fn(x, y, workers=spec.workers, on_error=on_error, **_kernel_kwargs(metric, spec, a))


def _row_detail(
    metric: MetricSpec,
    spec: ScoreSpec,
    table: pa.Table,
    x: Any,
    y: Any,
    roles: tuple[Role, Role],
    row: int,
) -> str:
    """Why ``row`` cannot be scored, in words."""
    err_col = ERROR_COLUMN[metric.inputs]
    if err_col in table.column_names:
        err = table.column(err_col)[row].as_py()
        if err is not None:
            return f"cannot read the values: {err}"
    for arr, role in zip((x, y), roles, strict=True):
        if not arr[row].is_valid:
            col = spec.columns.role(role)
            return f"null {role} (column {col!r}) while the other input is present"
    try:
        run_metric(metric, spec, x.slice(row, 1), y.slice(row, 1), roles[0], "raise")
    except PluginError as e:  # the plugin's own words, with its name and source
        return re.sub(r" on row 0(?=:)", "", str(e))
    except (ValueError, TypeError) as e:
        return re.sub(r" row 0(?=[:,])", "", str(e))
    return "the kernel gave no score"  # pragma: no cover - a null result always has a reason


def score_table_with_errors(data: pa.Table | pa.RecordBatch, spec: ScoreSpec) -> ScoredTable:
    """:func:`score_table`, also returning the unscorable-row counts and mask."""
    table = _as_table(data)
    ensure_registered(m.plugin for m in spec.metrics if m.plugin is not None)
    n = table.num_rows
    any_bad = np.zeros(n, dtype=np.bool_)
    errors: dict[str, int] = {}
    scores: dict[str, pa.Array] = {}
    cache: dict[str, Any] = {}
    for metric in spec.metrics:
        x, y, a, b = _inputs(table, metric, spec, cache)
        if metric.entry.tokenizes and TARGET_LENGTH not in cache:
            cache[TARGET_LENGTH] = _target_length(x, y, spec)
        result = run_metric(metric, spec, x, y, a, "null")
        result = pa.array(result).cast(metric.output_type())
        valid_x, valid_y = _valid(x), _valid(y)
        bad = valid_x ^ valid_y
        bad |= valid_x & valid_y & ~_valid(result)
        err_col = ERROR_COLUMN[metric.inputs]
        if err_col in table.column_names:
            bad |= _valid(table.column(err_col))
        count = int(bad.sum())
        if count and spec.on_error == "raise":
            row = int(np.flatnonzero(bad)[0])
            detail = _row_detail(metric, spec, table, x, y, (a, b), row)
            msg = f"row {row}: {metric.name}: {detail}"
            raise UnscorableRowError(msg, row=row, metric=metric.name)
        if count:  # an unscorable row's score is null, whatever its inputs held
            result = pc.if_else(pa.array(bad), pa.scalar(None, result.type), result)
        errors[metric.name] = count
        any_bad |= bad
        scores[metric.name] = result
    columns = {}
    for key in spec.columns.keys:
        if key in table.column_names:
            columns[key] = table.column(key)
        else:
            columns[key] = pa.nulls(n, pa.string())
    if spec.writes_target_length:
        columns[TARGET_LENGTH] = cache[TARGET_LENGTH]
    columns.update(scores)
    out = pa.table(columns)
    if spec.on_error == "skip" and any_bad.any():
        out = out.filter(pa.array(~any_bad))
    return ScoredTable(out, errors, any_bad)


def score_table(data: pa.Table | pa.RecordBatch, spec: ScoreSpec) -> pa.Table:
    """Score every row of ``data`` under ``spec``'s metrics.

    Parameters
    ----------
    data
        A table or record batch with the columns ``spec.columns`` names (a chunked table is
        fine; key columns absent from it come out null).
    spec
        The metrics, their options, the column roles, the tokenizer and the error policy.

    Returns
    -------
    pyarrow.Table
        ``spec.columns.keys``, then ``target_length`` when a tokenizing metric runs (see
        :data:`~rescore.batch.spec.TARGET_LENGTH`), then one column per metric, named after
        it, of the type :meth:`MetricSpec.output_type` gives; unscorable rows follow
        ``spec.on_error`` (see the module documentation).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from rescore.batch import ColumnMap, MetricSpec, ScoreSpec, score_table
    >>> spec = ScoreSpec(metrics=(MetricSpec("exact_match", {"ignore_case": True}),),
    ...                  columns=ColumnMap(prediction="pred", reference="ref", keys=("id",)))
    >>> t = pa.table({"id": [1, 2], "pred": ["Paris", "Rome"], "ref": ["paris", "Oslo"]})
    >>> score_table(t, spec).to_pylist()
    [{'id': 1, 'exact_match': True}, {'id': 2, 'exact_match': False}]
    """
    return score_table_with_errors(data, spec).table


__all__ = ["ScoredTable", "score_table", "score_table_with_errors"]

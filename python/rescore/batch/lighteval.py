"""lighteval "details" Parquet files (and the Open LLM Leaderboard v1 details datasets).

lighteval's ``EvaluationTracker.save_details`` writes one file per task,
``<output_dir>/details/<model_name>/<date_id>/details_<task>_<date_id>.parquet`` (``date_id``
is ``datetime.now().isoformat()`` with ``:`` replaced by ``-``), from
``Dataset.from_list([asdict(detail) ...])`` with the columns sorted. Two schemas exist:

- current (lighteval >= 0.10, 2025): three struct columns, ``doc`` (lighteval's ``Doc``:
  ``query``, ``choices``, ``gold_index`` (int or list), ``id``, ...), ``model_response``
  (``ModelResponse``: ``text`` (one per sample), ``text_post_processed``, ``logprobs`` (one
  per choice for log-likelihood tasks), ...) and ``metric`` (metric name -> value);
- older (2024 to mid-2025), flat: ``example``, ``predictions`` (generated texts, or one
  ``(log-likelihood, is_greedy)`` pair per choice), ``choices``, ``gold`` (texts),
  ``gold_index`` (list), ``metrics`` (dict), ``pred_logits``, ... Versions before February 2025
  fell back to ``str()`` of every value when the values did not fit one Arrow type (always
  for multiple choice), so each of those columns may also be a Python repr, read here with
  :func:`rescore.batch.lm_eval.parse_literal` (literals only, never evaluated).

Files with typed columns (the current schema, and flat files whose texts are string lists) are
turned into rows with Arrow kernels on whole batches; ``str()``-written files record by record.

Model: the results file beside the run (``results_<date_id>.json``, its
``config_general.model_name``: in ``<output_dir>/results/<model>/``, or next to the
``<date_id>`` directory as in the first versions and the Open LLM Leaderboard's datasets), else
the directories between ``details/`` and ``<date_id>/``, else the leaderboard's
``details_<org>__<name>`` directory name. Task: from the file name (``lighteval|gsm8k|5``).

One row per sample: a generation task's ``text`` list gives rows ``sample`` 0, 1, ...; a
log-likelihood task (as many log-likelihoods as choices) gives one row with
``choice_logprobs``, ``label`` (the gold index) and ``continuations`` (the choices), and no
text pair. A generation row's ``reference`` is the gold choices' texts (lighteval's
``Doc.get_golds``), or the flat schema's ``gold``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rescore.batch.lm_eval import ERROR_CHOICES, ERROR_TEXT, parse_literal
from rescore.batch.record_rows import RowBuffer, harness_column, metric_value, row_schema
from rescore.batch.storage import AnyPath, arrow_source
from rescore.exceptions import InputFormatError

DETAILS_FILE = re.compile(
    r"^details_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)\.parquet$"
)
CURRENT = ("doc", "model_response")
FLAT = ("predictions", "choices", "gold_index")
_CURRENT_COLUMNS = [
    "doc.id",
    "doc.choices",
    "doc.gold_index",
    "model_response.text",
    "model_response.text_post_processed",
    "model_response.logprobs",
]
_FLAT_COLUMNS = ["predictions", "choices", "gold", "gold_index"]


def schema_kind(schema: pa.Schema) -> str | None:
    """``"current"``, ``"flat"`` or ``None`` (not a details file) from a Parquet schema."""
    names = set(schema.names)
    if all(n in names for n in CURRENT) and pa.types.is_struct(schema.field("doc").type):
        return "current"
    if all(n in names for n in FLAT):
        return "flat"
    return None


def recognise(path: AnyPath, schema: pa.Schema) -> bool:
    """Whether a Parquet file is a lighteval details file (by its columns)."""
    return schema_kind(schema) is not None


def _open(path: AnyPath) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(arrow_source(path))
    except (pa.ArrowInvalid, OSError) as e:
        msg = f"{path}: not a readable Parquet file: {e}"
        raise InputFormatError(msg) from e


def _harness_names(pf: pq.ParquetFile, kind: str) -> list[str]:
    column = "metric" if kind == "current" else "metrics"
    if column not in pf.schema_arrow.names:
        return []
    t = pf.schema_arrow.field(column).type
    if pa.types.is_struct(t):
        return [t.field(i).name for i in range(t.num_fields)]
    if pf.metadata.num_rows == 0:
        return []
    first = next(pf.iter_batches(batch_size=1, columns=[column])).column(0)[0].as_py()
    value = _literal(first)
    return sorted(value) if isinstance(value, dict) else []


def schema(path: AnyPath) -> pa.Schema:
    """The rows' schema for one details file (its metrics as ``harness_`` columns)."""
    pf = _open(path)
    kind = schema_kind(pf.schema_arrow)
    if kind is None:
        msg = (
            f"{path}: not a lighteval details file: expected the columns doc, model_response "
            f"and metric, or predictions, choices and gold_index; found {pf.schema_arrow.names}"
        )
        raise InputFormatError(msg)
    return row_schema(_harness_names(pf, kind))


def count_rows(path: AnyPath) -> int | None:
    """Records in the file (rows are more when examples have several samples)."""
    return None


def _results_model(path: AnyPath, date: str) -> str | None:
    run_dir = path.parent
    candidates = [run_dir.parent / f"results_{date}.json", run_dir / f"results_{date}.json"]
    parts = list(PurePosixPath(str(run_dir)).parts)
    if "details" in parts:
        i = len(parts) - 1 - parts[::-1].index("details")
        model = "/".join(parts[i + 1 : -1])
        root = run_dir
        for _ in range(len(parts) - i):
            root = root.parent
        if model:
            candidates.append(root / "results" / model / f"results_{date}.json")
    for c in candidates:
        try:
            if not c.exists():
                continue
            with c.open("rb") as fh:
                data = json.loads(fh.read())
        except (OSError, ValueError):
            continue
        name = data.get("config_general", {}).get("model_name") if isinstance(data, dict) else None
        if isinstance(name, str) and name:
            return name
    return None


def model_and_task(path: AnyPath) -> tuple[str | None, str | None]:
    """Model and task of a details file from its place (see the module doc)."""
    m = DETAILS_FILE.match(path.name)
    if m is None:
        return None, None
    task, date = m.group("task"), m.group("date")
    model = _results_model(path, date)
    if model is None:
        parts = list(PurePosixPath(str(path)).parts)[:-1]
        if parts and parts[-1] == date:
            parts = parts[:-1]
        if "details" in parts:
            i = len(parts) - 1 - parts[::-1].index("details")
            model = "/".join(parts[i + 1 :]) or None
        elif parts and parts[-1].startswith("details_"):  # the leaderboard's dataset name
            model = parts[-1][len("details_") :].replace("__", "/")
        elif parts:
            model = parts[-1]
    return model, task


def _literal(value: Any) -> Any:
    """A value as written, or the Python literal an older writer's ``str()`` made of it."""
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in "[({" or s in ("None", "True", "False"):
            try:
                return parse_literal(s)
            except ValueError:
                return value
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _golds(choices: Sequence[Any], gold_index: Any) -> list[str]:
    golds: list[str] = []
    for g in _as_list(gold_index):
        if isinstance(g, int) and not isinstance(g, bool) and 0 <= g < len(choices):
            golds.extend(str(c) for c in _as_list(choices[g]))
    return golds


def _label(gold_index: Any, n: int) -> int:
    gold = _as_list(gold_index)
    if len(gold) != 1:
        msg = f"gold_index {gold_index!r} names {len(gold)} gold choices; one is needed"
        raise ValueError(msg)
    g = gold[0]
    if not isinstance(g, int) or isinstance(g, bool) or not 0 <= g < n:
        msg = f"gold_index {g!r} is not one of the {n} choices"
        raise ValueError(msg)
    return g


def _loglikelihood(value: Any) -> float:
    if isinstance(value, (list, tuple)) and value:
        value = value[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    msg = f"not a log-likelihood: {value!r}"
    raise ValueError(msg)


def _rows(
    base: dict[str, Any],
    choices: list[Any],
    gold_index: Any,
    texts: list[Any],
    logprobs: list[Any],
    golds: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    reference = golds if golds else _golds(choices, gold_index)
    is_choices = bool(choices) and len(logprobs) == len(choices) and not texts
    if is_choices:
        # As lm-eval's log-likelihood rows: no text pair (text metrics leave the row alone).
        row = {**base, "sample": 0, "continuations": [str(c) for c in choices]}
        try:
            row["choice_logprobs"] = [_loglikelihood(v) for v in logprobs]
            row["label"] = _label(gold_index, len(choices))
        except ValueError as e:
            row["choice_logprobs"] = row["label"] = None
            row[ERROR_CHOICES] = str(e)
        yield row
        return
    if not texts:
        yield {**base, "sample": 0, ERROR_TEXT: "the record holds no generated text"}
        return
    for i, text in enumerate(texts):
        row = {**base, "sample": i, "reference": reference or None}
        if isinstance(text, str):
            row["prediction"] = text
        else:
            row[ERROR_TEXT] = f"generated text {text!r} is not a string"
        yield row


def _harness(metrics: Any) -> dict[str, float | None]:
    metrics = _literal(metrics)
    if not isinstance(metrics, dict):
        return {}
    return {harness_column(str(k)): metric_value(v) for k, v in metrics.items()}


def _vectorisable(pf: pq.ParquetFile) -> bool:
    """Whether the current schema has the plain types the vectorised path reads."""
    if schema_kind(pf.schema_arrow) != "current":
        return False
    doc = pf.schema_arrow.field("doc").type
    resp = pf.schema_arrow.field("model_response").type

    def child(t: pa.DataType, name: str) -> pa.DataType | None:
        i = t.get_field_index(name)
        return t.field(i).type if i >= 0 else None

    def is_list_of(t: pa.DataType | None, pred: Any) -> bool:
        return t is not None and pa.types.is_list(t) and pred(t.value_type)

    def text_type(t: pa.DataType) -> bool:  # datasets types an always-empty list list<null>
        return bool(pa.types.is_string(t) or pa.types.is_null(t))

    def number_type(t: pa.DataType) -> bool:
        return bool(pa.types.is_floating(t) or pa.types.is_null(t))

    gold = child(doc, "gold_index")
    texts = child(resp, "text")
    post = child(resp, "text_post_processed")
    metric = pf.schema_arrow.field("metric").type if "metric" in pf.schema_arrow.names else None
    return (
        is_list_of(child(doc, "choices"), pa.types.is_string)
        and gold is not None
        and pa.types.is_integer(gold)
        and is_list_of(texts, text_type)
        and (post is None or pa.types.is_null(post) or is_list_of(post, text_type))
        and is_list_of(child(resp, "logprobs"), number_type)
        and (metric is None or pa.types.is_struct(metric))
    )


def _vector_table(
    batch: pa.RecordBatch,
    start: int,
    model: str | None,
    task: str | None,
    out_schema: pa.Schema,
) -> pa.Table:
    """The rows of one batch of a current-schema file, with Arrow kernels (no Python per row):
    the same rows :func:`_rows` makes."""
    import numpy as np
    import pyarrow.compute as pc

    n = batch.num_rows
    doc = batch.column("doc")
    resp = batch.column("model_response")
    choices = pc.struct_field(doc, "choices")
    gold = pc.struct_field(doc, "gold_index").cast(pa.int64())
    texts = pc.struct_field(resp, "text").cast(pa.list_(pa.string()))
    if resp.type.get_field_index("text_post_processed") >= 0:
        post = pc.struct_field(resp, "text_post_processed")
        if not pa.types.is_null(post.type):
            post = post.cast(pa.list_(pa.string()))
            texts = pc.if_else(pc.is_valid(post), post, texts)
    logprobs = pc.struct_field(resp, "logprobs").cast(pa.list_(pa.float64()))
    n_choices = pc.fill_null(pc.list_value_length(choices), 0).to_numpy(zero_copy_only=False)
    n_lp = pc.fill_null(pc.list_value_length(logprobs), 0).to_numpy(zero_copy_only=False)
    n_text = pc.fill_null(pc.list_value_length(texts), 0).to_numpy(zero_copy_only=False)
    is_mc = (n_choices > 0) & (n_lp == n_choices) & (n_text == 0)
    counts = np.where(is_mc | (n_text == 0), 1, n_text).astype(np.int64)
    idx = np.repeat(np.arange(n, dtype=np.int64), counts)
    firsts = np.cumsum(counts) - counts
    sample = np.arange(len(idx), dtype=np.int64) - np.repeat(firsts, counts)
    take = pa.array(idx)

    ids = pc.struct_field(doc, "id") if doc.type.get_field_index("id") >= 0 else None
    positions = _positions(start, n)
    if ids is not None:
        ids = ids.cast(pa.string())
        example = pc.if_else(pc.fill_null(pc.not_equal(ids, ""), False), ids, positions)
    else:
        example = positions

    # The gold choice's text as the one reference (Doc.get_golds with one gold index).
    g = gold.to_numpy(zero_copy_only=False)
    gold_ok = ~np.isnan(g.astype(np.float64)) & (g >= 0) & (g < n_choices)
    choice_offsets = choices.offsets.to_numpy()[:n] if n else np.zeros(0, np.int64)
    flat_choices = choices.values if n else pa.array([], pa.string())
    gold_pos = np.where(gold_ok, choice_offsets + np.where(gold_ok, g, 0), 0).astype(np.int64)
    gold_text = pc.take(flat_choices, pa.array(gold_pos)) if len(flat_choices) else None
    gen = ~is_mc[idx]
    ref_valid = gen & gold_ok[idx]
    if gold_text is not None:
        ref_values = pc.take(gold_text, take)
        reference = pa.ListArray.from_arrays(
            pa.array(np.arange(len(idx) + 1, dtype=np.int32)),
            ref_values,
            mask=pa.array(~ref_valid),
        )
    else:
        reference = pa.nulls(len(idx), pa.list_(pa.string()))

    text_offsets = texts.offsets.to_numpy()[:n] if n else np.zeros(0, np.int64)
    has_text = gen & (sample < n_text[idx])
    text_pos = np.where(has_text, text_offsets[idx] + sample, 0)
    flat_texts = texts.values
    prediction = (
        pc.if_else(pa.array(has_text), pc.take(flat_texts, pa.array(text_pos)), None)
        if len(flat_texts)
        else pa.nulls(len(idx), pa.string())
    )
    error_text = pc.if_else(
        pa.array(gen & (n_text[idx] == 0)), "the record holds no generated text", None
    )

    mc = pa.array(is_mc[idx])
    label_ok = is_mc & gold_ok
    label = pc.if_else(pa.array(label_ok[idx]), pc.take(gold, take), None)
    error_choices = pc.if_else(
        pa.array((is_mc & ~gold_ok)[idx]),
        pc.binary_join_element_wise(
            "gold_index ",
            pc.take(gold, take).cast(pa.string()).fill_null("None"),
            " is not one of the choices",
            "",
        ),
        None,
    )
    choice_logprobs = pc.if_else(pa.array(label_ok[idx]), pc.take(logprobs, take), None)
    continuations = pc.if_else(mc, pc.take(choices, take), None)

    columns: dict[str, Any] = {
        "model": pa.repeat(pa.scalar(model, pa.string()), len(idx)),
        "task": pa.repeat(pa.scalar(task, pa.string()), len(idx)),
        "example_id": pc.take(example, take),
        "sample": pa.array(sample),
        "prediction": prediction,
        "reference": reference,
        "choice_logprobs": choice_logprobs,
        "label": label,
        "continuations": continuations,
        ERROR_TEXT: error_text,
        ERROR_CHOICES: error_choices,
    }
    if "metric" in batch.schema.names:
        columns |= _harness_columns(batch.column("metric"), out_schema, take)
    arrays = [
        columns[f.name].cast(f.type) if f.name in columns else pa.nulls(len(idx), f.type)
        for f in out_schema
    ]
    return pa.Table.from_arrays(arrays, schema=out_schema)


def _harness_columns(metrics: Any, out_schema: pa.Schema, take: pa.Array) -> dict[str, Any]:
    """The ``harness_<name>`` columns of the output schema from the struct of lighteval's
    per-sample metrics, as float64 (all null for a field that is not a number), row ``take[k]``
    for output row ``k``."""
    import pyarrow.compute as pc

    columns = {}
    for i in range(metrics.type.num_fields):
        name = harness_column(metrics.type.field(i).name)
        if name in out_schema.names:
            values = pc.struct_field(metrics, [i])
            try:
                values = values.cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                values = pa.nulls(len(values), pa.float64())
            columns[name] = pc.take(values, take)
    return columns


def _positions(start: int, n: int) -> pa.Array:
    """The records' positions in the file as strings (the example id where none is kept)."""
    import numpy as np

    return pa.array(np.arange(start, start + n, dtype=np.int64)).cast(pa.string())


def _flat_vectorisable(pf: pq.ParquetFile) -> bool:
    """Whether a flat-schema file has typed (not ``str()``-written) generation columns and
    numeric metrics, which :func:`_flat_vector_table` reads."""
    s = pf.schema_arrow
    if schema_kind(s) != "flat" or "gold" not in s.names:
        return False

    def strings(name: str) -> bool:
        t = s.field(name).type
        return bool(pa.types.is_list(t) and pa.types.is_string(t.value_type))

    def number(t: pa.DataType) -> bool:
        return bool(
            pa.types.is_floating(t)
            or pa.types.is_integer(t)
            or pa.types.is_boolean(t)
            or pa.types.is_null(t)
        )

    metrics = s.field("metrics").type if "metrics" in s.names else None
    return (
        strings("predictions")
        and strings("gold")
        and (
            metrics is None
            or (
                pa.types.is_struct(metrics)
                and all(number(metrics.field(i).type) for i in range(metrics.num_fields))
            )
        )
    )


def _flat_vector_table(
    batch: pa.RecordBatch,
    start: int,
    model: str | None,
    task: str | None,
    out_schema: pa.Schema,
) -> pa.Table | None:
    """The rows of one batch of a typed flat-schema file with Arrow kernels: the rows
    :func:`_rows` makes when every record lists its gold texts (``None`` when one does not:
    its reference comes from the choices, read record by record)."""
    import numpy as np
    import pyarrow.compute as pc

    n = batch.num_rows
    preds = batch.column("predictions")
    gold = batch.column("gold")
    if n and pc.min(pc.fill_null(pc.list_value_length(gold), 0)).as_py() == 0:
        return None
    n_text = pc.fill_null(pc.list_value_length(preds), 0).to_numpy(zero_copy_only=False)
    counts = np.where(n_text == 0, 1, n_text).astype(np.int64)
    idx = np.repeat(np.arange(n, dtype=np.int64), counts)
    firsts = np.cumsum(counts) - counts
    sample = np.arange(len(idx), dtype=np.int64) - np.repeat(firsts, counts)
    take = pa.array(idx)
    has = n_text[idx] > 0
    offsets = preds.offsets.to_numpy()[:n] if n else np.zeros(0, np.int64)
    values = preds.values
    if len(values):
        text_pos = np.where(has, offsets[idx] + sample, 0)
        prediction = pc.if_else(pa.array(has), pc.take(values, pa.array(text_pos)), None)
    else:
        prediction = pa.nulls(len(idx), pa.string())
    not_str = has & prediction.is_null().to_numpy(zero_copy_only=False)
    error_text = pc.if_else(
        pa.array(~has),
        "the record holds no generated text",
        pc.if_else(pa.array(not_str), "generated text None is not a string", None),
    )
    columns: dict[str, Any] = {
        "model": pa.repeat(pa.scalar(model, pa.string()), len(idx)),
        "task": pa.repeat(pa.scalar(task, pa.string()), len(idx)),
        "example_id": pc.take(_positions(start, n), take),
        "sample": pa.array(sample),
        "prediction": prediction,
        "reference": pc.if_else(pa.array(has), pc.take(gold, take), None),
        ERROR_TEXT: error_text,
    }
    if "metrics" in batch.schema.names:
        columns |= _harness_columns(batch.column("metrics"), out_schema, take)
    arrays = [
        columns[f.name].cast(f.type) if f.name in columns else pa.nulls(len(idx), f.type)
        for f in out_schema
    ]
    return pa.Table.from_arrays(arrays, schema=out_schema)


def iter_tables(path: AnyPath, rows: int) -> Iterator[pa.Table]:
    """Stream a details file's rows as tables of at most ``rows`` rows."""
    pf = _open(path)
    kind = schema_kind(pf.schema_arrow)
    out_schema = schema(path)
    model, task = model_and_task(path)
    if _vectorisable(pf):
        columns = list(_CURRENT_COLUMNS)
        if "text_post_processed" not in _children(pf, "model_response.x"):
            columns.remove("model_response.text_post_processed")
        if "id" not in _children(pf, "doc.x"):
            columns.remove("doc.id")
        if "metric" in pf.schema_arrow.names:
            columns.append("metric")
        start = 0
        try:
            for batch in pf.iter_batches(batch_size=max(1, rows), columns=columns):
                yield _vector_table(batch, start, model, task, out_schema)
                start += batch.num_rows
        except (pa.ArrowInvalid, OSError) as e:
            msg = f"{path}: cannot read Parquet data near record {start}: {e}"
            raise InputFormatError(msg) from e
        return
    names = set(pf.schema_arrow.names)
    buffer = RowBuffer(out_schema, rows)
    position = 0
    if kind == "current":
        columns = [c for c in _CURRENT_COLUMNS if c.split(".")[1] in _children(pf, c)]
        if "metric" in names:
            columns.append("metric")
    else:
        columns = [c for c in [*_FLAT_COLUMNS, "metrics"] if c in names]
    try:
        flat_vector = _flat_vectorisable(pf)
        batches = pf.iter_batches(batch_size=max(1, rows) if flat_vector else 8192, columns=columns)
        for batch in batches:
            fast = (
                _flat_vector_table(batch, position, model, task, out_schema)
                if flat_vector
                else None
            )
            if fast is not None:
                position += batch.num_rows
                last = buffer.flush()  # rows before it, in order
                if last is not None:
                    yield last
                yield fast
                continue
            for record in batch.to_pylist():
                base: dict[str, Any] = {"model": model, "task": task}
                if kind == "current":
                    doc = record.get("doc") or {}
                    resp = record.get("model_response") or {}
                    doc_id = doc.get("id")
                    base["example_id"] = doc_id if doc_id else str(position)
                    base.update(_harness(record.get("metric")))
                    post = resp.get("text_post_processed")
                    texts = _as_list(post if post is not None else resp.get("text"))
                    made = _rows(
                        base,
                        _as_list(doc.get("choices")),
                        doc.get("gold_index"),
                        texts,
                        _as_list(resp.get("logprobs")),
                    )
                else:
                    base["example_id"] = str(position)
                    base.update(_harness(record.get("metrics")))
                    choices = _as_list(_literal(record.get("choices")))
                    preds = _as_list(_literal(record.get("predictions")))
                    numeric = bool(preds) and all(not isinstance(p, str) for p in preds)
                    golds = [str(g) for g in _as_list(_literal(record.get("gold")))]
                    made = _rows(
                        base,
                        choices,
                        _literal(record.get("gold_index")),
                        [] if numeric else preds,
                        preds if numeric else [],
                        golds,
                    )
                position += 1
                for row in made:
                    table = buffer.add(row)
                    if table is not None:
                        yield table
    except (pa.ArrowInvalid, OSError) as e:
        msg = f"{path}: cannot read Parquet data near record {position}: {e}"
        raise InputFormatError(msg) from e
    last = buffer.flush()
    if last is not None:
        yield last


def _children(pf: pq.ParquetFile, dotted: str) -> set[str]:
    top = dotted.split(".")[0]
    t = pf.schema_arrow.field(top).type
    return {t.field(i).name for i in range(t.num_fields)} if pa.types.is_struct(t) else set()


__all__ = ["DETAILS_FILE", "count_rows", "iter_tables", "model_and_task", "recognise", "schema"]

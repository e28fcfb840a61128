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


def iter_tables(path: AnyPath, rows: int) -> Iterator[pa.Table]:
    """Stream a details file's rows as tables of at most ``rows`` rows."""
    pf = _open(path)
    kind = schema_kind(pf.schema_arrow)
    out_schema = schema(path)
    model, task = model_and_task(path)
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
        batches = pf.iter_batches(batch_size=8192, columns=columns)
        for batch in batches:
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

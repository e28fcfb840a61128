"""lm-evaluation-harness ``--log_samples`` files: recognise them, and turn records into rows.

lm-eval writes ``<output_path>/<model>/samples_<task>_<timestamp>.jsonl``, one JSON record per
(``doc_id``, ``filter``) with the fields ``doc_id``, ``doc``, ``target``, ``arguments``,
``resps``, ``filtered_resps``, ``filter``, ``metrics``, ``doc_hash``, ``prompt_hash``,
``target_hash`` and one field per metric. Before writing, it applies ``str()`` to every leaf of
``resps`` and ``filtered_resps`` and to ``target``:

- a multiple-choice (log-likelihood) task has one request per choice; ``arguments`` holds
  ``{"gen_args_<i>": {"arg_0": context, "arg_1": continuation}}`` and ``filtered_resps`` one
  ``["<log-likelihood>", "<is_greedy>"]`` per choice, e.g. ``[["-3.2", "False"], ...]``;
  ``target`` is usually the gold index (``"2"``), sometimes the gold choice's text;
- a generation task has one request whose ``arg_1`` is the generation-kwargs dict, and
  ``filtered_resps`` holds the filtered text (``["Paris"]``); ``target`` is the reference text
  or a stringified list of acceptable references (``"['Paris', 'paris']"``).

Each record becomes a row with ``model``, ``task``, ``filter``, ``doc_id``, ``prediction``,
``reference`` (a list of acceptable strings), ``choice_logprobs`` and ``label``. ``model`` and
``task`` come from the record if it carries them, else from the path. Stringified values are
read with :func:`parse_literal`, which only ever builds literals: a crafted log cannot run code.
A record whose values cannot be read gets nulls and a message in ``__rescore_error_choices`` or
``__rescore_error_text``, which the scoring step treats as an unscorable row (``--on-error``).
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from rescore.batch.text_blocks import iter_line_blocks
from rescore.exceptions import InputFormatError

SAMPLES_FILE = re.compile(
    r"^samples_(?P<task>.+)_(?P<timestamp>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)\.jsonl$"
)
"""File names lm-eval gives sample logs (the timestamp is ``datetime.isoformat()`` with ``-``)."""

ERROR_TEXT = "__rescore_error_text"
ERROR_CHOICES = "__rescore_error_choices"
"""Reserved columns carrying per-row read errors for text and choice inputs."""

COLUMNS = ("model", "task", "filter", "doc_id")
MAX_LITERAL_CHARS = 100_000
"""Longest stringified value :func:`parse_literal` reads (guards the parser's recursion)."""

_INT = re.compile(r"^[+-]?\d+$")


def schema(keep: Sequence[str] = ()) -> pa.Schema:
    """The schema of the rows made from sample logs (``keep`` columns are strings)."""
    fields = [
        pa.field("model", pa.string()),
        pa.field("task", pa.string()),
        pa.field("filter", pa.string()),
        pa.field("doc_id", pa.int64()),
        pa.field("prediction", pa.string()),
        pa.field("reference", pa.list_(pa.string())),
        pa.field("choice_logprobs", pa.list_(pa.float64())),
        pa.field("label", pa.int64()),
        pa.field(ERROR_TEXT, pa.string()),
        pa.field(ERROR_CHOICES, pa.string()),
    ]
    fields += [pa.field(k, pa.string()) for k in keep if k not in COLUMNS]
    return pa.schema(fields)


_NAMES = {"inf": math.inf, "nan": math.nan, "infinity": math.inf}
_NUMPY_CALLS = re.compile(r"^(?:float|int|uint)(?:16|32|64|128)?$|^(?:True_|False_|bool_)$")


def _literal(node: ast.AST) -> Any:
    """The value of a literal expression node; anything else is refused."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, (bytes, type(...))):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_literal(e) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict):
        keys = [_literal(k) if k is not None else _refuse(node) for k in node.keys]
        return dict(zip(keys, [_literal(v) for v in node.values], strict=True))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Name) and node.id.lower() in _NAMES:
        return _NAMES[node.id.lower()]
    if (  # NumPy reprs: np.float64(-3.2), np.True_ (values are read, nothing is called)
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("np", "numpy")
        and _NUMPY_CALLS.match(node.func.attr)
        and len(node.args) == 1
        and not node.keywords
    ):
        return _literal(node.args[0])
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("np", "numpy")
        and node.attr in ("True_", "False_", "inf", "nan")
    ):
        return {"True_": True, "False_": False, "inf": math.inf, "nan": math.nan}[node.attr]
    return _refuse(node)


def _refuse(node: ast.AST) -> Any:
    msg = f"not a literal: {ast.dump(node)[:80]}"
    raise ValueError(msg)


def parse_literal(text: str) -> Any:
    """Read a Python literal that lm-eval wrote with ``str()``, without evaluating anything.

    Numbers, strings, booleans, ``None``, tuples, lists and dicts, plus ``inf``/``nan`` (as
    ``str`` writes infinite floats) and NumPy scalar reprs such as ``np.float64(-3.2)``. The
    text is parsed into a syntax tree whose nodes are read one by one; names, calls,
    attributes and operators other than a sign are refused with :class:`ValueError`, so
    nothing in a log can run code.

    >>> parse_literal("(-inf, False)")
    (-inf, False)
    >>> parse_literal("np.float64(-0.5)")
    -0.5
    >>> parse_literal("__import__('os').system('echo hi')")
    Traceback (most recent call last):
    ...
    ValueError: not a Python literal: "__import__('os').system('echo hi')"
    """
    s = text.strip()
    if len(s) > MAX_LITERAL_CHARS:
        msg = f"value of {len(s)} characters is too long to be a literal"
        raise ValueError(msg)
    try:
        return _literal(ast.parse(s, mode="eval").body)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        msg = f"not a Python literal: {text!r}"
        raise ValueError(msg) from None


def _number(value: Any) -> float:
    """A log-likelihood from a stringified leaf, a JSON number, or a (ll, is_greedy) pair."""
    if isinstance(value, (list, tuple)):
        if not value:
            msg = "empty response"
            raise ValueError(msg)
        value = value[0]
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            value = parse_literal(value)
            if isinstance(value, (list, tuple)) and value:
                value = value[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    msg = f"not a log-likelihood: {value!r}"
    raise ValueError(msg)


def _first_arguments(args: Any) -> list[Any]:
    """The per-request argument tuples, from the dict lm-eval writes or an older list."""
    if isinstance(args, dict):
        keyed = []
        for k, v in args.items():
            m = re.fullmatch(r"gen_args_(\d+)", k)
            if m is not None and isinstance(v, dict):
                keyed.append((int(m.group(1)), [v[a] for a in sorted(v, key=_arg_index)]))
        return [v for _, v in sorted(keyed)]
    if isinstance(args, list):
        return [a if isinstance(a, list) else [a] for a in args]
    return []


def _arg_index(name: str) -> int:
    m = re.fullmatch(r"arg_(\d+)", name)
    return int(m.group(1)) if m else 1 << 30


def record_kind(record: dict[str, Any]) -> str:
    """``"choices"`` (log-likelihood per choice), ``"generation"`` or ``"other"``.

    A request's second argument is the generation-kwargs dict for ``generate_until`` and the
    continuation string for ``loglikelihood``; a one-argument request is a rolling
    log-likelihood (perplexity), which no metric here scores.
    """
    reqs = _first_arguments(record.get("arguments"))
    if reqs:
        first = reqs[0]
        if len(first) >= 2 and isinstance(first[1], dict):
            return "generation"
        if len(first) >= 2 and isinstance(first[1], str):
            return "choices" if len(reqs) >= 2 else "other"
        return "other"
    fr = record.get("filtered_resps")
    if isinstance(fr, list) and len(fr) >= 2 and all(isinstance(x, list) for x in fr):
        return "choices"
    return "generation"


def _label(target: Any, choices: Sequence[str]) -> int:
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if not isinstance(target, str):
        msg = f"target {target!r} is not a choice index"
        raise ValueError(msg)
    t = target.strip()
    if _INT.match(t):
        return int(t)
    stripped = [c.strip() for c in choices]
    if t in stripped:
        return stripped.index(t)
    try:
        value = parse_literal(t)
    except ValueError:
        value = None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list):
        msg = f"target {target!r} names several gold choices; one gold index is needed"
        raise ValueError(msg)
    msg = f"target {target!r} is neither a choice index nor one of the {len(choices)} choices"
    raise ValueError(msg)


def _references(target: Any) -> list[str]:
    if isinstance(target, list):
        return [str(t) for t in target]
    text = str(target)
    s = text.strip()
    if s.startswith("[") and s.endswith("]"):
        try:
            value = parse_literal(s)
        except ValueError:
            return [text]
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return value
    return [text]


def _prediction(filtered: Any) -> str:
    if not isinstance(filtered, list) or not filtered:
        msg = f"filtered_resps {filtered!r} holds no response"
        raise ValueError(msg)
    first = filtered[0]
    while isinstance(first, list):  # a filter without take_first: keep the first response
        if not first:
            msg = "filtered_resps holds an empty list of responses"
            raise ValueError(msg)
        first = first[0]
    return first if isinstance(first, str) else str(first)


def _keep_value(record: dict[str, Any], path: str) -> str | None:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def record_to_row(
    record: dict[str, Any], model: str | None, task: str | None, keep: Sequence[str]
) -> tuple[Any, ...]:
    """One row (in :func:`schema` order) from one parsed JSON record."""
    kind = record_kind(record)
    prediction: str | None = None
    reference: list[str] | None = None
    logprobs: list[float] | None = None
    label: int | None = None
    err_text: str | None = None
    err_choices: str | None = None
    target = record.get("target")
    if kind == "generation":
        try:
            prediction = _prediction(record.get("filtered_resps"))
            reference = None if target is None else _references(target)
        except ValueError as e:
            err_text = str(e)
            prediction = reference = None
    elif kind == "choices":
        try:
            resps = record.get("filtered_resps")
            if not isinstance(resps, list) or not resps:
                msg = f"filtered_resps {resps!r} holds no per-choice log-likelihoods"
                raise ValueError(msg)
            logprobs = [_number(r) for r in resps]
            conts = [str(a[1]) for a in _first_arguments(record.get("arguments")) if len(a) > 1]
            label = None if target is None else _label(target, conts)
        except ValueError as e:
            err_choices = str(e)
            logprobs = None
            label = None
    rec_model = record.get("model")
    rec_task = record.get("task")
    flt = record.get("filter")
    doc_id = record.get("doc_id")
    return (
        rec_model if isinstance(rec_model, str) else model,
        rec_task if isinstance(rec_task, str) else task,
        flt if isinstance(flt, str) else "none",
        doc_id if isinstance(doc_id, int) and not isinstance(doc_id, bool) else None,
        prediction,
        reference,
        logprobs,
        label,
        err_text,
        err_choices,
        *(_keep_value(record, k) for k in keep if k not in COLUMNS),
    )


def looks_like_record(record: object) -> bool:
    """Whether a parsed JSON line has the fields of an lm-eval sample record."""
    return (
        isinstance(record, dict)
        and "doc_id" in record
        and "target" in record
        and ("filtered_resps" in record or "resps" in record)
    )


def model_and_task(path: Path) -> tuple[str | None, str | None]:
    """Model (the parent directory: lm-eval's sanitised model name) and task from the path."""
    m = SAMPLES_FILE.match(path.name)
    task = m.group("task") if m else None
    model = path.parent.name or None
    return model, task


def first_record(path: Path) -> object:
    """The first record of a JSONL file (``None`` if empty or not JSON)."""
    for _, block in iter_line_blocks(path, 1 << 20):
        for line in block.splitlines():
            if line.strip():
                try:
                    return json.loads(line)
                except ValueError:
                    return None
    return None


def iter_tables(path: Path, keep: Sequence[str], rows: int) -> Iterator[pa.Table]:
    """Stream the rows of a sample log as tables of at most ``rows`` rows.

    Lines that are not JSON objects raise :class:`~rescore.exceptions.InputFormatError`
    naming the line; values that cannot be read give per-row errors (see the module doc).
    """
    model, task = model_and_task(path)
    out_schema = schema(keep)
    buffer: list[tuple[Any, ...]] = []
    loads = json.loads
    for first_line, block in iter_line_blocks(path):
        for offset, line in enumerate(block.split(b"\n")[:-1]):
            if not line.strip():
                continue
            try:
                record = loads(line)
            except ValueError as e:
                msg = f"{path}: line {first_line + offset}: not valid JSON ({e})"
                raise InputFormatError(msg) from None
            if not isinstance(record, dict):
                msg = f"{path}: line {first_line + offset}: expected a JSON object per line"
                raise InputFormatError(msg)
            buffer.append(record_to_row(record, model, task, keep))
            if len(buffer) >= rows:
                yield _to_table(buffer, out_schema)
                buffer = []
    if buffer:
        yield _to_table(buffer, out_schema)


def _to_table(rows: list[tuple[Any, ...]], out_schema: pa.Schema) -> pa.Table:
    columns = zip(*rows, strict=True)
    arrays = [pa.array(col, f.type) for col, f in zip(columns, out_schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=out_schema)


__all__ = [
    "ERROR_CHOICES",
    "ERROR_TEXT",
    "SAMPLES_FILE",
    "first_record",
    "iter_tables",
    "looks_like_record",
    "model_and_task",
    "parse_literal",
    "record_kind",
    "record_to_row",
    "schema",
]

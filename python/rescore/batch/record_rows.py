"""The rows the evaluation-log readers make (lighteval, HELM, inspect_ai), built one record at a
time into Arrow tables.

Every reader of a harness's stored per-sample records gives the same columns:

``model``, ``task``
    From the record or its file's place (each reader says how).
``example_id``
    The harness's id of the example (a string; the row's position where the harness keeps none).
``sample``
    Which of several samples of one example (0, 1, ...: lighteval's ``num_samples``, HELM's
    completions, inspect_ai's epochs less one).
``prediction``, ``reference``
    The generated text and the list of acceptable answers.
``choice_logprobs``, ``label``, ``continuations``
    Per-choice log-likelihoods, the gold choice's index and the choices' texts (multiple choice).
``harness_<name>``
    The harness's own per-sample metric values (float), kept so they can be compared with
    rescore's.

A record whose values cannot be read gets nulls and a message in the reserved error columns of
:mod:`rescore.batch.lm_eval` (text or choices), which ``--on-error`` handles like any
unscorable row.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from rescore.batch.lm_eval import ERROR_CHOICES, ERROR_TEXT

HARNESS_PREFIX = "harness_"
KEYS = ("example_id", "sample")
"""Key columns every evaluation-log reader's rows carry (beside ``model`` and ``task``)."""

BASE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("model", pa.string()),
    pa.field("task", pa.string()),
    pa.field("example_id", pa.string()),
    pa.field("sample", pa.int64()),
    pa.field("prediction", pa.string()),
    pa.field("reference", pa.list_(pa.string())),
    pa.field("choice_logprobs", pa.list_(pa.float64())),
    pa.field("label", pa.int64()),
    pa.field("continuations", pa.list_(pa.string())),
    pa.field(ERROR_TEXT, pa.string()),
    pa.field(ERROR_CHOICES, pa.string()),
)


try:
    import orjson

    _fast_loads: Any = orjson.loads
except ImportError:  # pragma: no cover - orjson is optional
    _fast_loads = None


def loads(data: bytes) -> Any:
    """A JSON document: parsed by ``orjson`` when it is installed (several times faster),
    else, and for what ``orjson`` refuses (``NaN``, integers past 64 bits, which Python's
    ``json.dumps`` writes), by ``json``, whose error (a ``ValueError``) is raised."""
    if _fast_loads is not None:
        try:
            return _fast_loads(data)
        except ValueError:
            pass
    return json.loads(data)


@functools.lru_cache(maxsize=4096)
def harness_column(name: str) -> str:
    """The column of a harness metric: ``harness_`` and the name, characters other than
    letters, digits, ``_`` and ``.`` replaced by ``_`` (``"em@k"`` -> ``harness_em_k``)."""
    return HARNESS_PREFIX + re.sub(r"[^0-9A-Za-z_.]+", "_", name).strip("_")


def row_schema(
    harness: Iterable[str] = (), extra: Sequence[pa.Field] = (), keys: Sequence[str] = KEYS
) -> pa.Schema:
    """The rows' schema: the base columns, ``extra`` fields after ``sample``, then one float
    column per harness metric name (sorted, deduplicated)."""
    base = [f for f in BASE_FIELDS if f.name in ("model", "task") or f.name not in KEYS]
    key_fields = [f for f in BASE_FIELDS if f.name in KEYS and f.name in keys]
    fields = [*base[:2], *key_fields, *extra, *base[2:]]
    cols = sorted({harness_column(h) for h in harness})
    fields += [pa.field(c, pa.float64()) for c in cols]
    return pa.schema(fields)


_GRADES = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}


def metric_value(value: Any) -> float | None:
    """A harness metric's per-sample value as a float (``None`` if it is not a number).

    Booleans are 1/0; inspect_ai's letter grades are read as its ``value_to_float`` reads
    them by default (``C`` correct 1, ``P`` partial 0.5, ``I`` incorrect and ``N`` no answer 0).
    """
    if type(value) is float:  # the usual cases first: a float, a letter grade
        return value
    if type(value) is str and value in _GRADES:
        return _GRADES[value]
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        grade = _GRADES.get(value.strip().upper())
        if grade is not None:
            return grade
        try:
            return float(value)
        except ValueError:
            return None
    return None


def finite_or_none(value: Any) -> float | None:
    """A log-probability as a float, ``None`` if it is missing or not a number (NaN kept)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class RowBuffer:
    """Rows of one schema, gathered as dicts and handed out as tables of at most ``rows``."""

    def __init__(self, schema: pa.Schema, rows: int) -> None:
        self.schema = schema
        self.rows = max(1, rows)
        self._rows: list[Mapping[str, Any]] = []

    def add(self, row: Mapping[str, Any]) -> pa.Table | None:
        """Add a row (missing columns are null); a full table once ``rows`` are gathered."""
        self._rows.append(row)
        return self.flush() if len(self._rows) >= self.rows else None

    def flush(self) -> pa.Table | None:
        """The gathered rows as a table (``None`` if there are none)."""
        if not self._rows:
            return None
        rows, self._rows = self._rows, []
        arrays = [pa.array([r.get(f.name) for r in rows], f.type) for f in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (not a boolean)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


__all__ = [
    "BASE_FIELDS",
    "HARNESS_PREFIX",
    "KEYS",
    "RowBuffer",
    "finite_or_none",
    "harness_column",
    "is_number",
    "loads",
    "metric_value",
    "row_schema",
]

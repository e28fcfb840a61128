"""A batch job's settings: metrics with their options, column roles, tokenizer, error policy.

A :class:`ScoreSpec` is everything :func:`~rescore.batch.score_table.score_table` needs besides
the data. It is plain data (JSON-serialisable with :meth:`ScoreSpec.to_dict`), so a distributed
engine can ship it to workers, and its :meth:`~ScoreSpec.fingerprint` identifies the settings
that decide the output (``workers`` does not: results never depend on it).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import pyarrow as pa

from rescore.exceptions import InvalidOptionError, MissingColumnError
from rescore.registry import (
    DEFAULT_COLUMNS,
    ROLE_TYPES,
    ROLES,
    Metric,
    Role,
    builtin_metrics,
    get_metric,
)

OnErrorMode = Literal["raise", "null", "skip"]
ON_ERROR_MODES: tuple[OnErrorMode, ...] = ("raise", "null", "skip")

KEY_COLUMNS = ("model", "task")
"""Key columns every output has (null where the input does not say)."""
TARGET_LENGTH = "target_length"
"""Output column: the reference's length in the job's tokens (the shortest of several), written
with tokenizing metrics; the emergence analysis's mirage model reads it as the target length."""


@dataclass(frozen=True)
class MetricSpec:
    """One metric to compute, with its keyword options (besides ``workers``/``on_error``)."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    plugin: Metric | None = field(default=None, compare=False, repr=False)
    """A plugin's entry, carried along so that a worker process (Ray) can register it."""

    @property
    def entry(self) -> Metric:
        """The registry entry."""
        return self.plugin if self.plugin is not None else get_metric(self.name)

    @property
    def inputs(self) -> str:
        """The registry input kind: ``sequences``, ``text`` or ``choices``."""
        return self.entry.inputs

    def output_type(self) -> pa.DataType:
        """The Arrow type of this metric's column (fixed by the options, never by the data)."""
        return self.entry.arrow_type(self.options)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.name, "options": dict(sorted(self.options.items()))}


@dataclass(frozen=True)
class TokenizerSpec:
    """How text becomes tokens for ``token_edit_distance``.

    ``kind`` is ``"ids"`` (use the token-id columns as they are), ``"whitespace"`` or
    ``"characters"`` (built-in rules, applied in the Rust kernel), or ``"hf"``: a Hugging Face
    ``tokenizer.json`` at ``path`` (content hash ``sha256``), applied in batches.
    """

    kind: Literal["ids", "whitespace", "characters", "hf"] = "whitespace"
    path: str | None = None
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kind": self.kind, "path": self.path, "sha256": self.sha256}

    def describe(self) -> str:
        """A one-line description for metadata and summaries."""
        if self.kind == "hf":
            return f"hf:{self.path} (sha256 {str(self.sha256)[:12]})"
        return self.kind


@dataclass(frozen=True)
class ColumnMap:
    """Which input column plays which role, and which key columns the output keeps.

    A role left ``None`` is absent: metrics needing it are not computed (the job checks this
    before any work).
    """

    prediction: str | None = None
    reference: str | None = None
    prediction_ids: str | None = None
    reference_ids: str | None = None
    choices: str | None = None
    label: str | None = None
    keys: tuple[str, ...] = KEY_COLUMNS

    def role(self, role: Role) -> str | None:
        """The column playing ``role``, if any."""
        return cast("str | None", getattr(self, role))

    def input_columns(self) -> list[str]:
        """Every input column the job reads, keys first, without duplicates."""
        names = [*self.keys, *(c for r in ROLES if (c := self.role(r)) is not None)]
        return list(dict.fromkeys(names))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        d: dict[str, Any] = {r: self.role(r) for r in ROLES}
        d["keys"] = list(self.keys)
        return d


@dataclass(frozen=True)
class ScoreSpec:
    """Everything a scoring step needs besides the data.

    ``rescore.score`` builds one from its arguments, resolving default column names against the
    input schema (:func:`resolve_columns`); build one directly when the names are known, e.g.
    for Ray Data::

        spec = ScoreSpec(metrics=(MetricSpec("exact_match"),),
                         columns=ColumnMap(prediction="pred", reference="ref"))
        ds.map_batches(lambda t: score_table(t, spec), batch_format="pyarrow")
    """

    metrics: tuple[MetricSpec, ...]
    columns: ColumnMap
    tokenizer: TokenizerSpec = TokenizerSpec()
    on_error: OnErrorMode = "raise"
    workers: int = -1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``workers`` included; :meth:`fingerprint` leaves it out)."""
        return {
            "metrics": [m.to_dict() for m in self.metrics],
            "columns": self.columns.to_dict(),
            "tokenizer": self.tokenizer.to_dict(),
            "on_error": self.on_error,
            "workers": self.workers,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScoreSpec:
        """Inverse of :meth:`to_dict`."""
        cols = dict(d["columns"])
        keys = tuple(cols.pop("keys"))
        return cls(
            metrics=tuple(MetricSpec(m["name"], dict(m["options"])) for m in d["metrics"]),
            columns=ColumnMap(**cols, keys=keys),
            tokenizer=TokenizerSpec(**d["tokenizer"]),
            on_error=d["on_error"],
            workers=int(d.get("workers", -1)),
        )

    def fingerprint(self, **extra: Any) -> str:
        """SHA-256 of the settings that decide the output, plus ``extra`` (inputs, batching)."""
        d = self.to_dict()
        del d["workers"]
        d.update(extra)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def writes_target_length(self) -> bool:
        """Whether the output gets a :data:`TARGET_LENGTH` column: a tokenizing metric runs
        (and no kept column has the name)."""
        return TARGET_LENGTH not in self.columns.keys and any(
            m.entry.tokenizes for m in self.metrics
        )

    def output_schema(self, key_types: Mapping[str, pa.DataType]) -> pa.Schema:
        """The output schema: key columns (types from ``key_types``), ``target_length`` where
        written, then one column per metric."""
        fields = [pa.field(k, key_types.get(k, pa.string())) for k in self.columns.keys]
        if self.writes_target_length:
            fields.append(pa.field(TARGET_LENGTH, pa.uint32()))
        fields += [pa.field(m.name, m.output_type()) for m in self.metrics]
        return pa.schema(fields)


# --- parsing user settings -------------------------------------------------------------------


def parse_option_value(text: str) -> Any:
    """A CLI option value: booleans, ``none``/``null``, numbers, JSON lists, else the string.

    >>> [parse_option_value(v) for v in ["true", "none", "3", "0.5", '["a", "b"]', "max"]]
    [True, None, 3, 0.5, ['a', 'b'], 'max']
    """
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("none", "null", ""):
        return None
    if re.fullmatch(r"[+-]?\d+", low):
        return int(low)
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", low):
        return float(low)
    if text.strip().startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def parse_options(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``["exact_match.ignore_case=true", ...]`` to ``{"exact_match": {"ignore_case": True}}``.

    Metric and option names are checked against the registry.
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        m = re.fullmatch(r"\s*([A-Za-z_][\w]*)\.([A-Za-z_]\w*)\s*=(.*)", item, flags=re.DOTALL)
        if m is None:
            example = "exact_match.ignore_case=true"
            msg = f"--option {item!r}: expected METRIC.OPTION=VALUE, e.g. {example}"
            raise InvalidOptionError(msg)
        metric, name, value = m.group(1), m.group(2), m.group(3)
        try:
            get_metric(metric).option(name)
        except InvalidOptionError as e:
            msg = f"--option {item!r}: {e}"
            raise InvalidOptionError(msg) from None
        out.setdefault(metric, {})[name] = parse_option_value(value)
    return out


def _first_present(candidates: Sequence[str], names: Sequence[str]) -> str | None:
    return next((c for c in candidates if c in names), None)


def missing_column_message(what: str, column: str, names: Sequence[str], where: str) -> str:
    """The message of a :class:`MissingColumnError` for ``column`` absent from ``where``."""
    avail = ", ".join(names) or "(none)"
    return f"{what}: column {column!r} is not in {where}; available columns: {avail}"


def resolve_columns(
    names: Sequence[str],
    *,
    explicit: Mapping[Role, str | None],
    keys: Sequence[str],
    where: str,
) -> ColumnMap:
    """Map roles to columns of ``names``: the explicit ones (which must exist), else defaults.

    Parameters
    ----------
    names
        The columns the input has.
    explicit
        Columns named by the user per role; a missing one raises
        :class:`~rescore.exceptions.MissingColumnError` listing ``names``.
    keys
        Key columns to keep; each must exist except ``model`` and ``task`` (null if absent).
    where
        The input's description, for messages.
    """
    roles: dict[str, str | None] = {}
    for role in ROLES:
        col = explicit.get(role)
        if col is not None:
            if col not in names:
                msg = missing_column_message(f"--{role.replace('_', '-')}-col", col, names, where)
                raise MissingColumnError(msg)
            roles[role] = col
        else:
            roles[role] = _first_present(DEFAULT_COLUMNS[role], names)
    for k in keys:
        if k not in names and k not in KEY_COLUMNS:
            msg = missing_column_message("--keep-cols", k, names, where)
            raise MissingColumnError(msg)
    return ColumnMap(**roles, keys=tuple(dict.fromkeys(keys)))


def metric_roles(
    metric: str | Metric, columns: ColumnMap, tokenizer: TokenizerSpec
) -> tuple[Role, Role]:
    """The two roles a metric reads with these columns and tokenizer (see
    :meth:`rescore.registry.Metric.roles`)."""
    entry = get_metric(metric) if isinstance(metric, str) else metric
    present = [r for r in ROLES if columns.role(r) is not None]
    return entry.roles(present, token_ids=tokenizer.kind == "ids")


def applicable_metrics(columns: ColumnMap, tokenizer: TokenizerSpec) -> list[str]:
    """The default metric set's metrics whose input columns are all mapped (the default
    ``--metrics``; see :attr:`rescore.registry.Metric.default`)."""
    out = []
    for name, entry in builtin_metrics().items():
        if not entry.default:
            continue
        a, b = metric_roles(entry, columns, tokenizer)
        if columns.role(a) is not None and columns.role(b) is not None:
            out.append(name)
    return out


def check_metric_columns(
    metrics: Sequence[MetricSpec],
    columns: ColumnMap,
    tokenizer: TokenizerSpec,
    names: Sequence[str],
    where: str,
) -> None:
    """Raise :class:`MissingColumnError` if a metric's input roles have no column."""
    for m in metrics:
        for role in metric_roles(m.entry, columns, tokenizer):
            if columns.role(role) is None:
                tried = ", ".join(DEFAULT_COLUMNS[role])
                avail = ", ".join(names) or "(none)"
                flag = f"--{role.replace('_', '-')}-col"
                msg = (
                    f"{m.name} needs a {role} column: give {flag}, or name one of {tried}; "
                    f"{where} has columns: {avail}"
                )
                raise MissingColumnError(msg)


def with_workers(spec: ScoreSpec, workers: int) -> ScoreSpec:
    """``spec`` with another ``workers`` (does not change the fingerprint)."""
    return replace(spec, workers=workers)


__all__ = [
    "DEFAULT_COLUMNS",
    "KEY_COLUMNS",
    "ON_ERROR_MODES",
    "ROLES",
    "ROLE_TYPES",
    "TARGET_LENGTH",
    "ColumnMap",
    "MetricSpec",
    "OnErrorMode",
    "Role",
    "ScoreSpec",
    "TokenizerSpec",
    "applicable_metrics",
    "check_metric_columns",
    "metric_roles",
    "parse_option_value",
    "parse_options",
    "resolve_columns",
]

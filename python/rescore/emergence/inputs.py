"""Reading score tables and deciding which columns are metrics, with which direction.

Inputs are the batch job's output (a directory of ``part-*.parquet`` files plus a
``_manifest.json``, one row per example) or aggregated result tables (CSV, JSON, Parquet; one row
per run). Files whose name starts with ``_`` or ``.`` are skipped inside a directory.

**Null policy.** A metric value that is null, NaN or one of the configured sentinel values
(``null_values``, e.g. ``-100``) is *missing*: it is never averaged in as a number, and every
aggregate reports how many values were missing (``n_missing``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import polars as pl

from rescore.emergence.result import MetricColumn
from rescore.exceptions import (
    InvalidInputError,
    InvalidOptionError,
    MissingColumnError,
    UnknownMetricError,
    UnsupportedTypeError,
)
from rescore.registry import METRICS

Source = str | Path | pl.DataFrame | pl.LazyFrame


def _files_in(directory: Path) -> list[Path]:
    found = []
    for path in sorted(directory.rglob("*")):
        parts = path.relative_to(directory).parts
        if any(p.startswith(("_", ".")) for p in parts):
            continue
        if path.is_file() and path.suffix.lower() == ".parquet":
            found.append(path)
    if not found:
        msg = f"{directory}: no Parquet files in this directory (files named _* or .* are skipped)"
        raise InvalidInputError(msg)
    return found


def _scan_file(path: Path) -> pl.LazyFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pl.scan_parquet(path)
    if suffix in {".csv", ".tsv"}:
        sep = "\t" if suffix == ".tsv" else ","
        return pl.scan_csv(path, separator=sep, infer_schema_length=10_000)
    if suffix in {".jsonl", ".ndjson"}:
        return pl.scan_ndjson(path, infer_schema_length=10_000)
    if suffix == ".json":
        return pl.read_json(path, infer_schema_length=10_000).lazy()
    msg = f"{path}: cannot read {suffix or 'files without a suffix'}; use Parquet, CSV or JSON"
    raise InvalidOptionError(msg)


def read_scores(sources: Source | Sequence[Source]) -> pl.LazyFrame:
    """Scan score tables: directories of Parquet files, Parquet/CSV/JSON files, or frames.

    Several sources are concatenated by column name (missing columns become null).

    Examples
    --------
    >>> import polars as pl
    >>> read_scores(pl.DataFrame({"model": ["a"], "exact_match": [True]})).collect().shape
    (1, 2)
    """
    items: list[Source] = (
        [sources] if isinstance(sources, str | Path | pl.DataFrame | pl.LazyFrame) else [*sources]
    )
    if not items:
        msg = "no score files given"
        raise InvalidInputError(msg)
    frames: list[pl.LazyFrame] = []
    for item in items:
        if isinstance(item, pl.DataFrame):
            frames.append(item.lazy())
        elif isinstance(item, pl.LazyFrame):
            frames.append(item)
        else:
            path = Path(item)
            if path.is_dir():
                frames.append(pl.scan_parquet(_files_in(path)))
            elif path.is_file():
                frames.append(_scan_file(path))
            else:
                msg = f"{path}: no such file or directory"
                raise InvalidInputError(msg)
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")


def resolve_metrics(
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
    *,
    metrics: Sequence[str] | None = None,
    higher_is_better: Iterable[str] = (),
    lower_is_better: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> list[MetricColumn]:
    """Decide which columns are metrics and their direction.

    Without ``metrics``, every column named after a catalogue metric is one, plus the columns
    listed in ``higher_is_better`` / ``lower_is_better``. A requested column outside the
    catalogue without a direction is an error that says how to give one.

    Examples
    --------
    >>> import polars as pl
    >>> schema = {"model": pl.String, "exact_match": pl.Boolean, "edit_distance": pl.Int64}
    >>> [(m.name, m.higher_is_better) for m in resolve_metrics(schema,
    ...                                       lower_is_better=["edit_distance"])]
    [('exact_match', True), ('edit_distance', False)]
    """
    higher, lower = list(dict.fromkeys(higher_is_better)), list(dict.fromkeys(lower_is_better))
    both = sorted(set(higher) & set(lower))
    if both:
        msg = f"{', '.join(both)}: listed as both higher-is-better and lower-is-better"
        raise InvalidOptionError(msg)
    excluded = set(exclude)
    if metrics is None:
        names = [c for c in schema if c in METRICS and c not in excluded]
        names += [c for c in [*higher, *lower] if c not in names]
    else:
        names = list(dict.fromkeys(metrics))
    if not names:
        known = ", ".join(METRICS)
        msg = (
            f"no metric columns found among {', '.join(schema)}; name them with --metrics "
            f"(catalogue metrics: {known}) and give the direction of others with "
            "--higher-is-better / --lower-is-better"
        )
        raise MissingColumnError(msg)
    missing = [n for n in names if n not in schema]
    if missing:
        msg = (
            f"metric column(s) {', '.join(missing)} not in the input; columns: {', '.join(schema)}"
        )
        raise MissingColumnError(msg)
    specs = []
    for name in names:
        dtype = schema[name]
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            msg = f"metric column `{name}` must be numeric or boolean, got {dtype}"
            raise UnsupportedTypeError(msg)
        entry = METRICS.get(name)
        if name in higher or name in lower:
            continuous = entry.continuous if entry is not None else None
            specs.append(MetricColumn(name, name in higher, continuous, "option"))
        elif entry is not None:
            specs.append(MetricColumn(name, entry.higher_is_better, entry.continuous, "catalogue"))
        else:
            msg = (
                f"column `{name}` is not a catalogue metric, so its direction is unknown: pass "
                f"--higher-is-better {name} or --lower-is-better {name} (catalogue metrics: "
                f"{', '.join(METRICS)})"
            )
            raise UnknownMetricError(msg)
    return specs


def clean_metrics(
    lf: pl.LazyFrame, metrics: Sequence[str], null_values: Iterable[float] = ()
) -> pl.LazyFrame:
    """Metric columns with NaN and sentinel values turned into nulls.

    Float columns become ``Float64``; integer and boolean columns keep their type (exact
    statistics come from their value counts, which group faster on the narrow type).

    >>> import polars as pl
    >>> df = pl.DataFrame({"m": [1.0, -100.0, float("nan"), None], "k": [1, -100, 2, 3]})
    >>> out = clean_metrics(df.lazy(), ["m", "k"], [-100]).collect()
    >>> out["m"].to_list(), out["k"].to_list()
    ([1.0, None, None, None], [1, None, 2, 3])
    """
    sentinels = [float(v) for v in null_values]
    schema = lf.collect_schema()
    exprs = []
    for name in metrics:
        dtype = schema[name]
        col = pl.col(name)
        if dtype == pl.Boolean:
            continue
        if dtype.is_integer():
            if sentinels:
                missing = col.cast(pl.Float64).is_in(sentinels)
                exprs.append(pl.when(missing).then(None).otherwise(col).alias(name))
            continue
        col = col.cast(pl.Float64)
        missing = col.is_nan()
        if sentinels:
            missing = missing | col.is_in(sentinels)
        exprs.append(pl.when(missing).then(None).otherwise(col).alias(name))
    return lf.with_columns(exprs) if exprs else lf


__all__ = ["Source", "clean_metrics", "read_scores", "resolve_metrics"]

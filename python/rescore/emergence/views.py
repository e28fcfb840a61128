"""The newer views of scale: per-example correlation, loss as the x-axis, resolution curves.

Each view adds columns to the emergence table (one row per curve) and a figure:

- **Per-example correlation** (after Schaeffer et al. 2024, arXiv 2406.04391, who correlate
  each example's score with compute across a family): for every example, Spearman's rank
  correlation between its score (averaged over replicates) and the scale, across the family's
  placed models, signed so that positive means improving. ``smooth_example_share`` is the share
  of the examples (seen by at least ``min_models`` models) whose correlation is at least
  ``smooth_correlation``; ``constant_example_share`` the share whose score never changes (no
  correlation defined: an exact-match example every model gets right, or wrong).
  Spearman (not Pearson) and the threshold are rescore's choices: ranks make the answer the
  same on every scale axis.
- **Loss as the x-axis** (Du et al. 2024, arXiv 2403.15796): each model's loss is the mean of a
  column the user names (``loss_col``), or else the mean negative gold log-likelihood the data
  holds: per token from ``token_logprobs`` (the log-probabilities of the reference tokens), or
  per example from ``choice_logprobs`` at ``label`` (the gold choice). It is pooled over all of a
  model's rows. ``curves`` gets a ``loss`` column, and ``loss_leaves_chance`` is the loss of the
  worst (highest-loss) model from which every model of lower loss has its interval entirely on
  the better side of ``chance``: the loss at which the metric leaves chance, read from the
  data (null when the curve never leaves chance, or already does at the highest loss
  observed). ``chance`` is the user's ``METRIC=VALUE``, else for a higher-is-better
  all-or-nothing metric the mean of ``1 / number of choices`` when the rows have
  ``choice_logprobs``, else 0; other metrics have no chance level unless named.
- **Resolution** (Hu et al. 2023, PassUntil, arXiv 2310.03262): with several samples per
  example (``replicate_col``), each example's score is its success rate over the samples, not
  0/1, so a model's mean can be resolved below ``1 / n``. ``rates_below_1_over_n`` counts the
  curve's points with a mean in ``(0, 1 / n)``, which one sample per example could not show
  (null when the curve has no repeated samples or is not all-or-nothing); the resolution
  figure draws these curves on a log axis with the ``1 / n`` and ``1 / (n k)`` floors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from rescore.emergence.aggregate import ENGINE
from rescore.emergence.inputs import clean_metrics
from rescore.emergence.result import MetricColumn
from rescore.exceptions import InvalidInputError, InvalidOptionError, MissingColumnError

TOKEN_LOGPROBS = "token_logprobs"
"""Per-token log-probabilities of the reference tokens (a list column)."""
CHOICE_LOGPROBS = "choice_logprobs"
"""Per-choice log-likelihoods of a multiple-choice example (a list column)."""
LABEL = "label"
"""The index of the gold choice."""
DEFAULT_SMOOTH_CORRELATION = 0.5
"""An example improves smoothly when its Spearman correlation with scale is at least this."""

EXAMPLE_COLUMNS = {
    "n_examples": pl.Int64,
    "example_correlation_median": pl.Float64,
    "smooth_example_share": pl.Float64,
    "constant_example_share": pl.Float64,
}
LOSS_COLUMNS = {"chance": pl.Float64, "loss_leaves_chance": pl.Float64}
RESOLUTION_COLUMNS = {"rates_below_1_over_n": pl.Int64}
VIEW_COLUMNS: dict[str, Any] = {**EXAMPLE_COLUMNS, **LOSS_COLUMNS, **RESOLUTION_COLUMNS}
"""The columns these views add to the emergence table, in order."""


def parse_chance(items: Iterable[str]) -> dict[str, float]:
    """``METRIC=VALUE`` items as a mapping.

    >>> parse_chance(["multiple_choice_grade=0.25"])
    {'multiple_choice_grade': 0.25}
    """
    out: dict[str, float] = {}
    for item in items:
        metric, _, value = str(item).partition("=")
        try:
            level = float(value)
        except ValueError:
            level = math.nan
        if not metric.strip() or not math.isfinite(level):
            msg = f"chance {item!r}: expected METRIC=VALUE, e.g. multiple_choice_grade=0.25"
            raise InvalidOptionError(msg)
        out[metric.strip()] = level
    return out


def _placement(models: pl.DataFrame, model_col: str) -> pl.DataFrame:
    return models.filter(pl.col("placed")).select(
        pl.col("model").alias(model_col), "family", "scale"
    )


def example_correlations(
    lf: pl.LazyFrame,
    models: pl.DataFrame,
    metrics: Sequence[MetricColumn],
    *,
    keys: Sequence[str],
    curve_keys: Sequence[str],
    doc_col: str,
    null_values: Iterable[float] = (),
) -> pl.DataFrame:
    """Per (curve, metric, example): the models that scored it and its signed correlation.

    Returns ``*curve_keys, metric, <doc_col>, n_models, correlation`` (null when the example's
    score is the same for every model).

    >>> import polars as pl
    >>> from rescore.emergence.result import MetricColumn
    >>> df = pl.DataFrame({"model": ["a", "b", "c"] * 2, "task": "t", "doc_id": [0] * 3 + [1] * 3,
    ...                    "err": [3.0, 2.0, 1.0, 1.0, 1.0, 1.0]})
    >>> models = pl.DataFrame({"model": ["a", "b", "c"], "family": "f", "scale": [1.0, 2.0, 3.0],
    ...                        "placed": True})
    >>> out = example_correlations(df.lazy(), models, [MetricColumn("err", False, True, "option")],
    ...                            keys=["model", "task"], curve_keys=["task", "family"],
    ...                            doc_col="doc_id")
    >>> out.select("doc_id", "n_models", "correlation").rows()
    [(0, 3, 1.0), (1, 3, None)]
    """
    names = [m.name for m in metrics]
    model_col = keys[0]
    per_doc = (
        clean_metrics(lf.select(*keys, doc_col, *names), names, null_values)
        .with_columns(pl.col(names).cast(pl.Float64))
        .group_by(*keys, doc_col)
        .agg(pl.col(names).mean())  # replicates: the per-example success rate
        .with_columns(pl.col(model_col).cast(pl.String))
        .join(_placement(models, model_col).lazy(), on=model_col, how="inner")
        .unpivot(index=[*keys, doc_col, "family", "scale"], on=names, variable_name="metric")
        .drop_nulls("value")
    )
    sign = pl.lit(0.0)
    for m in metrics:
        sign = (
            pl.when(pl.col("metric") == m.name)
            .then(1.0 if m.higher_is_better else -1.0)
            .otherwise(sign)
        )
    by = [*curve_keys, "metric", doc_col]
    found = (
        per_doc.group_by(by)
        .agg(
            pl.len().alias("n_models"),
            (pl.col("value").max() == pl.col("value").min()).alias("_constant"),
            pl.corr("value", "scale", method="spearman").alias("correlation"),
        )
        .with_columns(
            pl.when(pl.col("_constant") | pl.col("correlation").is_nan())
            .then(None)
            .otherwise(pl.col("correlation") * sign)
            .alias("correlation")
        )
        .drop("_constant")
        .collect(engine=ENGINE)
    )
    return found.with_columns(pl.col("n_models").cast(pl.Int64)).sort(by, nulls_last=True)


def summarise_examples(
    per_example: pl.DataFrame,
    curve_keys: Sequence[str],
    *,
    min_models: int,
    smooth_correlation: float = DEFAULT_SMOOTH_CORRELATION,
) -> pl.DataFrame:
    """Per curve: examples counted, median correlation, smooth and constant shares."""
    seen = per_example.filter(pl.col("n_models") >= min_models)
    n = pl.len().cast(pl.Float64)
    return seen.group_by([*curve_keys, "metric"]).agg(
        pl.len().cast(pl.Int64).alias("n_examples"),
        pl.col("correlation").median().alias("example_correlation_median"),
        ((pl.col("correlation") >= smooth_correlation).sum() / n).alias("smooth_example_share"),
        (pl.col("correlation").is_null().sum() / n).alias("constant_example_share"),
    )


def model_losses(
    lf: pl.LazyFrame, model_col: str, loss_col: str | None = None
) -> tuple[pl.DataFrame, str] | None:
    """Each model's loss (``model_col, loss``) and where it came from; ``None``: no source."""
    schema = lf.collect_schema()
    if loss_col is not None:
        if loss_col not in schema:
            msg = f"loss column `{loss_col}` not in the input; columns: {', '.join(schema)}"
            raise MissingColumnError(msg)
        if not schema[loss_col].is_numeric():
            msg = f"loss column `{loss_col}` must be numeric, got {schema[loss_col]}"
            raise InvalidInputError(msg)
        value = pl.col(loss_col).cast(pl.Float64)
        expr = value.filter(value.is_finite()).mean()
        source = f"mean of `{loss_col}`"
    elif TOKEN_LOGPROBS in schema and isinstance(schema[TOKEN_LOGPROBS], pl.List):
        logp = pl.col(TOKEN_LOGPROBS)
        expr = -logp.list.sum().sum() / logp.list.len().sum()
        source = f"mean negative `{TOKEN_LOGPROBS}` per token"
    elif (
        CHOICE_LOGPROBS in schema
        and isinstance(schema[CHOICE_LOGPROBS], pl.List | pl.Array)
        and LABEL in schema
        and schema[LABEL].is_integer()
    ):
        gold = pl.col(CHOICE_LOGPROBS).list.get(pl.col(LABEL), null_on_oob=True)
        expr = -gold.filter(gold.is_finite()).mean()
        source = f"mean negative `{CHOICE_LOGPROBS}` of the gold choice (`{LABEL}`)"
    else:
        return None
    table = (
        lf.group_by(pl.col(model_col).cast(pl.String))
        .agg(expr.cast(pl.Float64).alias("loss"))
        .collect(engine=ENGINE)
    )
    if table["loss"].drop_nulls().len() == 0:
        return None
    return table, source


def default_chances(
    lf: pl.LazyFrame,
    metrics: Sequence[MetricColumn],
    continuous: Mapping[str, bool],
    task_col: str,
    given: Mapping[str, float],
) -> pl.DataFrame:
    """The chance level per (task, metric): the user's, else the default (module docstring)."""
    schema = lf.collect_schema()
    choices = None
    if CHOICE_LOGPROBS in schema and isinstance(schema[CHOICE_LOGPROBS], pl.List | pl.Array):
        choices = (
            lf.select(task_col, pl.col(CHOICE_LOGPROBS).list.len().alias("_k"))
            .filter(pl.col("_k") > 0)
            .group_by(task_col)
            .agg((1.0 / pl.col("_k").cast(pl.Float64)).mean().alias("_chance"))
            .collect(engine=ENGINE)
        )
    tasks = lf.select(task_col).unique().collect(engine=ENGINE)
    parts = []
    for m in metrics:
        if m.name in given:
            level: pl.Expr = pl.lit(given[m.name], pl.Float64)
            frame = tasks
        elif m.higher_is_better and not continuous.get(m.name, True):
            frame = tasks
            if choices is not None:
                frame = tasks.join(choices, on=task_col, how="left", nulls_equal=True)
                level = pl.col("_chance").fill_null(0.0)
            else:
                level = pl.lit(0.0)
        else:
            continue
        parts.append(frame.select(task_col, pl.lit(m.name).alias("metric"), level.alias("chance")))
    if not parts:
        return pl.DataFrame(
            schema={task_col: tasks.schema[task_col], "metric": pl.String, "chance": pl.Float64}
        )
    return pl.concat(parts)


def loss_leaves_chance(
    loss: Sequence[float | None],
    mean: Sequence[float | None],
    low: Sequence[float | None],
    high: Sequence[float | None],
    chance: float,
    *,
    higher_is_better: bool = True,
) -> float | None:
    """The loss from which every lower-loss point is clear of ``chance`` (see the module doc).

    A point is clear when its interval lies entirely on the better side of ``chance`` (its mean,
    when it has no interval). ``None`` when the lowest-loss point is not clear, or every point
    already is (the crossing lies outside the data).

    >>> loss_leaves_chance([3.0, 2.5, 2.0, 1.5], [0.0, 0.01, 0.2, 0.6],
    ...                    [0.0, 0.0, 0.15, 0.5], [0.0, 0.03, 0.25, 0.7], 0.0)
    2.0
    """
    rows = sorted(
        (
            (float(x), m, lo, hi)
            for x, m, lo, hi in zip(loss, mean, low, high, strict=True)
            if x is not None and m is not None and math.isfinite(x)
        ),
        key=lambda r: -r[0],
    )
    clear = []
    for _, m, lo, hi in rows:
        edge = (lo if lo is not None else m) if higher_is_better else (hi if hi is not None else m)
        clear.append(edge > chance if higher_is_better else edge < chance)
    if not clear or not clear[-1] or all(clear):
        return None
    first = len(clear)
    while first > 0 and clear[first - 1]:
        first -= 1
    return rows[first][0]


def loss_view(
    curves: pl.DataFrame,
    chances: pl.DataFrame,
    *,
    curve_keys: Sequence[str],
    directions: Mapping[str, bool],
) -> pl.DataFrame:
    """Per curve: its chance level and the loss at which it leaves chance."""
    task_col = curve_keys[0]
    with_chance = curves.filter(pl.col("loss").is_not_null()).join(
        chances, on=[task_col, "metric"], how="inner", nulls_equal=True
    )
    rows = []
    for key, part in with_chance.partition_by(
        [*curve_keys, "metric"], as_dict=True, maintain_order=True
    ).items():
        chance = float(part["chance"][0])
        found = loss_leaves_chance(
            part["loss"].to_list(),
            part["mean"].to_list(),
            part["ci_low"].to_list(),
            part["ci_high"].to_list(),
            chance,
            higher_is_better=directions[str(key[-1])],
        )
        rows.append((*key, chance, found))
    schema: dict[str, Any] = {k: curves.schema[k] for k in [*curve_keys, "metric"]}
    return pl.DataFrame(rows, schema={**schema, **LOSS_COLUMNS}, orient="row")


def resolution_view(
    curves: pl.DataFrame, curve_keys: Sequence[str], continuous: Mapping[str, bool]
) -> pl.DataFrame:
    """Per all-or-nothing curve with repeated samples: the points resolved below ``1 / n``."""
    all_or_nothing = [m for m, graded in continuous.items() if not graded]
    repeated = curves.filter(
        pl.col("metric").is_in(all_or_nothing)
        & pl.col("scale").is_not_null()
        & (pl.col("n_replicates").fill_null(1) > 1)
    )
    return repeated.group_by([*curve_keys, "metric"]).agg(
        ((pl.col("mean") > 0) & (pl.col("mean") < 1.0 / pl.col("n")))
        .sum()
        .cast(pl.Int64)
        .alias("rates_below_1_over_n")
    )


def add_views(
    emergence: pl.DataFrame, parts: Sequence[pl.DataFrame], curve_keys: Sequence[str]
) -> pl.DataFrame:
    """The emergence table with every view's columns (null where a view does not apply)."""
    on = [*curve_keys, "metric"]
    out = emergence
    for part in parts:
        if part.height:
            out = out.join(part, on=on, how="left", nulls_equal=True)
    return out.with_columns(
        pl.lit(None, dtype).alias(name)
        for name, dtype in VIEW_COLUMNS.items()
        if name not in out.columns
    ).with_columns(pl.col(name).cast(dtype) for name, dtype in VIEW_COLUMNS.items())


__all__ = [
    "DEFAULT_SMOOTH_CORRELATION",
    "VIEW_COLUMNS",
    "add_views",
    "default_chances",
    "example_correlations",
    "loss_leaves_chance",
    "loss_view",
    "model_losses",
    "parse_chance",
    "resolution_view",
    "summarise_examples",
]

"""The paired bootstrap: the same resampled examples for every model of a task.

When the models of a family answered the same examples (one benchmark, many models), the
bootstrap must resample *examples*, not each model's rows apart: drawing the same example
indices for every model keeps the correlation between neighbouring models (an example hard for
one model is hard for the next), so the bootstrap distribution of a *step* between two models,
and of every curve statistic built from steps (the emergence score above all), has the right
spread. Independent draws add the two models' variances instead of the variance of their
difference: they inflate step noise, pull the emergence score's bootstrap distribution down
and widen its interval (Efron & Tibshirani 1993, ch. 6 on paired data, is the textbook case).

Examples are paired by their id (``doc_col``) within a (task, groups) partition: each bootstrap
replicate draws ``D`` example ids with replacement from the partition's ``D`` distinct ids, and
every model's mean is the weighted mean of its values over the drawn ids (a model that lacks an
example simply has no value there: a ratio estimator, so models with missing examples stay
exact). Several rows of one model for one id (duplicates) keep their weight.

Cost: ``n_boot * D`` weights per partition. Above :data:`MAX_EXACT_CELLS` the draws come from
the normal limit of the same paired bootstrap, a multivariate normal whose covariance is the
linearised one, ``Cov(m, m') = sum_j a_mj a_m'j`` with ``a_mj = (S_mj - mean_m C_mj) / n_m``
(``S``: sum of the model's values at example ``j``, ``C``: their count, ``n_m``: the model's
values): the exact covariance of the linearised means under multinomial resampling of the
``D`` examples. ``ci_method`` says which was used.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

FloatArray = npt.NDArray[np.float64]

MAX_EXACT_CELLS = 20_000_000
"""``n_boot * examples`` above which a partition's paired draws use the normal limit."""

MAX_PAIRED_ROWS = 20_000_000
"""Per-example rows above which the paired bootstrap is not attempted (it holds one row per
(model, example) in memory); the independent bootstrap is used, with a note."""

_CHUNK_CELLS = 4_000_000


def _rng(seed: int, key: tuple[Any, ...]) -> np.random.Generator:
    digest = zlib.crc32(repr(("paired", *key)).encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([seed, digest]))


def weight_chunks(rng: np.random.Generator, n_docs: int, n_boot: int) -> Iterator[FloatArray]:
    """Multinomial resampling weights, ``(rows, n_docs)`` blocks adding up to ``n_boot`` rows.

    Row ``b`` counts how often each example was drawn in replicate ``b`` (sums to ``n_docs``).
    """
    rows = max(1, _CHUNK_CELLS // max(n_docs, 1))
    done = 0
    while done < n_boot:
        take = min(rows, n_boot - done)
        picks = rng.integers(0, n_docs, size=(take, n_docs))
        flat = picks + (np.arange(take) * n_docs)[:, np.newaxis]
        counts = np.bincount(flat.ravel(), minlength=take * n_docs).reshape(take, n_docs)
        yield counts.astype(np.float64)
        done += take


@dataclass(frozen=True)
class Partition:
    """One (task, groups) partition's per-example sums and counts, per metric."""

    key: tuple[Any, ...]
    """The (task, groups...) values."""
    models: list[Any]
    n_docs: int
    sums: dict[str, FloatArray]
    """Per metric: ``(models, docs)`` sums of the values at each example (0 where absent)."""
    counts: dict[str, FloatArray]
    """Per metric: ``(models, docs)`` numbers of values at each example."""


def shared_partitions(
    units: pl.LazyFrame, model_col: str, part_cols: Sequence[str], doc_col: str, engine: Any
) -> pl.DataFrame:
    """The (task, groups) partitions where at least two models share an example id."""
    return (
        units.group_by(*part_cols, doc_col)
        .agg(pl.col(model_col).n_unique().alias("_models"))
        .group_by(part_cols)
        .agg((pl.col("_models") > 1).any().alias("shared"), pl.len().alias("n_docs"))
        .collect(engine=engine)
    )


def partitions(
    table: pl.DataFrame,
    model_col: str,
    part_cols: Sequence[str],
    doc_col: str,
    metrics: Sequence[str],
) -> Iterator[Partition]:
    """Per-example sums and counts of ``table`` (one row per value), partition by partition."""
    grouped = table.group_by(*part_cols, model_col, doc_col).agg(
        *[pl.col(m).cast(pl.Float64).sum().alias(f"{m}\x1fs") for m in metrics],
        *[pl.col(m).count().alias(f"{m}\x1fc") for m in metrics],
    )
    for key, part in grouped.partition_by(part_cols, as_dict=True, maintain_order=True).items():
        part = part.with_columns(
            (pl.col(doc_col).rank("dense") - 1).cast(pl.Int64).alias("_j"),
            (pl.col(model_col).rank("dense") - 1).cast(pl.Int64).alias("_m"),
        )
        models = part.select(model_col, "_m").unique().sort("_m")[model_col].to_list()
        n_docs = int(part["_j"].max()) + 1  # type: ignore[arg-type]  # a partition has rows
        m_idx, j_idx = part["_m"].to_numpy(), part["_j"].to_numpy()
        sums, counts = {}, {}
        for m in metrics:
            s = np.zeros((len(models), n_docs))
            c = np.zeros((len(models), n_docs))
            s[m_idx, j_idx] = part[f"{m}\x1fs"].fill_null(0.0).to_numpy()
            c[m_idx, j_idx] = part[f"{m}\x1fc"].to_numpy()
            sums[m], counts[m] = s, c
        yield Partition(tuple(key), models, n_docs, sums, counts)


def paired_draws(
    part: Partition, metrics: Sequence[str], n_boot: int, seed: int
) -> tuple[dict[str, FloatArray], str]:
    """Bootstrap means ``(n_boot, models)`` per metric with shared example draws, and the method.

    A model without values for a metric gets a column of NaN (it has no point).
    """
    rng = _rng(seed, part.key)
    exact = n_boot * part.n_docs <= MAX_EXACT_CELLS
    out: dict[str, FloatArray] = {}
    if exact:
        blocks: dict[str, list[tuple[FloatArray, FloatArray]]] = {m: [] for m in metrics}
        for w in weight_chunks(rng, part.n_docs, n_boot):
            for m in metrics:
                blocks[m].append((w @ part.sums[m].T, w @ part.counts[m].T))
        for m in metrics:
            num = np.concatenate([b[0] for b in blocks[m]])
            den = np.concatenate([b[1] for b in blocks[m]])
            n = part.counts[m].sum(axis=1)
            mean = np.divide(part.sums[m].sum(axis=1), n, out=np.full(n.shape, np.nan), where=n > 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                draws = num / den
            # A replicate that drew none of a model's examples (a model with very few) has no
            # mean: it takes the point estimate, the bootstrap's own centre.
            draws = np.where(den > 0, draws, mean[np.newaxis, :])
            out[m] = draws
        return out, "paired bootstrap"
    z = rng.standard_normal((n_boot, len(part.models)))
    for m in metrics:
        s, c = part.sums[m], part.counts[m]
        n = c.sum(axis=1)
        ok = n > 0
        mean = np.divide(s.sum(axis=1), n, out=np.full(n.shape, np.nan), where=ok)
        a = np.zeros_like(s)
        a[ok] = (s[ok] - mean[ok, np.newaxis] * c[ok]) / n[ok, np.newaxis]
        cov = a @ a.T
        values, vectors = np.linalg.eigh(cov)
        factor = vectors * np.sqrt(np.clip(values, 0.0, None))
        out[m] = mean[np.newaxis, :] + z @ factor.T
    return out, "paired normal"


__all__ = [
    "MAX_EXACT_CELLS",
    "MAX_PAIRED_ROWS",
    "Partition",
    "paired_draws",
    "partitions",
    "shared_partitions",
    "weight_chunks",
]

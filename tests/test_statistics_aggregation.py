"""Metrics that aggregate from per-row statistics (corpus scores): the batch job writes the
statistics column, its summary and `rescore emergence` both compute combine() of them, and the
emergence bootstrap resamples rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import rescore
from rescore.batch import ColumnMap, MetricSpec, ScoreSpec, score_table
from rescore.emergence import analyze
from rescore.emergence import statistics as statistics_module
from rescore.emergence.aggregate import aggregate
from rescore.emergence.inputs import resolve_metrics
from rescore.exceptions import InvalidOptionError
from rescore.registry import register_metric, statistics_aggregation, unregister

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def _lengths(predictions: Any, references: Any, **_: Any) -> pa.Array:
    """Per row: characters of the prediction and of the reference (null if either is)."""
    p = pc.utf8_length(pa.array(predictions, pa.string())).cast(pa.float64())
    r = pc.utf8_length(pa.array(references, pa.string())).cast(pa.float64())
    both = pc.and_(p.is_valid(), r.is_valid())
    arr = pa.StructArray.from_arrays([p, r], names=["pred_chars", "ref_chars"])
    return pc.if_else(both, arr, pa.scalar(None, arr.type))


def _ratio_of_sums(sums: Mapping[str, FloatArray]) -> FloatArray:
    return np.asarray(sums["pred_chars"] / sums["ref_chars"], dtype=np.float64)


def _median_ratio(rows: Mapping[str, FloatArray]) -> FloatArray:
    return np.array([np.median(rows["pred_chars"] / rows["ref_chars"])])


@pytest.fixture
def corpus_metrics() -> Iterator[None]:
    """A corpus length ratio (additive statistics) and a median ratio (not additive)."""
    additive = statistics_aggregation(
        "length ratio of sums",
        "prediction characters over reference characters, summed over the group",
        fields=("pred_chars", "ref_chars"),
        statistics=_lengths,
        combine=_ratio_of_sums,
    )
    median = statistics_aggregation(
        "median ratio",
        "median of the per-row length ratios",
        fields=("pred_chars", "ref_chars"),
        statistics=_lengths,
        combine=_median_ratio,
        additive=False,
    )

    def ratio(predictions: pa.Array, references: pa.Array) -> pa.Array:
        """Prediction length over reference length, in characters."""
        return pc.divide(
            pc.utf8_length(predictions).cast(pa.float64()),
            pc.utf8_length(references).cast(pa.float64()),
        )

    register_metric(
        name="corpus_ratio", higher_is_better=True, continuous=True, inputs="text",
        aggregation=additive,
    )(ratio)  # fmt: skip
    register_metric(
        name="median_ratio", higher_is_better=True, continuous=True, inputs="text",
        aggregation=median,
    )(ratio)  # fmt: skip
    yield
    unregister("corpus_ratio")
    unregister("median_ratio")


def _table(rng: np.random.Generator, models: int = 3, rows: int = 40) -> pa.Table:
    words = ["a", "bb", "ccc", "dddd", "eeeee"]
    data: dict[str, list[Any]] = {"model": [], "task": [], "doc_id": [], "p": [], "r": []}
    for m in range(models):
        for i in range(rows):
            data["model"].append(f"m-{2**m}b")
            data["task"].append("t")
            data["doc_id"].append(i)
            data["p"].append(" ".join(rng.choice(words, size=int(rng.integers(1, 6)))))
            data["r"].append(" ".join(rng.choice(words, size=int(rng.integers(1, 6)))))
    data["r"][3] = None  # a null reference: no value and no statistics
    return pa.table(data)


def _spec(*names: str, on_error: str = "null") -> ScoreSpec:
    return ScoreSpec(
        metrics=tuple(MetricSpec(n) for n in names),
        columns=ColumnMap(prediction="p", reference="r", keys=("model", "task", "doc_id")),
        on_error=on_error,  # type: ignore[arg-type]
    )


def test_score_table_writes_statistics_beside_the_value(corpus_metrics: None) -> None:
    table = _table(np.random.default_rng(0))
    out = score_table(table, _spec("exact_match", "corpus_ratio"))
    keys = ["model", "task", "doc_id"]
    assert out.column_names == [*keys, "exact_match", "corpus_ratio", "corpus_ratio_stats"]
    assert out.schema.field("corpus_ratio_stats").type == pa.struct(
        [("pred_chars", pa.float64()), ("ref_chars", pa.float64())]
    )
    stats = out.column("corpus_ratio_stats").to_pylist()
    values = out.column("corpus_ratio").to_pylist()
    assert stats[3] is None  # the null reference's row
    assert values[3] is None
    preds, refs = table["p"].to_pylist(), table["r"].to_pylist()
    for value, s, p, r in zip(values, stats, preds, refs, strict=True):
        if r is not None:
            assert s == {"pred_chars": len(p), "ref_chars": len(r)}
            assert value == pytest.approx(len(p) / len(r))


def test_summary_is_the_corpus_score(corpus_metrics: None, tmp_path: Path) -> None:
    table = _table(np.random.default_rng(1))
    src = tmp_path / "in.parquet"
    pa.parquet.write_table(table, src)
    result = rescore.score(
        src, out=tmp_path / "out", metrics=["corpus_ratio", "median_ratio"],
        prediction_col="p", reference_col="r", on_error="null",
    )  # fmt: skip
    df = pl.from_arrow(table).drop_nulls("r")
    assert isinstance(df, pl.DataFrame)
    lengths = df.with_columns(
        pl.col("p").str.len_chars().alias("lp"), pl.col("r").str.len_chars().alias("lr")
    )
    expected = lengths.group_by("model").agg(
        (pl.col("lp").sum() / pl.col("lr").sum()).alias("corpus"),
        (pl.col("lp") / pl.col("lr")).median().alias("median"),
    )
    got = result.summary.join(expected, on="model")
    assert got.height == 3
    assert np.allclose(got["corpus_ratio"], got["corpus"])
    assert np.allclose(got["median_ratio"], got["median"])
    # the corpus score is not the mean of the per-row ratios
    means = lengths.group_by("model").agg((pl.col("lp") / pl.col("lr")).mean().alias("m"))
    assert not np.allclose(got.sort("model")["corpus_ratio"], means.sort("model")["m"])


def _scores(corpus_metrics: None, rows: int = 40) -> pl.LazyFrame:
    data = _table(np.random.default_rng(2), rows=rows)
    table = score_table(data, _spec("corpus_ratio", "median_ratio"))
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.lazy()


def test_emergence_points_are_corpus_scores_with_row_bootstrap(corpus_metrics: None) -> None:
    lf = _scores(corpus_metrics)
    metrics = resolve_metrics(lf.collect_schema())
    assert [m.name for m in metrics] == ["corpus_ratio", "median_ratio"]  # not the _stats column
    agg = aggregate(lf, metrics, n_boot=400, seed=3)
    df = lf.collect().unnest("corpus_ratio_stats")
    for row in agg.points.iter_rows(named=True):
        group = df.filter(pl.col("model") == row["model"]).drop_nulls("pred_chars")
        ratio = group["pred_chars"] / group["ref_chars"]
        want = group["pred_chars"].sum() / group["ref_chars"].sum()
        if row["metric"] == "median_ratio":
            want = float(ratio.median())  # type: ignore[arg-type]
        assert row["mean"] == pytest.approx(want)
        assert row["n"] == group.height
        assert row["n_missing"] == (1 if row["model"] == "m-1b" else 0)
        assert row["ci_method"] == "bootstrap"
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]
        draws = agg.draws[(row["model"], row["task"], row["metric"])]
        assert draws.shape == (400,)
        assert row["se"] == pytest.approx(float(np.std(draws, ddof=1)))
    # the same seed gives the same draws; another seed other draws
    again = aggregate(lf, metrics, n_boot=400, seed=3)
    other = aggregate(lf, metrics, n_boot=400, seed=4)
    key = ("m-1b", "t", "corpus_ratio")
    assert np.array_equal(again.draws[key], agg.draws[key])
    assert not np.array_equal(other.draws[key], agg.draws[key])


def test_large_groups_draw_from_the_normal_limit(
    corpus_metrics: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lf = _scores(corpus_metrics, rows=3000)
    metrics = [m for m in resolve_metrics(lf.collect_schema()) if m.name == "corpus_ratio"]
    exact = aggregate(lf, metrics, n_boot=2000, seed=0).points
    monkeypatch.setattr(statistics_module, "MAX_EXACT_WORK", 1000)
    normal = aggregate(lf, metrics, n_boot=2000, seed=0).points
    assert set(normal["ci_method"]) == {"normal"}
    assert set(exact["ci_method"]) == {"bootstrap"}
    assert np.allclose(normal["mean"], exact["mean"])
    # both estimate the same sampling distribution: standard errors agree to a few percent
    assert np.allclose(normal["se"], exact["se"], rtol=0.1)
    assert np.allclose(normal["ci_low"], exact["ci_low"], atol=2 * float(exact["se"].max()) / 10)


def test_mixed_with_mean_metrics(corpus_metrics: None) -> None:
    table = score_table(_table(np.random.default_rng(5)), _spec("exact_match", "corpus_ratio"))
    lf = pl.from_arrow(table).lazy()  # type: ignore[union-attr]
    agg = aggregate(lf, resolve_metrics(lf.collect_schema()), n_boot=100)
    assert agg.points["metric"].to_list() == ["corpus_ratio", "exact_match"] * 3
    assert agg.binary == {"exact_match": True, "corpus_ratio": False}


def test_without_the_statistics_column_is_a_clear_error(corpus_metrics: None) -> None:
    lf = _scores(corpus_metrics).drop("corpus_ratio_stats")
    metrics = [m for m in resolve_metrics(lf.collect_schema()) if m.name == "corpus_ratio"]
    with pytest.raises(InvalidOptionError, match="statistics column `corpus_ratio_stats`"):
        aggregate(lf, metrics)
    # per-model values (one run per model) are taken as they are
    runs = lf.group_by("model", "task").agg(pl.col("corpus_ratio").mean())
    points = aggregate(runs, metrics, doc_col=None).points
    assert points.height == 3
    assert points["ci_low"].is_null().all()


def test_emergence_report_has_a_curve_for_a_corpus_metric(corpus_metrics: None) -> None:
    report = analyze(_scores(corpus_metrics).collect(), n_boot=100)
    assert set(report.emergence["metric"]) == {"corpus_ratio", "median_ratio"}
    assert report.curves.filter(pl.col("metric") == "corpus_ratio").height == 3

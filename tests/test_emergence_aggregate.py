"""Reading score tables, metric directions, aggregation with nulls, sentinels and replicates."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from rescore.emergence.aggregate import MAX_DISTINCT, aggregate
from rescore.emergence.inputs import read_scores, resolve_metrics
from rescore.emergence.pipeline import analyze
from rescore.exceptions import (
    InvalidInputError,
    InvalidOptionError,
    MissingColumnError,
    UnknownMetricError,
    UnsupportedTypeError,
)


def _point(points: pl.DataFrame, **where: object) -> dict[str, Any]:
    found = points.filter(*[pl.col(k) == v for k, v in where.items()])
    assert found.height == 1, found
    return found.row(0, named=True)


def test_hand_computed_aggregates_with_nulls() -> None:
    df = pl.DataFrame(
        {
            "model": ["a"] * 5,
            "task": ["t"] * 5,
            "doc_id": [0, 1, 2, 3, 4],
            "exact_match": [True, False, True, None, True],
            "token_edit_distance": [0, 2, 0, 4, None],
        }
    )
    agg = aggregate(df.lazy(), resolve_metrics(df.schema), n_boot=400)
    em = _point(agg.points, metric="exact_match")
    assert (em["mean"], em["n"], em["n_missing"], em["resolution"]) == (0.75, 4, 1, 0.25)
    assert em["se"] == pytest.approx(math.sqrt(0.25 / 4))  # sample variance 1/4 over n = 4
    assert em["unit"] == "example"
    assert em["ci_method"] == "bootstrap"
    assert 0.0 <= em["ci_low"] <= 0.75 <= em["ci_high"] <= 1.0
    ted = _point(agg.points, metric="token_edit_distance")
    assert (ted["mean"], ted["n"], ted["n_missing"]) == (1.5, 4, 1)
    assert ted["se"] == pytest.approx(math.sqrt(np.var([0, 2, 0, 4], ddof=1) / 4))
    assert agg.binary == {"exact_match": True, "token_edit_distance": False}


def test_sentinels_are_missing_never_averaged() -> None:
    df = pl.DataFrame(
        {
            "model": ["a"] * 4,
            "task": ["t"] * 4,
            "doc_id": range(4),
            "brier_score": [0.5, -100.0, float("nan"), 0.25],
        }
    )
    with pytest.raises(InvalidInputError, match="--null-value"):
        aggregate(df.lazy(), resolve_metrics(df.schema))
    agg = aggregate(df.lazy(), resolve_metrics(df.schema), null_values=[-100])
    row = _point(agg.points, metric="brier_score")
    assert (row["mean"], row["n"], row["n_missing"]) == (0.375, 2, 2)


def test_all_missing_point_has_null_mean_and_counts() -> None:
    df = pl.DataFrame(
        {"model": ["a", "a", "b"], "task": ["t"] * 3, "doc_id": [0, 1, 0]}
        | {"exact_match": [None, None, True]},
        schema_overrides={"exact_match": pl.Boolean},
    )
    agg = aggregate(df.lazy(), resolve_metrics(df.schema))
    row = _point(agg.points, model="a")
    assert (row["mean"], row["n"], row["n_missing"], row["ci_low"]) == (None, 0, 2, None)
    assert ("a", "t", "exact_match") not in agg.draws


def test_replicates_averaged_first_per_example() -> None:
    # Two seeds over the same three examples: per-seed means 2/3 and 1/3.
    df = pl.DataFrame(
        {
            "model": ["a"] * 6,
            "task": ["t"] * 6,
            "doc_id": [0, 1, 2, 0, 1, 2],
            "seed": [1, 1, 1, 2, 2, 2],
            "exact_match": [1.0, 1.0, 0.0, 1.0, 0.0, 0.0],
        }
    )
    agg = aggregate(df.lazy(), resolve_metrics(df.schema), replicate_col="seed")
    row = _point(agg.points, metric="exact_match")
    assert row["mean"] == pytest.approx(0.5)
    assert row["n"] == 3  # examples, after averaging each over the seeds
    assert row["n_replicates"] == 2
    assert row["replicate_std"] == pytest.approx(np.std([2 / 3, 1 / 3], ddof=1))
    assert row["resolution"] == pytest.approx(1 / 6)  # 3 examples x 2 samples: steps of 1/6


def test_replicates_without_example_ids_are_strata() -> None:
    df = pl.DataFrame(
        {
            "model": ["a"] * 5,
            "task": ["t"] * 5,
            "seed": [1, 1, 2, 2, 2],
            "token_edit_distance": [1, 3, 0, 0, 3],
        }
    )
    agg = aggregate(df.lazy(), resolve_metrics(df.schema), doc_col=None, replicate_col="seed")
    row = _point(agg.points, metric="token_edit_distance")
    assert row["mean"] == pytest.approx((2.0 + 1.0) / 2)  # the mean of the replicate means
    assert row["n"] == 5
    assert row["replicate_std"] == pytest.approx(np.std([2.0, 1.0], ddof=1))
    # Standard error of a mean of two independent means: sqrt(v1/n1 + v2/n2) / 2.
    expected = math.sqrt(np.var([1, 3], ddof=1) / 2 + np.var([0, 0, 3], ddof=1) / 3) / 2
    assert row["se"] == pytest.approx(expected)


def test_aggregated_table_with_replicates_and_sentinels(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text(
        "model,task,shots,seed,accuracy,edit_distance\n"
        "pythia-70m,arith,0,1,0.10,9.0\n"
        "pythia-70m,arith,0,2,0.20,-100\n"
        "pythia-70m,arith,0,3,0.30,7.0\n"
        "pythia-410m,arith,0,1,0.40,5.0\n"
        "pythia-410m,arith,0,2,0.50,4.0\n"
        "pythia-1.4b,arith,0,1,0.90,1.0\n"
        "pythia-1.4b,arith,5,1,-100,2.0\n"
    )
    report = analyze(
        path,
        group="shots",
        higher_is_better="accuracy",
        lower_is_better=["edit_distance"],
        replicate_col="seed",
        null_values=[-100],
        n_boot=500,
    )
    points = report.curves
    assert report.resolved["input_kind"] == "runs"
    acc = _point(points, model="pythia-70m", metric="accuracy", shots=0)
    assert acc["mean"] == pytest.approx(0.2)
    assert (acc["n"], acc["n_replicates"], acc["unit"]) == (3, 3, "run")
    assert acc["replicate_std"] == pytest.approx(0.1)
    assert acc["se"] == pytest.approx(0.1 / math.sqrt(3))
    assert acc["resolution"] is None  # no examples behind a run
    ed = _point(points, model="pythia-70m", metric="edit_distance", shots=0)
    assert (ed["mean"], ed["n"], ed["n_missing"]) == (8.0, 2, 1)
    single = _point(points, model="pythia-1.4b", metric="accuracy", shots=0)
    assert (single["n"], single["ci_low"], single["se"]) == (1, None, None)
    # Five-shot accuracy has no value at all: no curve point, but reported.
    assert points.filter((pl.col("shots") == 5) & (pl.col("metric") == "accuracy")).height == 0
    assert any("arith/5/accuracy (1 missing)" in note for note in report.notes)
    curves = report.emergence.filter(pl.col("shots") == 0)
    assert set(curves["metric"]) == {"accuracy", "edit_distance"}
    assert curves["n_models"].to_list() == [3, 3]
    assert set(curves["direction"]) == {"higher", "lower"}
    # A single-run point carries no uncertainty, so the score has no interval.
    assert curves["emergence_ci_low"].null_count() == 2
    assert curves.filter(pl.col("metric") == "edit_distance")["monotonicity"].item() == 1.0
    five = report.emergence.filter(pl.col("shots") == 5)
    assert five.select("metric", "n_models", "reason").rows() == [
        ("edit_distance", 1, "too_few_models")
    ]


def test_unknown_metric_columns_need_a_direction() -> None:
    schema = {"model": pl.String, "task": pl.String, "edit_distance": pl.Float64}
    with pytest.raises(UnknownMetricError, match="--lower-is-better edit_distance"):
        resolve_metrics(schema, metrics=["edit_distance"])
    with pytest.raises(MissingColumnError, match="no metric columns"):
        resolve_metrics(schema)
    with pytest.raises(MissingColumnError, match="bleu"):
        resolve_metrics(schema, metrics=["bleu"])
    with pytest.raises(InvalidOptionError, match="both"):
        resolve_metrics(schema, higher_is_better=["x"], lower_is_better=["x"])
    with pytest.raises(UnsupportedTypeError, match="numeric"):
        resolve_metrics({"exact_match": pl.String})
    specs = resolve_metrics(schema, lower_is_better=["edit_distance"])
    assert [(s.name, s.higher_is_better, s.continuous, s.origin) for s in specs] == [
        ("edit_distance", False, None, "option")
    ]


def test_bootstrap_is_seeded_and_order_independent() -> None:
    rng = np.random.default_rng(1)
    df = pl.DataFrame(
        {
            "model": rng.choice(["a", "b", "c"], 600),
            "task": ["t"] * 600,
            "doc_id": np.arange(600),
            "exact_match": rng.random(600) < 0.3,
            "brier_score": rng.random(600),
        }
    )
    specs = resolve_metrics(df.schema)
    first = aggregate(df.lazy(), specs, seed=7).points
    again = aggregate(df.sample(fraction=1.0, shuffle=True, seed=3).lazy(), specs, seed=7).points
    other = aggregate(df.lazy(), specs, seed=8).points
    assert_frame_equal(first, again, check_exact=False, rel_tol=1e-12)
    assert not first["ci_low"].equals(other["ci_low"])


def test_exact_bootstrap_matches_the_binomial_spread() -> None:
    n = 400
    df = pl.DataFrame(
        {"model": ["a"] * n, "task": ["t"] * n, "doc_id": range(n)}
        | {"exact_match": [i % 4 == 0 for i in range(n)]}
    )
    agg = aggregate(df.lazy(), resolve_metrics(df.schema), n_boot=4000)
    draws = agg.draws[("a", "t", "exact_match")]
    assert draws.mean() == pytest.approx(0.25, abs=0.003)
    assert draws.std() == pytest.approx(math.sqrt(0.25 * 0.75 / n), rel=0.06)
    # Resampling n examples gives multiples of 1/n only.
    assert np.allclose(draws * n, np.round(draws * n))


def test_many_distinct_values_use_the_normal_limit() -> None:
    n = MAX_DISTINCT * 2
    df = pl.DataFrame(
        {"model": ["a"] * n, "task": ["t"] * n, "doc_id": range(n)}
        | {"brier_score": np.linspace(0.0, 1.0, n)}
    )
    row = _point(aggregate(df.lazy(), resolve_metrics(df.schema)).points, metric="brier_score")
    assert row["ci_method"] == "normal"
    assert row["ci_low"] < 0.5 < row["ci_high"]


def test_invalid_options() -> None:
    df = pl.DataFrame({"model": ["a"], "task": ["t"], "exact_match": [True]})
    specs = resolve_metrics(df.schema)
    with pytest.raises(InvalidOptionError, match="n_boot"):
        aggregate(df.lazy(), specs, n_boot=0)
    with pytest.raises(InvalidOptionError, match="confidence"):
        aggregate(df.lazy(), specs, confidence=1.5)
    with pytest.raises(MissingColumnError, match="seed"):
        aggregate(df.lazy(), specs, replicate_col="seed")


def test_read_scores_directory_and_files(tmp_path: Path) -> None:
    out = tmp_path / "scores"
    (out / "_tmp").mkdir(parents=True)
    part = pl.DataFrame({"model": ["a"], "task": ["t"], "exact_match": [True]})
    part.write_parquet(out / "part-0000.parquet")
    part.with_columns(pl.lit("b").alias("model")).write_parquet(out / "part-0001.parquet")
    part.write_parquet(out / "_tmp" / "part-9999.parquet")  # an unfinished part
    part.write_parquet(out / ".hidden.parquet")
    (out / "_manifest.json").write_text(json.dumps({"metrics": ["exact_match"]}))
    assert sorted(read_scores(out).collect()["model"]) == ["a", "b"]

    csv = tmp_path / "r.csv"
    csv.write_text("model,task,exact_match\nc,t,1\n")
    js = tmp_path / "r.json"
    js.write_text(json.dumps([{"model": "d", "task": "t", "exact_match": 0}]))
    nd = tmp_path / "r.jsonl"
    nd.write_text(json.dumps({"model": "e", "task": "t", "other": 1}) + "\n")
    both = read_scores([out, csv, js, nd]).collect()
    assert sorted(both["model"]) == ["a", "b", "c", "d", "e"]
    assert both.filter(pl.col("model") == "e")["exact_match"].item() is None

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match="no Parquet"):
        read_scores(empty)
    with pytest.raises(InvalidInputError, match="no such file"):
        read_scores(tmp_path / "nope")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(InvalidOptionError, match="Parquet, CSV or JSON"):
        read_scores(tmp_path / "x.txt")

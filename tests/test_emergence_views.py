"""Issue 14, item 5: per-example correlation, the loss axis and resolution curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

import rescore
from rescore.emergence import analyze
from rescore.emergence.plots import plot_examples, plot_loss, plot_resolution
from rescore.emergence.simulate import simulate_choices, simulate_generations
from rescore.emergence.views import VIEW_COLUMNS, loss_leaves_chance, parse_chance
from rescore.exceptions import InvalidOptionError, MissingColumnError

FAMILY = {"s-100m": 1e8, "s-400m": 4e8, "s-1.6b": 1.6e9, "s-6.4b": 6.4e9}


def score(df: pl.DataFrame) -> pl.DataFrame:
    """Per-example metrics with the rescore kernels (what `rescore score` writes)."""
    out = df
    if "prediction_ids" in df.columns:
        out = out.with_columns(
            token_edit_distance=rescore.token_edit_distance(
                df["prediction_ids"], df["reference_ids"]
            ),
            exact_match=rescore.exact_match(df["prediction"], df["reference"]),
        )
    if "choice_logprobs" in df.columns:
        out = out.with_columns(
            multiple_choice_grade=rescore.multiple_choice_grade(df["choice_logprobs"], df["label"])
        )
    return out


def _row(report: rescore.emergence.EmergenceReport, metric: str) -> dict[str, object]:
    return report.emergence.filter(pl.col("metric") == metric).row(0, named=True)


def test_per_example_correlation_hand_values() -> None:
    # Four models, three examples of a lower-is-better error: example 0 improves at every
    # size (rank correlation +1 once signed), example 1 gets worse, example 2 never changes.
    # Two replicates per example: their mean is the example's score.
    errors = {0: [4, 3, 2, 1], 1: [1, 2, 2, 3], 2: [5, 5, 5, 5]}
    rows = [
        {"model": m, "task": "t", "doc_id": d, "seed": r, "err": float(v[i] + (r - 0.5) * 0.2)}
        for d, v in errors.items()
        for i, m in enumerate(FAMILY)
        for r in (0, 1)
    ]
    report = analyze(pl.DataFrame(rows), lower_is_better="err", replicate_col="seed", n_boot=20)
    assert report.examples is not None
    corr = dict(report.examples.select("doc_id", "correlation").rows())
    assert corr[0] == pytest.approx(1.0)
    assert corr[1] == pytest.approx(-np.corrcoef([1, 2, 3, 4], [1, 2.5, 2.5, 4])[0, 1])
    assert corr[2] is None
    row = _row(report, "err")
    assert row["n_examples"] == 3
    assert row["smooth_example_share"] == pytest.approx(1 / 3)
    assert row["constant_example_share"] == pytest.approx(1 / 3)
    assert row["example_correlation_median"] == pytest.approx(np.median([1.0, corr[1]]))
    # The threshold is a setting: at -1 every non-constant example counts.
    loose = analyze(
        pl.DataFrame(rows),
        lower_is_better="err",
        replicate_col="seed",
        n_boot=20,
        smooth_correlation=-1.0,
    )
    assert _row(loose, "err")["smooth_example_share"] == pytest.approx(2 / 3)
    # Without example ids there is no per-example view, and the note says why.
    no_ids = analyze(pl.DataFrame(rows).drop("doc_id"), lower_is_better="err", n_boot=20)
    assert no_ids.examples is None
    assert _row(no_ids, "err")["smooth_example_share"] is None
    assert any("per-example correlation skipped" in n for n in no_ids.notes)


def test_graded_metric_improves_on_more_examples_than_exact_match() -> None:
    df = score(
        simulate_generations(
            FAMILY, c=1e8, alpha=-0.5, target_lengths=[5, 10, 20], n_examples=300, seed=0
        )
    )
    report = analyze(df, n_boot=20)
    em, ted = _row(report, "exact_match"), _row(report, "token_edit_distance")
    # Most exact-match examples are 0 at every size (constant): the edit distance of the same
    # outputs moves with scale on nearly every example.
    assert ted["smooth_example_share"] > 0.9  # type: ignore[operator]
    assert em["constant_example_share"] > 0.3  # type: ignore[operator]
    assert em["smooth_example_share"] < ted["smooth_example_share"]  # type: ignore[operator]


def test_loss_axis_from_token_logprobs_and_where_exact_match_leaves_chance() -> None:
    df = score(
        simulate_generations(
            FAMILY,
            c=1e8,
            alpha=-0.5,
            target_lengths=[10, 20],
            n_examples=200,
            with_logprobs=True,
            seed=1,
        )
    )
    report = analyze(df, n_boot=200, seed=1)
    assert report.resolved["loss"] == "mean negative `token_logprobs` per token"
    expected = df.group_by("model").agg(
        (-pl.col("token_logprobs").list.sum().sum() / pl.col("target_length").sum()).alias("want")
    )
    got = report.curves.filter(pl.col("metric") == "exact_match").join(expected, on="model")
    assert got["loss"].to_numpy() == pytest.approx(got["want"].to_numpy())
    # The simulator's per-token loss is (N / c) ** alpha, the same for every example.
    assert got.sort("scale")["loss"].to_numpy() == pytest.approx(
        (np.array(sorted(FAMILY.values())) / 1e8) ** -0.5
    )
    em = _row(report, "exact_match")
    assert em["chance"] == 0.0
    curve = got.sort("loss", descending=True)
    clear = (curve["ci_low"] > 0).to_list()
    assert clear[-1]  # the curve does leave chance inside the data
    assert not clear[0]
    first = max(i for i, c in enumerate(clear) if not c) + 1
    assert em["loss_leaves_chance"] == pytest.approx(curve["loss"][first])
    # Graded metrics have no chance level unless the user names one.
    ted = _row(report, "token_edit_distance")
    assert (ted["chance"], ted["loss_leaves_chance"]) == (None, None)
    named = analyze(df, n_boot=50, chance="token_edit_distance=5")
    assert _row(named, "token_edit_distance")["chance"] == 5.0


def test_loss_from_a_mapped_column_and_from_the_gold_choice() -> None:
    choices = score(simulate_choices(FAMILY, midpoint=1e9, n_examples=200, seed=3))
    report = analyze(choices, n_boot=50)
    assert report.resolved["loss"].startswith("mean negative `choice_logprobs` of the gold")
    gold = choices.group_by("model").agg(
        (-pl.col("choice_logprobs").list.get(pl.col("label")).mean()).alias("want")
    )
    got = report.curves.join(gold, on="model")
    assert got["loss"].to_numpy() == pytest.approx(got["want"].to_numpy())
    row = _row(report, "multiple_choice_grade")
    assert row["chance"] == pytest.approx(0.25)  # four choices
    assert row["loss_leaves_chance"] is not None
    # A column the user maps, one value per model, wins over the log-likelihoods.
    mapped = choices.with_columns(
        pl.col("model").replace_strict({m: float(i) for i, m in enumerate(FAMILY)}).alias("ppl")
    )
    report = analyze(mapped, n_boot=50, loss_col="ppl")
    assert report.resolved["loss"] == "mean of `ppl`"
    assert dict(report.curves.select("model", "loss").unique().rows()) == {
        m: float(i) for i, m in enumerate(FAMILY)
    }
    with pytest.raises(MissingColumnError, match="loss column `nope`"):
        analyze(choices, loss_col="nope")
    with pytest.raises(InvalidOptionError, match="METRIC=VALUE"):
        analyze(choices, chance="multiple_choice_grade")
    # No log-likelihoods and no mapped column: no loss axis, the columns are null.
    plain = analyze(choices.drop("choice_logprobs"), n_boot=20)
    assert plain.resolved["loss"] is None
    assert plain.curves["loss"].null_count() == plain.curves.height


def test_loss_leaves_chance_rules() -> None:
    loss = [4.0, 3.0, 2.0, 1.0]
    mean = [0.0, 0.3, 0.0, 0.5]
    low = [0.0, 0.1, 0.0, 0.4]
    high = [0.1, 0.5, 0.1, 0.6]
    # Clear at loss 3 but back at chance at loss 2: it leaves chance for good at loss 1.
    assert loss_leaves_chance(loss, mean, low, high, 0.0) == 1.0
    # Already clear at the highest loss seen, or never clear: outside the data.
    assert loss_leaves_chance(loss, [1.0] * 4, [0.5] * 4, [1.0] * 4, 0.0) is None
    assert loss_leaves_chance(loss, [0.0] * 4, [0.0] * 4, [0.1] * 4, 0.0) is None
    # Lower is better: the interval must lie below chance; no interval: the mean decides.
    assert (
        loss_leaves_chance(loss, [9, 9, 2, 1], [None] * 4, [None] * 4, 5.0, higher_is_better=False)
        == 2.0
    )
    assert parse_chance(["a=0.25", " b = 1"]) == {"a": 0.25, "b": 1.0}


def test_repeated_samples_resolve_rates_below_one_over_n(tmp_path: Path) -> None:
    # 100 examples of 20 tokens and a small first model: its exact-match rate sits below
    # 1/100, which 16 samples per example can show.
    df = score(
        simulate_generations(
            FAMILY,
            c=1e8,
            alpha=-0.5,
            target_lengths=20,
            n_examples=100,
            n_samples=16,
            difficulty=1.0,
            seed=2,
        )
    )
    report = analyze(df, n_boot=20, replicate_col="sample")
    em = _row(report, "exact_match")
    small = report.curves.filter((pl.col("metric") == "exact_match") & (pl.col("mean") > 0))
    below = small.filter(pl.col("mean") < 1 / pl.col("n"))
    assert below.height >= 1
    assert em["rates_below_1_over_n"] == below.height
    assert report.curves["resolution"].max() == pytest.approx(1 / (100 * 16))
    # Graded metrics and single samples: the column does not apply.
    assert _row(report, "token_edit_distance")["rates_below_1_over_n"] is None
    single = analyze(df.filter(pl.col("sample") == 0), n_boot=20)
    assert _row(single, "exact_match")["rates_below_1_over_n"] is None
    # Every view is a column of the written tables, and a figure.
    out = report.write(tmp_path / "r", plots=False)
    columns = pl.read_csv(out / "emergence.csv").columns
    assert set(VIEW_COLUMNS) <= set(columns)
    assert (out / "examples.parquet").is_file()
    assert "Newer views of scale" in (out / "emergence.md").read_text()
    figures = tmp_path / "p"
    figures.mkdir()
    assert [p.name for p in plot_examples(report, figures, ("png",))] == [
        "examples__sim_generate.png"
    ]
    assert [p.name for p in plot_resolution(report, figures, ("png",))] == [
        "resolution__sim_generate.png"
    ]
    assert plot_loss(report, figures, ("png",)) == []  # no loss in these rows
    with_loss = analyze(
        score(
            simulate_generations(
                FAMILY, c=1e8, alpha=-0.5, target_lengths=5, n_examples=30, with_logprobs=True
            )
        ),
        n_boot=20,
    )
    assert [p.name for p in plot_loss(with_loss, figures, ("png",))] == ["loss__sim_generate.png"]

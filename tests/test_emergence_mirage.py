"""The mirage simulator + analysis reproduce Schaeffer et al. 2023's qualitative result."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import rescore
from rescore.emergence import analyze
from rescore.emergence.forecast import target_p
from rescore.emergence.mirage import fit_power_law, unbiased_power, wilson_interval
from rescore.emergence.simulate import (
    EXAMPLE_FAMILY,
    per_token_probability,
    simulate_choices,
    simulate_family,
    simulate_generations,
)
from rescore.exceptions import InvalidOptionError

DATA = Path(rescore.__file__).parent / "data"


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
            brier_score=rescore.brier_score(df["choice_logprobs"], df["label"], from_logprobs=True),
            multiple_choice_grade=rescore.multiple_choice_grade(df["choice_logprobs"], df["label"]),
        )
    return out


def test_mirage_reproduced_on_the_simulated_family() -> None:
    c, alpha = 2e8, -0.9
    df = simulate_generations(
        EXAMPLE_FAMILY, c=c, alpha=alpha, target_lengths=range(30, 51), n_examples=300, seed=0
    )
    report = analyze(score(df), n_boot=1000, seed=0)
    table = {r["metric"]: r for r in report.emergence.iter_rows(named=True)}
    em, ted = table["exact_match"], table["token_edit_distance"]
    n = em["n_models"]
    assert n == 7
    # Exact match looks emergent; the edit distance on the same outputs improves smoothly.
    assert em["shape"] == "emergent"
    assert em["emergence_score"] is None or em["emergence_score"] >= 2 * (n - 1)
    assert ted["shape"] == "smooth"
    assert ted["emergence_score"] < 1.5 * (n - 1)
    assert ted["monotonicity"] == 1.0
    # ... and not by noise: the intervals of the two scores do not overlap.
    assert em["emergence_ci_low"] > ted["emergence_ci_high"]
    row = report.side_by_side.row(0, named=True)
    assert (row["mirage"], row["emergent_under"], row["smooth_under"]) == (
        True,
        "exact_match",
        "token_edit_distance",
    )
    # The mirage model predicts the observed curves within their 95% intervals: with seven
    # models, one miss happens by chance about a third of the time, two in under 5%.
    mirage = report.mirage
    assert mirage is not None
    assert (~mirage["exact_match_within_ci"]).sum() <= 1
    assert mirage["token_edit_distance_within_ci"].all()  # p came from it: equal by construction
    truth = per_token_probability(mirage["scale"].to_numpy(), c=c, alpha=alpha)
    assert np.abs(mirage["p"].to_numpy() - truth).max() < 0.01
    # ... and the per-token power law comes back.
    fit = report.power_law
    assert fit is not None
    assert fit["alpha"].item() == pytest.approx(alpha, rel=0.05)
    assert fit["c"].item() == pytest.approx(c, rel=0.15)
    assert fit["r2"].item() > 0.99


def test_mirage_from_token_logprobs() -> None:
    df = simulate_generations(
        ["s-100m", "s-400m", "s-1.6b", "s-6.4b"],
        c=1e8,
        alpha=-0.5,
        target_lengths=[5, 10],
        n_examples=200,
        with_logprobs=True,
        seed=3,
    )
    report = analyze(score(df), n_boot=300)
    mirage = report.mirage
    assert mirage is not None
    assert set(mirage["p_source"]) == {"token_logprobs"}
    truth = per_token_probability(mirage["scale"].to_numpy(), c=1e8, alpha=-0.5)
    np.testing.assert_allclose(mirage["p"].to_numpy(), truth, rtol=1e-12)
    # Both predictions are out of sample now, and land within the intervals (one chance miss).
    assert (~mirage["exact_match_within_ci"]).sum() <= 1
    assert (~mirage["token_edit_distance_within_ci"]).sum() <= 1
    fit = report.power_law
    assert fit is not None
    assert fit["alpha"].item() == pytest.approx(-0.5, rel=1e-9)


def test_multiple_choice_grade_emergent_brier_smooth() -> None:
    df = simulate_choices(EXAMPLE_FAMILY, midpoint=3e9, n_examples=200, seed=5)
    report = analyze(score(df), n_boot=500)
    table = {r["metric"]: r for r in report.emergence.iter_rows(named=True)}
    assert table["multiple_choice_grade"]["shape"] == "emergent"
    assert table["brier_score"]["shape"] == "smooth"
    assert report.side_by_side["mirage"].to_list() == [True]
    assert report.mirage is None  # no generations: the mirage model is skipped, with a note
    assert any("mirage model skipped" in n for n in report.notes)


def test_fit_power_law() -> None:
    n = np.array([1e8, 1e9, 1e10])
    law = fit_power_law(n, np.exp(-((n / 2e7) ** -0.5)))
    assert law is not None
    assert (law.alpha, law.c / 2e7, law.r2) == pytest.approx((-0.5, 1.0, 1.0))
    np.testing.assert_allclose(law.p(n), np.exp(-((n / 2e7) ** -0.5)))
    assert fit_power_law([1e8], [0.5]) is None
    assert fit_power_law([1e8, 1e9], [0.0, 1.0]) is None  # p of 0 or 1 says nothing of the loss


def test_wilson_interval_keeps_width_at_zero() -> None:
    lo, hi = wilson_interval(pl.col("p"), pl.col("n"))
    out = pl.DataFrame({"p": [0.0, 0.5], "n": [200, 100]}).select(lo.alias("lo"), hi.alias("hi"))
    assert out.row(0) == pytest.approx((0.0, 0.01884), abs=1e-5)
    assert out.row(1) == pytest.approx((0.4038, 0.5962), abs=1e-4)


def test_simulators_are_deterministic_and_validate() -> None:
    a = simulate_family(seed=4)
    assert_frame_equal(a, simulate_family(seed=4))
    assert not a.equals(simulate_family(seed=5))
    gen = a.filter(pl.col("task") == "sim_generate")
    assert gen["choice_logprobs"].null_count() == gen.height
    assert gen["reference_ids"].list.len().is_between(30, 50).all()
    choice = a.filter(pl.col("task") == "sim_choice")
    assert choice["prediction"].null_count() == choice.height
    sums = choice["choice_logprobs"].list.eval(pl.element().exp()).list.sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    with pytest.raises(InvalidOptionError, match="no size"):
        simulate_generations(["nameless"], c=1e8, alpha=-0.5, target_lengths=3, n_examples=2)
    with pytest.raises(InvalidOptionError, match="positive"):
        simulate_generations(["a-1b"], c=1e8, alpha=-0.5, target_lengths=0, n_examples=2)
    with pytest.raises(InvalidOptionError, match="positive"):
        per_token_probability([1e9], c=0.0, alpha=-0.5)


def test_the_committed_example_is_what_the_script_builds() -> None:
    script = runpy.run_path(str(DATA / "make_example.py"))
    committed = pl.read_parquet(DATA / "example_generations.parquet")
    # Log-likelihoods go through numpy's exp/log, whose last bit differs between builds of the
    # libm it uses: everything else must match exactly, floats to a few ulps.
    assert_frame_equal(committed, script["build"](), rel_tol=1e-12, abs_tol=1e-12)
    assert 1000 < committed.height < 5000
    assert (DATA / "example_generations.parquet").stat().st_size < 400 * 1024
    names = set(committed["model"])
    assert names == set(EXAMPLE_FAMILY)
    assert committed.schema["prediction_ids"] == pl.List(pl.Int64)
    assert committed.schema["choice_logprobs"] == pl.List(pl.Float64)
    assert committed.schema["label"] == pl.Int64


def test_the_embedded_example_shows_the_mirage() -> None:
    report = analyze(score(pl.read_parquet(DATA / "example_generations.parquet")), n_boot=500)
    flags = {r["task"]: r for r in report.side_by_side.iter_rows(named=True)}
    assert flags["sim_generate"]["mirage"]
    assert flags["sim_generate"]["emergent_under"] == "exact_match"
    assert flags["sim_choice"]["mirage"]
    assert flags["sim_choice"]["emergent_under"] == "multiple_choice_grade"
    assert report.models["placed"].all()  # sizes parsed from the names


def test_mirage_model_says_why_it_cannot_run() -> None:
    df = score(
        simulate_generations(
            ["a-1b", "a-2b", "a-4b"], c=1e8, alpha=-0.5, target_lengths=4, n_examples=20
        )
    )
    normalised = df.with_columns(pl.col("token_edit_distance") / pl.col("reference_ids").list.len())
    report = analyze(normalised, n_boot=50)
    assert report.mirage is None
    assert any("fractions" in note for note in report.notes)
    no_lengths = df.drop("reference_ids", "reference", "target_length")
    report = analyze(no_lengths, n_boot=50)
    assert report.mirage is None
    assert any("--keep-cols reference_ids" in note for note in report.notes)
    report = analyze(no_lengths.with_columns(pl.lit(4).alias("n_tokens")), length_col="n_tokens")
    assert report.mirage is not None
    assert report.mirage["mean_target_length"].to_list() == [4.0, 4.0, 4.0]


HETERO = {"s-100m": 1e8, "s-400m": 4e8, "s-1.6b": 1.6e9, "s-6.4b": 6.4e9}


def test_per_example_prediction_closes_the_jensen_gap() -> None:
    """Issue 14: examples of unequal difficulty. The pooled prediction (mean p, then p^L)
    under-predicts exact match (Jensen); the per-example one, the mean of each example's own
    probability of its whole target, lands in the observed interval. 3 seeded families of 4
    models x 1,000 examples, targets of 5, 10 or 20 tokens."""
    within_pooled = within_per_example = total = 0
    for seed in range(3):
        df = simulate_generations(
            HETERO,
            c=1e8,
            alpha=-0.5,
            target_lengths=[5, 10, 20],
            n_examples=1000,
            difficulty=1.0,
            with_logprobs=True,
            seed=seed,
        )
        mirage = analyze(score(df), n_boot=20).mirage
        assert mirage is not None
        assert set(mirage["per_example_source"]) == {"per-example exp(sum token_logprobs)"}
        assert mirage["prediction_assumes"][0].startswith("sampling at temperature 1")
        within_pooled += int(mirage["exact_match_within_ci"].sum())
        within_per_example += int(mirage["exact_match_per_example_within_ci"].sum())
        total += mirage.height
        # Jensen: the pooled prediction is below the per-example one for every model.
        gap = mirage["predicted_exact_match_per_example"] - mirage["predicted_exact_match"]
        assert (gap > 0).all()
    assert within_per_example >= total - 1
    assert within_pooled <= 1


def test_per_example_prediction_from_repeated_samples() -> None:
    df = simulate_generations(
        HETERO,
        c=1e8,
        alpha=-0.5,
        target_lengths=[5, 10, 20],
        n_examples=400,
        difficulty=1.0,
        n_samples=4,
        seed=0,
    )
    mirage = analyze(score(df), n_boot=20, replicate_col="sample").mirage
    assert mirage is not None
    assert mirage["per_example_source"][0].startswith("per-example unbiased p^L")
    assert int(mirage["exact_match_per_example_within_ci"].sum()) >= 3
    assert int(mirage["exact_match_within_ci"].sum()) <= 1
    # One generation per example and no log-probs: no per-example prediction, said so.
    single = analyze(score(df.filter(pl.col("sample") == 0)), n_boot=20).mirage
    assert single is not None
    assert single["predicted_exact_match_per_example"].null_count() == single.height
    assert single["per_example_source"].null_count() == single.height


def test_unbiased_power_is_unbiased() -> None:
    rng = np.random.default_rng(0)
    p, length, samples = 0.8, 5, 3
    right = rng.binomial(length * samples, p, size=200_000)
    estimate = unbiased_power(right, np.full(right.size, length * samples), np.full(right.size, 5))
    assert estimate.mean() == pytest.approx(p**length, abs=0.002)
    # The plug-in (S/K)^L is biased upwards (a convex function of a noisy share).
    assert ((right / (length * samples)) ** length).mean() > p**length + 0.02


def test_forecast_back_test_covers_the_true_crossing() -> None:
    """Issue 14: the forecast from the smallest 60% of models (4 of 8) contains the true
    crossing scale of exact match = 0.5 in its interval in at least 80% of seeded families
    (20 families of 8 models x 300 examples, 200 bootstrap resamples)."""
    family = {f"s-{100 * 2**i}m": 1e8 * 2**i for i in range(8)}
    c, alpha, lengths = 2e8, -0.7, [5, 10, 20]
    p_star = target_p("exact_match", 0.5, np.array(lengths, dtype=np.float64))
    assert p_star is not None
    truth = c * (-np.log(p_star)) ** (1 / alpha)
    assert 1e9 < truth < 12.8e9  # beyond the fitted models, within the family
    covered = checked = 0
    reps = 20
    for seed in range(reps):
        df = score(
            simulate_generations(
                family, c=c, alpha=alpha, target_lengths=lengths, n_examples=300, seed=seed
            )
        )
        report = analyze(df, n_boot=200, seed=seed, forecast="exact_match=0.5")
        table = report.forecast
        assert table is not None
        assert table["fit_on"].to_list() == ["all", "smallest 4"]
        back = table.row(1, named=True)
        assert back["largest_fit_scale"] == 8e8
        covered += back["ci_low"] <= truth <= back["ci_high"]
        checked += back["within_ci"] is not None
    assert covered >= 0.8 * reps
    assert checked >= 0.8 * reps  # the larger models do reach 0.5: the back-test is checked


def test_forecast_is_written_and_validated(tmp_path: Path) -> None:
    df = score(
        simulate_generations(
            ["a-100m", "a-400m", "a-1.6b", "a-6.4b"],
            c=1e8,
            alpha=-0.5,
            target_lengths=4,
            n_examples=50,
        )
    )
    report = analyze(df, n_boot=50, forecast=["exact_match=0.5", "token_edit_distance=1"])
    assert report.forecast is not None
    assert set(report.forecast["metric"]) == {"exact_match", "token_edit_distance"}
    out = report.write(tmp_path / "r", plots=False)
    assert (out / "forecast.csv").is_file()
    assert "Forecast and back-test" in (out / "emergence.md").read_text()
    with pytest.raises(InvalidOptionError, match="METRIC=THRESHOLD"):
        analyze(df, forecast="brier_score=0.1")
    with pytest.raises(InvalidOptionError, match=r"\(0, 1\)"):
        analyze(df, forecast="exact_match=2")

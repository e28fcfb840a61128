"""The paired bootstrap over shared examples, and steps below a curve's resolution (issue 14).

Seeded simulations of a model family answering the same examples (``simulate_generations`` with
heterogeneous example difficulty, so neighbouring models are strongly correlated). Sizes are
kept modest so the file runs in seconds: 40 families of 6 models x 500 examples, 300 bootstrap
resamples each.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest

import rescore
from rescore.emergence import analyze
from rescore.emergence import paired as paired_module
from rescore.emergence.curves import (
    MEDIAN_STEP_BELOW_RESOLUTION,
    MEDIAN_STEP_ZERO,
    REASONS,
    emergence_score,
    score_curve,
    score_curves,
)
from rescore.emergence.paired import weight_chunks
from rescore.emergence.simulate import expected_generation_curves, simulate_generations

MODELS = {"s-100m": 1e8, "s-200m": 2e8, "s-400m": 4e8, "s-800m": 8e8, "s-1.6b": 1.6e9}
MODELS |= {"s-3.2b": 3.2e9}
LAW = {"c": 1e8, "alpha": -0.5, "target_lengths": [5, 10, 20], "difficulty": 1.0}


def _family(seed: int, n_examples: int = 500) -> pl.DataFrame:
    df = simulate_generations(MODELS, n_examples=n_examples, seed=seed, **LAW)  # type: ignore[arg-type]
    return df.select(
        "model",
        "task",
        "doc_id",
        token_edit_distance=rescore.token_edit_distance(df["prediction_ids"], df["reference_ids"]),
    )


def _interval(df: pl.DataFrame, **options: Any) -> tuple[float, float, str]:
    row = analyze(df, n_boot=300, **options).emergence.row(0, named=True)
    low = -math.inf if row["emergence_ci_low"] is None else row["emergence_ci_low"]
    high = math.inf if row["emergence_ci_high"] is None else row["emergence_ci_high"]
    return low, high, row["bootstrap"]


def test_paired_interval_is_narrower_and_covers_the_true_score() -> None:
    truth = expected_generation_curves(MODELS, **LAW)["token_edit_distance"]  # type: ignore[arg-type]
    true_score = emergence_score(truth, higher_is_better=False)
    reps = 40
    covered = {"paired": 0, "independent": 0}
    narrower = 0
    widths: dict[str, list[float]] = {"paired": [], "independent": []}
    for seed in range(reps):
        df = _family(seed)
        for mode in covered:
            low, high, used = _interval(df, seed=seed, bootstrap=mode)
            assert used == mode
            covered[mode] += low <= true_score <= high
            widths[mode].append(high - low)
        narrower += widths["paired"][-1] < widths["independent"][-1]
    assert covered["paired"] >= 0.9 * reps, covered
    assert narrower >= 0.9 * reps
    assert np.median(widths["paired"]) < 0.7 * np.median(widths["independent"])


def test_pairing_is_detected_from_shared_ids_and_reported() -> None:
    shared = _family(0, n_examples=60)
    report = analyze(shared, n_boot=50)
    assert report.emergence["bootstrap"].to_list() == ["paired"]
    assert set(report.curves["ci_method"]) == {"paired bootstrap"}
    # Every model answered different examples: nothing to pair, the independent bootstrap.
    disjoint = shared.with_columns(pl.col("doc_id") + 1000 * pl.col("model").rank("dense"))
    report = analyze(disjoint, n_boot=50)
    assert report.emergence["bootstrap"].to_list() == ["independent"]
    assert set(report.curves["ci_method"]) == {"bootstrap"}
    forced = analyze(shared, n_boot=50, bootstrap="independent")
    assert forced.emergence["bootstrap"].to_list() == ["independent"]
    # The means do not depend on the pairing, only the intervals' joint draws do.
    assert forced.curves["mean"].to_list() == analyze(shared, n_boot=50).curves["mean"].to_list()
    no_ids = analyze(shared.drop("doc_id"), n_boot=50, bootstrap="paired")
    assert any("paired bootstrap not possible" in note for note in no_ids.notes)


def test_paired_draws_are_seeded_and_keep_each_models_mean_exact() -> None:
    df = _family(1, n_examples=80)
    a = analyze(df, n_boot=100, seed=5).curves
    b = analyze(df.sample(fraction=1.0, shuffle=True, seed=2), n_boot=100, seed=5).curves
    assert a.select("ci_low", "ci_high").equals(b.select("ci_low", "ci_high"))
    # A model missing some examples still gets a paired interval around its own mean.
    thinned = df.filter(~((pl.col("model") == "s-100m") & (pl.col("doc_id") < 30)))
    row = analyze(thinned, n_boot=200).curves.filter(pl.col("model") == "s-100m").row(0, named=True)
    assert (row["n"], row["ci_method"]) == (50, "paired bootstrap")
    assert row["ci_low"] < row["mean"] < row["ci_high"]


def test_normal_limit_has_the_paired_covariance(monkeypatch: pytest.MonkeyPatch) -> None:
    df = _family(2, n_examples=400)
    exact = analyze(df, n_boot=2000, seed=1)
    monkeypatch.setattr(paired_module, "MAX_EXACT_CELLS", 0)
    normal = analyze(df, n_boot=2000, seed=1)
    assert set(normal.curves["ci_method"]) == {"paired normal"}
    for name in ("s-200m", "s-1.6b"):
        e = exact.curves.filter(pl.col("model") == name).row(0, named=True)
        n = normal.curves.filter(pl.col("model") == name).row(0, named=True)
        assert n["ci_high"] - n["ci_low"] == pytest.approx(e["ci_high"] - e["ci_low"], rel=0.15)
    # Both keep neighbouring models correlated, which is what narrows the score's interval.
    assert exact.emergence["emergence_ci_high"].item() == pytest.approx(
        normal.emergence["emergence_ci_high"].item(), rel=0.15
    )


def test_weights_resample_every_example_count() -> None:
    rng = np.random.default_rng(0)
    blocks = list(weight_chunks(rng, 7, 10))
    weights = np.concatenate(blocks)
    assert weights.shape == (10, 7)
    assert (weights.sum(axis=1) == 7).all()


def test_steps_below_the_resolution_are_flat() -> None:
    y = [0.0, 1e-6, 0.0, 0.9]
    plain = score_curve([1, 2, 3, 4], y)
    assert plain.reason == ""
    assert plain.emergence_score == pytest.approx(9e5)  # a "breakthrough" made of noise
    resolved = score_curve([1, 2, 3, 4], y, resolution=1 / 1000)
    assert (resolved.reason, resolved.shape, resolved.emergence_score) == (
        MEDIAN_STEP_BELOW_RESOLUTION,
        "emergent",
        None,
    )
    assert resolved.improvement == pytest.approx(0.9)
    assert MEDIAN_STEP_BELOW_RESOLUTION in REASONS
    # Exactly flat steps keep their own reason.
    assert score_curve([1, 2, 3, 4], [0, 0, 0, 0.9], resolution=1e-3).reason == MEDIAN_STEP_ZERO
    # A resolved curve of real steps is untouched.
    assert score_curve([1, 2, 3, 4], [0.0, 0.1, 0.2, 0.9], resolution=1e-3).emergence_score == (
        pytest.approx(9.0)
    )


def test_flat_step_reason_and_interval_from_a_points_frame() -> None:
    """`[0, 1e-6, 0, 0.9]` with 1,000 examples per model: the flat-step reason, and an interval
    whose bootstrap curves follow the same rule (so its upper end is infinite)."""
    means = [0.0, 1e-6, 0.0, 0.9]
    points = pl.DataFrame(
        {
            "model": ["a", "b", "c", "d"],
            "task": ["t"] * 4,
            "family": ["f"] * 4,
            "scale": [1e8, 1e9, 1e10, 1e11],
            "metric": ["accuracy"] * 4,
            "mean": means,
            "resolution": [1 / 1000] * 4,
        }
    )
    rng = np.random.default_rng(0)
    draws = {
        (m, "t", "accuracy"): v + rng.normal(0.0, 1e-6, 200)
        for m, v in zip("abcd", means, strict=True)
    }
    table = score_curves(
        points,
        draws,
        keys=["model", "task"],
        curve_keys=["task", "family"],
        directions={"accuracy": True},
        continuous={"accuracy": False},
    )
    row = table.row(0, named=True)
    assert (row["reason"], row["emergence_score"]) == (MEDIAN_STEP_BELOW_RESOLUTION, None)
    assert row["emergence_ci_high"] is None
    assert row["emergence_ci_degenerate"] == 1.0

"""gold_probability and expected_calibration_error against NumPy formulas and
uncertainty-calibration's get_ece / get_ece_em."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rescore
from rescore.exceptions import InvalidInputError, InvalidOptionError
from rescore.metrics import choice_confidence


def softmax(row: list[float]) -> np.ndarray[Any, np.dtype[np.float64]]:
    x = np.array(row, dtype=np.float64)
    e = np.exp(x - x.max())
    return e / e.sum()


def test_gold_probability_is_the_softmax_of_the_gold_choice() -> None:
    rng = np.random.default_rng(1)
    rows = [list(-rng.random(k) * 20) for k in rng.integers(1, 6, 500)]
    labels = [int(rng.integers(0, len(r))) for r in rows]
    got = rescore.gold_probability(rows, labels).to_pylist()
    want = [softmax(r)[g] for r, g in zip(rows, labels, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    top = choice_confidence(rows, labels).to_pylist()
    np.testing.assert_allclose(top, [softmax(r).max() for r in rows], rtol=1e-12)


def test_soft_targets_are_weighted_and_probabilities_read_as_given() -> None:
    probs = [[0.2, 0.3, 0.5]]
    assert rescore.gold_probability(probs, [[0.0, 0.5, 0.5]], from_logprobs=False).to_pylist() == [
        pytest.approx(0.4)
    ]
    logs = [[math.log(p) for p in probs[0]]]
    assert rescore.gold_probability(logs, [2]).to_pylist() == [pytest.approx(0.5)]


@pytest.mark.parametrize(
    ("scores", "kwargs", "match"),
    [
        ([[-1.0, math.nan]], {}, r"`scores` row 0, choice 1: NaN"),
        ([[-1.0, math.inf]], {}, r"`scores` row 0, choice 1: inf"),
        ([[-math.inf, -math.inf]], {}, r"`scores` row 0.*at least one finite"),
        ([[]], {}, r"`scores` row 0: empty choice list"),
        ([[0.5, 1.5]], {"from_logprobs": False}, r"`scores` row 0, choice 1: 1.5"),
        ([[0.5, 0.4]], {"from_logprobs": False}, r"`scores` row 0: probabilities sum to 0.9"),
    ],
)
def test_bad_rows(scores: Any, kwargs: dict[str, Any], match: str) -> None:
    s = pa.array(scores, pa.list_(pa.float64()))
    with pytest.raises(InvalidInputError, match=match):
        rescore.gold_probability(s, [0], **kwargs)
    assert rescore.gold_probability(s, [0], on_error="null", **kwargs).to_pylist() == [None]


LOGLIKS = st.lists(
    st.lists(st.one_of(st.floats(-1e6, 1e3), st.just(-math.inf)), min_size=1, max_size=6).filter(
        lambda r: any(math.isfinite(v) for v in r)
    ),
    min_size=1,
    max_size=30,
)


@given(LOGLIKS, st.data())
def test_gold_probability_is_in_unit_interval(rows: list[list[float]], data: st.DataObject) -> None:
    labels = [data.draw(st.integers(0, len(r) - 1)) for r in rows]
    out = rescore.gold_probability(rows, labels).to_pylist()
    assert all(0.0 <= p <= 1.0 for p in out)
    top = choice_confidence(rows, labels).to_pylist()
    assert all(1.0 / len(r) - 1e-12 <= t <= 1.0 for t, r in zip(top, rows, strict=True))
    assert all(g <= t for g, t in zip(out, top, strict=True))


def ece_numpy(conf: np.ndarray[Any, Any], correct: np.ndarray[Any, Any], bins: int) -> float:
    """Guo et al.'s ECE written out: bin b holds (b/B, (b+1)/B], bin 0 also holds 0."""
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return total


@pytest.mark.parametrize("bins", [1, 3, 10, 15])
def test_ece_uniform_matches_the_formula(bins: int) -> None:
    rng = np.random.default_rng(bins)
    conf = rng.random(2000)
    correct = rng.random(2000) < conf**2
    got = rescore.expected_calibration_error(conf, correct, bins=bins)
    assert got == pytest.approx(ece_numpy(conf, correct.astype(float), bins), abs=1e-12)


@pytest.mark.parametrize("binning", ["uniform", "quantile"])
@pytest.mark.parametrize(("n", "bins"), [(1000, 10), (1000, 15), (7, 10), (250, 3)])
def test_ece_matches_uncertainty_calibration(binning: str, n: int, bins: int) -> None:
    calibration = pytest.importorskip("calibration")
    rng = np.random.default_rng(n + bins)
    # rows of a 4-way multiple choice: top-label ECE from the probabilities, as HELM does
    logits = rng.normal(size=(n, 4)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, n)
    oracle = calibration.get_ece if binning == "uniform" else calibration.get_ece_em
    want = oracle(probs, labels, num_bins=bins)
    loglik = pa.array(list(np.log(probs)))
    conf = choice_confidence(loglik, labels)
    correct = rescore.multiple_choice_grade(loglik, labels)
    got = rescore.expected_calibration_error(conf, correct, bins=bins, binning=binning)  # type: ignore[arg-type]
    assert got == pytest.approx(want, abs=1e-12)


def test_ece_bad_input() -> None:
    with pytest.raises(InvalidInputError, match=r"`confidences` row 2: 1.5"):
        rescore.expected_calibration_error([0.1, 0.2, 1.5], [True, True, False])
    with pytest.raises(InvalidInputError, match=r"`confidences` row 0: nan"):
        rescore.expected_calibration_error([math.nan], [True])
    with pytest.raises(InvalidInputError, match=r"`correct` row 1: 2.0"):
        rescore.expected_calibration_error([0.5, 0.5], [1, 2])
    assert rescore.expected_calibration_error(
        [0.1, 0.2, 1.5], [True, True, False], on_error="null", bins=1
    ) == pytest.approx(abs(1.0 - 0.15))
    assert math.isnan(rescore.expected_calibration_error([None], [True]))
    with pytest.raises(InvalidOptionError, match="bins"):
        rescore.expected_calibration_error([0.5], [True], bins=0)
    with pytest.raises(InvalidOptionError, match="binning"):
        rescore.expected_calibration_error([0.5], [True], binning="mass")  # type: ignore[arg-type]


def test_batch_summary_is_the_group_ece(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 600
    logits = rng.normal(size=(n, 4)) * 2
    table = pa.table(
        {
            "model": ["a"] * (n // 2) + ["b"] * (n // 2),
            "task": ["t"] * n,
            "choice_logprobs": list(logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))),
            "label": rng.integers(0, 4, n),
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    for binning in ("uniform", "quantile"):
        result = rescore.score(
            tmp_path / "in.parquet",
            tmp_path / binning,
            metrics="expected_calibration_error",
            options={"expected_calibration_error": {"binning": binning, "bins": 5}},
        )
        summary = {r["model"]: r["expected_calibration_error"] for r in result.summary.to_dicts()}
        for model, rows in (("a", slice(0, n // 2)), ("b", slice(n // 2, n))):
            part = table.slice(rows.start, rows.stop - rows.start)
            conf = choice_confidence(part["choice_logprobs"], part["label"])
            correct = rescore.multiple_choice_grade(part["choice_logprobs"], part["label"])
            want = rescore.expected_calibration_error(conf, correct, bins=5, binning=binning)  # type: ignore[arg-type]
            assert summary[model] == pytest.approx(want, abs=1e-12)


def test_emergence_has_an_ece_curve_lower_is_better() -> None:
    import polars as pl

    from rescore.batch.score_table import score_table
    from rescore.batch.spec import ColumnMap, MetricSpec, ScoreSpec
    from rescore.emergence import analyze
    from rescore.emergence.aggregate import aggregate
    from rescore.emergence.inputs import resolve_metrics

    rng = np.random.default_rng(11)
    models, rows = ["m-1b", "m-2b", "m-4b"], 200
    parts = []
    for i, model in enumerate(models):
        logits = rng.normal(size=(rows, 4)) * (1 + i)
        parts.append(
            pa.table(
                {
                    "model": [model] * rows,
                    "task": ["t"] * rows,
                    "doc_id": np.arange(rows),
                    "choice_logprobs": list(logits),
                    "label": rng.integers(0, 4, rows),
                }
            )
        )
    data = pa.concat_tables(parts)
    spec = ScoreSpec(
        metrics=(MetricSpec("expected_calibration_error", {"bins": 5}),),
        columns=ColumnMap(
            choices="choice_logprobs", label="label", keys=("model", "task", "doc_id")
        ),
    )
    frame = pl.from_arrow(score_table(data, spec))
    assert isinstance(frame, pl.DataFrame)
    metrics = resolve_metrics(frame.lazy().collect_schema())
    assert [m.name for m in metrics] == ["expected_calibration_error"]
    assert not metrics[0].higher_is_better
    points = aggregate(frame.lazy(), metrics, n_boot=200, seed=0).points
    for row in points.iter_rows(named=True):
        part = data.filter(pa.compute.equal(data["model"], row["model"]))
        conf = choice_confidence(part["choice_logprobs"], part["label"])
        correct = rescore.multiple_choice_grade(part["choice_logprobs"], part["label"])
        assert row["mean"] == pytest.approx(
            rescore.expected_calibration_error(conf, correct, bins=5), abs=1e-12
        )
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    report = analyze(frame, n_boot=100)
    assert report.curves.filter(pl.col("metric") == "expected_calibration_error").height == 3


# Rows for the fast path: -inf entries, null rows, rows that fail (NaN, +inf, only -inf, empty).
ANY_ROWS = st.lists(
    st.one_of(
        st.none(),
        st.lists(st.one_of(st.floats(-1e4, 10.0), st.just(-math.inf)), min_size=1, max_size=5),
        st.sampled_from([[], [math.nan, -1.0], [-1.0, math.inf], [-math.inf]]),
    ),
    min_size=1,
    max_size=40,
)


@pytest.mark.parametrize("metric", [rescore.gold_probability, choice_confidence])
@pytest.mark.parametrize(
    ("layout", "label_type"),
    [
        (pa.list_(pa.float64()), pa.int64()),
        (pa.large_list(pa.float64()), pa.int32()),
        (pa.list_(pa.float64()), pa.int32()),
        (pa.large_list(pa.float64()), pa.int64()),
    ],
)
@given(rows=ANY_ROWS, data=st.data())
def test_fast_path_gives_the_bits_and_errors_of_the_general_path(
    metric: Any, layout: pa.DataType, label_type: pa.DataType, rows: Any, data: st.DataObject
) -> None:
    """list/large_list<double> with int64/int32 labels take the fast path; list_view with int8
    labels the general one. Same values bit for bit, same first error, same nulls."""
    labels = [
        data.draw(st.one_of(st.none(), st.integers(-1, 5 if r is None else len(r)))) for r in rows
    ]
    offset = data.draw(st.integers(0, len(rows) - 1))  # sliced input: non-zero offsets
    fast = (pa.array(rows, layout).slice(offset), pa.array(labels, label_type).slice(offset))
    general = (
        pa.array(rows, pa.list_view(pa.float64())).slice(offset),
        pa.array(labels, pa.int8()).slice(offset),
    )

    def run(columns: tuple[pa.Array, pa.Array], **kwargs: Any) -> Any:
        try:
            return [
                None if v is None else float_bits(v) for v in metric(*columns, **kwargs).to_pylist()
            ]
        except InvalidInputError as e:
            return str(e)

    assert run(fast) == run(general)
    assert run(fast, on_error="null") == run(general, on_error="null")
    assert run(fast, workers=1) == run(fast)


def float_bits(value: float) -> int:
    return int(np.float64(value).view(np.int64))


@given(
    st.lists(
        st.lists(st.one_of(st.floats(-1e4, 0.0), st.just(-math.inf)), min_size=4, max_size=4),
        min_size=1,
        max_size=40,
    ),
    st.data(),
)
def test_fast_path_on_fixed_size_lists(rows: list[list[float]], data: st.DataObject) -> None:
    labels = [data.draw(st.integers(0, 3)) for _ in rows]
    fixed = pa.array(rows, pa.list_(pa.float64(), 4))
    view = pa.array(rows, pa.list_view(pa.float64()))
    for metric in (rescore.gold_probability, choice_confidence):
        try:
            want = metric(view, pa.array(labels, pa.int8())).to_pylist()
        except InvalidInputError as e:  # a row of only -inf
            with pytest.raises(InvalidInputError, match=re.escape(str(e))):
                metric(fixed, labels)
            continue
        got = metric(fixed, labels).to_pylist()
        assert [float_bits(v) for v in got] == [float_bits(v) for v in want]

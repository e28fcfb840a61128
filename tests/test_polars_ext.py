"""The Polars namespace reaches every likelihood and sampling metric with its options and
column keywords, and gives what the Python functions give on the same columns."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest

import rescore
from rescore.exceptions import InvalidOptionError
from rescore.metrics import acc_bytes, acc_mutual_info, acc_norm, choice_confidence

CHOICES = pl.DataFrame(
    {
        "lls": [[-4.0, -3.0, -9.0], [-1.0, -2.0, -0.5], [-2.0, -2.5, -7.0], None],
        "gold": [0, 2, 1, 0],
        "texts": [["a long one", "two", "x"], ["é", "ab", "abc"], ["ü", "ùù", "z"], ["a"]],
        "uncond": [[-1.0, -5.0, -2.0], [-3.0, -1.0, -1.0], [-4.0, -1.0, -3.0], [-1.0]],
    }
)
SAMPLES = pl.DataFrame(
    {
        "ok": [[True, False, False], [False, False, False], [True, True, True]],
        "s": [["The cat", "dog", "a  cat"], ["owl", "Owl", "bat"], ["x", "x", "y"]],
        "r": ["cat", "bat", "x"],
    }
)
ROLLING = pl.DataFrame(
    {"ll": [-120.5, -33.0, None], "doc": ["one two  three\nfour", "héllo wörld", "x"]}
)

S, L, T, U = (CHOICES[c] for c in ("lls", "gold", "texts", "uncond"))
Case = tuple[pl.DataFrame, Callable[[], pl.Expr], Callable[[], Any]]
CASES: dict[str, Case] = {
    "acc": (
        CHOICES,
        lambda: pl.col("lls").rescore.multiple_choice_grade("gold"),
        lambda: rescore.multiple_choice_grade(S, L),
    ),
    "acc_norm via multiple_choice_grade": (
        CHOICES,
        lambda: pl.col("lls").rescore.multiple_choice_grade(
            "gold", choices="texts", length_normalize="chars"
        ),
        lambda: rescore.multiple_choice_grade(S, L, choices=T, length_normalize="chars"),
    ),
    "acc_bytes via multiple_choice_grade, choices as an expression": (
        CHOICES,
        lambda: pl.col("lls").rescore.multiple_choice_grade(
            pl.col("gold"), choices=pl.col("texts"), length_normalize="bytes"
        ),
        lambda: rescore.multiple_choice_grade(S, L, choices=T, length_normalize="bytes"),
    ),
    "acc_norm": (
        CHOICES,
        lambda: pl.col("lls").rescore.acc_norm("gold", choices="texts"),
        lambda: acc_norm(S, L, choices=T),
    ),
    "acc_bytes": (
        CHOICES,
        lambda: pl.col("lls").rescore.acc_bytes("gold", choices="texts"),
        lambda: acc_bytes(S, L, choices=T),
    ),
    "acc_mutual_info": (
        CHOICES,
        lambda: pl.col("lls").rescore.acc_mutual_info("gold", unconditional="uncond"),
        lambda: acc_mutual_info(S, L, unconditional=U),
    ),
    "gold_probability": (
        CHOICES,
        lambda: pl.col("lls").rescore.gold_probability("gold", from_logprobs=True),
        lambda: rescore.gold_probability(S, L),
    ),
    "expected_calibration_error (per row: the confidence)": (
        CHOICES,
        lambda: pl.col("lls").rescore.expected_calibration_error("gold", bins=5),
        lambda: choice_confidence(S, L),
    ),
    "pass_at_k of flags, one column": (
        SAMPLES,
        lambda: pl.col("ok").rescore.pass_at_k(k=2),
        lambda: rescore.pass_at_k(SAMPLES["ok"], k=2),
    ),
    "pass_at_k of text": (
        SAMPLES,
        lambda: pl.col("s").rescore.pass_at_k(
            "r", k=2, ignore_case=True, ignore_articles=True, collapse_whitespace=True
        ),
        lambda: rescore.pass_at_k(
            SAMPLES["s"],
            SAMPLES["r"],
            k=2,
            ignore_case=True,
            ignore_articles=True,
            collapse_whitespace=True,
        ),
    ),
    "sample_accuracy": (
        SAMPLES,
        lambda: pl.col("ok").rescore.sample_accuracy(),
        lambda: rescore.sample_accuracy(SAMPLES["ok"]),
    ),
    "majority_vote": (
        SAMPLES,
        lambda: pl.col("s").rescore.majority_vote("r", k=2, ignore_case=True),
        lambda: rescore.majority_vote(SAMPLES["s"], SAMPLES["r"], k=2, ignore_case=True),
    ),
    **{
        name: (
            ROLLING,
            lambda name=name: pl.col("ll").rescore.metric(name, "doc"),
            lambda name=name: getattr(rescore, name)(ROLLING["ll"], ROLLING["doc"]),
        )
        for name in ("word_perplexity", "byte_perplexity", "bits_per_byte")
    },
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mode", ["eager", "streaming"])
def test_namespace_equals_the_function(case: str, mode: str) -> None:
    frame, expr, function = CASES[case]
    if mode == "eager":
        got = frame.select(expr()).to_series()
    else:
        got = frame.lazy().select(expr()).collect(engine="streaming").to_series()
    want = pl.Series(function())
    assert got.dtype == want.dtype
    assert got.to_list() == pytest.approx(want.to_list(), nan_ok=True)
    assert any(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in got)


def test_column_keywords_are_aligned_with_the_rows() -> None:
    """Filtering and reordering before the metric moves the choice texts with their rows."""
    expr = pl.col("lls").rescore.acc_norm("gold", choices="texts")
    base = CHOICES.with_row_index().select("index", expr)
    flipped = CHOICES.with_row_index().reverse().filter(pl.col("index") != 1).select("index", expr)
    assert flipped.sort("index").rows() == base.filter(pl.col("index") != 1).rows()


def test_namespace_errors_name_the_keyword() -> None:
    with pytest.raises(InvalidOptionError, match="reads two columns"):
        CHOICES.select(pl.col("lls").rescore.gold_probability())
    with pytest.raises(InvalidOptionError, match="no option 'length'"):
        CHOICES.select(pl.col("lls").rescore.multiple_choice_grade("gold", length="chars"))
    with pytest.raises(InvalidOptionError, match="from_logprobs"):
        CHOICES.select(pl.col("lls").rescore.gold_probability("gold", from_logprobs="yes"))
    # length_normalize goes to the function, which checks it: a clear error, not a default
    with pytest.raises(InvalidOptionError, match="length_normalize needs the choice texts"):
        CHOICES.select(
            pl.col("lls").rescore.multiple_choice_grade("gold", length_normalize="chars")
        )


def test_expected_calibration_error_over_a_group() -> None:
    """The group value: ECE of the namespace's per-row confidences and grades, as the
    function computes it, equals NumPy's equal-width formula."""
    rng = np.random.default_rng(3)
    lls = np.log(rng.dirichlet(np.ones(4), 300))
    df = pl.DataFrame({"lls": lls.tolist(), "gold": rng.integers(0, 4, 300)})
    rows = df.select(
        pl.col("lls").rescore.expected_calibration_error("gold").alias("conf"),
        pl.col("lls").rescore.multiple_choice_grade("gold").alias("ok"),
    )
    got = rescore.expected_calibration_error(rows["conf"], rows["ok"].cast(pl.Boolean), bins=10)
    conf, ok = rows["conf"].to_numpy(), rows["ok"].to_numpy()
    edges = np.clip(np.ceil(conf * 10).astype(int) - 1, 0, 9)  # an edge goes to the bin below
    want = sum(
        (edges == b).mean() * abs(ok[edges == b].mean() - conf[edges == b].mean())
        for b in range(10)
        if (edges == b).any()
    )
    assert got == pytest.approx(want, abs=1e-12)

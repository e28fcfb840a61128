"""token_f1 against the SQuAD v2.0 script's compute_f1 (tests/reference.py), on text built to
hit its normalisation: articles next to punctuation, Unicode word characters and marks, case."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import rescore
from rescore.exceptions import InvalidOptionError, UnsupportedTypeError
from tests import reference
from tests.strategies import texts

# Words and separators that make the script's steps matter: articles inside and around other
# words, ASCII and Unicode punctuation, `_` (punctuation to the script, a word character to
# its regex), combining marks, final sigma, CJK, digits.
PIECES = ["the", "The", "a", "an", "An", "them", "ana", "cat", "Σοφός", "é", "e\u0301", "字", "42"]
SEPARATORS = [" ", "  ", "-", "\u2014", "_", ".", ",", "\u3002", "\t", "\u0301", "'", ""]
answers = st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), max_size=8).map(
    lambda parts: "".join(w + s for w, s in parts)
)
any_text = st.one_of(answers, texts)


@given(any_text, any_text)
@example("", "")
@example("", "the")
@example("the\u2014end", "\u2014end")
@example("a\u0301", "\u0301")
@example("ΌΣΟΣ", "όσος")
def test_equals_the_squad_script(prediction: str, gold: str) -> None:
    (got,) = rescore.token_f1([prediction], [gold]).to_pylist()
    assert got == reference.squad_f1(gold, prediction)


@given(any_text, st.lists(st.one_of(st.none(), any_text), max_size=4))
def test_the_best_reference_counts(prediction: str, golds: list[str | None]) -> None:
    present = [g for g in golds if g is not None]
    expected = max((reference.squad_f1(g, prediction) for g in present), default=None)
    column = pa.array([golds], pa.list_(pa.string()))
    assert rescore.token_f1([prediction], column).to_pylist() == [expected]


def test_nulls_give_nulls() -> None:
    out = rescore.token_f1(["a b", None, "c"], ["b", "b", None]).to_pylist()
    assert out == [1.0, None, None]


@given(st.lists(st.tuples(any_text, any_text), max_size=40), st.integers(0, 40), st.integers(1, 4))
def test_chunking_and_threads_do_not_change_scores(
    rows: list[tuple[str, str]], cut: int, workers: int
) -> None:
    preds = pa.array([p for p, _ in rows], pa.string())
    golds = pa.array([g for _, g in rows], pa.large_string())
    cut = min(cut, len(rows))
    chunked = pa.chunked_array([preds.slice(0, cut), preds.slice(cut)])
    whole = rescore.token_f1(preds, golds, workers=1)
    assert rescore.token_f1(chunked, golds, workers=workers).equals(whole)


def test_each_normalisation_step_can_be_turned_off() -> None:
    assert rescore.token_f1(["The Cat"], ["cat"], ignore_case=False).to_pylist() == [0.0]
    assert rescore.token_f1(["cat!"], ["cat"], ignore_punctuation=False).to_pylist() == [0.0]
    assert rescore.token_f1(["a cat"], ["cat"], ignore_articles=False).to_pylist() == [
        pytest.approx(2 / 3)
    ]


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(UnsupportedTypeError, match="predictions"):
        rescore.token_f1([[1, 2]], [[1, 2]])
    with pytest.raises(UnsupportedTypeError, match="references"):
        rescore.token_f1(["a"], [1])
    with pytest.raises(InvalidOptionError, match="ignore_case"):
        rescore.token_f1(["a"], ["a"], ignore_case="yes")  # type: ignore[arg-type]


def test_a_long_row_is_scored() -> None:
    text = " ".join(f"w{i % 997}" for i in range(10_000))
    assert rescore.token_f1([text], [text]).to_pylist() == [1.0]

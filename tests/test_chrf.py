"""chrf / corpus_chrf against sacrebleu's CHRF (sentence_score, corpus_score) on text built to
hit its steps: whitespace removal, chrF++ words with punctuation split off, case, Unicode."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import rescore
from rescore.exceptions import InvalidOptionError, UnsupportedTypeError
from rescore.registry import get_metric
from tests.test_bleu import any_text

sacrebleu = pytest.importorskip("sacrebleu")
from sacrebleu.metrics import CHRF  # noqa: E402

orders = st.tuples(
    st.integers(1, 8), st.integers(0, 3), st.integers(1, 3), st.booleans(), st.booleans()
)


@settings(max_examples=300)
@given(any_text, any_text, orders)
@example("", "", (6, 0, 2, False, False))
@example("a", "", (6, 2, 2, False, False))
@example("Hello, world!", "hello world .", (6, 2, 2, True, False))
@example("ΌΣΟΣ", "όσος", (6, 0, 2, True, False))
def test_sentence_equals_sacrebleu(hyp: str, ref: str, o: tuple[int, int, int, bool, bool]) -> None:
    c, w, b, lc, ws = o
    (got,) = rescore.chrf(
        [hyp], [ref], char_order=c, word_order=w, beta=b, lowercase=lc, whitespace=ws
    ).to_pylist()
    want = CHRF(char_order=c, word_order=w, beta=b, lowercase=lc, whitespace=ws).sentence_score(
        hyp, [ref]
    )
    assert got == pytest.approx(want.score, abs=1e-9)


@given(any_text, any_text)
def test_defaults_are_sentence_chrf(hyp: str, ref: str) -> None:
    assert rescore.chrf([hyp], [ref]).to_pylist()[0] == pytest.approx(
        sacrebleu.sentence_chrf(hyp, [ref]).score, abs=1e-9
    )
    assert rescore.chrf([hyp], [ref], word_order=2).to_pylist()[0] == pytest.approx(
        sacrebleu.sentence_chrf(hyp, [ref], word_order=2).score, abs=1e-9
    )


@given(any_text, st.lists(st.one_of(st.none(), any_text), max_size=4), st.integers(0, 2))
def test_several_references_as_sacrebleu(hyp: str, refs: list[str | None], word_order: int) -> None:
    present = [r for r in refs if r is not None]
    column = pa.array([refs], pa.list_(pa.string()))
    (got,) = rescore.chrf([hyp], column, word_order=word_order).to_pylist()
    if not present:
        assert got is None
    else:
        want = CHRF(word_order=word_order).sentence_score(hyp, present).score
        assert got == pytest.approx(want, abs=1e-9)


@given(
    st.lists(
        st.tuples(any_text, st.lists(any_text, min_size=1, max_size=3)), min_size=1, max_size=30
    ),
    st.integers(0, 2),
)
def test_corpus_equals_sacrebleu(rows: list[tuple[str, list[str]]], word_order: int) -> None:
    hyps = [h for h, _ in rows]
    width = max(len(r) for _, r in rows)
    streams = [[r[k] if k < len(r) else None for _, r in rows] for k in range(width)]
    want = CHRF(word_order=word_order).corpus_score(hyps, streams).score
    column = pa.array([r for _, r in rows], pa.list_(pa.string()))
    got = rescore.corpus_chrf(hyps, column, word_order=word_order)
    assert got == pytest.approx(want, abs=1e-9)


def test_registry_aggregation_is_corpus_chrf_per_group() -> None:
    hyps = ["the cat sat on the mat", "hello world", "a b c d", "x"]
    refs = ["the cat sat on a mat", "hello there world", "a b c e", "y"]
    agg = get_metric("chrf").aggregation
    stats = agg.statistics(hyps, refs, word_order=2, beta=3)  # type: ignore[attr-defined]
    groups = [[0, 1], [2, 3], [0, 1, 2, 3]]
    sums = {
        f: pa.array([sum(stats.field(f)[i].as_py() for i in g) for g in groups]).to_numpy()
        for f in agg.fields  # type: ignore[attr-defined]
    }
    got = agg.combine(sums)  # type: ignore[attr-defined]
    for g, score in zip(groups, got, strict=True):
        want = CHRF(word_order=2, beta=3).corpus_score([hyps[i] for i in g], [[refs[i] for i in g]])
        assert score == pytest.approx(want.score, abs=1e-9)
    with pytest.raises(InvalidOptionError, match="char_order"):
        agg.statistics(hyps, refs, char_order=11)  # type: ignore[attr-defined]


def test_nulls_long_and_unusual_rows() -> None:
    assert rescore.chrf(["a", None, "b"], ["a", "b", None]).to_pylist() == [100.0, None, None]
    assert rescore.corpus_chrf([None], ["a"]) is None
    long = " ".join(f"w{i % 997}" for i in range(10_000))
    rows = [long, "😀 שלום مرحبا e\u0301\u0301", "\u200f\u202e text", "", "\x00"]
    got = rescore.chrf(rows, rows[::-1], word_order=2).to_pylist()
    want = [
        sacrebleu.sentence_chrf(h, [r], word_order=2).score
        for h, r in zip(rows, rows[::-1], strict=True)
    ]
    assert got == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize(
    ("options", "name"),
    [({"char_order": 0}, "char_order"), ({"word_order": -1}, "word_order"), ({"beta": 0}, "beta")],
)
def test_bad_options_name_the_option(options: dict[str, int], name: str) -> None:
    with pytest.raises(InvalidOptionError, match=name):
        rescore.chrf(["a"], ["a"], **options)
    with pytest.raises(InvalidOptionError, match=name):
        rescore.corpus_chrf(["a"], ["a"], **options)


def test_non_text_predictions_name_the_argument() -> None:
    with pytest.raises(UnsupportedTypeError, match="predictions"):
        rescore.chrf(pa.array([1, 2]), ["a", "b"])


@given(st.lists(st.tuples(any_text, any_text), max_size=40), st.integers(0, 40), st.integers(1, 4))
def test_chunking_and_threads_do_not_change_scores(
    rows: list[tuple[str, str]], cut: int, workers: int
) -> None:
    preds = pa.array([p for p, _ in rows], pa.string())
    refs = pa.array([r for _, r in rows], pa.large_string())
    cut = min(cut, len(rows))
    chunked = pa.chunked_array([preds.slice(0, cut), preds.slice(cut)])
    whole = rescore.chrf(preds, refs, workers=1, word_order=2)
    assert rescore.chrf(chunked, refs, workers=workers, word_order=2).equals(whole)
    stats = rescore.metrics.translation.chrf_statistics(
        pa.chunked_array([preds.slice(0, cut), preds.slice(cut)]), refs, workers=workers
    )
    assert stats.equals(rescore.metrics.translation.chrf_statistics(preds, refs, workers=1))


def test_statistics_of_null_typed_columns_are_null() -> None:
    preds = pa.chunked_array([pa.nulls(2), pa.nulls(1)])
    stats = rescore.metrics.translation.chrf_statistics(preds, ["ab", "xx", "ab"])
    assert stats.is_valid().to_pylist() == [False, False, False]
    stats = rescore.metrics.translation.chrf_statistics(["ab", "cd"], ["ab", None])
    assert stats.field("char_1_match").to_pylist() == [2.0, None]
    assert stats.is_valid().to_pylist() == [True, False]


def test_many_rows_in_parallel_equal_one_thread() -> None:
    rows = [f"the cat {i % 13} sat on the mat {i % 7}" for i in range(20_000)]
    refs = [f"the cat {i % 11} sat on a mat {i % 5}" for i in range(20_000)]
    one = rescore.chrf(rows, refs, workers=1, word_order=2)
    assert rescore.chrf(
        pa.chunked_array([rows[:7_777], rows[7_777:]]), refs, workers=2, word_order=2
    ).equals(one)
    assert rescore.corpus_chrf(rows, refs, workers=2) == rescore.corpus_chrf(rows, refs, workers=1)

"""bleu / corpus_bleu against sacrebleu itself (sentence_bleu, corpus_bleu), on text built to
hit its tokenizers: 13a's ASCII classes and digit rules, intl's Unicode punctuation and symbols,
HTML entities, accents, combining marks, CJK, right-to-left text, emoji, empty strings."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import rescore
from rescore.exceptions import InvalidOptionError, UnsupportedTypeError
from rescore.registry import get_metric
from tests.strategies import texts

sacrebleu = pytest.importorskip("sacrebleu")

PIECES = [
    "the",
    "cat",
    "The",
    "sat",
    "mat",
    "3",
    "1,000",
    "2.5",
    "e\u0301",
    "字",
    "東京",
    "שלום",
    "مرحبا",
    "😀",
    "&quot;",
    "&amp;",
    "<skipped>",
    "don't",
    "U.S.",
    "x-1",
    "",
    "Σ",
]
SEPARATORS = [
    " ",
    "  ",
    ".",
    ",",
    "-",
    "\n",
    "-\n",
    "!",
    "?",
    "'",
    '"',
    "(",
    ")",
    "$",
    "€",
    "«",
    "»",
    "\u3002",
    "\u2014",
    "\u00a0",
    "\t",
    "/",
    "<",
    "&",
    "",
]
sentences = st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), max_size=12
).map(lambda parts: "".join(w + s for w, s in parts))
any_text = st.one_of(sentences, texts)
tokenizers = st.sampled_from(["13a", "intl", "char", "none"])
smoothings = st.sampled_from(["exp", "floor", "add-k", "none"])


@settings(max_examples=300)
@given(any_text, any_text, tokenizers, smoothings, st.booleans())
@example("", "", "13a", "exp", False)
@example("", "the cat", "13a", "exp", False)
@example("1,000.5 x-1", "1,000.5 x - 1", "13a", "none", False)
@example("&amp;quot;", "&quot;", "13a", "exp", False)
@example("ΌΣΟΣ", "όσος", "intl", "exp", True)
def test_sentence_equals_sacrebleu(
    hyp: str, ref: str, tokenize: str, smooth: str, lowercase: bool
) -> None:
    (got,) = rescore.bleu(
        [hyp], [ref], tokenize=tokenize, smooth_method=smooth, lowercase=lowercase
    ).to_pylist()
    want = sacrebleu.sentence_bleu(
        hyp, [ref], tokenize=tokenize, smooth_method=smooth, lowercase=lowercase
    )
    assert got == pytest.approx(want.score, abs=1e-9)


@given(any_text, st.lists(st.one_of(st.none(), any_text), max_size=4), tokenizers)
def test_several_references_as_sacrebleu(hyp: str, refs: list[str | None], tokenize: str) -> None:
    present = [r for r in refs if r is not None]
    column = pa.array([refs], pa.list_(pa.string()))
    (got,) = rescore.bleu([hyp], column, tokenize=tokenize).to_pylist()
    if not present:
        assert got is None
    else:
        want = sacrebleu.sentence_bleu(hyp, present, tokenize=tokenize).score
        assert got == pytest.approx(want, abs=1e-9)


@given(
    st.lists(
        st.tuples(any_text, st.lists(any_text, min_size=1, max_size=3)), min_size=1, max_size=30
    ),
    tokenizers,
    smoothings,
)
def test_corpus_equals_sacrebleu(
    rows: list[tuple[str, list[str]]], tokenize: str, smooth: str
) -> None:
    hyps = [h for h, _ in rows]
    width = max(len(r) for _, r in rows)
    # sacrebleu's reference streams: a missing reference is None
    streams = [[r[k] if k < len(r) else None for _, r in rows] for k in range(width)]
    want = sacrebleu.corpus_bleu(hyps, streams, tokenize=tokenize, smooth_method=smooth).score
    column = pa.array([r for _, r in rows], pa.list_(pa.string()))
    got = rescore.corpus_bleu(hyps, column, tokenize=tokenize, smooth_method=smooth)
    assert got == pytest.approx(want, abs=1e-9)


def test_registry_aggregation_is_corpus_bleu_per_group() -> None:
    hyps = ["the cat sat on the mat", "hello world", "a b c d", "x"]
    refs = ["the cat sat on a mat", "hello there world", "a b c e", "y"]
    entry = get_metric("bleu")
    agg = entry.aggregation
    stats = agg.statistics(hyps, refs, smooth_method="floor")  # type: ignore[attr-defined]
    assert stats.type.names == list(agg.fields)  # type: ignore[attr-defined]
    groups = [[0, 1], [2, 3], [0, 1, 2, 3]]
    sums = {
        f: pa.array([sum(stats.field(f)[i].as_py() for i in g) for g in groups]).to_numpy()
        for f in agg.fields  # type: ignore[attr-defined]
    }
    got = agg.combine(sums)  # type: ignore[attr-defined]
    for g, score in zip(groups, got, strict=True):
        want = sacrebleu.corpus_bleu(
            [hyps[i] for i in g], [[refs[i] for i in g]], smooth_method="floor"
        )
        assert score == pytest.approx(want.score, abs=1e-9)


def test_nulls_and_empty() -> None:
    out = rescore.bleu(["a b", None, "c", ""], ["a b", "b", None, ""]).to_pylist()
    # effective order: two tokens that match score 100 (up to rounding), as in sacrebleu
    assert out[1:] == [None, None, 0.0]
    assert out[0] == sacrebleu.sentence_bleu("a b", ["a b"]).score
    assert rescore.corpus_bleu([None], ["a"]) is None


def test_long_and_unusual_rows_are_scored() -> None:
    long = " ".join(f"w{i % 997}" for i in range(10_000))
    rows = [long, "😀 שלום مرحبا e\u0301\u0301", "\u200f\u202e text", "\x00\x1f"]
    got = rescore.bleu(rows, rows[::-1], tokenize="intl").to_pylist()
    want = [
        sacrebleu.sentence_bleu(h, [r], tokenize="intl").score
        for h, r in zip(rows, rows[::-1], strict=True)
    ]
    assert got == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize(
    ("options", "name"),
    [({"tokenize": "zh"}, "tokenize"), ({"smooth_method": "add-1"}, "smooth_method")],
)
def test_bad_options_name_the_option(options: dict[str, str], name: str) -> None:
    with pytest.raises(InvalidOptionError, match=name):
        rescore.bleu(["a"], ["a"], **options)  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match=name):
        rescore.corpus_bleu(["a"], ["a"], **options)  # type: ignore[arg-type]


def test_non_text_predictions_name_the_argument() -> None:
    with pytest.raises(UnsupportedTypeError, match="predictions"):
        rescore.bleu(pa.array([1, 2]), ["a", "b"])
    with pytest.raises(UnsupportedTypeError, match="predictions"):
        rescore.bleu(pa.array([[1], [2]]), pa.array([[1], [2]]))


@given(st.lists(st.tuples(any_text, any_text), max_size=40), st.integers(0, 40), st.integers(1, 4))
def test_chunking_and_threads_do_not_change_scores(
    rows: list[tuple[str, str]], cut: int, workers: int
) -> None:
    preds = pa.array([p for p, _ in rows], pa.string())
    refs = pa.array([r for _, r in rows], pa.large_string())
    cut = min(cut, len(rows))
    chunked = pa.chunked_array([preds.slice(0, cut), preds.slice(cut)])
    whole = rescore.bleu(preds, refs, workers=1)
    assert rescore.bleu(chunked, refs, workers=workers).equals(whole)


def test_many_rows_in_parallel_equal_one_thread() -> None:
    rows = [f"the cat {i % 13} sat on the mat {i % 7}" for i in range(20_000)]
    refs = [f"the cat {i % 11} sat on a mat {i % 5}" for i in range(20_000)]
    one = rescore.bleu(rows, refs, workers=1)
    assert rescore.bleu(pa.chunked_array([rows[:7_777], rows[7_777:]]), refs, workers=2).equals(one)
    assert rescore.corpus_bleu(rows, refs, workers=2) == rescore.corpus_bleu(rows, refs, workers=1)

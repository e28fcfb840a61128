"""rouge against Google's rouge-score (RougeScorer, score and score_multi) and its stemmer
against NLTK's PorterStemmer, on generated text (ASCII, Unicode punctuation, accents, CJK,
lines, empty) and on real English prose (Python's own documentation)."""

from __future__ import annotations

import re
import sysconfig
from functools import cache
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import rescore
from rescore import _rescore
from rescore.exceptions import InvalidInputError, InvalidOptionError, UnsupportedTypeError
from tests.strategies import texts

rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
porter = pytest.importorskip("nltk.stem.porter")

VARIANTS = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


@cache
def scorer(variant: str, use_stemmer: bool) -> object:
    return rouge_scorer.RougeScorer([variant], use_stemmer=use_stemmer)


def expected(variant: str, use_stemmer: bool, prediction: str, refs: list[str]) -> float:
    s = scorer(variant, use_stemmer)
    if len(refs) == 1:  # score takes the target first
        return float(s.score(refs[0], prediction)[variant].fmeasure)  # type: ignore[attr-defined]
    return float(s.score_multi(refs, prediction)[variant].fmeasure)  # type: ignore[attr-defined]


# Words whose stems collide or differ between Porter's variants, joined by separators that the
# tokenizer breaks on (ASCII and Unicode punctuation, accents, CJK, lines, the Kelvin sign and
# dotted capital I that lower-case to ASCII letters).
PIECES = [
    "skies", "sky", "says", "dying", "die", "running", "Runs", "generalization", "general",
    "happy", "happiness", "the", "The", "a", "cat", "cats", "42", "naïve", "字", "İt", "\u212aey",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\n", "\n\n", "-", "\u2014", ".", ",", "\u3002", "'", "\u0301", "\t", ""]
sentences = st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), max_size=14
).map(lambda parts: "".join(w + s for w, s in parts))
any_text = st.one_of(sentences, texts)


@pytest.mark.parametrize("use_stemmer", [False, True])
@pytest.mark.parametrize("variant", VARIANTS)
@given(prediction=any_text, reference=any_text)
@example(prediction="", reference="")
@example(prediction="a b\nc d", reference="c d\na b")
@example(prediction="\n\n", reference="a")
@example(prediction="a a b a", reference="b a a\na b b a")
def test_equals_rouge_score(
    variant: str, use_stemmer: bool, prediction: str, reference: str
) -> None:
    got = rescore.rouge([prediction], [reference], variant=variant, use_stemmer=use_stemmer)
    assert got.to_pylist() == [expected(variant, use_stemmer, prediction, [reference])]


@pytest.mark.parametrize("variant", VARIANTS)
@given(prediction=any_text, references=st.lists(st.one_of(st.none(), any_text), max_size=4))
def test_the_best_reference_counts(
    variant: str, prediction: str, references: list[str | None]
) -> None:
    present = [r for r in references if r is not None]
    want = expected(variant, True, prediction, present) if present else None
    column = pa.array([references], pa.list_(pa.string()))
    got = rescore.rouge([prediction], column, variant=variant, use_stemmer=True)
    assert got.to_pylist() == [want]


@cache
def documentation_lines() -> list[str]:
    """Lines of real English: Python's pydoc topics (the language reference)."""
    from pydoc_data import topics

    lines = [line.strip() for text in topics.topics.values() for line in text.splitlines()]
    return [line for line in lines if len(line) > 20]


@pytest.mark.parametrize("use_stemmer", [False, True])
@pytest.mark.parametrize("variant", VARIANTS)
def test_equals_rouge_score_on_real_prose(variant: str, use_stemmer: bool) -> None:
    lines = documentation_lines()[:3000]
    # predictions: a line and the next; references: a line, the next and the one after, in
    # lines (so rougeLsum sees several sentences)
    preds = [f"{a} {b}" for a, b in zip(lines[::2], lines[1::2], strict=False)]
    refs = [
        f"{a}\n{b}\n{c}" for a, b, c in zip(lines[1::2], lines[2::2], lines[3::2], strict=False)
    ]
    n = min(len(preds), len(refs))
    preds, refs = preds[:n], refs[:n]
    got = rescore.rouge(preds, refs, variant=variant, use_stemmer=use_stemmer).to_pylist()
    want = [expected(variant, use_stemmer, p, [r]) for p, r in zip(preds, refs, strict=True)]
    assert got == want


@cache
def vocabulary() -> list[str]:
    """Distinct lower-case words of Python's documentation and its standard library's
    source, tests aside: tens of thousands of real words, identifiers, numbers."""
    words: set[str] = set()
    from pydoc_data import topics

    for text in topics.topics.values():
        words.update(re.findall(r"[a-z0-9]+", text.lower()))
    source: set[str] = set()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted([*stdlib.glob("*.py"), *stdlib.glob("*/*.py")]):
        if {"test", "idlelib", "site-packages", "dist-packages"} & set(path.parts):
            continue
        source.update(re.findall(r"[a-z0-9]+", path.read_text(errors="ignore").lower()))
    return sorted(words | source)


def test_stemmer_equals_nltk_on_a_real_vocabulary() -> None:
    words = vocabulary()
    assert len(words) > 20_000
    stemmer = porter.PorterStemmer()
    want = [stemmer.stem(w) for w in words]
    got = _rescore.porter_stem(words)
    assert [(w, g) for w, g, e in zip(words, got, want, strict=True) if g != e] == []


# Suffixes the rules look at, so that generated words reach every rule and its conditions.
SUFFIXES = [
    "s", "es", "ies", "sses", "ss", "ed", "eed", "ied", "ing", "y", "at", "bl", "iz", "ational",
    "tional", "enci", "anci", "izer", "bli", "alli", "entli", "eli", "ousli", "ization", "ation",
    "ator", "alism", "iveness", "fulness", "ousness", "aliti", "iviti", "biliti", "fulli", "logi",
    "icate", "ative", "alize", "iciti", "ical", "ful", "ness", "al", "ance", "ence", "er", "ic",
    "able", "ible", "ant", "ement", "ment", "ent", "sion", "tion", "ion", "ou", "ism", "ate",
    "iti", "ous", "ive", "ize", "e", "ll", "l", "yy",
]  # fmt: skip
stems = st.text(alphabet="abcdeilmnoprstuyz0", max_size=8)
porter_words = st.tuples(stems, st.lists(st.sampled_from(SUFFIXES), max_size=3)).map(
    lambda t: t[0] + "".join(t[1])
)


@given(st.lists(porter_words | st.text(alphabet="aeiouybcdlstz", max_size=10), max_size=50))
@example(["skies", "says", "dying", "sky", "news", "howe", "succeed", "yyyy", "ies", "ied"])
def test_stemmer_equals_nltk_on_generated_words(words: list[str]) -> None:
    stemmer = porter.PorterStemmer()
    assert _rescore.porter_stem(words) == [stemmer.stem(w) for w in words]


def test_stemmer_refuses_what_the_tokenizer_never_makes() -> None:
    with pytest.raises(InvalidInputError, match="row 1"):
        _rescore.porter_stem(["ok", "Not"])


def test_unicode_that_lowercases_to_ascii_matches_rouge_score() -> None:
    """Every code point between two letters: tokens as rouge-score's `str.lower` makes them."""
    points = [c for c in range(0x80, 0x30000) if not 0xD800 <= c <= 0xDFFF]
    preds = [f"x{chr(c)}y" for c in points]
    tokenize = scorer("rouge1", False)._tokenizer.tokenize  # type: ignore[attr-defined]
    refs = [" ".join(tokenize(p)) for p in preds]
    got = rescore.rouge(preds, refs, variant="rouge1").to_pylist()
    assert [chr(c) for c, v in zip(points, got, strict=True) if v != 1.0] == []


def test_nulls_give_nulls() -> None:
    out = rescore.rouge(["a b", None, "c", "d"], ["b", "b", None, "d"]).to_pylist()
    assert out == [pytest.approx(2 / 3), None, None, 1.0]
    empty = pa.array([[]], pa.list_(pa.string()))
    assert rescore.rouge(["a"], empty).to_pylist() == [None]


@given(
    st.lists(st.tuples(any_text, any_text), max_size=40),
    st.integers(0, 40),
    st.integers(1, 4),
    st.sampled_from(VARIANTS),
)
def test_chunking_and_threads_do_not_change_scores(
    rows: list[tuple[str, str]], cut: int, workers: int, variant: str
) -> None:
    preds = pa.array([p for p, _ in rows], pa.string())
    refs = pa.array([r for _, r in rows], pa.large_string())
    cut = min(cut, len(rows))
    chunked = pa.chunked_array([preds.slice(0, cut), preds.slice(cut)])
    whole = rescore.rouge(preds, refs, variant=variant, use_stemmer=True, workers=1)
    got = rescore.rouge(chunked, refs, variant=variant, use_stemmer=True, workers=workers)
    assert got.equals(whole)


def test_variant_functions_and_registry_entries() -> None:
    preds, refs = ["the cats sat\non mats"], ["a cat sat on the mat"]
    for variant, function in [
        ("rouge1", rescore.rouge1),
        ("rouge2", rescore.rouge2),
        ("rougeL", rescore.rougeL),
        ("rougeLsum", rescore.rougeLsum),
    ]:
        want = rescore.rouge(preds, refs, variant=variant, use_stemmer=True)
        assert function(preds, refs, use_stemmer=True).equals(want)
        entry = rescore.get_metric(variant)
        assert entry.higher_is_better
        assert entry.continuous
        assert entry.range == (0.0, 1.0)
    assert rescore.get_metric("rouge").option("variant").default == "rougeL"


def test_polars_namespace_and_series_name() -> None:
    df = pl.DataFrame({"p": ["the cats sat"], "r": ["the cat sat"]})
    out = df.select(pl.col("p").rescore.rougeL("r", use_stemmer=True)).to_series()
    assert out.to_list() == [1.0]
    assert rescore.rouge(df["p"], df["r"], variant="rouge2").name == "rouge2"


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(UnsupportedTypeError, match="predictions"):
        rescore.rouge([[1, 2]], [[1, 2]])
    with pytest.raises(UnsupportedTypeError, match="references"):
        rescore.rouge(["a"], [1])
    with pytest.raises(InvalidOptionError, match="variant"):
        rescore.rouge(["a"], ["a"], variant="rougeW")  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="use_stemmer"):
        rescore.rouge(["a"], ["a"], use_stemmer="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", VARIANTS)
def test_hard_rows_are_scored(variant: str) -> None:
    long = " ".join(f"w{i % 997}" for i in range(10_000))
    rows = [
        "",
        "👩‍👩‍👧 emoji",
        "שלום עולם",
        "e\u0301te\u0301",
        "字字",
        long,
        long.replace(" ", "\n"),
    ]
    got = rescore.rouge(rows, rows[::-1], variant=variant, use_stemmer=True).to_pylist()
    want = [
        expected(variant, True, p, [r]) for p, r in zip(rows[:-2], rows[::-1][:-2], strict=True)
    ]
    assert got[:-2] == want
    assert rescore.rouge([long], [long], variant=variant).to_pylist() == [1.0]


def test_batch_job_and_emergence(tmp_path: Path) -> None:
    """`rescore score --metrics rougeL --option rougeL.use_stemmer=true`, then `rescore
    emergence` on its output, which finds the rougeL column and its direction."""
    from click.testing import CliRunner

    from rescore.cli import main

    example = Path(rescore.__file__).parent / "data" / "example_generations.parquet"
    scores, report = tmp_path / "scores", tmp_path / "report"
    args = ["score", str(example), "--out", str(scores), "--metrics", "rougeL,rouge2"]
    args += ["--option", "rougeL.use_stemmer=true", "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    df = pl.read_parquet(scores / "*.parquet")
    source = pl.read_parquet(example)
    want = rescore.rougeL(source["prediction"], source["reference"], use_stemmer=True)
    assert df["rougeL"].sort().to_list() == want.sort().to_list()
    assert df["rouge2"].sum() == pytest.approx(
        rescore.rouge2(source["prediction"], source["reference"]).sum()
    )
    args = ["emergence", str(scores), "--out", str(report), "--n-boot", "20", "--no-plots", "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "rougeL" in "".join(p.read_text() for p in report.glob("*.csv"))

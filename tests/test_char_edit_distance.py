"""char_edit_distance against rapidfuzz and the textbook DP, over arbitrary Unicode."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

import rescore
from tests import reference
from tests.strategies import boundary_pairs, texts


@given(texts, texts)
@example("", "")
@example("ünï字", "uni")
@example("a" * 70, "b" + "a" * 70)
def test_matches_rapidfuzz_on_strings(a: str, b: str) -> None:
    expected = reference.levenshtein(a, b)
    assert Levenshtein.distance(a, b) == expected
    assert rescore.char_edit_distance([a], [b]).to_pylist() == [expected]


@given(texts, texts)
def test_normalized_forms(a: str, b: str) -> None:
    d = reference.levenshtein(a, b)
    (mx,) = rescore.char_edit_distance([a], [b], normalize="max").to_pylist()
    (cer,) = rescore.char_edit_distance([a], [b], normalize="reference").to_pylist()
    assert mx == pytest.approx(Levenshtein.normalized_distance(a, b))
    assert cer == pytest.approx(d / max(len(b), 1))


@pytest.mark.parametrize(
    "alphabet", [list("abcd "), list("abé字 ")], ids=["ascii-bytes", "unicode-renamed"]
)
@given(data=st.data())
def test_batches_at_word_boundaries(alphabet: list[str], data: st.DataObject) -> None:
    # Several pairs per call, so the SIMD lanes score groups of mixed lengths and distances.
    pairs = data.draw(st.lists(boundary_pairs(alphabet), min_size=1, max_size=12))
    preds = ["".join(a) for a, _ in pairs]
    refs = ["".join(b) for _, b in pairs]
    expected = [Levenshtein.distance(a, b) for a, b in zip(preds, refs, strict=True)]
    assert rescore.char_edit_distance(preds, refs).to_pylist() == expected
    assert rescore.char_edit_distance(refs, preds).to_pylist() == expected


def test_word_boundaries_match_textbook() -> None:
    for n in (64, 65, 128, 129, 256, 384, 385):
        a = ("abcab " * 70)[:n]
        b = a[: n // 3] + "é" + a[n // 3 + 2 :] + "x"
        assert rescore.char_edit_distance([a], [b]).to_pylist() == [reference.levenshtein(a, b)]


def test_long_strings_cross_many_words() -> None:
    a = "the quick brown fox " * 80
    b = a.replace("quick", "slow")
    assert rescore.char_edit_distance([a], [b]).to_pylist() == [Levenshtein.distance(a, b)]


def test_list_of_references() -> None:
    out = rescore.char_edit_distance(["colour", "x"], [["color", "colours"], []]).to_pylist()
    assert out == [1, None]


def test_token_ids_are_rejected() -> None:
    with pytest.raises(rescore.exceptions.UnsupportedTypeError, match="predictions"):
        rescore.char_edit_distance([[1, 2]], ["ab"])

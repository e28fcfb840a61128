"""token_edit_distance: known values, oracles (textbook DP, rapidfuzz, jiwer), metric laws."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

import rescore
from tests import reference
from tests.strategies import boundary_pairs, large_ids, long_token_lists, token_lists, words


def ted(p: list[list[int]], r: list[list[int]], **kw: object) -> list[object]:
    return rescore.token_edit_distance(p, r, **kw).to_pylist()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("pred", "ref", "expected"),
    [
        ([], [], 0),
        ([1, 2, 3], [], 3),
        ([], [4, 5], 2),
        ([1, 2, 3], [1, 2, 3], 0),
        ([1, 2, 3], [1, 3], 1),
        ([1, 2, 3], [3, 2, 1], 2),
        ([7] * 100, [7] * 99 + [8], 1),
        ([2**40, 1], [2**40 + 1, 1], 1),
    ],
)
def test_known_values(pred: list[int], ref: list[int], expected: int) -> None:
    assert ted([pred], [ref]) == [expected]


@given(token_lists(), token_lists())
@example([], [])
@example([1] * 65, [1] * 64)
def test_matches_textbook_and_rapidfuzz(a: list[int], b: list[int]) -> None:
    expected = reference.levenshtein(a, b)
    assert Levenshtein.distance(a, b) == expected
    assert ted([a], [b]) == [expected]


@given(long_token_lists, long_token_lists)
def test_long_sequences_match_rapidfuzz(a: list[int], b: list[int]) -> None:
    assert ted([a], [b]) == [Levenshtein.distance(a, b)]


@given(st.lists(boundary_pairs(["1", "2", "3", "70000", str(2**40)]), min_size=1, max_size=12))
def test_batches_at_word_boundaries(pairs: list[tuple[list[str], list[str]]]) -> None:
    # Several pairs per call (SIMD lanes in groups), ids above 2**16 and 2**32; "<" and friends
    # become ids 0-3 so the ends differ.
    ends = {"<": 0, ">": 1, "[": 2, "]": 3}
    ids = [[[ends[x] if x in ends else int(x) for x in side] for side in pair] for pair in pairs]
    preds, refs = [a for a, _ in ids], [b for _, b in ids]
    expected = [Levenshtein.distance(a, b) for a, b in zip(preds, refs, strict=True)]
    assert ted(preds, refs) == expected


@given(token_lists(elements=large_ids), token_lists(elements=large_ids))
def test_large_token_ids(a: list[int], b: list[int]) -> None:
    assert ted([a], [b]) == [Levenshtein.distance(a, b)]


@given(token_lists(), token_lists())
def test_normalize_max_is_rapidfuzz_normalized(a: list[int], b: list[int]) -> None:
    (got,) = ted([a], [b], normalize="max")
    assert got == pytest.approx(Levenshtein.normalized_distance(a, b))


@given(token_lists(), token_lists(max_size=30))
def test_normalize_reference(a: list[int], b: list[int]) -> None:
    (got,) = ted([a], [b], normalize="reference")
    assert got == pytest.approx(reference.levenshtein(a, b) / max(len(b), 1))


@given(words, words.filter(lambda s: s.split() != []))
def test_word_level_matches_jiwer_wer(pred: str, ref: str) -> None:
    jiwer = pytest.importorskip("jiwer")
    (got,) = rescore.token_edit_distance([pred], [ref], normalize="reference").to_pylist()
    assert got == pytest.approx(jiwer.wer(ref, pred))


@given(token_lists(), token_lists(), token_lists())
def test_metric_laws(a: list[int], b: list[int], c: list[int]) -> None:
    d_ab, d_ba, d_ac, d_bc, d_aa = ted([a, b, a, b, a], [b, a, c, c, a])
    assert d_aa == 0
    assert d_ab == d_ba
    assert d_ac <= d_ab + d_bc
    assert abs(len(a) - len(b)) <= d_ab <= max(len(a), len(b))
    (match,) = rescore.exact_match([a], [b]).to_pylist()
    assert match == (d_ab == 0)


@given(token_lists(), st.lists(token_lists(max_size=20), max_size=5))
def test_several_references_take_the_best(pred: list[int], refs: list[list[int]]) -> None:
    ids = pa.list_(pa.int64())
    p, r = pa.array([pred], ids), pa.array([refs], pa.list_(ids))
    (got,) = rescore.token_edit_distance(p, r).to_pylist()
    expected = min((reference.levenshtein(pred, r) for r in refs), default=None)
    assert got == expected


def test_strings_by_tokenizer() -> None:
    p, r = ["the cat  sat\n", "é"], ["the hat sat", "e"]
    assert rescore.token_edit_distance(p, r).to_pylist() == [1, 1]
    chars = rescore.token_edit_distance(p, r, tokenizer="characters").to_pylist()
    assert chars == rescore.char_edit_distance(p, r).to_pylist() == [3, 1]


def test_nulls_give_nulls() -> None:
    out = ted([[1], None, [2]], [[1], [1], None])
    assert out == [0, None, None]


def test_output_types() -> None:
    assert rescore.token_edit_distance([[1]], [[1]]).type == pa.uint32()
    assert rescore.token_edit_distance([[1]], [[1]], normalize="max").type == pa.float64()

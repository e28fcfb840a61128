"""Every bad input raises the documented exception, naming the argument and the row."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

import rescore
from rescore.exceptions import (
    InvalidInputError,
    InvalidOptionError,
    LengthMismatchError,
    UnsupportedTypeError,
)


def test_exception_hierarchy() -> None:
    assert issubclass(InvalidInputError, ValueError)
    assert issubclass(LengthMismatchError, InvalidInputError)
    assert issubclass(InvalidOptionError, ValueError)
    assert issubclass(UnsupportedTypeError, TypeError)


def test_length_mismatch() -> None:
    with pytest.raises(
        LengthMismatchError, match="`predictions` has 2 rows but `references` has 1"
    ):
        rescore.token_edit_distance([[1], [2]], [[1]])
    with pytest.raises(LengthMismatchError, match="probabilities"):
        rescore.brier_score([[1.0]], [0, 0])


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: rescore.token_edit_distance([1.5], [1.5]), "predictions"),
        (lambda: rescore.token_edit_distance(["a"], [[1]]), "references"),
        (lambda: rescore.exact_match([[1]], ["a"]), "references"),
        (lambda: rescore.brier_score(["a"], [0]), "probabilities"),
        (lambda: rescore.brier_score([[1.0]], ["a"]), "labels"),
        (lambda: rescore.multiple_choice_grade([[1]], [0]), "scores"),
        (lambda: rescore.token_edit_distance([{"a": 1}], [{"a": 1}]), "predictions"),
        (lambda: rescore.token_edit_distance([[1], "a"], [[1], [1]]), "predictions"),
    ],
)
def test_unsupported_types_name_the_argument(call: object, argument: str) -> None:
    with pytest.raises(UnsupportedTypeError, match=argument):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("probs", "labels", "message"),
    [
        (
            [[0.5, 0.5], [math.nan, 1.0]],
            [0, 0],
            r"`probabilities` row 1, choice 0: NaN is not a valid probability",
        ),
        ([[0.5, 0.5], [-0.2, 1.2]], [0, 0], r"row 1, choice 0: -0.2 is not a valid probability"),
        ([[0.5, 0.5], [0.2, 1.3]], [0, 0], r"row 1, choice 1: 1.3"),
        ([[0.5, 0.5], [0.2, 0.2]], [0, 0], r"row 1: probabilities sum to 0.4"),
        (
            [[0.5, 0.5], [0.5, 0.5]],
            [0, 2],
            r"`labels` row 1: label 2 is out of range for 2 choices",
        ),
        ([[0.5, 0.5], [0.5, 0.5]], [0, -1], r"label -1 is out of range"),
        ([[0.5, 0.5], []], [0, 0], r"`probabilities` row 1: empty choice list"),
        ([[0.5, 0.5], [0.5, None]], [0, 0], r"`probabilities` row 1: null element at position 1"),
        ([[0.5, 0.5], [0.5, 0.5]], [[1.0, 0.0], [1.0]], r"row 1: `labels` has 1 choices"),
        (
            [[0.5, 0.5], [0.5, 0.5]],
            [[1.0, 0.0], [2.0, 0.0]],
            r"`labels` row 1, choice 0: 2 is not a valid target",
        ),
    ],
)
def test_brier_bad_rows(probs: list[list[float]], labels: list[object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        rescore.brier_score(probs, labels)
    # The null policy turns exactly that row into null and keeps the others.
    out = rescore.brier_score(probs, labels, on_error="null").to_pylist()
    assert out[0] == pytest.approx(0.5)
    assert out[1] is None


def test_logprob_rows() -> None:
    with pytest.raises(InvalidInputError, match="row 0, choice 1: inf"):
        rescore.brier_score([[0.0, math.inf]], [0], from_logprobs=True)
    with pytest.raises(InvalidInputError, match="at least one finite"):
        rescore.brier_score([[-math.inf, -math.inf]], [0], from_logprobs=True)
    # Log-likelihoods need not sum to one: no normalisation check with from_logprobs.
    assert rescore.brier_score([[-1.0, -1.0]], [0], from_logprobs=True).to_pylist() == [0.5]


def test_multiple_choice_grade_bad_rows() -> None:
    with pytest.raises(InvalidInputError, match="`scores` row 0, choice 1: NaN"):
        rescore.multiple_choice_grade([[0.0, math.nan]], [0])
    with pytest.raises(InvalidInputError, match="`scores` row 1: empty choice list"):
        rescore.multiple_choice_grade([[0.0], []], [0, 0])
    with pytest.raises(InvalidInputError, match="label 3 is out of range for 2"):
        rescore.multiple_choice_grade([[0.0, 1.0]], [3])


def test_null_token_inside_a_list() -> None:
    with pytest.raises(InvalidInputError, match="`references` row 1: null element at position 0"):
        rescore.token_edit_distance([[1], [2]], [[1], [None, 2]])
    # exact_match reads token rows the same way (a null id used to compare as the buffer's 0).
    with pytest.raises(InvalidInputError, match="`predictions` row 0: null element at position 1"):
        rescore.exact_match([[1, None]], [[1, 0]])


def test_uint64_ids_beyond_int64() -> None:
    p = pa.array([[2**63 + 5]], pa.list_(pa.uint64()))
    with pytest.raises(InvalidInputError, match="does not fit"):
        rescore.token_edit_distance(p, p)


@pytest.mark.parametrize(
    ("call", "option"),
    [
        (lambda: rescore.token_edit_distance([[1]], [[1]], normalize="min"), "normalize"),  # type: ignore[arg-type]
        (lambda: rescore.token_edit_distance(["a"], ["a"], tokenizer="bpe"), "tokenizer"),  # type: ignore[arg-type]
        (lambda: rescore.token_edit_distance([[1]], [[1]], workers=0), "workers"),
        (lambda: rescore.exact_match(["a"], ["a"], punctuation="latin"), "punctuation"),  # type: ignore[arg-type]
        (lambda: rescore.brier_score([[1.0]], [0], convention="mean"), "convention"),  # type: ignore[arg-type]
        (lambda: rescore.brier_score([[1.0]], [0], tolerance=-1.0), "tolerance"),
        (lambda: rescore.brier_score([[1.0]], [0], on_error="skip"), "on_error"),  # type: ignore[arg-type]
    ],
)
def test_invalid_options_name_the_option(call: object, option: str) -> None:
    with pytest.raises(InvalidOptionError, match=f"`{option}`"):
        call()  # type: ignore[operator]


def test_huge_and_empty_inputs() -> None:
    assert rescore.token_edit_distance([], []).to_pylist() == []
    assert (
        rescore.token_edit_distance(
            pa.array([], pa.list_(pa.int32())), pa.array([], pa.list_(pa.int64()))
        ).to_pylist()
        == []
    )
    a = list(range(20_000))
    b = [*a[1:], 7]
    assert rescore.token_edit_distance([a], [b]).to_pylist() == [2]


def test_invalid_utf8_cannot_reach_the_kernels() -> None:
    # Arrow string arrays are valid UTF-8 by construction: pyarrow refuses bad bytes on the way in.
    with pytest.raises(pa.ArrowInvalid):
        pa.array([b"\xff\xfe"], pa.binary()).cast(pa.string())
    with pytest.raises(UnsupportedTypeError, match=r"(?i)binary"):
        rescore.exact_match(pa.array([b"\xff"], pa.binary()), pa.array([b"\xff"], pa.binary()))


def test_polars_namespace_takes_the_runtime_keywords() -> None:
    """``on_error`` and ``workers`` reach the function from the namespace, as from a call."""
    import polars as pl

    df = pl.DataFrame({"p": [[0.5, 0.5], [0.9, 0.9]], "y": [0, 1]})
    with pytest.raises(InvalidInputError, match="row 1"):
        df.select(pl.col("p").rescore.brier_score("y"))
    out = df.select(pl.col("p").rescore.brier_score("y", on_error="null", workers=1))
    assert out["brier_score"].to_list() == [0.5, None]

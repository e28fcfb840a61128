"""The Arrow PyCapsule interface at the native boundary: what a producer can get wrong, and the
result column that pyarrow and polars import."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

import rescore
from rescore import _rescore
from rescore.exceptions import UnsupportedTypeError

REFERENCES = pa.array(["a", "b", "c"])


class StreamProducer:
    """Hands over whatever ``__arrow_c_stream__`` is given (capsule or not)."""

    def __init__(self, make: Any) -> None:
        self.make = make

    def __arrow_c_stream__(self, requested_schema: object = None) -> Any:
        return self.make()


class ArrayProducer:
    """Hands over whatever ``__arrow_c_array__`` is given."""

    def __init__(self, make: Any) -> None:
        self.make = make

    def __arrow_c_array__(self, requested_schema: object = None) -> Any:
        return self.make()


def test_an_array_only_producer_is_read() -> None:
    strings = pa.array(["a", "x", None])
    got = rescore.exact_match(ArrayProducer(strings.__arrow_c_array__), REFERENCES)
    assert got.to_pylist() == [True, False, None]


def test_every_chunk_of_a_stream_is_read() -> None:
    chunked = pa.chunked_array([["a"], [], ["x", "c"]])
    got = rescore.exact_match(StreamProducer(chunked.__arrow_c_stream__), REFERENCES)
    assert got.to_pylist() == [True, False, True]


@pytest.mark.parametrize(
    ("producer", "message"),
    [
        (
            StreamProducer(REFERENCES.type.__arrow_c_schema__),
            r'named "arrow_array_stream".*"arrow_schema"',
        ),
        (StreamProducer(lambda: 42), r'named "arrow_array_stream", got 42'),
        (
            ArrayProducer(lambda: REFERENCES.__arrow_c_array__()[::-1]),
            r'__arrow_c_array__ should give a PyCapsule named "arrow_schema"',
        ),
        (ArrayProducer(REFERENCES.type.__arrow_c_schema__), "should give a pair of capsules"),
    ],
    ids=[
        "stream-named-schema",
        "stream-not-a-capsule",
        "array-capsules-swapped",
        "array-not-a-pair",
    ],
)
def test_wrong_capsules_name_the_argument(producer: object, message: str) -> None:
    with pytest.raises(UnsupportedTypeError, match=rf"`predictions`: cannot import .*{message}"):
        rescore.exact_match(producer, REFERENCES)


def test_a_producer_that_raises_names_the_argument() -> None:
    def fail() -> Any:
        msg = "producer broke"
        raise RuntimeError(msg)

    with pytest.raises(UnsupportedTypeError, match=r"`references`: .*producer broke"):
        rescore.exact_match(REFERENCES, StreamProducer(fail))


def test_a_stream_that_fails_midway_names_the_argument_and_the_cause() -> None:
    schema = pa.schema([("text", pa.string())])

    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array(["a"])], schema=schema)
        msg = "disk went away"
        raise ValueError(msg)

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    with pytest.raises(
        UnsupportedTypeError, match=r"`predictions`: .*stream failed: .*disk went away"
    ):
        rescore.exact_match(reader, REFERENCES)


def test_a_released_stream_capsule_is_refused() -> None:
    capsule = pa.chunked_array([REFERENCES]).__arrow_c_stream__()
    assert pa.ChunkedArray._import_from_c_capsule(capsule).to_pylist() == ["a", "b", "c"]
    with pytest.raises(UnsupportedTypeError, match=r"`predictions`: .*stream .*already released"):
        rescore.exact_match(StreamProducer(lambda: capsule), REFERENCES)


def test_released_array_capsules_are_refused() -> None:
    capsules = REFERENCES.__arrow_c_array__()
    assert pa.Array._import_from_c_capsule(*capsules).to_pylist() == ["a", "b", "c"]
    with pytest.raises(UnsupportedTypeError, match=r"`predictions`: .*already released"):
        rescore.exact_match(ArrayProducer(lambda: capsules), REFERENCES)


def test_the_native_result_is_read_by_pyarrow_and_polars() -> None:
    result = _rescore.token_edit_distance(pa.array(["a b", None, "c"]), pa.array(["a", "x", "c d"]))
    assert len(result) == 3
    assert "3 rows" in repr(result)
    assert pa.DataType._import_from_c_capsule(result.__arrow_c_schema__()) == pa.uint32()
    expected = [1, None, 1]
    # every export is its own pair of capsules: the result can be read any number of times
    assert pa.array(result).to_pylist() == expected
    assert pa.Array._import_from_c_capsule(*result.__arrow_c_array__()).to_pylist() == expected
    assert pl.Series(result).to_list() == expected
    # and it goes back in as an input (an array-only producer): labels 1, null, 1
    scores = pa.array([[0.1, 0.9], [0.5, 0.2], [0.7, 0.3]])
    assert rescore.multiple_choice_grade(scores, result).to_pylist() == [1.0, None, 0.0]


def test_polars_round_trip() -> None:
    predictions = pl.Series("p", ["the cat", "a dog", None, "ünï"])
    references = pl.Series("r", ["cat", "dog", "x", "ünï"])
    got = rescore.quasi_exact_match(predictions, references)
    assert isinstance(got, pl.Series)
    assert got.to_list() == [True, True, None, True]
    # the result goes back in as an input (through the same capsules)
    assert rescore.exact_match(got.cast(pl.String), pl.Series(["true"] * 4)).to_list() == [
        True,
        True,
        None,
        True,
    ]

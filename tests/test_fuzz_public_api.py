"""Whatever a user hands over, every public function returns one value per row or raises one of
the documented `rescore.exceptions` errors: never another exception type, never a panic.

Random Arrow types and nesting, pyarrow and polars, NumPy and lists, nulls (all-null columns
too), sliced and chunked arrays, wrong lengths, bad options, NaN/inf, huge ids, control
characters and invalid UTF-8. Time-bounded: a few hundred examples per function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rescore
from rescore import exceptions
from rescore.registry import get_metric, register_metric, unregister

DOCUMENTED = tuple(getattr(exceptions, name) for name in exceptions.__all__)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)

INTS = st.one_of(
    st.integers(-5, 50),
    st.sampled_from([0, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63)]),
)
FLOATS = st.one_of(
    st.floats(-3, 3),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), -0.0, 1e308, 5e-324]),
)
TEXT = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=6),  # control characters
    st.sampled_from(["", " ", "\x00", "a\u0301", "👩‍👩‍👧", "Paris.", "PARIS"]),
)


def _scalar_types() -> st.SearchStrategy[tuple[pa.DataType, st.SearchStrategy[Any]]]:
    return st.sampled_from(
        [
            (pa.int64(), INTS),
            (pa.int32(), st.integers(-(2**31), 2**31 - 1)),
            (pa.uint64(), st.integers(0, 2**64 - 1)),
            (pa.int8(), st.integers(-128, 127)),
            (pa.float64(), FLOATS),
            (pa.float32(), st.floats(-3, 3, width=32)),
            (pa.bool_(), st.booleans()),
            (pa.string(), TEXT),
            (pa.large_string(), TEXT),
            (pa.binary(), st.binary(max_size=6)),  # invalid UTF-8 where a string is wanted
            (pa.null(), st.none()),
        ]
    )


@st.composite
def arrow_types(draw: st.DrawFn, depth: int = 0) -> tuple[pa.DataType, st.SearchStrategy[Any]]:
    """A random Arrow type and a strategy for its (nullable) Python values."""
    if depth >= 2 or draw(st.booleans()):
        dtype, values = draw(_scalar_types())
    else:
        inner, inner_values = draw(arrow_types(depth + 1))
        kind = draw(st.sampled_from(["list", "large_list", "fixed", "struct"]))
        if kind == "fixed":
            size = draw(st.integers(1, 3))
            dtype = pa.list_(inner, size)
            values = st.lists(inner_values, min_size=size, max_size=size)
        elif kind == "struct":
            dtype = pa.struct([("x", inner)])
            values = st.fixed_dictionaries({"x": inner_values})
        else:
            dtype = pa.list_(inner) if kind == "list" else pa.large_list(inner)
            values = st.lists(inner_values, max_size=4)
    return dtype, st.one_of(st.none(), values) if dtype != pa.null() else st.none()


@st.composite
def columns(draw: st.DrawFn, n: int, like: tuple[pa.DataType, Any] | None = None) -> Any:
    """One column of ``n`` rows in one of the forms users hand over."""
    dtype, values = like if like is not None else draw(arrow_types())
    pad = draw(st.integers(0, 2))  # rows sliced away on each side
    rows = draw(st.lists(values, min_size=n + 2 * pad, max_size=n + 2 * pad))
    try:
        array = pa.array(rows, type=dtype)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        array = pa.nulls(n + 2 * pad, dtype)
    array = array.slice(pad, n)
    form = draw(st.sampled_from(["pyarrow", "chunked", "polars", "numpy", "list"]))
    if form == "chunked":
        cut = draw(st.integers(0, n))
        return pa.chunked_array([array.slice(0, cut), array.slice(cut)], type=dtype)
    if form == "polars":
        try:
            return pl.Series(array)
        # a type polars does not take (or panics on: a BaseException): not what is under test
        except (Exception, pl.exceptions.PanicException):
            return array
    if form == "numpy":
        try:
            return array.to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError):
            return array
    if form == "list":
        return array.to_pylist()
    return array


CHOICE_TEXTS = (pa.list_(pa.string()), st.one_of(st.none(), st.lists(TEXT, max_size=4)))
LOGPROB_LISTS = (pa.list_(pa.float64()), st.one_of(st.none(), st.lists(FLOATS, max_size=4)))

# Each public metric with the options a user may pass, valid and not.
OPTIONS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "token_edit_distance": st.fixed_dictionaries(
        {},
        optional={
            "normalize": st.sampled_from(["none", "max", "reference", "bogus", 3]),
            "tokenizer": st.sampled_from(["whitespace", "characters", "gpt2", None]),
        },
    ),
    "char_edit_distance": st.fixed_dictionaries(
        {}, optional={"normalize": st.sampled_from(["none", "max", "reference", None])}
    ),
    "exact_match": st.fixed_dictionaries(
        {},
        optional={
            "ignore_case": st.booleans(),
            "ignore_punctuation": st.booleans(),
            "ignore_numbers": st.booleans(),
            "ignore_articles": st.sampled_from([True, False, "no"]),
            "collapse_whitespace": st.booleans(),
            "strip": st.sampled_from([True, False, "yes"]),
            "regexes_to_ignore": st.sampled_from([[], ["a+"], ["("], [r"\d"], "x"]),
            "punctuation": st.sampled_from(["ascii", "unicode", "latin"]),
        },
    ),
    "brier_score": st.fixed_dictionaries(
        {},
        optional={
            "convention": st.sampled_from(["sum", "class_mean", "mean"]),
            "from_logprobs": st.booleans(),
            "tolerance": st.sampled_from([1e-4, 0.0, -1.0, float("nan"), 10.0]),
        },
    ),
    "multiple_choice_grade": st.fixed_dictionaries(
        {},
        optional={
            "length_normalize": st.sampled_from([None, "chars", "bytes", "words"]),
            "choices": st.integers(0, 6).flatmap(lambda n: columns(n, CHOICE_TEXTS)),
        },
    ),
    "acc_norm": st.fixed_dictionaries(
        {"choices": st.integers(0, 6).flatmap(lambda n: columns(n, CHOICE_TEXTS))}
    ),
    "acc_bytes": st.fixed_dictionaries(
        {"choices": st.integers(0, 6).flatmap(lambda n: columns(n, CHOICE_TEXTS))}
    ),
    "acc_mutual_info": st.fixed_dictionaries(
        {"unconditional": st.integers(0, 6).flatmap(lambda n: columns(n, LOGPROB_LISTS))}
    ),
    "gold_probability": st.fixed_dictionaries(
        {}, optional={"from_logprobs": st.sampled_from([True, False, "yes"])}
    ),
    "expected_calibration_error": st.fixed_dictionaries(
        {},
        optional={
            "bins": st.sampled_from([1, 10, 0, -3, 2.5]),
            "binning": st.sampled_from(["uniform", "quantile", "equal"]),
            "from_logprobs": st.booleans(),
        },
    ),
    "chrf": st.fixed_dictionaries(
        {},
        optional={
            "char_order": st.sampled_from([1, 6, 0, -1, 11, 2**70, "6"]),
            "word_order": st.sampled_from([0, 2, -1, 5]),
            "beta": st.sampled_from([1, 2, 0, -3, 2.5]),
            "lowercase": st.booleans(),
            "whitespace": st.sampled_from([True, False, None]),
        },
    ),
    "bleu": st.fixed_dictionaries(
        {},
        optional={
            "tokenize": st.sampled_from(["13a", "intl", "char", "none", "zh", 3]),
            "smooth_method": st.sampled_from(["exp", "floor", "add-k", "none", "add-1"]),
            "lowercase": st.sampled_from([True, False, "no"]),
        },
    ),
    "quasi_exact_match": st.just({}),
    "token_f1": st.fixed_dictionaries(
        {},
        optional={
            "ignore_case": st.sampled_from([True, False, 1]),
            "ignore_punctuation": st.booleans(),
            "ignore_articles": st.sampled_from([True, False, "no"]),
        },
    ),
    "pass_at_k": st.fixed_dictionaries(
        {},
        optional={
            "k": st.sampled_from([1, 2, 16, 0, -1, "3", None]),
            "ignore_case": st.booleans(),
            "strip": st.booleans(),
            "regexes_to_ignore": st.sampled_from([[], ["a+"], ["("]]),
            "punctuation": st.sampled_from(["ascii", "unicode", "latin"]),
        },
    ),
    "majority_vote": st.fixed_dictionaries(
        {},
        optional={
            "k": st.sampled_from([1, 3, None, 0, -2, 2.5]),
            "ignore_case": st.booleans(),
            "ignore_punctuation": st.sampled_from([True, False, "no"]),
            "regexes_to_ignore": st.sampled_from([[], [r"\d"], ["("]]),
        },
    ),
    "sample_accuracy": st.fixed_dictionaries(
        {},
        optional={
            "ignore_numbers": st.booleans(),
            "punctuation": st.sampled_from(["ascii", "unicode", 3]),
        },
    ),
    "word_perplexity": st.just({}),
    "byte_perplexity": st.just({}),
    "bits_per_byte": st.just({}),
    "rouge": st.fixed_dictionaries(
        {},
        optional={
            "variant": st.sampled_from(["rouge1", "rouge2", "rougeL", "rougeLsum", "rouge3", 1]),
            "use_stemmer": st.sampled_from([True, False, "yes"]),
        },
    ),
    **{
        name: st.fixed_dictionaries({}, optional={"use_stemmer": st.sampled_from([True, False, 0])})
        for name in ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    },
    "fuzz_plugin": st.fixed_dictionaries({}, optional={"scale": FLOATS}),
}
COMMON = st.fixed_dictionaries(
    {},
    optional={
        "workers": st.sampled_from([1, 2, -1, 0, 10_000, -5]),
        "on_error": st.sampled_from(["raise", "null", "skip"]),
    },
)
# Arguments shaped as each metric reads them, so that calls get past the type check often.
SHAPES: dict[str, list[tuple[pa.DataType, Any]]] = {
    "sequences": [(pa.list_(pa.int64()), st.one_of(st.none(), st.lists(INTS, max_size=6)))],
    "text": [(pa.string(), st.one_of(st.none(), TEXT))],
    "choices": [
        (pa.list_(pa.float64()), st.one_of(st.none(), st.lists(FLOATS, max_size=4))),
        (pa.int64(), st.one_of(st.none(), INTS)),
    ],
    "samples": [
        (
            pa.list_(pa.string()),
            st.one_of(st.none(), st.lists(st.one_of(st.none(), TEXT), max_size=5)),
        ),
        (pa.string(), st.one_of(st.none(), TEXT)),
    ],
    "rolling": [
        (pa.float64(), st.one_of(st.none(), FLOATS)),
        (pa.string(), st.one_of(st.none(), TEXT)),
    ],
}


@pytest.fixture(scope="module")
def fuzz_plugin() -> Iterator[None]:
    @register_metric(
        name="fuzz_plugin",
        higher_is_better=True,
        continuous=True,
        inputs="text",
        option_docs={"scale": "a factor"},
    )
    def fuzz(p: pa.Array, r: pa.Array, *, scale: float = 1.0) -> pa.Array:
        """Prediction length times ``scale``; breaks on some inputs as plugins do."""
        if any(v is not None and "\x00" in v for v in p.to_pylist()):
            msg = "a NUL"
            raise RuntimeError(msg)
        return pc.multiply(pc.cast(pc.utf8_length(p), pa.float64()), scale)

    yield
    unregister("fuzz_plugin")


def _check(call: Callable[[], Any], n: int) -> None:
    try:
        result = call()
    except DOCUMENTED:
        return
    except BaseException as e:  # a PyO3 panic is a BaseException
        pytest.fail(f"undocumented {type(e).__module__}.{type(e).__name__}: {e}")
    assert isinstance(result, pa.Array | pl.Series), type(result)
    assert len(result) == n


def _metric_case(name: str) -> st.SearchStrategy[tuple[Any, Any, dict[str, Any], int]]:
    kind = get_metric(name).inputs

    @st.composite
    def case(draw: st.DrawFn) -> tuple[Any, Any, dict[str, Any], int]:
        n = draw(st.integers(0, 6))
        m = n if draw(st.integers(0, 5)) else draw(st.integers(0, 6))  # sometimes a mismatch
        shapes = SHAPES[kind]
        shaped = draw(st.booleans())
        a = draw(columns(n, shapes[0] if shaped else None))
        b = draw(columns(m, shapes[-1] if shaped else None))
        options = {**draw(OPTIONS[name]), **draw(COMMON)}
        return a, b, options, n

    return case()


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_every_metric_returns_one_value_per_row_or_a_documented_error(
    name: str, fuzz_plugin: None
) -> None:
    function = get_metric(name).function

    @FUZZ
    @given(_metric_case(name))
    def run(case: tuple[Any, Any, dict[str, Any], int]) -> None:
        a, b, options, n = case
        _check(lambda: function(a, b, **options), n)

    run()


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_polars_namespace_returns_one_value_per_row_or_a_documented_error(
    name: str, fuzz_plugin: None
) -> None:
    @FUZZ
    @given(_metric_case(name))
    def run(case: tuple[Any, Any, dict[str, Any], int]) -> None:
        a, b, options, n = case
        options.pop("workers", None)
        try:
            df = pl.DataFrame({"a": pl.Series(a), "b": pl.Series(b)})
        # not a frame polars builds (lengths, types, or a polars panic): not under test
        except (Exception, pl.exceptions.PanicException):
            return
        if pl.Object in df.dtypes:  # Python objects: polars refuses them in any expression
            return

        def call() -> pl.Series:
            expr = pl.col("a").rescore.metric(name, "b", **options)
            return df.select(expr).to_series()

        _check(call, n)

    run()


def test_functions_are_the_public_ones() -> None:
    """The fuzzed functions are the package's public metric functions, plugins aside."""
    public = {n for n in rescore.__all__ if n in rescore.METRICS}
    assert public <= set(OPTIONS) - {"fuzz_plugin"}
    assert set(OPTIONS) - {"fuzz_plugin"} <= set(rescore.METRICS)


@FUZZ
@given(
    st.integers(0, 6).flatmap(
        lambda n: st.tuples(
            columns(n, (pa.float64(), st.one_of(st.none(), FLOATS))),
            st.one_of(
                columns(n, (pa.bool_(), st.one_of(st.none(), st.booleans()))),
                columns(n + 1, (pa.float64(), st.one_of(st.none(), FLOATS))),
                columns(n),
            ),
        )
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "bins": st.sampled_from([1, 3, 10, 0, -1, True, 2.0]),
            "binning": st.sampled_from(["uniform", "quantile", "mass"]),
            "on_error": st.sampled_from(["raise", "null", "skip"]),
        },
    ),
)
def test_expected_calibration_error_is_a_number_or_a_documented_error(
    case: tuple[Any, Any], options: dict[str, Any]
) -> None:
    confidences, correct = case
    try:
        value = rescore.expected_calibration_error(confidences, correct, **options)
    except DOCUMENTED:
        return
    except BaseException as e:
        pytest.fail(f"undocumented {type(e).__module__}.{type(e).__name__}: {e}")
    assert isinstance(value, float)
    assert np.isnan(value) or 0.0 <= value <= 1.0


@settings(FUZZ, max_examples=40)  # an unknown name scans the installed entry points
@given(st.one_of(st.text(max_size=20), st.sampled_from(["", "exact_match ", "EXACT_MATCH"])))
def test_get_metric_knows_a_name_or_says_which_exist(name: str) -> None:
    if name in rescore.METRICS:
        assert get_metric(name).name == name
    else:
        with pytest.raises(exceptions.UnknownMetricError, match="exact_match"):
            get_metric(name)


def test_all_null_polars_columns_give_nulls() -> None:
    """The report that started this file: a polars Null column broke the Arrow C interface."""
    nulls = pl.Series([None, None])
    assert nulls.dtype == pl.Null
    for name, other in [
        ("token_edit_distance", [[1], [2]]),
        ("char_edit_distance", ["a", "b"]),
        ("exact_match", ["a", "b"]),
        ("brier_score", [0, 1]),
        ("multiple_choice_grade", [0, 1]),
        ("token_f1", ["a", "b"]),
        ("rouge", ["a", "b"]),
        ("rouge1", ["a", "b"]),
        ("rouge2", ["a", "b"]),
        ("rougeL", ["a", "b"]),
        ("rougeLsum", ["a", "b"]),
        ("quasi_exact_match", ["a", "b"]),
        ("bleu", ["a", "b"]),
        ("chrf", ["a", "b"]),
    ]:
        function = get_metric(name).function
        assert function(nulls, nulls).to_list() == [None, None], name
        assert function(other, nulls).to_list() == [None, None], name
        first = function(nulls, other)
        assert first.to_list() == [None, None], name
        assert np.all(first.is_null().to_numpy())

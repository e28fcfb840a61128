"""Metrics from outside the package, registered with `register_metric` or declared through the
`rescore.metrics` entry point, work in `rescore score`, the polars namespace and
`rescore emergence` as built-in ones do; their failures name the plugin and the row."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import rescore
from rescore.cli import main
from rescore.exceptions import PluginError, UnknownMetricError, UnscorableRowError
from rescore.registry import Aggregation, get_metric, lookup, register_metric, unregister
from tests.batch_data import read_out
from tests.plugin_package import METRIC, plugin_installed

EXAMPLE = Path(rescore.__file__).parent / "data" / "example_generations.parquet"


def _similarity(predictions: pa.Array, references: pa.Array) -> pa.Array:
    """One minus the character edit distance over the longer length."""
    return pc.subtract(1.0, rescore.char_edit_distance(predictions, references, normalize="max"))


@pytest.fixture
def python_plugins() -> Iterator[None]:
    """Two plugins of opposite directions whose curves are mirror images of each other."""
    register_metric(name="char_similarity", higher_is_better=True, continuous=True, inputs="text")(
        _similarity
    )

    @register_metric(
        name="char_distance_py",
        higher_is_better=False,
        continuous=True,
        inputs="text",
        option_docs={"scale": "multiply the distance by this"},
    )
    def char_distance_py(p: pa.Array, r: pa.Array, *, scale: float = 1.0) -> pa.Array:
        """Character edit distance over the longer length, times ``scale``."""
        return pc.multiply(rescore.char_edit_distance(p, r, normalize="max"), scale)

    yield
    unregister("char_similarity")
    unregister("char_distance_py")


@pytest.fixture
def entry_point_plugin(tmp_path: Path) -> Iterator[Path]:
    with plugin_installed(tmp_path / "site-packages") as root:
        yield root


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _score(out: Path, metrics: str, *extra: str) -> pl.DataFrame:
    args = ("--metrics", metrics, "--keep-cols", "prediction,reference", "-q", *extra)
    result = _run("score", str(EXAMPLE), "--out", str(out), *args)
    assert result.exit_code == 0, result.output
    return pl.from_arrow(read_out(out))  # type: ignore[return-value]


def _emergence(scores: Path, out: Path, metrics: str) -> pl.DataFrame:
    args = ("emergence", str(scores), "--out", str(out), "--metrics", metrics, "--n-boot", "50")
    result = _run(*args)
    assert result.exit_code == 0, result.output
    return pl.read_csv(out / "emergence.csv")


def _expected_length_ratio(df: pl.DataFrame) -> list[float | None]:
    p, r = df["prediction"].to_list(), df["reference"].to_list()
    return [None if a is None or b is None else len(a) / len(b) for a, b in zip(p, r, strict=True)]


def test_python_plugins_in_score_polars_and_emergence(python_plugins: None, tmp_path: Path) -> None:
    df = _score(tmp_path / "scores", "token_edit_distance,char_similarity,char_distance_py")
    expected = 1.0 - rescore.char_edit_distance(df["prediction"], df["reference"], normalize="max")
    np.testing.assert_allclose(df["char_similarity"].to_numpy(), expected.to_numpy())
    np.testing.assert_allclose(df["char_distance_py"].to_numpy(), 1.0 - expected.to_numpy())
    assert df.schema["char_similarity"] == pl.Float64

    # the polars namespace: by name, and as a method, options as keywords
    scaled = df.select(
        a=pl.col("prediction").rescore.metric("char_similarity", "reference"),
        b=pl.col("prediction").rescore.char_distance_py(pl.col("reference"), scale=2.0),
    )
    np.testing.assert_allclose(scaled["a"].to_numpy(), expected.to_numpy())
    np.testing.assert_allclose(scaled["b"].to_numpy(), 2.0 * (1.0 - expected.to_numpy()))

    # emergence: the lower-is-better plugin is negated, the higher-is-better one is not, so the
    # two mirror-image curves score the same
    table = _emergence(tmp_path / "scores", tmp_path / "report", "char_similarity,char_distance_py")
    rows = {r["metric"]: r for r in table.iter_rows(named=True)}
    assert rows["char_similarity"]["direction"] == "higher"
    assert rows["char_distance_py"]["direction"] == "lower"
    hi, lo = rows["char_similarity"], rows["char_distance_py"]
    assert hi["improvement"] > 0
    for key in ("improvement", "emergence_score", "monotonicity"):
        assert hi[key] == pytest.approx(lo[key], rel=1e-9), key


def test_entry_point_plugin_in_score_polars_and_emergence(
    entry_point_plugin: Path, tmp_path: Path
) -> None:
    assert METRIC not in lookup._ENTRIES  # installed, not yet imported
    df = _score(tmp_path / "scores", f"token_edit_distance,{METRIC}")
    assert df[METRIC].to_list() == pytest.approx(_expected_length_ratio(df))
    entry = get_metric(METRIC)
    assert "entry point length_ratio = rescore_length_plugin:length_ratio" in entry.source
    assert not entry.builtin
    assert entry.higher_is_better

    ratio = df.select(pl.col("prediction").rescore.length_ratio("reference"))[METRIC]
    assert ratio.to_list() == df[METRIC].to_list()

    table = _emergence(tmp_path / "scores", tmp_path / "report", f"token_edit_distance,{METRIC}")
    directions = dict(zip(table["metric"], table["direction"], strict=True))
    assert directions == {"token_edit_distance": "lower", METRIC: "higher"}


def test_entry_point_plugin_is_found_by_emergence_without_metrics(
    entry_point_plugin: Path, tmp_path: Path
) -> None:
    """A column named after an installed plugin is a metric column, as a built-in's is."""
    df = pl.read_parquet(EXAMPLE)
    df = df.with_columns(pl.Series(METRIC, _expected_length_ratio(df), dtype=pl.Float64))
    assert METRIC not in lookup._ENTRIES  # installed, not yet imported
    df.select("model", "task", "doc_id", METRIC).write_parquet(tmp_path / "scores.parquet")
    result = _run("emergence", str(tmp_path / "scores.parquet"), "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    table = pl.read_csv(tmp_path / "r" / "emergence.csv")
    assert table["metric"].to_list() == [METRIC]
    assert table["direction"].to_list() == ["higher"]


def test_unknown_metric_lists_builtins_and_installed_plugins(entry_point_plugin: Path) -> None:
    with pytest.raises(UnknownMetricError) as info:
        get_metric("lenght_ratio")
    message = str(info.value)
    for name in ("token_edit_distance", "exact_match", "brier_score", METRIC):
        assert name in message
    assert "rescore_length_plugin" in message  # where the plugin comes from

    result = CliRunner().invoke(
        main, ["score", str(EXAMPLE), "--out", "unused", "--metrics", "lenght_ratio"]
    )
    assert result.exit_code != 0
    assert "unknown metric 'lenght_ratio'" in result.output
    assert METRIC in result.output


def test_name_clash_names_both_sources(entry_point_plugin: Path) -> None:
    with pytest.raises(
        PluginError, match=r"'exact_match' from plugin .*test_plugins.* clashes .* from rescore;"
    ):
        register_metric(name="exact_match", higher_is_better=True, continuous=False, inputs="text")(
            _similarity
        )
    get_metric(METRIC)  # loads the entry point's package

    def other(p: pa.Array, r: pa.Array) -> pa.Array:
        return p

    with pytest.raises(PluginError) as info:
        register_metric(name=METRIC, higher_is_better=True, continuous=True, inputs="text")(other)
    assert "rescore_length_plugin" in str(info.value)
    assert "test_plugins" in str(info.value)
    assert get_metric("exact_match").builtin  # the built-in stays


@pytest.fixture
def gens(tmp_path: Path) -> Path:
    n = 300
    path = tmp_path / "gens.parquet"
    table = pa.table(
        {
            "model": ["m"] * n,
            "task": ["t"] * n,
            "doc_id": list(range(n)),
            "prediction": [f"p{i}" for i in range(n)],
            "reference": ["r" * (1 + i % 4) for i in range(n)],
        }
    )
    pq.write_table(table, path, row_group_size=100)
    return path


def _register(name: str, function: Any) -> None:
    register_metric(name=name, higher_is_better=True, continuous=True, inputs="text")(function)


def _leftovers(out: Path) -> list[str]:
    """Files a reader of ``out`` could mistake for results: anything not a finished part."""
    if not out.exists():
        return []
    names = sorted(p.name for p in out.iterdir())
    return [n for n in names if not re.fullmatch(r"part-[\d-]+\.parquet|_manifest\.json", n)]


def test_plugin_raising_on_a_row_names_plugin_file_and_row(gens: Path, tmp_path: Path) -> None:
    calls = {"broken": True}

    def flaky(p: pa.Array, r: pa.Array) -> pa.Array:
        if calls["broken"] and "p217" in p.to_pylist():
            msg = "no way"
            raise ZeroDivisionError(msg)
        return pc.cast(pc.utf8_length(p), pa.float64())

    _register("flaky", flaky)
    try:
        out = tmp_path / "out"
        with pytest.raises(UnscorableRowError) as info:
            rescore.score(gens, out, metrics="flaky", batch_size=100)
        message = str(info.value)
        assert "gens.parquet: row 217" in message
        assert "flaky" in message
        assert "ZeroDivisionError: no way" in message
        assert "test_plugins" in message  # the plugin's source
        assert _leftovers(out) == []
        # what was written is whole: the rerun with a fixed plugin resumes to the full result
        calls["broken"] = False
        resumed = rescore.score(gens, out, metrics="flaky", batch_size=100).read()
        fresh = rescore.score(gens, tmp_path / "fresh", metrics="flaky", batch_size=100).read()
        assert resumed.equals(fresh)

        calls["broken"] = True
        nulls = rescore.score(gens, tmp_path / "nulls", metrics="flaky", on_error="null").read()
        values = nulls.column("flaky").to_pylist()
        assert values[217] is None
        assert sum(v is None for v in values) == 1
    finally:
        unregister("flaky")


@pytest.mark.parametrize(
    ("function", "error"),
    [
        (lambda p, r: pa.array([1.0] * (len(p) - 1)), r"returned 99 values for 100 rows"),
        (lambda p, r: pa.array(["x"] * len(p)), r"returned values of type string"),
        (lambda p, r: object(), r"returned a object, not one value per row"),
    ],
    ids=["wrong length", "wrong type", "not an array"],
)
def test_plugin_returning_nonsense_names_plugin_and_rows(
    gens: Path, tmp_path: Path, function: Any, error: str
) -> None:
    _register("nonsense", function)
    try:
        for on_error in ("raise", "null"):  # a plugin's bug, not a row's: always an error
            out = tmp_path / on_error
            with pytest.raises(PluginError, match=error) as info:
                rescore.score(gens, out, metrics="nonsense", batch_size=100, on_error=on_error)
            message = str(info.value)
            assert "gens.parquet: rows 0-99" in message
            assert "metric 'nonsense' (plugin" in message
            assert _leftovers(out) == []
            assert not list(out.glob("part-*"))  # the first unit failed: nothing to keep
    finally:
        unregister("nonsense")


def test_plugin_sees_only_rows_without_nulls_and_nulls_come_back() -> None:
    seen: list[list[str]] = []

    def upper(p: pa.Array, r: pa.Array) -> pa.Array:
        seen.append(p.to_pylist())
        return pc.cast(pc.equal(pc.utf8_upper(p), r), pa.float64())

    _register("upper_match", upper)
    try:
        left = pl.Series(["a", None, "c", "d"])
        right = pl.Series(["A", "B", None, "x"])
        out = get_metric("upper_match").function(left, right)
        assert out.to_pylist() == [1.0, None, None, 0.0]
        assert seen == [["a", "d"]]
        assert isinstance(out, pa.Array)
        all_null = get_metric("upper_match").function(pl.Series([None, None]), ["a", "b"])
        assert all_null.to_pylist() == [None, None]
    finally:
        unregister("upper_match")


def test_emergence_reads_the_aggregation_of_the_entry(tmp_path: Path) -> None:
    """Per-example rows are bootstrapped as means; a plugin aggregating otherwise is refused
    there, and accepted as a table of per-model values."""
    total = Aggregation("sum", "sum of the per-row values", lambda v: v.cast(pl.Float64).sum())
    register_metric(
        name="char_total",
        higher_is_better=True,
        continuous=True,
        inputs="text",
        aggregation=total,
    )(_similarity)
    try:
        df = pl.read_parquet(EXAMPLE).with_columns(
            pl.col("prediction").rescore.char_total("reference")
        )
        rows = df.select("model", "task", "doc_id", "char_total")
        rows.write_parquet(tmp_path / "examples.parquet")
        result = _run("emergence", str(tmp_path / "examples.parquet"), "--out", str(tmp_path / "a"))
        assert result.exit_code != 0
        assert "metric `char_total` aggregates by sum" in result.output

        per_model = rows.group_by("model", "task").agg(total.expr("char_total"))
        per_model.write_parquet(tmp_path / "runs.parquet")
        result = _run("emergence", str(tmp_path / "runs.parquet"), "--out", str(tmp_path / "b"))
        assert result.exit_code == 0, result.output
    finally:
        unregister("char_total")

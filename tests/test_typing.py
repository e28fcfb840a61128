"""Usage as a user writes it, type-checked by `mypy --strict` (`make lint` checks tests/ too) and
run by pytest: `assert_type` fails the type check when a public signature loses its types."""

from __future__ import annotations

from pathlib import Path
from typing import assert_type

import polars as pl
import pyarrow as pa

import rescore
from rescore.batch import ScoreSettings
from rescore.batch.job import ScoreResult
from rescore.catalogue import METRICS, get_metric
from rescore.exceptions import InvalidInputError
from rescore.registry import Metric


def test_typed_usage() -> None:
    preds = pa.array([[1, 2, 3]])
    refs = pa.chunked_array([pa.array([[1, 2]])])
    d = rescore.token_edit_distance(preds, refs, normalize="max", workers=2)
    assert_type(d, pa.Array)
    assert d.to_pylist() == [1 / 3]
    em = rescore.exact_match(pl.Series(["a"]), pl.Series(["A"]), ignore_case=True)
    assert_type(em, pl.Series)
    assert em.to_list() == [True]
    chars = rescore.char_edit_distance(["ab"], pl.Series(["b"]))
    assert_type(chars, pl.Series)
    assert chars.to_list() == [1]
    grade = rescore.multiple_choice_grade([[0.1, 0.9]], [1])
    assert_type(grade, pa.Array)
    failed: InvalidInputError | None = None
    try:
        rescore.brier_score([[0.2, 0.2]], [0])
    except InvalidInputError as e:
        failed = e
    assert failed is not None
    assert "row 0" in str(failed)
    metric = get_metric("brier_score")
    assert_type(metric, Metric)
    assert metric.direction == "lower"
    assert sorted(METRICS) == sorted(m.name for m in METRICS.values())


def test_typed_batch_job(tmp_path: Path) -> None:
    path = tmp_path / "gens.jsonl"
    path.write_text('{"model": "m", "prediction": "a", "reference": "a"}\n')
    settings = ScoreSettings(metrics=("exact_match",), task="t")
    result = rescore.score(path, tmp_path / "out", settings)
    assert_type(result, ScoreResult)
    assert result.read().column("exact_match").to_pylist() == [True]

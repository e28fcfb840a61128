"""The batch job on bad input: every case stops early or follows --on-error, with counts."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rescore
from rescore.exceptions import (
    InputFormatError,
    InvalidOptionError,
    MissingColumnError,
    OutputConflictError,
    UnknownMetricError,
    UnscorableRowError,
)
from tests.batch_data import manifest, read_out
from tests.reference import brier


@pytest.fixture
def texts(tmp_path: Path) -> Path:
    path = tmp_path / "texts.parquet"
    pq.write_table(
        pa.table(
            {
                "model": ["a", "a", "b", "b"],
                "task": ["t", "t", "t", "t"],
                "prediction": ["x y", "x", "x", None],
                "reference": ["x y", None, "z", None],
            }
        ),
        path,
    )
    return path


@pytest.fixture
def probs(tmp_path: Path) -> Path:
    path = tmp_path / "probs.parquet"
    pq.write_table(
        pa.table(
            {
                "model": ["a"] * 4,
                "task": ["mc"] * 4,
                "probabilities": [[0.7, 0.3], [0.5, 0.4], [0.2, 0.8], [0.6, 0.6]],
                "label": [0, 1, 1, 0],
            }
        ),
        path,
    )
    return path


def test_missing_column_lists_available_columns_before_any_work(texts: Path) -> None:
    out = texts.parent / "out"
    with pytest.raises(MissingColumnError, match=r"'answer'.*available columns: model, task"):
        rescore.score(texts, out, reference_col="answer")
    with pytest.raises(MissingColumnError, match=r"brier_score needs a choices column.*prediction"):
        rescore.score(texts, out, metrics="brier_score")
    with pytest.raises(MissingColumnError, match=r"--keep-cols: column 'id'"):
        rescore.score(texts, out, keep_cols=["id"])
    assert not out.exists()


def test_missing_column_in_a_later_file(texts: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"prediction": ["a"], "answer": ["a"]}), other)
    with pytest.raises(MissingColumnError, match=r"'reference' is not in .*other.parquet.*answer"):
        rescore.score([texts, other], tmp_path / "out", metrics="exact_match")
    assert not (tmp_path / "out").exists()


def test_null_reference_follows_on_error(texts: Path, tmp_path: Path) -> None:
    with pytest.raises(UnscorableRowError, match=r"texts.parquet: row 1: exact_match: null ref"):
        rescore.score(texts, tmp_path / "raise", metrics="exact_match")
    nulls = rescore.score(texts, tmp_path / "null", metrics="exact_match", on_error="null")
    # row 3 has neither prediction nor reference: not applicable, null, not an error
    assert nulls.read().column("exact_match").to_pylist() == [True, None, False, None]
    assert nulls.errors == {"exact_match": 1}
    assert manifest(tmp_path / "null")["totals"]["errors"] == {"exact_match": 1}
    skip = rescore.score(texts, tmp_path / "skip", metrics="exact_match", on_error="skip")
    assert skip.read().column("exact_match").to_pylist() == [True, False, None]
    assert skip.rows_in == 4
    assert skip.rows_out == 3
    by_model = {r["model"]: r["errors"] for r in skip.summary.iter_rows(named=True)}
    assert by_model == {"a": 1, "b": 0}


def test_probabilities_not_summing_to_one(probs: Path, tmp_path: Path) -> None:
    with pytest.raises(
        UnscorableRowError, match=r"probs.parquet: row 1: brier_score: .*sum to 0.9"
    ):
        rescore.score(probs, tmp_path / "a", metrics="brier_score")
    result = rescore.score(probs, tmp_path / "b", metrics="brier_score", on_error="null")
    got = result.read().column("brier_score").to_pylist()
    assert got[0] == pytest.approx(brier([0.7, 0.3], 0))
    assert got[1] is None
    assert got[2] == pytest.approx(brier([0.2, 0.8], 1))
    assert got[3] is None
    assert result.errors == {"brier_score": 2}
    assert result.summary.row(0, named=True)["errors"] == 2


def test_error_row_is_the_row_of_the_file_not_of_the_batch(probs: Path, tmp_path: Path) -> None:
    with pytest.raises(UnscorableRowError, match=r"row 3: brier") as info:
        rescore.score(probs, tmp_path / "a", metrics="brier_score", batch_size=3,
                      options={"brier_score": {"tolerance": 0.15}})  # fmt: skip
    assert info.value.row == 3


def test_invalid_utf8_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_bytes(
        b'{"prediction": "a", "reference": "a"}\n{"prediction": "\xe9t\xe9", "reference": "a"}\n'
    )
    with pytest.raises(InputFormatError, match=r"g.jsonl: line 2: invalid UTF-8"):
        rescore.score(path, tmp_path / "out", metrics="exact_match")


def test_invalid_utf8_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_bytes(b"prediction,reference\na,a\nb,b\n\xff\xfe,c\n")
    with pytest.raises(InputFormatError, match=r"g.csv: line 4: invalid UTF-8"):
        rescore.score(path, tmp_path / "out", metrics="exact_match")


def test_jsonl_type_change_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    lines = [{"prediction": "a", "reference": "a"}] * 3 + [{"prediction": 3, "reference": "a"}]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(InputFormatError, match=r"g.jsonl: near line 4"):
        rescore.score(path, tmp_path / "out", metrics="exact_match")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metrics": "bleurt"}, UnknownMetricError, r"unknown metric 'bleurt'"),
        ({"options": {"exact_match": {"stem": True}}}, InvalidOptionError, r"no option 'stem'"),
        (
            {
                "metrics": "token_edit_distance",
                "options": {"token_edit_distance": {"normalize": "min"}},
            },
            InvalidOptionError,
            r"normalize",
        ),
        ({"on_error": "ignore"}, InvalidOptionError, r"on_error"),
        ({"batch_size": 0}, InvalidOptionError, r"batch_size"),
        ({"format": "xml"}, InvalidOptionError, r"unknown format"),
    ],
)
def test_bad_settings_fail_before_any_work(
    texts: Path, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    out = texts.parent / "out"
    with pytest.raises(error, match=match):
        rescore.score(texts, out, **kwargs)  # type: ignore[arg-type]
    assert not out.exists()


def test_other_settings_are_refused_and_overwrite_starts_over(texts: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rescore.score(texts, out, metrics="exact_match", on_error="null")
    with pytest.raises(OutputConflictError, match=r"other settings \(differing: metrics\)"):
        rescore.score(texts, out, metrics="exact_match", on_error="null",
                      options={"exact_match": {"ignore_case": True}})  # fmt: skip
    with pytest.raises(OutputConflictError, match=r"differing: batch_size"):
        rescore.score(texts, out, metrics="exact_match", on_error="null", batch_size=2)
    before = read_out(out)
    result = rescore.score(texts, out, metrics="exact_match", on_error="null", batch_size=2,
                           overwrite=True)  # fmt: skip
    assert sorted(p.name for p in out.glob("part-*")) == [
        "part-00000-000000.parquet",
        "part-00000-000001.parquet",
    ]
    assert read_out(out) == before
    assert result.rows_out == 4


def test_changed_input_is_refused(texts: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rescore.score(texts, out, metrics="exact_match", on_error="null")
    pq.write_table(pa.table({"prediction": ["q"], "reference": ["q"]}), texts)
    with pytest.raises(OutputConflictError, match=r"differing: .*inputs"):
        rescore.score(texts, out, metrics="exact_match", on_error="null")


def test_foreign_files_in_out_are_refused_even_with_overwrite(texts: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(OutputConflictError, match=r"did not write \(notes.txt\)"):
            rescore.score(texts, out, metrics="exact_match", on_error="null", overwrite=overwrite)
    assert (out / "notes.txt").read_text() == "mine"


def test_missing_input(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        rescore.score(tmp_path / "nope.parquet", tmp_path / "out")

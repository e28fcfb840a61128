"""The batch job end to end on Parquet (files and a hive directory), JSONL and CSV, checked
against the core functions and independent references (rapidfuzz, plain Python)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rapidfuzz.distance import Levenshtein

import rescore
from rescore.batch import ColumnMap, MetricSpec, ScoreSpec, score_table
from rescore.exceptions import TokenizerError
from tests.batch_data import grade, manifest, read_out
from tests.reference import brier, softmax

ROWS: list[dict[str, Any]] = [
    {
        "model": "pythia-70m",
        "task": "qa",
        "doc_id": 0,
        "prediction": "the cat sat",
        "reference": "the cat sat down",
        "prediction_ids": [5, 6, 7],
        "reference_ids": [5, 6, 7, 8],
        "choice_logprobs": None,
        "label": None,
    },
    {
        "model": "pythia-70m",
        "task": "qa",
        "doc_id": 1,
        "prediction": "Paris.",
        "reference": "paris",
        "prediction_ids": [9],
        "reference_ids": [10],
        "choice_logprobs": None,
        "label": None,
    },
    {
        "model": "pythia-70m",
        "task": "mc",
        "doc_id": 0,
        "prediction": None,
        "reference": None,
        "prediction_ids": None,
        "reference_ids": None,
        "choice_logprobs": [-1.0, -0.5, -3.0],
        "label": 1,
    },
    {
        "model": "pythia-410m",
        "task": "qa",
        "doc_id": 0,
        "prediction": "the cat sat down",
        "reference": "the cat sat down",
        "prediction_ids": [5, 6, 7, 8],
        "reference_ids": [5, 6, 7, 8],
        "choice_logprobs": None,
        "label": None,
    },
    {
        "model": "pythia-410m",
        "task": "mc",
        "doc_id": 0,
        "prediction": None,
        "reference": None,
        "prediction_ids": None,
        "reference_ids": None,
        "choice_logprobs": [-2.0, -0.1, -0.1],
        "label": 2,
    },
    {
        "model": "pythia-410m",
        "task": "mc",
        "doc_id": 1,
        "prediction": None,
        "reference": None,
        "prediction_ids": None,
        "reference_ids": None,
        "choice_logprobs": [-0.2, -4.0],
        "label": 0,
    },
]
SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("task", pa.string()),
        ("doc_id", pa.int64()),
        ("prediction", pa.string()),
        ("reference", pa.string()),
        ("prediction_ids", pa.list_(pa.int64())),
        ("reference_ids", pa.list_(pa.int64())),
        ("choice_logprobs", pa.list_(pa.float64())),
        ("label", pa.int64()),
    ]
)
ALL = "token_edit_distance,char_edit_distance,exact_match,brier_score,multiple_choice_grade"


def expected(row: dict[str, Any], *, ids: bool = True) -> dict[str, Any]:
    """Plain-Python scores of one example row (null where the metric does not apply)."""
    out: dict[str, Any] = dict.fromkeys(ALL.split(","))
    if row["prediction"] is not None:
        p, r = row["prediction"], row["reference"]
        seqs = (row["prediction_ids"], row["reference_ids"]) if ids else (p.split(), r.split())
        out["token_edit_distance"] = Levenshtein.distance(*seqs)
        out["char_edit_distance"] = Levenshtein.distance(p, r)
        out["exact_match"] = p == r
    if row["choice_logprobs"] is not None:
        out["brier_score"] = brier(softmax(row["choice_logprobs"]), row["label"])
        out["multiple_choice_grade"] = grade(row["choice_logprobs"], row["label"])
    return out


def check(table: pa.Table, rows: list[dict[str, Any]], *, ids: bool = True) -> None:
    got = table.to_pylist()
    assert len(got) == len(rows)
    for g, row in zip(got, rows, strict=True):
        assert (g["model"], g["task"], g["doc_id"]) == (row["model"], row["task"], row["doc_id"])
        for name, value in expected(row, ids=ids).items():
            assert g[name] == (pytest.approx(value) if isinstance(value, float) else value), name


def test_parquet_mixed_generation_and_choices(tmp_path: Path) -> None:
    """The shape of the shipped example: null columns where a metric does not apply."""
    src = tmp_path / "gens.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS, schema=SCHEMA), src, row_group_size=4)
    result = rescore.score(src, tmp_path / "out", metrics=ALL)
    t = read_out(tmp_path / "out")
    assert t.column_names == ["model", "task", "doc_id", "target_length", *ALL.split(",")]
    assert t.schema.field("token_edit_distance").type == pa.uint32()
    assert t.schema.field("exact_match").type == pa.bool_()
    check(t, ROWS)
    assert result.error_rows == 0
    assert result.spec.tokenizer.kind == "ids"  # token-id columns exist
    s = result.summary.filter(pl.col("model") == "pythia-410m", pl.col("task") == "mc")
    assert s["rows"].item() == 2
    assert s["brier_score"].item() == pytest.approx(
        (expected(ROWS[4])["brier_score"] + expected(ROWS[5])["brier_score"]) / 2
    )


def test_default_metrics_are_the_applicable_ones(tmp_path: Path) -> None:
    src = tmp_path / "gens.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS, schema=SCHEMA), src)
    result = rescore.score(src, tmp_path / "out")
    assert [m.name for m in result.spec.metrics] == ALL.split(",")


def test_scores_equal_the_core_functions(tmp_path: Path) -> None:
    src = tmp_path / "gens.parquet"
    table = pa.Table.from_pylist(ROWS, schema=SCHEMA)
    pq.write_table(table, src)
    opts = {"exact_match": {"ignore_case": True, "ignore_punctuation": True}}
    options = {**opts, "token_edit_distance": {"normalize": "max"}}
    metrics = "exact_match,token_edit_distance"
    t = rescore.score(src, tmp_path / "out", metrics=metrics, options=options).read()
    em = rescore.exact_match(table["prediction"], table["reference"], **opts["exact_match"])
    ted = rescore.token_edit_distance(
        table["prediction_ids"], table["reference_ids"], normalize="max"
    )
    assert t.column("exact_match").to_pylist() == em.to_pylist()
    assert t.column("token_edit_distance").to_pylist() == ted.to_pylist()
    assert t.column("exact_match").to_pylist()[1] is True  # "Paris." vs "paris"


def test_hive_partitioned_directory(tmp_path: Path) -> None:
    root = tmp_path / "dataset"
    table = pa.Table.from_pylist(ROWS, schema=SCHEMA)
    pq.write_to_dataset(table.drop_columns(["model"]), root, partition_cols=["task"])
    # a second level, the way `partition_cols=["model", "task"]` lays it out, and clutter
    for model in ("pythia-70m", "pythia-410m"):
        sub = table.filter(pa.compute.equal(table["model"], model)).drop_columns(["model", "task"])
        path = root.parent / "by_model" / f"model={model}" / "task=qa"
        path.mkdir(parents=True)
        pq.write_table(sub.slice(0, 1), path / "part-0.parquet")
    (root.parent / "by_model" / "_SUCCESS").touch()
    (root.parent / "by_model" / ".hidden.parquet").write_bytes(b"not parquet")
    result = rescore.score(root.parent / "by_model", tmp_path / "out", metrics="exact_match")
    got = sorted(result.read().to_pylist(), key=lambda r: str(r["model"]))
    assert [(r["model"], r["task"]) for r in got] == [("pythia-410m", "qa"), ("pythia-70m", "qa")]
    result = rescore.score(root, tmp_path / "out2", metrics=ALL, model="pythia-x")
    t = result.read()
    assert set(t.column("task").to_pylist()) == {"qa", "mc"}
    assert set(t.column("model").to_pylist()) == {"pythia-x"}
    for g in t.to_pylist():
        candidates = [r for r in ROWS if (r["task"], r["doc_id"]) == (g["task"], g["doc_id"])]
        assert any(
            all(
                g[n] == (pytest.approx(v) if isinstance(v, float) else v)
                for n, v in expected(r).items()
            )
            for r in candidates
        )


def test_jsonl(tmp_path: Path) -> None:
    src = tmp_path / "gens.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    check(rescore.score(src, tmp_path / "out", metrics=ALL).read(), ROWS)


def test_jsonl_with_list_references_and_tokenizer_rules(tmp_path: Path) -> None:
    src = tmp_path / "gens.jsonl"
    rows = [
        {"id": "a", "output": "Paris", "answer": ["paris", "Paris"]},
        {"id": "b", "output": "the  big cat", "answer": ["a big cat", "big cat"]},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    t = rescore.score(
        src,
        tmp_path / "out",
        metrics="exact_match,token_edit_distance",
        keep_cols=["id"],
        tokenizer="characters",
    ).read()
    assert t.column("exact_match").to_pylist() == [True, False]
    assert t.column("token_edit_distance").to_pylist() == [
        min(Levenshtein.distance("Paris", r) for r in rows[0]["answer"]),
        min(Levenshtein.distance("the  big cat", r) for r in rows[1]["answer"]),
    ]
    assert t.column("id").to_pylist() == ["a", "b"]
    assert t.column("model").null_count == 2  # no model column and no --model


def test_csv_with_json_list_columns(tmp_path: Path) -> None:
    src = tmp_path / "gens.csv"
    with src.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(SCHEMA.names))
        w.writeheader()
        for r in ROWS:
            w.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()})
    check(rescore.score(src, tmp_path / "out", metrics=ALL).read(), ROWS)
    text_only = rescore.score(
        src, tmp_path / "out2", metrics="token_edit_distance", tokenizer="whitespace"
    ).read()
    want = [expected(r, ids=False)["token_edit_distance"] for r in ROWS]
    assert text_only.column("token_edit_distance").to_pylist() == want


def test_csv_unparsable_list_is_an_unscorable_row(tmp_path: Path) -> None:
    src = tmp_path / "mc.csv"
    src.write_text('choice_logprobs,label\n"[-1.0, -2.0]",0\n"[-1.0, oops]",1\n"[-0.5, -0.4]",1\n')
    result = rescore.score(src, tmp_path / "out", metrics="brier_score", on_error="null")
    assert result.errors == {"brier_score": 1}
    got = result.read().column("brier_score").to_pylist()
    assert got[1] is None
    assert got[2] == pytest.approx(brier(softmax([-0.5, -0.4]), 1))


def test_probabilities_column_is_not_softmaxed(tmp_path: Path) -> None:
    src = tmp_path / "p.parquet"
    pq.write_table(pa.table({"probabilities": [[0.7, 0.2, 0.1]], "label": [0]}), src)
    brier = {"brier_score": {"convention": "class_mean"}}
    t = rescore.score(src, tmp_path / "out", metrics="brier_score", options=brier).read()
    assert t.column("brier_score").to_pylist() == [pytest.approx(0.14 / 3)]


def test_several_inputs_one_schema(tmp_path: Path) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.jsonl"
    pq.write_table(pa.Table.from_pylist(ROWS[:3], schema=SCHEMA), a)
    b.write_text("".join(json.dumps(r) + "\n" for r in ROWS[3:]))
    out = tmp_path / "out"
    rescore.score([a, b], out, metrics=ALL, batch_size=2)
    parts = sorted(p.name for p in out.glob("part-*.parquet"))
    assert parts == [
        "part-00000-000000.parquet",
        "part-00000-000001.parquet",
        "part-00001-000000.parquet",
        "part-00001-000001.parquet",
    ]
    schemas = {pq.read_schema(out / p).remove_metadata() for p in parts}
    assert len(schemas) == 1
    check(read_out(out), ROWS)
    m = manifest(out)
    assert m["complete"]
    assert m["totals"]["rows_in"] == len(ROWS)


def test_part_metadata_records_the_settings(tmp_path: Path) -> None:
    src = tmp_path / "gens.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS, schema=SCHEMA), src)
    out = tmp_path / "out"
    rescore.score(
        src, out, metrics="exact_match,brier_score", options={"exact_match": {"strip": True}}
    )
    meta = json.loads(pq.read_schema(next(out.glob("part-*.parquet"))).metadata[b"rescore"])
    assert meta["rescore_version"] == rescore.__version__
    assert meta["settings"]["metrics"][0] == {"name": "exact_match", "options": {"strip": True}}
    assert meta["settings"]["metrics"][1]["options"]["from_logprobs"] is True
    assert meta["tokenizer"] == "ids"
    assert meta["input"]["path"] == str(src.resolve())
    assert meta["fingerprint"] == manifest(out)["fingerprint"]


def _tokenizer_json(tmp_path: Path) -> Path:
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"[UNK]": 0, "the": 1, "cat": 2, "sat": 3, "down": 4, "dog": 5}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    path = tmp_path / "tok" / "tokenizer.json"
    path.parent.mkdir()
    tok.save(str(path))
    return path


def test_hugging_face_tokenizer_json(tmp_path: Path) -> None:
    path = _tokenizer_json(tmp_path)
    src = tmp_path / "g.parquet"
    pq.write_table(
        pa.table(
            {
                "prediction": ["the cat sat", "the dog", None, "zebra cat"],
                "reference": ["the cat sat down", "the cat", None, "unicorn cat"],
            }
        ),
        src,
    )
    for given in (path, path.parent):  # the file, or a snapshot directory holding it
        result = rescore.score(
            src,
            tmp_path / "out",
            metrics="token_edit_distance",
            tokenizer=str(given),
            overwrite=True,
        )
        # ids: "zebra" and "unicorn" are both [UNK]: equal tokens, distance 0
        assert result.read().column("token_edit_distance").to_pylist() == [1, 1, None, 0]
        assert result.spec.tokenizer.kind == "hf"
    meta = json.loads(pq.read_schema(next((tmp_path / "out").glob("part-*"))).metadata[b"rescore"])
    assert meta["tokenizer"].startswith(f"hf:{path.resolve()}")


def test_missing_tokenizer_file(tmp_path: Path) -> None:
    src = tmp_path / "g.parquet"
    pq.write_table(pa.table({"prediction": ["a"], "reference": ["a"]}), src)
    with pytest.raises(TokenizerError, match=r"does not exist.*never downloads"):
        rescore.score(src, tmp_path / "out", tokenizer=str(tmp_path / "nope" / "tokenizer.json"))
    assert not (tmp_path / "out").exists()


def test_score_table_is_engine_agnostic() -> None:
    """Same answer for a table, a record batch, and any split of the rows."""
    table = pa.Table.from_pylist(ROWS, schema=SCHEMA)
    spec = ScoreSpec(
        metrics=(MetricSpec("exact_match"), MetricSpec("brier_score", {"from_logprobs": True})),
        columns=ColumnMap(
            prediction="prediction",
            reference="reference",
            choices="choice_logprobs",
            label="label",
            keys=("model", "doc_id"),
        ),
        on_error="null",
    )
    whole = score_table(table, spec)
    assert whole.column_names == ["model", "doc_id", "exact_match", "brier_score"]
    assert score_table(table.to_batches()[0], spec) == whole
    for cut in range(1, len(ROWS)):
        halves = [score_table(table.slice(0, cut), spec), score_table(table.slice(cut), spec)]
        assert pa.concat_tables(halves) == whole
    assert ScoreSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_target_length_is_written_with_the_token_edit_distance(tmp_path: Path) -> None:
    """The reference's length in the job's tokens (the shortest of several), null without a
    reference: what the emergence analysis's mirage model needs, without --keep-cols."""
    src = tmp_path / "gens.jsonl"
    rows = [
        {"model": "m", "prediction": "a b", "reference": ["a b c"]},
        {"model": "m", "prediction": "a", "reference": ["x y", "z"]},
        {"model": "m", "prediction": "a", "reference": None},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    words = rescore.score(src, tmp_path / "w", metrics="token_edit_distance", on_error="null")
    assert words.read().column("target_length").to_pylist() == [3, 1, None]
    chars = rescore.score(
        src,
        tmp_path / "c",
        metrics="exact_match,token_edit_distance",
        tokenizer="characters",
        on_error="null",
    )
    assert chars.read().column("target_length").to_pylist() == [5, 1, None]
    none = rescore.score(src, tmp_path / "n", metrics="exact_match", on_error="null")
    assert "target_length" not in none.read().column_names

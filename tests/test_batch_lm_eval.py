"""lm-eval sample logs: recognition, safe literal parsing, rows, and end-to-end scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

import rescore
from rescore.batch import lm_eval
from rescore.batch.readers import discover
from rescore.exceptions import InputFormatError, UnscorableRowError
from tests.batch_data import GEN_DOCS, MC_DOCS, generation_log, grade, mc_log
from tests.reference import brier, softmax

LLS = [
    [-5.1, -0.3, -4.0, -6.2],
    [-2.0, -1.5, -9.0],
    [-3.0, -0.01, -2.5, -7.0],
    [-0.7, -0.7],  # a tie: the first maximum wins
    [-0.2, -3.0, -4.5],
]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    root = tmp_path / "lm_eval_out"
    mc_log(root, "EleutherAI__pythia-160m", "arc_easy", LLS)
    generation_log(root, "EleutherAI__pythia-160m", "gsm8k")
    return root


def test_the_fixture_is_lm_eval_shaped(logs: Path) -> None:
    path = next(logs.rglob("samples_arc_easy_*.jsonl"))
    record = json.loads(path.read_text().splitlines()[0])
    assert set(record) >= {
        "doc_id",
        "doc",
        "target",
        "arguments",
        "resps",
        "filtered_resps",
        "filter",
        "metrics",
        "doc_hash",
        "prompt_hash",
        "target_hash",
        "acc",
        "acc_norm",
    }
    assert record["filtered_resps"][1] == ["-0.3", "True"]
    assert record["resps"][1] == [["-0.3", "True"]]
    assert record["arguments"]["gen_args_1"] == {
        "arg_0": "Question: The capital of France is\nAnswer:",
        "arg_1": " Paris",
    }
    assert record["target"] == "1"
    assert isinstance(record["brier_score"][1], str)  # a numpy repr: recomputed, never read


def test_recognised_without_format(logs: Path) -> None:
    files = discover([logs])
    assert [f.format for f in files] == ["lm-eval", "lm-eval"]
    assert lm_eval.model_and_task(files[0].path) == ("EleutherAI__pythia-160m", "arc_easy")


def test_recognised_by_fields_under_another_name(logs: Path, tmp_path: Path) -> None:
    src = next(logs.rglob("samples_gsm8k_*.jsonl"))
    other = tmp_path / "renamed.jsonl"
    other.write_bytes(src.read_bytes())
    assert discover([other])[0].format == "lm-eval"


def test_task_names_with_underscores() -> None:
    name = "samples_gsm8k_cot_self_consistency_2026-01-28T03-22-54.512.jsonl"
    assert lm_eval.model_and_task(Path("/o/org__m") / name) == (
        "org__m",
        "gsm8k_cot_self_consistency",
    )


def test_scores_match_plain_python(logs: Path, tmp_path: Path) -> None:
    result = rescore.score(
        logs,
        tmp_path / "out",
        metrics="multiple_choice_grade,brier_score,exact_match,token_edit_distance",
    )
    rows = result.read().to_pylist()
    mc = [r for r in rows if r["task"] == "arc_easy"]
    gen = [r for r in rows if r["task"] == "gsm8k"]
    assert [r["doc_id"] for r in mc] == list(range(len(MC_DOCS)))
    assert {r["model"] for r in rows} == {"EleutherAI__pythia-160m"}
    for r, ll, (_, _, gold) in zip(mc, LLS, MC_DOCS, strict=True):
        assert r["filter"] == "none"
        assert r["brier_score"] == pytest.approx(brier(softmax(ll), gold), rel=1e-12)
        assert r["multiple_choice_grade"] == grade(ll, gold)
        assert r["exact_match"] is None  # no text on a multiple-choice row: not applicable
    assert len(gen) == 2 * len(GEN_DOCS)  # one row per (doc_id, filter)
    assert [r["filter"] for r in gen] == ["strict-match"] * 4 + ["flexible-extract"] * 4
    for r in gen:
        _, answer, raw, extracted = GEN_DOCS[r["doc_id"]]
        pred = extracted if r["filter"] == "strict-match" else raw
        assert r["exact_match"] == (pred == answer)
        assert r["token_edit_distance"] == Levenshtein.distance(pred.split(), answer.split())
        assert r["brier_score"] is None
    assert result.error_rows == 0


def test_keep_cols_reads_record_fields(logs: Path, tmp_path: Path) -> None:
    result = rescore.score(
        logs, tmp_path / "out", metrics="exact_match", keep_cols=["doc_hash", "doc.question"]
    )
    t = result.read()
    keys = ["model", "task", "filter", "doc_id"]
    assert t.column_names == [*keys, "doc_hash", "doc.question", "exact_match"]
    assert t.column("doc.question").to_pylist()[0] == MC_DOCS[0][0]


def test_target_given_as_choice_text() -> None:
    record = {
        "doc_id": 0,
        "target": "Paris",
        "arguments": {
            "gen_args_0": {"arg_0": "Q", "arg_1": " Rome"},
            "gen_args_1": {"arg_0": "Q", "arg_1": " Paris"},
        },
        "filtered_resps": [["-2.0", "False"], ["-1.0", "True"]],
    }
    row = dict(
        zip(lm_eval.schema().names, lm_eval.record_to_row(record, "m", "t", ()), strict=True)
    )
    assert (row["choice_logprobs"], row["label"]) == ([-2.0, -1.0], 1)
    assert row["choice_texts"] == ["Rome", "Paris"]  # without the default delimiter " "
    assert row["unconditional_logprobs"] is None
    assert row[lm_eval.ERROR_TEXT] is None
    assert row[lm_eval.ERROR_CHOICES] is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("-3.2", -3.2),
        ("(-3.2, False)", (-3.2, False)),
        ("[-1.5, True]", [-1.5, True]),
        ("np.float64(-0.25)", -0.25),
        ("-inf", float("-inf")),
        ("['Paris', 'paris']", ["Paris", "paris"]),
    ],
)
def test_parse_literal(text: str, value: object) -> None:
    assert lm_eval.parse_literal(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch pwned')",
        "open('x', 'w')",
        "(lambda: 1)()",
        "[x for x in range(10**9)]",
        "().__class__.__bases__[0].__subclasses__()",
        "1" * 200_000,
    ],
)
def test_parse_literal_rejects_code(text: str) -> None:
    with pytest.raises(ValueError, match=r"literal|too long"):
        lm_eval.parse_literal(text)


SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()


@given(st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.tuples(c, c), max_leaves=12))
def test_parse_literal_reads_what_str_writes(value: object) -> None:
    assert lm_eval.parse_literal(repr(value)) == value


def test_crafted_log_does_not_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    record = {
        "doc_id": 0,
        "doc": {},
        "target": payload,
        "arguments": {
            "gen_args_0": {"arg_0": "Q", "arg_1": " a"},
            "gen_args_1": {"arg_0": "Q", "arg_1": " b"},
        },
        "resps": [[[payload, "False"]], [["-1.0", "True"]]],
        "filtered_resps": [[payload, "False"], [f"({payload}, True)", "True"]],
        "filter": "none",
    }
    path = tmp_path / "m" / "samples_evil_2024-01-01T00-00-00.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(UnscorableRowError, match=r"row 0 \(doc_id 0, filter 'none'\)"):
        rescore.score(path, tmp_path / "out", metrics="brier_score")
    result = rescore.score(path, tmp_path / "out2", metrics="brier_score", on_error="null")
    assert result.errors == {"brier_score": 1}
    assert result.read().column("brier_score").to_pylist() == [None]
    assert not marker.exists()


def test_unparsable_values_follow_on_error(logs: Path, tmp_path: Path) -> None:
    path = next(logs.rglob("samples_arc_easy_*.jsonl"))
    lines = path.read_text().splitlines()
    bad = json.loads(lines[2])
    bad["filtered_resps"][0] = ["minus three", "False"]
    lines[2] = json.dumps(bad)
    bad = json.loads(lines[3])
    bad["target"] = "not a choice"
    lines[3] = json.dumps(bad)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        UnscorableRowError, match=r"samples_arc_easy.*row 2 \(doc_id 2.*minus three"
    ):
        rescore.score(path, tmp_path / "a", metrics="brier_score")
    nulls = rescore.score(path, tmp_path / "b", metrics="brier_score", on_error="null")
    is_null = nulls.read().column("brier_score").is_null().to_pylist()
    assert is_null == [False, False, True, True, False]
    skipped = rescore.score(path, tmp_path / "c", metrics="brier_score", on_error="skip")
    assert skipped.read().column("doc_id").to_pylist() == [0, 1, 4]
    assert skipped.errors == nulls.errors == {"brier_score": 2}
    assert skipped.summary.row(0, named=True)["errors"] == 2


def test_malformed_json_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "m" / "samples_t_2024-01-01T00-00-00.jsonl"
    path.parent.mkdir()
    good = {"doc_id": 0, "target": "a", "arguments": {}, "filtered_resps": ["a"]}
    path.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(InputFormatError, match="line 2: not valid JSON"):
        rescore.score(path, tmp_path / "out", metrics="exact_match")


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "m" / "samples_t_2024-01-01T00-00-00.jsonl"
    path.parent.mkdir()
    good = json.dumps({"doc_id": 0, "target": "a", "arguments": {}, "filtered_resps": ["a"]})
    path.write_bytes(
        good.encode() + b"\n" + good.replace('"a"]', '"\xff"]').encode("latin-1") + b"\n"
    )
    with pytest.raises(InputFormatError, match="line 2: invalid UTF-8"):
        rescore.score(path, tmp_path / "out", metrics="exact_match", format="lm-eval")

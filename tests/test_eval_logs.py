"""Readers of stored evaluations: lighteval details, HELM runs, inspect_ai logs.

The fixtures under ``tests/fixtures/eval_logs`` were written by each tool's own code (see the
``make_*`` scripts beside them): inspect_ai 0.3.285 with its ``mockllm/model``, crfm-helm
0.5.16 with its ``simple/model1``, lighteval 0.13.0's ``Doc``/``ModelResponse`` through the
``datasets`` calls of its ``EvaluationTracker``. Expected values are read from the fixtures'
own JSON (or the values the scripts wrote), not from rescore.
"""

from __future__ import annotations

import json
import shutil
import struct
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import rescore
from rescore.batch import formats, helm, inspect_log, lighteval
from rescore.batch.readers import discover
from rescore.exceptions import InputFormatError, InvalidOptionError

FIXTURES = Path(__file__).parent / "fixtures" / "eval_logs"
LIGHTEVAL = FIXTURES / "lighteval"
HELM = FIXTURES / "helm"
INSPECT = FIXTURES / "inspect"


def rows(path: Path, reader: Any) -> list[dict[str, Any]]:
    return pa.concat_tables(list(reader.iter_tables(path, 1000))).to_pylist()


def only(pattern: str, root: Path) -> Path:
    found = sorted(root.rglob(pattern))
    assert len(found) == 1, found
    return found[0]


# --- lighteval ----------------------------------------------------------------------------------


def test_lighteval_current_multiple_choice() -> None:
    path = only("details_lighteval|arc:easy|0_*.parquet", LIGHTEVAL)
    got = rows(path, lighteval)
    assert [r["example_id"] for r in got] == ["0", "1"]
    assert got[0]["model"] == "org/tiny-model"  # config_general.model_name of the results file
    assert got[0]["task"] == "lighteval|arc:easy|0"
    assert got[0]["choice_logprobs"] == [-2.5, -0.3, -4.0]
    assert got[0]["label"] == 1
    assert got[0]["continuations"] == [" 3", " 4", " 5"]
    assert got[0]["prediction"] is None
    assert got[0]["reference"] is None
    assert [r["harness_acc"] for r in got] == [1.0, 0.0]


def test_lighteval_current_generation_samples_and_post_processing() -> None:
    path = only("details_lighteval|gsm8k|0_*.parquet", LIGHTEVAL)
    got = rows(path, lighteval)
    assert [(r["example_id"], r["sample"], r["prediction"]) for r in got] == [
        ("q1", 0, "Paris"),
        ("q1", 1, "Lyon"),
        ("q2", 0, "6"),  # text_post_processed, not "<think>hmm</think>6"
        ("q2", 1, "7"),
    ]
    assert got[0]["reference"] == ["Paris"]
    assert [r["harness_maj_2"] for r in got] == [1.0, 1.0, 0.0, 0.0]
    assert got[0]["choice_logprobs"] is None


def test_lighteval_flat_schema_written_as_python_reprs() -> None:
    path = only("details_harness|arc:challenge|25_*.parquet", LIGHTEVAL)
    assert pa.types.is_string(pa.parquet.read_schema(path).field("predictions").type)
    got = rows(path, lighteval)
    assert got[0]["model"] == "org/old-model"
    assert got[0]["task"] == "harness|arc:challenge|25"
    assert got[0]["choice_logprobs"] == [-2.5, -0.25]
    assert [r["label"] for r in got] == [1, 1]
    assert [r["harness_acc_norm"] for r in got] == [1.0, 0.0]


def test_lighteval_flat_schema_native_generation() -> None:
    path = only("details_harness|gsm8k|5_*.parquet", LIGHTEVAL)
    got = rows(path, lighteval)
    assert [(r["prediction"], r["reference"], r["harness_em"]) for r in got] == [
        ("Paris", ["Paris"], 1.0),
        ("7", ["6"], 0.0),
    ]


def test_lighteval_model_from_the_layout_without_results(tmp_path: Path) -> None:
    shutil.copytree(LIGHTEVAL, tmp_path / "lv")
    for f in (tmp_path / "lv").rglob("results_*.json"):
        f.unlink()
    new = only("details_lighteval|gsm8k|0_*.parquet", tmp_path / "lv")
    old = only("details_harness|gsm8k|5_*.parquet", tmp_path / "lv")
    assert lighteval.model_and_task(new)[0] == "org/tiny-model"  # details/<model>/<date>/
    assert lighteval.model_and_task(old)[0] == "org/old-model"  # details_<org>__<name>


# --- HELM ---------------------------------------------------------------------------------------


def test_helm_generation_one_row_per_completion() -> None:
    path = HELM / "simple1:model=simple_model1" / "scenario_state.json"
    state = json.loads(path.read_text())
    got = rows(path, helm)
    expected = [
        (
            rs["instance"]["id"],
            rs["train_trial_index"],
            k,
            c["text"],
            [r["output"]["text"] for r in rs["instance"]["references"] if "correct" in r["tags"]],
        )
        for rs in state["request_states"]
        for k, c in enumerate(rs["result"]["completions"])
    ]
    assert [
        (r["example_id"], r["trial"], r["sample"], r["prediction"], r["reference"]) for r in got
    ] == expected
    assert {r["model"] for r in got} == {"simple/model1"}
    assert {r["task"] for r in got} == {"simple1"}  # the run name less model=


def test_helm_joint_multiple_choice_maps_the_letter() -> None:
    path = HELM / "simple_mcqa:model=simple_model1" / "scenario_state.json"
    state = json.loads(path.read_text())
    got = rows(path, helm)
    for r, rs in zip(got, state["request_states"], strict=True):
        text = rs["result"]["completions"][0]["text"].strip()
        assert r["prediction"] == rs["output_mapping"].get(text, text)
        assert r["continuations"] == [x["output"]["text"] for x in rs["instance"]["references"]]
    assert {r["task"] for r in got} == {"simple_mcqa"}


def _separate_state(method: str, tokens: dict[tuple[int, str], list[tuple[str, float]]]) -> Any:
    """A scenario state shaped as HELM writes it (helm/benchmark/adaptation/request_state.py,
    runner.py: json.dumps(asdict_without_nones(scenario_state))) for separate multiple choice:
    one request per reference (and request mode), the prompt echoed with token log-probs."""
    instance = {
        "input": {"text": "The sky is"},
        "references": [
            {"output": {"text": "green"}, "tags": []},
            {"output": {"text": "light blue"}, "tags": ["correct"]},
        ],
        "split": "test",
        "id": "id7",
    }
    states = []
    for (ri, mode), toks in tokens.items():
        text = "".join(t for t, _ in toks)
        states.append(
            {
                "instance": instance,
                "reference_index": ri,
                "request_mode": mode,
                "train_trial_index": 0,
                "request": {"prompt": text, "echo_prompt": True, "max_tokens": 0},
                "result": {
                    "success": True,
                    "completions": [
                        {
                            "text": text,
                            "logprob": sum(p for _, p in toks),
                            "tokens": [{"text": t, "logprob": p} for t, p in toks],
                        }
                    ],
                },
                "num_train_instances": 0,
                "prompt_truncated": False,
            }
        )
    return {"adapter_spec": {"method": method, "model": "openai/davinci"}, "request_states": states}


def test_helm_separate_multiple_choice_gathers_one_row(tmp_path: Path) -> None:
    run = tmp_path / "sky:model=openai_davinci"
    run.mkdir()
    tokens = {
        (0, "original"): [("The", -1.0), (" sky", -2.0), (" is", -0.5), (" green", -4.0)],
        (1, "original"): [("The", -1.0), (" sky", -2.0), (" is", -0.5), (" light", -1.5),
                          (" blue", -0.25)],
    }  # fmt: skip
    state = _separate_state("multiple_choice_separate_original", tokens)
    (run / "scenario_state.json").write_text(json.dumps(state))
    (run / "run_spec.json").write_text(
        json.dumps({"name": "sky:model=openai_davinci", "adapter_spec": state["adapter_spec"]})
    )
    (got,) = rows(run / "scenario_state.json", helm)
    assert got["choice_logprobs"] == [-4.0, -1.75]
    assert got["label"] == 1
    assert got["continuations"] == ["green", "light blue"]
    assert (got["model"], got["task"], got["example_id"]) == ("openai/davinci", "sky", "id7")


def test_helm_separate_calibrated_subtracts_the_calibration_request(tmp_path: Path) -> None:
    tokens = {
        (0, "original"): [("x", -1.0), (" green", -4.0)],
        (1, "original"): [("x", -1.0), (" light", -1.5), (" blue", -0.25)],
        (0, "calibration"): [("Answer:", -1.0), (" green", -3.0)],
        (1, "calibration"): [("Answer:", -1.0), (" light", -1.0), (" blue", -0.5)],
    }
    path = tmp_path / "scenario_state.json"
    path.write_text(json.dumps(_separate_state("multiple_choice_separate_calibrated", tokens)))
    (got,) = rows(path, helm)
    assert got["choice_logprobs"] == [-1.0, -0.25]


def test_helm_separate_tokens_not_spelling_the_reference_is_a_row_error(tmp_path: Path) -> None:
    tokens = {(0, "original"): [("x", -1.0), (" red", -4.0)], (1, "original"): [(" blue", -1.0)]}
    path = tmp_path / "scenario_state.json"
    path.write_text(json.dumps(_separate_state("multiple_choice_separate_original", tokens)))
    (got,) = rows(path, helm)
    assert got["choice_logprobs"] is None
    assert "do not end with the reference 'green'" in got["__rescore_error_choices"]


# --- inspect_ai ---------------------------------------------------------------------------------


def _json_log(task: str) -> tuple[Path, dict[str, Any]]:
    path = only(f"*_{task}_*.json", INSPECT)
    return path, json.loads(path.read_text())


@pytest.mark.parametrize("task", ["qa", "mc"])
def test_inspect_json_log_rows_follow_the_samples(task: str) -> None:
    path, log = _json_log(task)
    got = rows(path, inspect_log)
    assert [(r["example_id"], r["sample"], r["prediction"]) for r in got] == [
        (str(s["id"]), s["epoch"] - 1, s["output"]["completion"]) for s in log["samples"]
    ]
    for r, s in zip(got, log["samples"], strict=True):
        target = s["target"] if isinstance(s["target"], list) else [s["target"]]
        assert r["reference"] == target
        for name, score in s["scores"].items():
            value = {"C": 1.0, "I": 0.0}[score["value"]]
            assert r[f"harness_{name}"] == value
    assert {r["model"] for r in got} == {log["eval"]["model"]}
    assert {r["task"] for r in got} == {log["eval"]["task"]}


def test_inspect_multiple_choice_gold_letter_index() -> None:
    path, log = _json_log("mc")
    got = rows(path, inspect_log)
    assert [r["target_index"] for r in got] == [
        "ABCDEFGH".index(s["target"]) for s in log["samples"]
    ]
    assert [r["continuations"] for r in got] == [s["choices"] for s in log["samples"]]


@pytest.mark.parametrize("task", ["qa", "mc"])
def test_inspect_eval_log_with_zstd_members_reads_like_the_json_log(task: str) -> None:
    path = only(f"*_{task}_*.eval", INSPECT)
    with zipfile.ZipFile(path) as z:
        assert {i.compress_type for i in z.infolist()} == {inspect_log.ZIP_ZSTANDARD}
    key = ("example_id", "sample", "prediction", "reference", "continuations", "target_index")
    got = sorted(tuple(str(r[k]) for k in key) for r in rows(path, inspect_log))
    json_path, _ = _json_log(task)
    want = sorted(tuple(str(r[k]) for k in key) for r in rows(json_path, inspect_log))
    assert got == want
    assert inspect_log.count_rows(path) == len(want)


def test_inspect_deflated_eval_log(tmp_path: Path) -> None:
    _, log = _json_log("qa")
    header = {k: v for k, v in log.items() if k != "samples"}
    path = tmp_path / "old.eval"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("header.json", json.dumps(header))
        for s in log["samples"]:
            z.writestr(f"samples/{s['id']}_epoch_{s['epoch']}.json", json.dumps(s))
        stale = {**log["samples"][0], "output": {"completion": "stale"}}
        name = f"samples/{stale['id']}_epoch_{stale['epoch']}.json"
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z,
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", "Duplicate name")  # as inspect_ai's _zip_writestr
        z.writestr(name, json.dumps(stale))  # a name written again supersedes the first
    got = rows(path, inspect_log)
    assert len(got) == len(log["samples"])
    assert "stale" in [r["prediction"] for r in got]


# --- detection and the job ----------------------------------------------------------------------


def test_formats_are_recognised_in_one_directory() -> None:
    found = {f.format for f in discover([FIXTURES])}
    assert found == {"lighteval", "helm", "inspect"}
    names = [f.path.name for f in discover([FIXTURES])]
    assert "run_spec.json" not in names
    assert not any(n.startswith("results_") for n in names)


def test_format_forces_one_reader() -> None:
    assert {f.format for f in discover([FIXTURES], "inspect")} == {"inspect"}
    assert {f.format for f in discover([FIXTURES], "helm")} == {"helm"}
    with pytest.raises(InvalidOptionError, match="not a helm file"):
        discover([HELM / "simple1:model=simple_model1" / "run_spec.json"], "helm")


def test_score_keeps_harness_metrics_beside_rescores(tmp_path: Path) -> None:
    r = rescore.score(LIGHTEVAL, tmp_path / "out", metrics="exact_match,multiple_choice_grade")
    t = r.read()
    assert {"example_id", "sample", "harness_acc", "harness_em"} <= set(t.column_names)
    acc = t.filter(pa.compute.is_valid(t.column("harness_acc")))
    assert acc.column("multiple_choice_grade").to_pylist() == acc.column("harness_acc").to_pylist()
    em = t.filter(pa.compute.equal(t.column("task"), "harness|gsm8k|5"))
    assert em.column("exact_match").to_pylist() == em.column("harness_em").to_pylist()


def test_registry_lists_every_format() -> None:
    assert set(formats.RECORD_FORMATS) == {"lm-eval", "lighteval", "helm", "inspect"}


# --- bad input ----------------------------------------------------------------------------------


def test_truncated_eval_log_names_the_file(tmp_path: Path) -> None:
    src = only("*_qa_*.eval", INSPECT)
    bad = tmp_path / "cut.eval"
    bad.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(InputFormatError, match=r"cut\.eval: not a readable \.eval"):
        rows(bad, inspect_log)


def test_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.eval"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("header.json", json.dumps({"version": 2, "eval": {}}))
        z.writestr("samples/1_epoch_1.json", b" " * (1 << 20))
    # Declare the member far larger than the limit in its central directory entry.
    data = bytearray(path.read_bytes())
    i = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, i + 24, inspect_log.MAX_MEMBER_BYTES + 1)
    path.write_bytes(bytes(data))
    with pytest.raises(InputFormatError, match="zip bomb"):
        rows(path, inspect_log)


def test_unknown_log_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    path.write_text(json.dumps({"version": 99, "status": "success", "eval": {}, "samples": []}))
    with pytest.raises(InputFormatError, match="version 99 is not one this reader knows"):
        rows(path, inspect_log)


def test_truncated_helm_state_names_the_file(tmp_path: Path) -> None:
    src = HELM / "simple1:model=simple_model1" / "scenario_state.json"
    bad = tmp_path / "scenario_state.json"
    bad.write_text(src.read_text()[:500])
    with pytest.raises(InputFormatError, match=r"scenario_state\.json: not valid JSON"):
        rows(bad, helm)


def test_corrupt_lighteval_parquet_names_the_file(tmp_path: Path) -> None:
    src = only("details_lighteval|gsm8k|0_*.parquet", LIGHTEVAL)
    bad = tmp_path / src.name
    bad.write_bytes(src.read_bytes()[:-100])
    with pytest.raises(InputFormatError, match="not a readable Parquet file"):
        rows(bad, lighteval)


def test_missing_prediction_is_a_row_error_under_on_error(tmp_path: Path) -> None:
    _, log = _json_log("qa")
    log["samples"][0]["output"] = {}
    path = tmp_path / "log.json"
    path.write_text(json.dumps(log))
    r = rescore.score(path, tmp_path / "out", metrics="exact_match", on_error="null")
    assert r.errors == {"exact_match": 1}


def test_reader_model_names_reach_the_size_catalogue(tmp_path: Path) -> None:
    from rescore.emergence.model_sizes import lookup

    tokens = {(0, "original"): [(" green", -1.0)], (1, "original"): [(" light blue", -2.0)]}
    path = tmp_path / "scenario_state.json"
    path.write_text(json.dumps(_separate_state("multiple_choice_separate_original", tokens)))
    (got,) = rows(path, helm)
    assert got["model"] == "openai/davinci"  # HELM's adapter_spec.model
    size = lookup(got["model"])
    assert size is not None
    assert size.params == 175e9


@pytest.mark.parametrize("task", ["arc:easy", "gsm8k"])
def test_lighteval_vectorised_rows_equal_the_record_by_record_rows(
    task: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = only(f"details_lighteval|{task}|0_*.parquet", LIGHTEVAL)
    assert lighteval._vectorisable(lighteval._open(path))
    fast = rows(path, lighteval)
    monkeypatch.setattr(lighteval, "_vectorisable", lambda pf: False)
    assert fast == rows(path, lighteval)


@pytest.mark.parametrize(
    ("change", "rows_per_table"),
    [
        ({}, 1),
        ({1: {"predictions": []}}, 2),  # no generated text: an error row
        ({0: {"predictions": ["a", None, "b"]}}, 3),  # a null text: an error row among others
        ({0: {"gold": []}}, 2),  # no gold texts: the batch is read record by record
        ({1: {"predictions": None, "metrics": {"em": None}}}, 100),
    ],
)
def test_lighteval_flat_vectorised_rows_equal_the_record_by_record_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict[int, Any], rows_per_table: int
) -> None:
    import pyarrow.parquet as pq

    src = only("details_harness|gsm8k|5_*.parquet", LIGHTEVAL)
    table = pq.read_table(src)
    records = table.to_pylist() * 3
    for i, fields in change.items():
        records[i] = {**records[i], **fields}
    path = tmp_path / "details_org__m" / src.parent.name / src.name
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(records, schema=table.schema), path)
    assert lighteval._flat_vectorisable(lighteval._open(path))

    def read() -> list[dict[str, Any]]:
        return [r for t in lighteval.iter_tables(path, rows_per_table) for r in t.to_pylist()]

    fast = read()
    monkeypatch.setattr(lighteval, "_flat_vectorisable", lambda pf: False)
    assert fast == read()
    assert len(fast) >= len(records)


@pytest.mark.parametrize("pad", [0, 3 * inspect_log.PEEK_BYTES])
def test_inspect_json_schema_reads_only_the_header_and_first_sample(
    tmp_path: Path, pad: int
) -> None:
    _, log = _json_log("qa")
    log["plan"] = {**log.get("plan", {}), "note": "x" * pad}  # a header longer than a peek
    path = tmp_path / "log.json"
    path.write_text(json.dumps(log, indent=1))
    peek = inspect_log._json_head(path)
    assert peek is not None
    head, first = peek
    assert head == {k: v for k, v in log.items() if k in head}
    assert "version" in head
    assert first == log["samples"][0]
    assert (
        inspect_log.schema(path) == pa.concat_tables(list(inspect_log.iter_tables(path, 3))).schema
    )
    # Cut inside the samples: the schema still comes from the first, the rows name the file.
    cut = tmp_path / "cut.json"
    cut.write_bytes(path.read_bytes()[: -len(json.dumps(log["samples"][-1])) // 2])
    assert inspect_log.schema(cut) == inspect_log.schema(path)
    with pytest.raises(InputFormatError, match=r"cut\.json: not valid JSON"):
        rows(cut, inspect_log)

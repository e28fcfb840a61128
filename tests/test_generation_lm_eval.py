"""The generation metrics on lm-eval's generation tasks: sample logs written by lm-eval's own
code (``tests/lm_eval_logs.py``, two models, a task with one reference and one with several),
scored by the batch job, every row checked against the reference implementations and the
summary's corpus BLEU and chrF against sacrebleu's corpus functions per model and task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import rescore
from rescore.batch.lm_eval import parse_literal
from tests.lm_eval_logs import GEN_DOCS, GEN_MODELS, GEN_TASKS, write_generation_logs
from tests.reference import helm_quasi_exact_match, squad_f1

pytest.importorskip("lm_eval")
sacrebleu = pytest.importorskip("sacrebleu")
rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")

ROUGE = ("rouge1", "rouge2", "rougeL", "rougeLsum")
METRICS = ("token_f1", "quasi_exact_match", "bleu", "chrf", *ROUGE)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("lm_eval_gen")
    return write_generation_logs(base / "data", base / "out")


@pytest.fixture(scope="module")
def scored(logs: Path, tmp_path_factory: pytest.TempPathFactory) -> rescore.ScoreResult:
    out = tmp_path_factory.mktemp("scored") / "out"
    return rescore.score(logs, out, metrics=",".join(METRICS))


def _records(logs: Path) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Each logged record by (model directory, task, doc_id)."""
    records = {}
    for path in logs.glob("*/samples_*.jsonl"):
        task = next(t for t in GEN_TASKS if path.name.startswith(f"samples_{t}_2"))
        for line in path.read_text("utf-8").splitlines():
            r = json.loads(line)
            records[(path.parent.name, task, r["doc_id"])] = r
    return records


def _references(record: dict[str, Any]) -> list[str]:
    target = record["target"]
    value = parse_literal(target) if target.startswith("[") else target
    return value if isinstance(value, list) else [value]


def test_the_logs_are_lm_eval_generation_logs(logs: Path) -> None:
    records = _records(logs)
    assert len(records) == len(GEN_MODELS) * len(GEN_TASKS) * len(GEN_DOCS)
    multi = records[("org__gen-small", "rescore_gen_multi", 0)]
    assert multi["target"] == str(GEN_DOCS[0]["answers"])  # lm-eval str()s the list
    assert isinstance(multi["filtered_resps"][0], str)
    assert "until" in multi["arguments"]["gen_args_0"]["arg_1"]


def test_every_row_equals_the_reference_implementations(
    logs: Path, scored: rescore.ScoreResult
) -> None:
    records = _records(logs)
    rows = scored.read().to_pylist()
    assert len(rows) == len(records)
    assert scored.error_rows == 0
    scorers = {v: rouge_scorer.RougeScorer([v]) for v in ROUGE}
    for row in rows:
        record = records[(row["model"], row["task"], row["doc_id"])]
        pred = record["filtered_resps"][0]
        refs = _references(record)
        assert row["token_f1"] == max(squad_f1(r, pred) for r in refs)
        assert row["quasi_exact_match"] == any(helm_quasi_exact_match(r, pred) for r in refs)
        want_bleu = sacrebleu.sentence_bleu(pred, refs).score
        assert row["bleu"] == pytest.approx(want_bleu, abs=1e-9)
        assert row["chrf"] == pytest.approx(sacrebleu.sentence_chrf(pred, refs).score, abs=1e-9)
        for v in ROUGE:
            want = scorers[v].score_multi(refs, pred)[v].fmeasure
            assert row[v] == pytest.approx(want, abs=1e-12), v


def test_summary_has_corpus_bleu_and_chrf_per_model_and_task(
    logs: Path, scored: rescore.ScoreResult
) -> None:
    records = _records(logs)
    summary = scored.summary
    assert isinstance(summary, pl.DataFrame)
    assert summary.height == len(GEN_MODELS) * len(GEN_TASKS)
    for row in summary.iter_rows(named=True):
        group = [
            r for (m, t, _), r in sorted(records.items()) if (m, t) == (row["model"], row["task"])
        ]
        hyps = [r["filtered_resps"][0] for r in group]
        refs = [_references(r) for r in group]
        width = max(len(r) for r in refs)
        streams = [[r[k] if k < len(r) else None for r in refs] for k in range(width)]
        bleu = sacrebleu.corpus_bleu(hyps, streams).score
        chrf = sacrebleu.corpus_chrf(hyps, streams).score
        assert row["bleu"] == pytest.approx(bleu, abs=1e-9)
        assert row["chrf"] == pytest.approx(chrf, abs=1e-9)
        # not the mean of the sentence scores
        rows = [
            r
            for r in scored.read().to_pylist()
            if (r["model"], r["task"]) == (row["model"], row["task"])
        ]
        assert row["bleu"] != pytest.approx(sum(r["bleu"] for r in rows) / len(rows))


def test_corpus_scores_equal_what_lm_eval_reported(logs: Path, scored: rescore.ScoreResult) -> None:
    """lm-eval's own ``bleu`` and ``chrf`` (sacrebleu's corpus scores) on the one-reference
    task, from its results file, are the summary's."""
    summary = scored.summary.filter(pl.col("task") == "rescore_gen")
    for model_dir in logs.iterdir():
        (results_file,) = model_dir.glob("results_*.json")
        reported = json.loads(results_file.read_text("utf-8"))["results"]["rescore_gen"]
        (row,) = summary.filter(pl.col("model") == model_dir.name).iter_rows(named=True)
        assert row["bleu"] == pytest.approx(reported["bleu,none"], abs=1e-9)
        assert row["chrf"] == pytest.approx(reported["chrf,none"], abs=1e-9)

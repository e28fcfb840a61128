"""Perplexities against lm-eval: its word and byte counts, its aggregation functions
(``weighted_perplexity``, ``bits_per_byte``) and wikitext's own ``process_results`` where lm-eval
is installed; the published formulas otherwise. Sample logs are written as lm-eval writes them
(tests/batch_data.py), including the rolling and the repeated-generation records."""

from __future__ import annotations

import importlib.util
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import rescore
from rescore.batch import lm_eval
from rescore.exceptions import InvalidInputError, UnscorableRowError
from rescore.registry import StatisticsAggregation
from tests.batch_data import example as log_example
from tests.batch_data import write_samples


def count_words(text: str) -> int:
    """lm-eval's Task.count_words."""
    return len(re.split(r"\s+", text))


def weighted_mean(items: list[tuple[float, int]]) -> float:
    """lm-eval's weighted_mean (its aggregations, when lm-eval is not installed)."""
    a, b = zip(*items, strict=True)
    return sum(a) / sum(b)


def lm_eval_aggregations() -> tuple[Callable[[Any], float], Callable[[Any], float]]:
    try:
        from lm_eval.api.metrics import bits_per_byte, weighted_perplexity
    except ImportError:  # the published definitions
        return (lambda i: math.exp(-weighted_mean(i))), (lambda i: -weighted_mean(i) / math.log(2))
    return weighted_perplexity, bits_per_byte


def wikitext_process_results() -> Callable[[dict[str, Any], list[float]], dict[str, Any]]:
    """wikitext's process_results (counts the page before detokenisation), loaded from the
    installed lm-eval without importing its task registry (which needs `datasets`)."""
    spec = importlib.util.find_spec("lm_eval")
    if spec is None or spec.origin is None:

        def fallback(doc: dict[str, Any], results: list[float]) -> dict[str, Any]:
            (ll,) = results
            page = doc["page"]
            n_bytes = len(page.encode("utf-8"))
            pairs = (ll, count_words(page)), (ll, n_bytes), (ll, n_bytes)
            return dict(
                zip(("word_perplexity", "byte_perplexity", "bits_per_byte"), pairs, strict=False)
            )

        return fallback
    path = Path(spec.origin).parent / "tasks" / "wikitext" / "preprocess_wikitext.py"
    module_spec = importlib.util.spec_from_file_location("preprocess_wikitext", path)
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.process_results  # type: ignore[no-any-return]


TEXT = st.text(
    alphabet=st.sampled_from(["a", "b", "é", "字", " ", "\n", "\t", "\u00a0", "\u3000", "\x1f"]),
    min_size=1,
    max_size=30,
)


@given(TEXT)
@example(" lead and trail ")
@example("\u00a0")
def test_words_and_bytes_are_counted_as_lm_eval_counts(text: str) -> None:
    stats = rescore.metrics.perplexity.RollingStatistics("words")([-1.0], [text]).to_pylist()
    assert stats == [{"loglikelihood": -1.0, "words": float(count_words(text))}]
    (bpb,) = rescore.bits_per_byte([-1.0], [text]).to_pylist()
    assert bpb == pytest.approx(1 / len(text.encode("utf-8")) / math.log(2), rel=1e-12)


# lm-eval's math.exp overflows past exp(709); rescore gives inf there
@given(st.lists(st.tuples(st.floats(-300, 0), TEXT), min_size=1, max_size=20))
def test_per_row_values_and_corpus_aggregation(rows: list[tuple[float, str]]) -> None:
    ll = [r[0] for r in rows]
    docs = [r[1] for r in rows]
    perplexity, bits = lm_eval_aggregations()
    words = [(x, count_words(d)) for x, d in rows]
    n_bytes = [(x, len(d.encode("utf-8"))) for x, d in rows]
    assert rescore.word_perplexity(ll, docs).to_pylist() == pytest.approx(
        [perplexity([w]) for w in words], rel=1e-12
    )
    assert rescore.byte_perplexity(ll, docs).to_pylist() == pytest.approx(
        [perplexity([b]) for b in n_bytes], rel=1e-12
    )
    assert rescore.bits_per_byte(ll, docs).to_pylist() == pytest.approx(
        [bits([b]) for b in n_bytes], rel=1e-12, abs=1e-300
    )
    for name, items, aggregate in (
        ("word_perplexity", words, perplexity),
        ("byte_perplexity", n_bytes, perplexity),
        ("bits_per_byte", n_bytes, bits),
    ):
        agg = rescore.get_metric(name).aggregation
        assert isinstance(agg, StatisticsAggregation)
        stats = agg.statistics(ll, docs)
        sums = {f: np.array([np.sum(stats.field(f).to_numpy())]) for f in agg.fields}
        (corpus,) = agg.combine(sums)
        assert corpus == pytest.approx(aggregate(items), rel=1e-12)


def test_bad_rows_name_row_and_field() -> None:
    ll = [-1.0, float("nan"), 2.0, -float("inf"), -1.0, None]
    docs = ["a", "b", "c", "d", "", "f"]
    with pytest.raises(InvalidInputError, match=r"`loglikelihoods` row 1: NaN"):
        rescore.word_perplexity(ll, docs)
    out = rescore.word_perplexity(ll, docs, on_error="null").to_pylist()
    assert out == [math.e, None, None, math.inf, None, None]
    with pytest.raises(InvalidInputError, match=r"`documents` row 0: empty"):
        rescore.byte_perplexity([-1.0], [""])


# --- lm-eval logs -----------------------------------------------------------------------------

PAGES = [
    " = Valkyria Chronicles III = \n\n Senjō no Valkyria 3 : Unrecorded Chronicles ( Japanese "
    ": 戦場のヴァルキュリア3 ) is a tactical role @-@ playing video game . \n",
    " = Tower Building = \n\n The building 's height is 1 @,@ 000 feet . \n",
    " Short page \n",
]
LOGLIKELIHOODS = [-612.25, -98.5, -9.75]


def rolling_log(out: Path, model: str) -> Path:
    """wikitext as lm-eval logs it: the scored text is the detokenised page, the counts are
    the raw page's (wikitext's process_results)."""
    process = wikitext_process_results()
    samples = []
    for doc_id, (page, ll) in enumerate(zip(PAGES, LOGLIKELIHOODS, strict=True)):
        scored = page.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" 's", "'s")
        metrics = process({"page": page}, [ll])
        samples.append(
            log_example(doc_id, {"page": page}, scored, [(scored,)], [[ll]], [ll], "none", metrics)
        )
    return write_samples(out / model / "samples_wikitext_2024-05-01T12-00-00.123456.jsonl", samples)


def test_rolling_records_score_as_lm_eval_logged_them(tmp_path: Path) -> None:
    path = rolling_log(tmp_path / "logs", "m")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[0]["arguments"]["gen_args_0"] == {"arg_0": records[0]["target"]}
    assert lm_eval.record_kind(records[0]) == "rolling"
    result = rescore.score(
        tmp_path / "logs",
        tmp_path / "out",
        metrics="word_perplexity,byte_perplexity,bits_per_byte",
    )
    rows = result.read().to_pylist()
    perplexity, bits = lm_eval_aggregations()
    for r, rec in zip(rows, records, strict=True):
        assert r["word_perplexity"] == pytest.approx(perplexity([rec["word_perplexity"]]))
        assert r["bits_per_byte"] == pytest.approx(bits([rec["bits_per_byte"]]))
    summary = result.summary.row(0, named=True)
    # lm-eval's results file: the aggregation over the records' (loglikelihood, count) pairs
    assert summary["word_perplexity"] == pytest.approx(
        perplexity([r["word_perplexity"] for r in records]), rel=1e-12
    )
    assert summary["byte_perplexity"] == pytest.approx(
        perplexity([r["byte_perplexity"] for r in records]), rel=1e-12
    )
    assert summary["bits_per_byte"] == pytest.approx(
        bits([r["bits_per_byte"] for r in records]), rel=1e-12
    )


def test_rolling_record_without_text_follows_on_error(tmp_path: Path) -> None:
    path = rolling_log(tmp_path / "logs", "m")
    lines = path.read_text().splitlines()
    broken = json.loads(lines[1])
    broken["arguments"] = {"gen_args_0": {"arg_0": None}}
    broken["target"] = None
    broken["doc"] = {}
    lines[1] = json.dumps(broken)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UnscorableRowError, match="rolling record without its text"):
        rescore.score(tmp_path / "logs", tmp_path / "out", metrics="word_perplexity")
    result = rescore.score(
        tmp_path / "logs", tmp_path / "out2", metrics="word_perplexity", on_error="null"
    )
    assert [r["word_perplexity"] is None for r in result.read().to_pylist()] == [
        False,
        True,
        False,
    ]


def repeats_log(out: Path, model: str, generations: list[list[str]], answers: list[str]) -> Path:
    """A generation task with repeats: every generation in resps, take_first in
    filtered_resps (lm-eval's default filter), and a majority-vote filter's record."""
    samples = []
    for filter_key in ("take_first", "maj@k"):
        for doc_id, (gens, answer) in enumerate(zip(generations, answers, strict=True)):
            ctx = f"Q{doc_id}: ?\nA:"
            gen_kwargs = {"until": ["\n"], "do_sample": True, "temperature": 0.8}
            vote = max(gens, key=gens.count)  # the first most common, as Counter's
            filtered = gens[0] if filter_key == "take_first" else vote
            metrics = {"exact_match": float(filtered == answer)}
            samples.append(
                log_example(
                    doc_id,
                    {"q": doc_id},
                    answer,
                    [(ctx, gen_kwargs)],
                    [gens],
                    [filtered],
                    filter_key,
                    metrics,
                )
            )
    return write_samples(out / model / "samples_gsm_2024-05-01T12-00-00.jsonl", samples)


def test_repeated_generations_become_samples(tmp_path: Path) -> None:
    gens = [["4", "5", "5", "4", "6"], ["7", "7", "1", "7", "2"], ["x", "y", "z", "q", "r"]]
    answers = ["5", "7", "z"]
    repeats_log(tmp_path / "logs", "m", gens, answers)
    result = rescore.score(
        tmp_path / "logs",
        tmp_path / "out",
        metrics=["pass_at_k", "sample_accuracy", "majority_vote", "exact_match"],
        options={"pass_at_k": {"k": 2}},
    )
    rows = [r for r in result.read().to_pylist() if r["filter"] == "take_first"]
    for r, g, a in zip(rows, gens, answers, strict=True):
        c = g.count(a)
        assert r["sample_accuracy"] == c / len(g)
        assert r["pass_at_k"] == pytest.approx(1 - math.comb(5 - c, 2) / math.comb(5, 2))
        assert r["majority_vote"] == (max(g, key=g.count) == a)
        assert r["exact_match"] == (g[0] == a)


def test_samples_column_of_the_reader() -> None:
    record = {
        "doc_id": 0,
        "target": "5",
        "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": {"until": []}}},
        "resps": [["a 5", "b 4"]],
        "filtered_resps": [["5", "4"]],
        "filter": "regex",
    }
    row = dict(
        zip(lm_eval.schema().names, lm_eval.record_to_row(record, "m", "t", ()), strict=True)
    )
    assert row["samples"] == ["5", "4"]  # the filter kept every sample: the filtered ones
    record["filtered_resps"] = ["5"]
    row = dict(
        zip(lm_eval.schema().names, lm_eval.record_to_row(record, "m", "t", ()), strict=True)
    )
    assert row["samples"] == ["a 5", "b 4"]  # take_first: the raw generations
    assert row["prediction"] == "5"


def test_the_reader_schema_types() -> None:
    schema = lm_eval.schema()
    assert schema.field("samples").type == pa.list_(pa.string())
    assert schema.field("loglikelihood").type == pa.float64()


def test_emergence_points_are_lm_eval_corpus_values() -> None:
    from rescore.batch import ColumnMap, MetricSpec, ScoreSpec, score_table
    from rescore.emergence.aggregate import aggregate
    from rescore.emergence.inputs import resolve_metrics

    rng = np.random.default_rng(5)
    docs = [
        " ".join("w" * int(rng.integers(1, 6)) for _ in range(rng.integers(1, 40)))
        for _ in range(60)
    ]
    models = ["m-70m", "m-1b", "m-7b"]
    table = pa.table(
        {
            "model": [m for m in models for _ in docs],
            "task": ["wikitext"] * (len(models) * len(docs)),
            "loglikelihood": -rng.random(len(models) * len(docs)) * 200,
            "document": docs * len(models),
        }
    )
    names = ("word_perplexity", "bits_per_byte")
    spec = ScoreSpec(
        metrics=tuple(MetricSpec(n) for n in names),
        columns=ColumnMap(loglikelihood="loglikelihood", document="document"),
    )
    lf = pl.from_arrow(score_table(table, spec)).lazy()  # type: ignore[union-attr]
    agg = aggregate(lf, resolve_metrics(lf.collect_schema()), n_boot=200, seed=1)
    perplexity, bits = lm_eval_aggregations()
    for row in agg.points.iter_rows(named=True):
        part = table.filter(pc.equal(table["model"], row["model"]))
        ll = part["loglikelihood"].to_pylist()
        text = part["document"].to_pylist()
        if row["metric"] == "word_perplexity":
            want = perplexity([(x, count_words(d)) for x, d in zip(ll, text, strict=True)])
        else:
            want = bits([(x, len(d.encode("utf-8"))) for x, d in zip(ll, text, strict=True)])
        assert row["mean"] == pytest.approx(want, rel=1e-12)
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]


# --- logs written by lm-eval itself -----------------------------------------------------------


@pytest.fixture(scope="module")
def own_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rolling task and a generation task with repeats, run through lm-eval's own
    simple_evaluate and EvaluationTracker (tests/lm_eval_logs.py)."""
    pytest.importorskip("lm_eval")
    from tests.lm_eval_logs import write_rolling_and_generation_logs

    base = tmp_path_factory.mktemp("lm_eval_own")
    return write_rolling_and_generation_logs(base / "data", base / "out")


def _own(run_dir: Path, task: str) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    (path,) = run_dir.glob(f"samples_{task}_*.jsonl")
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    results = json.loads(next(run_dir.glob("results_*.json")).read_text("utf-8"))
    return path, records, results["results"][task]


def test_lm_eval_rolling_log_equals_its_records_and_results_file(
    own_logs: Path, tmp_path: Path
) -> None:
    path, records, results = _own(own_logs, "rescore_rolling")
    names = ("word_perplexity", "byte_perplexity", "bits_per_byte")
    result = rescore.score(path, tmp_path / "out", metrics=",".join(names))
    rows = sorted(result.read().to_pylist(), key=lambda r: r["doc_id"])
    assert len(rows) == len(records) == 4
    for row, rec in zip(rows, sorted(records, key=lambda r: r["doc_id"]), strict=True):
        ll, words = rec["word_perplexity"]
        _, n_bytes = rec["byte_perplexity"]
        assert row["word_perplexity"] == pytest.approx(math.exp(-ll / words), rel=1e-12)
        assert row["byte_perplexity"] == pytest.approx(math.exp(-ll / n_bytes), rel=1e-12)
        assert row["bits_per_byte"] == pytest.approx(-ll / n_bytes / math.log(2), rel=1e-12)
    summary = result.summary.row(0, named=True)
    for name in names:
        assert summary[name] == pytest.approx(results[f"{name},none"], rel=1e-12)


def test_lm_eval_generation_log_with_repeats(own_logs: Path, tmp_path: Path) -> None:
    """exact_match of each filter's record and of the results file; the `repeats` samples of
    each record in `samples`: sample accuracy and pass@k counted from them, and maj@4 equal to
    lm-eval's take_first_k + majority_vote filter record."""
    from tests.lm_eval_logs import REPEATS

    path, records, results = _own(own_logs, "rescore_gen")
    result = rescore.score(
        path,
        tmp_path / "out",
        metrics=["exact_match", "majority_vote", "pass_at_k", "sample_accuracy"],
        options={"majority_vote": {"k": 4}, "pass_at_k": {"k": 4}},
    )
    by_key = {(r["doc_id"], r["filter"]): r for r in records}
    rows = result.read().to_pylist()
    assert len(rows) == len(by_key) == len(records)
    assert {r["filter"] for r in rows} == {"take_first", "maj@4"}
    for row in rows:
        rec = by_key[(row["doc_id"], row["filter"])]
        assert row["exact_match"] == bool(rec["exact_match"])
        generations = rec["resps"][0]
        assert len(generations) == REPEATS
        c = sum(g == rec["target"] for g in generations)
        assert row["sample_accuracy"] == c / REPEATS
        want = 1.0 if REPEATS - c < 4 else 1 - math.comb(REPEATS - c, 4) / math.comb(REPEATS, 4)
        assert row["pass_at_k"] == pytest.approx(want, rel=1e-12)
        assert row["majority_vote"] == bool(by_key[(row["doc_id"], "maj@4")]["exact_match"])
    # lm-eval's results file: the mean of each filter's records
    for key in ("take_first", "maj@4"):
        mean = np.mean([r["exact_match"] for r in rows if r["filter"] == key])
        assert mean == pytest.approx(results[f"exact_match,{key}"], abs=1e-12)
    assert 0 < results["exact_match,maj@4"] < 1  # the fixture tells right from wrong

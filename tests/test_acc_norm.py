"""acc, acc_norm, acc_bytes and acc_mutual_info against the values lm-eval logged itself."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rescore
from rescore.batch import lm_eval as reader
from rescore.exceptions import InvalidInputError, InvalidOptionError, UnscorableRowError
from rescore.metrics import acc_bytes, acc_mutual_info, acc_norm

pytest.importorskip("lm_eval")

from tests.lm_eval_logs import TASKS, write_logs


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("lm_eval")
    return write_logs(base / "data", base / "out")


def _samples(run_dir: Path, task: str) -> Path:
    (path,) = [p for p in run_dir.glob("samples_*.jsonl") if reader.model_and_task(p)[1] == task]
    return path


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _table(path: Path) -> pa.Table:
    return pa.concat_tables(list(reader.iter_tables(path, [], 1000)))


FUNCTIONS = {
    "acc": lambda t: rescore.multiple_choice_grade(t["choice_logprobs"], t["label"]),
    "acc_norm": lambda t: acc_norm(t["choice_logprobs"], t["label"], choices=t["choice_texts"]),
    "acc_bytes": lambda t: acc_bytes(t["choice_logprobs"], t["label"], choices=t["choice_texts"]),
    "acc_mutual_info": lambda t: acc_mutual_info(
        t["choice_logprobs"], t["label"], unconditional=t["unconditional_logprobs"]
    ),
}


@pytest.mark.parametrize("task", sorted(TASKS))
def test_each_record_equals_what_lm_eval_logged(run_dir: Path, task: str) -> None:
    path = _samples(run_dir, task)
    table = _table(path)
    records = _records(path)
    results = json.loads(next(run_dir.glob("results_*.json")).read_text("utf-8"))
    for metric in TASKS[task]["metrics"]:
        got = FUNCTIONS[metric](table).to_pylist()
        assert got == [r[metric] for r in records], metric
        assert np.mean(got) == pytest.approx(results["results"][task][f"{metric},none"])


def test_the_delimiter_comes_from_the_results_file(run_dir: Path) -> None:
    path = _samples(run_dir, "rescore_mc_colon")
    assert reader.target_delimiter(path, "rescore_mc_colon") == ": "
    assert reader.target_delimiter(_samples(run_dir, "rescore_mc"), "rescore_mc") == " "
    table = _table(path)
    assert table["choice_texts"][1].as_py() == ["blue", "naïve green", "über-red", "日本語"]
    # lm-eval measures doc_to_choice's texts, the continuations without the delimiter
    records = _records(path)
    assert all(a["arg_1"].startswith(": ") for a in records[0]["arguments"].values())
    assert table["choice_texts"].to_pylist() == [r["doc"]["choices"] for r in records]


def test_without_a_results_file_the_default_delimiter(run_dir: Path, tmp_path: Path) -> None:
    src = _samples(run_dir, "rescore_mc")
    alone = tmp_path / "model" / src.name
    alone.parent.mkdir()
    alone.write_bytes(src.read_bytes())
    assert reader.target_delimiter(alone, "rescore_mc") == " "
    assert _table(alone)["choice_texts"].to_pylist() == _table(src)["choice_texts"].to_pylist()


def test_mutual_info_records_split_into_conditional_and_unconditional(run_dir: Path) -> None:
    path = _samples(run_dir, "rescore_mc_mi")
    table = _table(path)
    record = _records(path)[0]
    lls = [float(r[0]) for r in record["filtered_resps"]]
    assert table["choice_logprobs"][0].as_py() == lls[:4]
    assert table["unconditional_logprobs"][0].as_py() == lls[4:]
    assert _table(_samples(run_dir, "rescore_mc"))["unconditional_logprobs"].null_count > 0


def test_batch_job_reads_the_texts_and_matches_lm_eval(run_dir: Path, tmp_path: Path) -> None:
    result = rescore.score(
        run_dir,
        tmp_path / "out",
        metrics="multiple_choice_grade,acc_norm,acc_bytes,acc_mutual_info,gold_probability",
        on_error="null",
    )
    results = json.loads(next(run_dir.glob("results_*.json")).read_text("utf-8"))
    summary = {r["task"]: r for r in result.summary.to_dicts()}
    for task, spec in TASKS.items():
        for metric in spec["metrics"]:
            column = "multiple_choice_grade" if metric == "acc" else metric
            want = results["results"][task][f"{metric},none"]
            assert summary[task][column] == pytest.approx(want), (task, metric)
    # acc_mutual_info needs unconditional log-likelihoods: only its own task has them
    assert summary["rescore_mc"]["acc_mutual_info"] is None


def test_batch_job_names_the_row_without_texts(tmp_path: Path) -> None:
    table = pa.table(
        {
            "choice_logprobs": [[-1.0, -2.0], [-1.0, -2.0]],
            "label": [0, 1],
            "choice_texts": [["a", "bb"], None],
        }
    )
    import pyarrow.parquet as pq

    pq.write_table(table, tmp_path / "in.parquet")
    with pytest.raises(UnscorableRowError, match=r"row 1.*choice texts are missing"):
        rescore.score(tmp_path / "in.parquet", tmp_path / "out", metrics="acc_norm")


@pytest.mark.parametrize(
    ("scores", "texts", "match"),
    [
        ([[-1.0, math.nan]], [["a", "b"]], r"`scores` row 0, choice 1: NaN"),
        ([[-1.0, math.inf]], [["a", "b"]], r"`scores` row 0, choice 1: inf"),
        ([[-1.0, -2.0]], [["a"]], r"row 0: `scores` has 2 choices but `choices` has 1"),
        ([[-1.0, -2.0]], [None], r"`choices` row 0: the choice texts are missing"),
        ([[-1.0, -2.0]], [["a", None]], r"`choices` row 0: null element at position 1"),
        ([[]], [[]], r"`scores` row 0: empty choice list"),
    ],
)
def test_bad_rows_name_row_and_field(scores: Any, texts: Any, match: str) -> None:
    s = pa.array(scores, pa.list_(pa.float64()))
    c = pa.array(texts, pa.list_(pa.string()))
    with pytest.raises(InvalidInputError, match=match):
        acc_norm(s, [0], choices=c)
    assert acc_norm(s, [0], choices=c, on_error="null").to_pylist() == [None]


def test_options_are_checked() -> None:
    with pytest.raises(InvalidOptionError, match="length_normalize"):
        rescore.multiple_choice_grade([[-1.0]], [0], choices=[["a"]], length_normalize="words")  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="choices"):
        rescore.multiple_choice_grade([[-1.0]], [0], length_normalize="chars")


def test_mutual_info_bad_unconditional() -> None:
    with pytest.raises(InvalidInputError, match="row 1: `unconditional` has another number"):
        acc_mutual_info([[-1.0], [-1.0, -2.0]], [0, 0], unconditional=[[-1.0], [-1.0]])
    with pytest.raises(InvalidInputError, match=r"`unconditional` row 0: .* NaN"):
        acc_mutual_info([[-1.0, -2.0]], [0], unconditional=[[-1.0, -math.inf]])
    out = acc_mutual_info(
        [[-1.0], [-1.0, -2.0]], [0, 0], unconditional=[[-1.0], [-1.0]], on_error="null"
    )
    assert out.to_pylist() == [1.0, None]


def test_chunked_inputs_with_different_cuts() -> None:
    rng = np.random.default_rng(0)
    n = 9000
    scores = [list(-rng.random(4) * 10) for _ in range(n)]
    texts = [["x" * int(k) for k in rng.integers(1, 20, 4)] for _ in range(n)]
    labels = list(rng.integers(0, 4, n))
    whole = acc_norm(scores, labels, choices=texts).to_pylist()
    chunked = acc_norm(
        pa.chunked_array([scores[:100], scores[100:5000], scores[5000:]]),
        pa.chunked_array([labels[:4000], labels[4000:]]),
        choices=pa.chunked_array([texts[:7], texts[7:8888], texts[8888:]]),
        workers=2,
    ).to_pylist()
    assert chunked == whole
    lengths = np.array([[len(t) for t in row] for row in texts])
    want = (np.argmax(np.array(scores) / lengths, axis=1) == np.array(labels)).astype(float)
    assert whole == list(want)


def test_empty_text_divides_as_numpy() -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        for ll in ([-1.0, -2.0], [0.0, -2.0], [-2.0, 0.0]):
            want = float(np.argmax(np.array(ll) / np.array([0.0, 3.0])) == 1)
            assert acc_norm([ll], [1], choices=[["", "abc"]]).to_pylist() == [want]


ROWS = st.integers(1, 5).flatmap(
    lambda k: st.lists(
        st.tuples(
            st.lists(st.one_of(st.floats(-50, 0), st.just(-math.inf)), min_size=k, max_size=k),
            st.integers(0, k - 1),
            st.integers(1, 8),
        ),
        min_size=1,
        max_size=20,
    )
)


@given(ROWS, st.sampled_from(["a", "é", "日"]))
def test_acc_norm_equals_acc_when_all_continuations_have_one_length(
    rows: list[tuple[list[float], int, int]], char: str
) -> None:
    scores = [r[0] for r in rows]
    labels = [r[1] for r in rows]
    texts = [[char * r[2]] * len(r[0]) for r in rows]
    acc = rescore.multiple_choice_grade(scores, labels).to_pylist()
    assert acc_norm(scores, labels, choices=texts).to_pylist() == acc
    assert acc_bytes(scores, labels, choices=texts).to_pylist() == acc

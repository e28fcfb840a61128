"""``rescore score`` on the command line: help, summary, exit status, options."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from rescore.batch.cli import score_command
from rescore.cli import main
from tests.batch_data import mc_log, read_out


@pytest.fixture
def gens(tmp_path: Path) -> Path:
    path = tmp_path / "gens.parquet"
    pq.write_table(
        pa.table(
            {
                "model": ["small", "small", "large"],
                "task": ["qa", "qa", "qa"],
                "doc_id": [0, 1, 0],
                "prediction": ["Paris", "rome", "Rome"],
                "reference": ["paris", "Rome", "Rome"],
            }
        ),
        path,
    )
    return path


def test_help_documents_every_option() -> None:
    result = CliRunner().invoke(main, ["score", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for param in score_command.params:
        if isinstance(param, click.Option):
            assert param.help, param.name
            for opt in param.opts:
                assert opt in text, opt
    for metric in ("token_edit_distance", "exact_match", "brier_score", "multiple_choice_grade"):
        assert metric in text
    assert "ignore_case" in text  # the per-metric option names are listed


def test_summary_table(gens: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["score", str(gens), "--out", str(out), "--metrics", "exact_match,char_edit_distance"]
    args += ["--option", "exact_match.ignore_case=true"]
    args += ["--option", "char_edit_distance.normalize=max"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(re.search(r"large .* qa .* 1 .* 0 .* 1\.0000 .* 0\.0000", ln) for ln in lines)
    assert any(re.search(r"small .* qa .* 2 .* 0 .* 1\.0000 .* 0\.2250", ln) for ln in lines)
    assert "3 rows scored, 0 unscorable" in result.output
    assert "scoring" not in result.output  # no progress bar off a terminal
    t = read_out(out)
    assert t.column("exact_match").to_pylist() == [True, True, True]


def test_quiet_prints_nothing(gens: Path, tmp_path: Path) -> None:
    args = ["score", str(gens), "-o", str(tmp_path / "o"), "-m", "exact_match", "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert result.output == ""


def test_bad_input_exits_1_with_the_reason(gens: Path, tmp_path: Path) -> None:
    args = ["score", str(gens), "--out", str(tmp_path / "o"), "--choices-col", "logits"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "MissingColumnError" in result.output
    assert "available columns: model, task, doc_id, prediction, reference" in result.output
    bad = CliRunner().invoke(main, ["score", str(gens), "-o", str(tmp_path / "o"), "--option", "x"])
    assert bad.exit_code == 1
    assert "expected METRIC.OPTION=VALUE" in bad.output


def test_lm_eval_directory_and_conventions(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    mc_log(logs, "org__model", "piqa", [[-1.0, -2.0], [-0.1, -3.0, -0.2]])
    out = tmp_path / "out"
    for conv in ("sum", "class_mean"):
        args = [
            "score",
            str(logs),
            "--out",
            str(out / conv),
            "--metrics",
            "brier_score",
            "--brier-convention",
            conv,
            "--on-error",
            "null",
            "--workers",
            "1",
        ]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    s = read_out(out / "sum").column("brier_score").to_pylist()
    c = read_out(out / "class_mean").column("brier_score").to_pylist()
    assert c == pytest.approx([s[0] / 2, s[1] / 3])
    assert read_out(out / "sum").column("filter").to_pylist() == ["none", "none"]


def test_verbose_prints_where_the_time_went(gens: Path, tmp_path: Path) -> None:
    args = ["score", str(gens), "--out", str(tmp_path / "out"), "--metrics", "exact_match"]
    quiet = CliRunner().invoke(main, [*args, "--quiet"])
    assert "where the time went" not in quiet.output
    result = CliRunner().invoke(main, [*args, "--overwrite", "--verbose"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "where the time went" in result.output
    rows = dict(
        (m.group(1), m.group(2))
        for ln in result.output.splitlines()
        if (m := re.match(r"\W*(\w[\w ]*?)\s+│\s+([\d.]+|-)\s+│\s+([\d.]+|-)", ln))
    )
    for stage in ("plan", "read", "score", "write", "summary"):
        assert float(rows[stage]) >= 0.0, stage
    assert rows["kernels"] == "-"  # a pool has CPU seconds, no wall of its own

"""`rescore emergence` end to end on tiny Parquet/CSV inputs in tmp_path; plots opened."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from PIL import Image

import rescore
from rescore.cli import main

EXAMPLE = Path(rescore.__file__).parent / "data" / "example_generations.parquet"


@pytest.fixture(scope="module")
def scored_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded example scored as `rescore score` would write it (parts + manifest)."""
    df = pl.read_parquet(EXAMPLE)
    df = df.with_columns(
        token_edit_distance=rescore.token_edit_distance(df["prediction_ids"], df["reference_ids"]),
        char_edit_distance=rescore.char_edit_distance(df["prediction"], df["reference"]),
        exact_match=rescore.exact_match(df["prediction"], df["reference"]),
        brier_score=rescore.brier_score(df["choice_logprobs"], df["label"], from_logprobs=True),
        multiple_choice_grade=rescore.multiple_choice_grade(df["choice_logprobs"], df["label"]),
    )
    out = tmp_path_factory.mktemp("scores")
    half = df.height // 2
    df.slice(0, half).write_parquet(out / "part-00000.parquet")
    df.slice(half).write_parquet(out / "part-00001.parquet")
    (out / "_manifest.json").write_text(json.dumps({"parts": 2}))
    return out


def test_emergence_on_the_example_writes_the_report(scored_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["emergence", str(scored_dir), "--out", str(out), "--n-boot", "300"]
    )
    assert result.exit_code == 0, result.output
    assert "mirage signature" in result.output
    for name in (
        "emergence.csv",
        "emergence.parquet",
        "emergence.json",
        "emergence.md",
        "curves.csv",
        "curves.parquet",
        "side_by_side.csv",
        "models.csv",
        "mirage.csv",
        "power_law.csv",
        "summary.json",
    ):
        assert (out / name).is_file(), name
    table = pl.read_csv(out / "emergence.csv")
    for column in (
        "task",
        "family",
        "metric",
        "n_models",
        "emergence_score",
        "emergence_ci_low",
        "emergence_ci_high",
        "linearity",
        "monotonicity",
        "reason",
    ):
        assert column in table.columns
    assert table.height == 5  # 3 generation metrics + 2 multiple-choice metrics
    text = (out / "emergence.csv").read_text()
    assert "inf" not in text.lower().replace("inference", "")
    assert "nan" not in text.lower()
    assert pl.read_json(out / "emergence.json").height == 5
    curves = pl.read_csv(out / "curves.csv")
    assert {"model", "scale", "mean", "ci_low", "ci_high", "n"} <= set(curves.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["unplaced_models"] == []
    assert {r["task"] for r in summary["mirage_signature"]} == {"sim_generate", "sim_choice"}

    plots = sorted((out / "plots").iterdir())
    names = {p.name for p in plots}
    for stem in ("sim_generate", "sim_choice", "summary", "mirage__sim_generate__sim"):
        assert f"{stem}.png" in names
        assert f"{stem}.svg" in names
    for path in plots:
        if path.suffix == ".png":
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                assert image.format == "PNG"
                assert image.size[0] > 300
                assert image.size[1] > 200
        else:
            root = ET.parse(path).getroot()
            assert root.tag.endswith("svg")


def test_aggregated_table_with_every_option(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    rows = ["model,task,shots,seed,accuracy,edit_distance"]
    for model, accuracy, dist in (
        ("a", 0.0, 9.0),
        ("b", 0.01, 7.5),
        ("c", 0.02, 6.1),
        ("d", 0.8, 4.4),
    ):
        for seed in (1, 2):
            bump = 0.005 * seed
            rows.append(f"{model},arith,0,{seed},{accuracy + bump},{dist - bump}")
    rows.append("e,arith,0,1,-1,-1")
    results.write_text("\n".join(rows) + "\n")
    scale = tmp_path / "scale.json"
    scale.write_text(
        json.dumps(
            [
                {"model": m, "params": p, "family": "toy"}
                for m, p in zip("abcd", (1e8, 1e9, 1e10, 1e11), strict=True)
            ]
        )
    )
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        [
            "emergence",
            str(results),
            "-o",
            str(out),
            "--scale",
            str(scale),
            "--group",
            "shots",
            "--higher-is-better",
            "accuracy",
            "--lower-is-better",
            "edit_distance",
            "--replicate-col",
            "seed",
            "--null-value",
            "-1",
            "--n-boot",
            "200",
            "--clip",
            "50",
            "--no-plots",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "emergence.csv").sort("metric")
    assert table["metric"].to_list() == ["accuracy", "edit_distance"]
    assert table["family"].to_list() == ["toy", "toy"]
    acc = table.row(0, named=True)
    # 0.0075, 0.0175, 0.0275, 0.8075: steps .01, .01, .78 -> B = .8 / .01, clipped to 50.
    assert (acc["emergence_score"], acc["reason"], acc["shape"]) == (50.0, "clipped", "emergent")
    models = pl.read_csv(out / "models.csv")
    assert models.filter(pl.col("model") == "e")["placed"].to_list() == [False]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["unplaced_models"] == ["e"]
    assert any("not placed" in note for note in summary["notes"])
    assert not (out / "plots").exists()


def test_unknown_metric_column_is_an_error_that_says_so(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    results.write_text("model,task,edit_distance\na-1b,t,3\n")
    result = CliRunner().invoke(
        main, ["emergence", str(results), "--metrics", "edit_distance", "-o", str(tmp_path / "r")]
    )
    assert result.exit_code != 0
    assert "--lower-is-better edit_distance" in result.output


def test_missing_model_column_names_the_option(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    results.write_text("name,task,exact_match\na-1b,t,1\n")
    result = CliRunner().invoke(main, ["emergence", str(results), "-o", str(tmp_path / "r")])
    assert result.exit_code != 0
    assert "--model-col" in result.output
    ok = CliRunner().invoke(
        main,
        ["emergence", str(results), "-o", str(tmp_path / "r"), "--model-col", "name", "-q"],
    )
    assert ok.exit_code == 0, ok.output


def test_score_then_emergence_needs_no_kept_columns(tmp_path: Path) -> None:
    """`rescore score` writes target_length, so the mirage model runs on its output as is."""
    scores, out = tmp_path / "scores", tmp_path / "report"
    result = CliRunner().invoke(main, ["score", str(EXAMPLE), "--out", str(scores), "-q"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        main, ["emergence", str(scores), "--out", str(out), "--n-boot", "50", "--no-plots", "-q"]
    )
    assert result.exit_code == 0, result.output
    mirage = pl.read_csv(out / "mirage.csv")
    assert mirage.height > 0
    assert mirage["p_source"].str.contains("target_length").all()

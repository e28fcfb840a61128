"""EmergenceSettings: one name per setting from the flag to summary.json, old flags still work."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from rescore.cli import main
from rescore.emergence import EmergenceSettings, analyze
from rescore.exceptions import InvalidOptionError

NEW, OLD = ["--no-builtin-sizes"], ["--no-catalogue"]


def _runs(tmp_path: Path) -> tuple[Path, Path]:
    results = tmp_path / "results.csv"
    rows = ["model,task,accuracy"]
    for model, acc in (("a", 0.1), ("b", 0.2), ("c", 0.25), ("d", 0.9), ("e", -1.0)):
        rows.append(f"{model},t,{acc}")
    results.write_text("\n".join(rows) + "\n")
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("model,params,family\na,1e8,toy\nb,1e9,toy\nc,1e10,toy\nd,1e11,toy\n")
    return results, sizes


def test_settings_object_and_keywords_agree() -> None:
    df = pl.DataFrame(
        {
            "model": ["m-1b", "m-2b", "m-4b", "m-8b"] * 3,
            "task": ["t"] * 12,
            "doc_id": [0] * 4 + [1] * 4 + [2] * 4,
            "token_edit_distance": [5, 4, 2, 1, 6, 4, 3, 0, 4, 3, 2, 1],
        }
    )
    by_object = analyze(df, EmergenceSettings(n_boot=50, seed=3))
    by_keywords = analyze(df, n_boot=50, seed=3)
    mixed = analyze(df, EmergenceSettings(n_boot=10), n_boot=50, seed=3)
    assert by_object.settings == by_keywords.settings == mixed.settings
    assert_frame_equal(by_object.emergence, by_keywords.emergence)
    assert_frame_equal(by_object.emergence, mixed.emergence)


def test_keywords_are_checked() -> None:
    df = pl.DataFrame({"model": ["a"], "task": ["t"], "exact_match": [True]})
    with pytest.raises(InvalidOptionError, match=r"unknown EmergenceSettings.*use_catalogue"):
        analyze(df, use_catalogue=False)
    with pytest.raises(InvalidOptionError, match="min_models"):
        analyze(df, min_models=1)
    with pytest.raises(InvalidOptionError, match="axis"):
        EmergenceSettings(axis="size")  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="null_values"):
        analyze(df, null_values="x")


def test_summary_records_the_settings_by_their_names(tmp_path: Path) -> None:
    results, sizes = _runs(tmp_path)
    out = tmp_path / "report"
    args = ["emergence", str(results), "-o", str(out), "--higher-is-better", "accuracy"]
    args += ["--sizes", str(sizes), "--null-values", "-1", "--no-builtin-sizes"]
    result = CliRunner().invoke(main, [*args, "--n-boot", "20", "--no-plots", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    expected = EmergenceSettings(
        higher_is_better=("accuracy",),
        sizes=sizes,
        null_values=(-1.0,),
        builtin_sizes=False,
        n_boot=20,
    )
    assert summary["settings"] == expected.to_dict()
    assert summary["resolved"]["input_kind"] == "runs"
    assert summary["resolved"]["metrics"] == [
        {"name": "accuracy", "direction": "higher", "continuous": True, "origin": "option"}
    ]


def test_old_flags_are_hidden_aliases(tmp_path: Path) -> None:
    results, sizes = _runs(tmp_path)
    common = ["emergence", str(results), "--higher-is-better", "accuracy", "--n-boot", "20"]
    common += ["--no-plots", "-q"]
    new = CliRunner().invoke(
        main,
        [*common, "-o", str(tmp_path / "new"), "--sizes", str(sizes), "--null-values", "-1", *NEW],
    )
    old = CliRunner().invoke(
        main,
        [*common, "-o", str(tmp_path / "old"), "--scale", str(sizes), "--null-value", "-1", *OLD],
    )
    assert new.exit_code == 0, new.output
    assert old.exit_code == 0, old.output
    assert "--scale is deprecated; use --sizes" in old.output
    for name in ("emergence.csv", "models.csv", "curves.csv"):
        assert (tmp_path / "new" / name).read_text() == (tmp_path / "old" / name).read_text()
    new_summary = json.loads((tmp_path / "new" / "summary.json").read_text())
    old_summary = json.loads((tmp_path / "old" / "summary.json").read_text())
    assert new_summary["settings"] == old_summary["settings"]
    help_text = CliRunner().invoke(main, ["emergence", "--help"]).output
    assert "--sizes" in help_text
    assert "--no-catalogue" not in help_text
    assert "--null-value " not in help_text

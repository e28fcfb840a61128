"""The settings machinery: one field drives the flag, the keyword and the manifest entry."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import click
import pytest
from click.testing import CliRunner

from rescore import settings as st
from rescore.exceptions import InvalidOptionError


@dataclasses.dataclass(frozen=True)
class Demo:
    batch_size: int = st.setting(10, "Rows per unit.", bounds=(1, None))
    mode: Literal["a", "b"] = st.setting("a", "A choice.")
    columns: tuple[str, ...] = st.setting((), "Columns, comma-separated or repeated.")
    path: Path | None = st.setting(None, "A path.")
    plots: bool = st.setting(True, "Draw the figures.")
    secret: int = st.setting(3, "Python only.", cli=False)


def _run(args: list[str]) -> tuple[Demo, Any]:
    got: list[Demo] = []

    @click.command()
    @st.click_options(Demo)
    def cmd(**params: Any) -> None:
        got.append(st.from_cli(Demo, params))

    result = CliRunner().invoke(cmd, args)
    return (got[0] if got else Demo()), result


def test_flags_are_the_field_names() -> None:
    s, result = _run(
        ["--batch-size", "5", "--mode", "b", "--columns", "x,y", "--columns", "z", "--no-plots"]
    )
    assert result.exit_code == 0, result.output
    assert s == Demo(batch_size=5, mode="b", columns=("x", "y", "z"), plots=False)


def test_defaults_hold_when_no_flag_is_given() -> None:
    s, result = _run([])
    assert result.exit_code == 0, result.output
    assert s == Demo()


def test_bounds_and_choices_are_checked_by_the_cli() -> None:
    _, result = _run(["--batch-size", "0"])
    assert result.exit_code == 2
    assert "batch-size" in result.output
    _, result = _run(["--mode", "c"])
    assert result.exit_code == 2


def test_help_shows_docs_and_defaults() -> None:
    _, result = _run(["--help"])
    assert "Rows per unit.  [default: 10]" in result.output
    assert "--secret" not in result.output


def test_keywords_are_checked_by_name_and_coerced() -> None:
    s = st.build(Demo, None, {"columns": "a,b", "path": "x.csv"})
    assert s.columns == ("a", "b")
    assert s.path == Path("x.csv")
    with pytest.raises(InvalidOptionError, match=r"unknown Demo setting.*colums"):
        st.build(Demo, None, {"colums": "a"})


def test_to_dict_is_json_ready() -> None:
    d = st.to_dict(Demo(path=Path("p"), columns=("a",)))
    assert d == {
        "batch_size": 10,
        "mode": "a",
        "columns": ["a"],
        "path": "p",
        "plots": True,
        "secret": 3,
    }

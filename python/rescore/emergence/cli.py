"""``rescore emergence SCORES... --out REPORT_DIR``: the emergence analysis from the shell.

The analysis options are generated from :class:`~rescore.emergence.settings.EmergenceSettings`
(one flag per field, named like it); only what is about writing the report (``--out``,
``--no-plots``, ``--plot-format``, ``--quiet``) is declared here. Old spellings kept working as
hidden, deprecated aliases: ``--scale`` (now ``--sizes``), ``--no-catalogue`` (now
``--no-builtin-sizes``), ``--null-value`` (now ``--null-values``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rescore import settings as st
from rescore.emergence.settings import EmergenceSettings

DEPRECATED = {
    "scale": "sizes",
    "no_catalogue": "builtin_sizes",
    "null_value": "null_values",
}
"""Hidden alias parameter -> the setting it feeds."""


def _deprecated_aliases(command: Any) -> Any:
    """Old flags, hidden from --help, still accepted (with a note on stderr)."""
    command = click.option(
        "--scale",
        "scale",
        hidden=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
    )(command)
    command = click.option("--no-catalogue", "no_catalogue", hidden=True, is_flag=True)(command)
    return click.option("--null-value", "null_value", hidden=True, multiple=True, type=str)(command)


def _apply_aliases(params: dict[str, Any]) -> dict[str, Any]:
    old = {name: params.pop(name, None) for name in DEPRECATED}
    if old["scale"] is not None:
        click.echo("note: --scale is deprecated; use --sizes", err=True)
        params["sizes"] = params.get("sizes") or old["scale"]
    if old["no_catalogue"]:
        click.echo("note: --no-catalogue is deprecated; use --no-builtin-sizes", err=True)
        params["builtin_sizes"] = False
    if old["null_value"]:
        click.echo("note: --null-value is deprecated; use --null-values", err=True)
        params["null_values"] = (*params.get("null_values", ()), *old["null_value"])
    return params


@click.command(context_settings={"max_content_width": 100})
@click.argument("scores", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Report directory (created; files of the same names are replaced).",
)
@st.click_options(EmergenceSettings)
@_deprecated_aliases
@click.option("--no-plots", is_flag=True, help="Skip the figures.")
@click.option(
    "--plot-format",
    "plot_formats",
    multiple=True,
    type=click.Choice(["png", "svg", "pdf"]),
    help="Figure formats (default: png and svg).",
)
@click.option("-q", "--quiet", is_flag=True, help="Do not print the table.")
def emergence(
    scores: tuple[Path, ...],
    out: Path,
    no_plots: bool,
    plot_formats: tuple[str, ...],
    quiet: bool,
    **params: Any,
) -> None:
    """Scaling curves, emergence scores and the mirage model from per-example SCORES.

    SCORES are the output directories of `rescore score` (Parquet parts) or result tables
    (Parquet, CSV, JSON; one row per run). Writes emergence.csv/.parquet/.json/.md, curves.csv,
    side_by_side.csv, models.csv, mirage.csv, summary.json and plots/ into the --out directory.
    """
    import polars as pl

    from rescore.emergence.pipeline import analyze
    from rescore.emergence.report import print_table, write_report
    from rescore.exceptions import InvalidInputError, InvalidOptionError, UnsupportedTypeError

    expected = (
        InvalidInputError,
        InvalidOptionError,
        UnsupportedTypeError,
        pl.exceptions.PolarsError,
        OSError,
    )

    try:
        settings = st.from_cli(EmergenceSettings, _apply_aliases(params))
        report = analyze(list(scores), settings)
        write_report(report, out, plots=not no_plots, formats=plot_formats or ("png", "svg"))
    except expected as e:
        raise click.ClickException(str(e)) from e
    if not quiet:
        print_table(report)
        click.echo(f"report written to {out}/")


__all__ = ["emergence"]

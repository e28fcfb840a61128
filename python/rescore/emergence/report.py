"""Writing an emergence report: CSV/Parquet/JSON/Markdown tables, a summary, a terminal table.

``REPORT_DIR`` receives

- ``emergence.{csv,parquet,json,md}``: one row per curve (the headline table);
- ``curves.{csv,parquet}``: the aggregated points (model, scale, mean, interval, n);
- ``side_by_side.csv``: per task and family, the emergence score under every metric, with the
  mirage flag;
- ``models.csv``: where each model sits on the scale axis, unplaced models included;
- ``mirage.csv`` and ``power_law.csv`` when the mirage model could run;
- ``forecast.csv`` when forecasts were asked for (``--forecast exact_match=0.5``);
- ``examples.parquet``: per curve and example, the correlation of its score with scale (when
  rows are examples with ids);
- ``summary.json``: the settings (``EmergenceSettings.to_dict()``), what the run resolved from
  the data, notes, the reason-code glossary and the list of files;
- ``plots/``: PNG and SVG figures when matplotlib is installed (the ``plot`` extra).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from rescore.emergence.curves import INFINITE, REASONS
from rescore.emergence.result import EmergenceReport
from rescore.emergence.scale import format_count
from rescore.emergence.views import VIEW_COLUMNS

if TYPE_CHECKING:
    from rich.console import Console


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.{digits}g}"
    return str(value)


def markdown_table(df: pl.DataFrame, columns: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table of ``df`` (numbers to 4 significant digits).

    >>> print(markdown_table(pl.DataFrame({"metric": ["exact_match"], "score": [12.3456]})))
    | metric | score |
    |---|---|
    | exact_match | 12.35 |
    """
    cols = list(columns) if columns is not None else df.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.select(cols).iter_rows():
        cells = [_fmt(v).replace("|", "\\|") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _score_cell(row: dict[str, Any]) -> str:
    score, low, high = row["emergence_score"], row["emergence_ci_low"], row["emergence_ci_high"]
    if score is None:
        text = "inf" if row["reason"] in INFINITE else "—"
        if row["reason"] in INFINITE and (row["improvement"] or 0) < 0:
            text = "-inf"
    else:
        text = f"{score:.3g}"
    if low is not None or high is not None:
        lo = "-inf" if low is None else f"{low:.3g}"
        hi = "inf" if high is None else f"{high:.3g}"
        text += f" [{lo}, {hi}]"
    return text


def emergence_markdown(report: EmergenceReport) -> str:
    """The report's headline tables as Markdown."""
    groups = report.curve_keys[:-1]
    table = report.emergence.with_columns(
        pl.Series(
            "emergence score [CI]",
            [_score_cell(r) for r in report.emergence.iter_rows(named=True)],
            dtype=pl.String,
        )
    )
    parts = [
        "# Emergence report",
        "",
        "Emergence score = BIG-bench breakthroughness (Schaeffer et al. 2023); a straight line "
        "scores n_models - 1. Lower-is-better metrics are negated first, so positive always "
        "means improving with scale.",
        "",
        markdown_table(
            table,
            [
                *groups,
                "family",
                "metric",
                "n_models",
                "emergence score [CI]",
                "linearity",
                "monotonicity",
                "shape",
                "reason",
            ],
        ),
        "",
        "## Metrics side by side",
        "",
        markdown_table(report.side_by_side),
    ]
    views = [c for c in VIEW_COLUMNS if report.emergence[c].null_count() < report.emergence.height]
    if views:
        parts += [
            "",
            "## Newer views of scale",
            "",
            "Per-example correlation with scale (Schaeffer et al. 2024): `smooth_example_share` "
            f"is the share of examples whose Spearman correlation is at least "
            f"{report.settings.smooth_correlation:g}. Loss axis (Du et al. 2024; loss: "
            f"{report.resolved.get('loss') or 'none'}): `loss_leaves_chance`. Resolution with "
            "repeated samples (Hu et al. 2023): `rates_below_1_over_n`. See docs/emergence.md.",
            "",
            markdown_table(report.emergence, [*groups, "family", "metric", *views]),
        ]
    if report.forecast is not None and report.forecast.height:
        parts += [
            "",
            "## Forecast and back-test",
            "",
            "The scale at which the fitted per-token law reaches each threshold, fitted on all "
            "models and on the smallest ones only (the back-test: `within_ci` says whether the "
            "observed crossing among the larger models falls in its interval).",
            "",
            markdown_table(report.forecast),
        ]
    if report.notes:
        parts += ["", "## Notes", "", *[f"- {n}" for n in report.notes]]
    used = sorted({r for r in report.emergence["reason"].to_list() if r})
    if used:
        parts += ["", "## Reason codes", "", *[f"- `{r}`: {REASONS[r]}" for r in used]]
    return "\n".join(parts) + "\n"


def print_table(report: EmergenceReport, console: Console | None = None) -> None:
    """Print the emergence table, the mirage flags and the notes with rich."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    groups = report.curve_keys[:-1]
    table = Table(
        title="Emergence by curve (B: emergence score; lin.: linearity; mono.: Spearman)",
        title_justify="left",
    )
    for name in [*groups, "family", "metric", "n", "B [95% CI]", "lin.", "mono."]:
        right = name in {"n", "lin.", "mono."}
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    table.add_column("shape (reason)")
    for row in report.emergence.iter_rows(named=True):
        shape = row["shape"] + (f" ({row['reason']})" if row["reason"] else "")
        style = "bold red" if row["shape"] == "emergent" else None
        table.add_row(
            *[_fmt(row[g]) for g in groups],
            _fmt(row["family"]),
            _fmt(row["metric"]),
            _fmt(row["n_models"]),
            _score_cell(row),
            _fmt(row["linearity"], 3),
            _fmt(row["monotonicity"], 3),
            shape,
            style=style,
        )
    console.print(table)
    mirage = report.side_by_side.filter(pl.col("mirage"))
    for row in mirage.iter_rows(named=True):
        where = ", ".join(f"{k}={row[k]}" for k in [*groups, "family"])
        console.print(
            f"[bold]mirage signature[/bold] ({where}): emergent under {row['emergent_under']}, "
            f"smooth under {row['smooth_under']}"
        )
    if report.forecast is not None:
        for row in report.forecast.iter_rows(named=True):
            where = ", ".join(f"{k}={row[k]}" for k in [*groups, "family"])
            ci = (
                ""
                if row["ci_low"] is None
                else f" [{format_count(row['ci_low'])}, {format_count(row['ci_high'])}]"
            )
            check = ""
            if row["observed_crossing"] is not None:
                verdict = "inside" if row["within_ci"] else "outside"
                check = f"; observed {format_count(row['observed_crossing'])} ({verdict})"
            console.print(
                f"[bold]forecast[/bold] ({where}) {row['metric']}={row['threshold']:g} from "
                f"{row['fit_on']} models: {format_count(row['forecast_scale']) or 'never'}"
                f"{ci}{check}"
            )
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}")


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    msg = f"cannot write {type(value).__name__} to JSON"
    raise TypeError(msg)


def write_report(
    report: EmergenceReport,
    out_dir: str | Path,
    *,
    plots: bool = True,
    formats: Sequence[str] = ("png", "svg"),
    console: bool = False,
) -> Path:
    """Write every table, the summary and (if matplotlib is installed) the plots.

    Returns the report directory. Existing files of the same names are replaced.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[str] = []

    def save(df: pl.DataFrame, stem: str, kinds: Sequence[str]) -> None:
        for kind in kinds:
            path = out / f"{stem}.{kind}"
            if kind == "csv":
                df.write_csv(path)
            elif kind == "parquet":
                df.write_parquet(path)
            elif kind == "json":
                df.write_json(path)
            files.append(path.name)

    save(report.emergence, "emergence", ("csv", "parquet", "json"))
    (out / "emergence.md").write_text(emergence_markdown(report), encoding="utf-8")
    files.append("emergence.md")
    save(report.curves, "curves", ("csv", "parquet"))
    save(report.side_by_side, "side_by_side", ("csv",))
    save(report.models, "models", ("csv",))
    if report.mirage is not None:
        save(report.mirage, "mirage", ("csv",))
    if report.power_law is not None:
        save(report.power_law, "power_law", ("csv",))
    if report.forecast is not None:
        save(report.forecast, "forecast", ("csv",))
    if report.examples is not None:
        save(report.examples, "examples", ("parquet",))

    notes = list(report.notes)
    if plots:
        try:
            from rescore.emergence.plots import plot_report
        except ImportError:  # pragma: no cover - depends on the environment
            note = "plots skipped: install matplotlib (pip install 'rescore[plot]')"
            notes.append(note)
            print(note, file=sys.stderr)  # a missing figure must not go unnoticed
        else:
            for path in plot_report(report, out / "plots", formats=formats):
                files.append(str(path.relative_to(out)))
    summary = {
        "settings": report.settings.to_dict(),
        "resolved": report.resolved,
        "notes": notes,
        "n_curves": report.emergence.height,
        "n_models": report.models.height,
        "unplaced_models": report.models.filter(~pl.col("placed"))["model"].to_list(),
        "mirage_signature": report.side_by_side.filter(pl.col("mirage")).to_dicts(),
        "reasons": dict(REASONS),
        "files": files,
    }
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, default=_json_default) + "\n", encoding="utf-8"
    )
    if console:
        print_table(report)
    return out


__all__ = ["emergence_markdown", "markdown_table", "print_table", "write_report"]

"""Figures of an emergence report (matplotlib, the optional ``plot`` extra).

- ``<task>.png/.svg``: one panel per metric, score against scale on a log axis, a line per
  family with its confidence band; the legend gives each family's emergence score.
- ``mirage_<task>_<family>.png/.svg``: observed exact match and token edit distance with their
  intervals, next to the mirage model's predictions.
- ``summary.png/.svg``: the emergence score of every curve, by metric, with intervals.
- ``examples_<task>.png/.svg``: per metric, the distribution of the per-example correlations
  with scale, a line per family (the ``smooth_correlation`` threshold dashed).
- ``loss_<task>.png/.svg``: per metric, the curves against each model's loss (falling loss to
  the right), with the chance level and the loss at which the metric leaves it.
- ``resolution_<task>.png/.svg``: all-or-nothing curves with repeated samples on a log axis,
  with the ``1 / n`` floor one sample per example could resolve.

Only the object-oriented API is used (``matplotlib.figure.Figure``), never ``pyplot``: no
global state, no GUI backend, safe in servers and tests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from rescore.emergence.curves import INFINITE
from rescore.emergence.mirage import EDIT_DISTANCE, EXACT_MATCH
from rescore.emergence.result import EmergenceReport
from rescore.emergence.scale import format_count

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_METADATA: dict[str, dict[str, Any]] = {"svg": {"Date": None}, "png": {}}


def _slug(*parts: object) -> str:
    text = "__".join(str(p) for p in parts if p is not None and str(p) != "")
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_") or "plot"


def _save(fig: Figure, directory: Path, stem: str, formats: Sequence[str]) -> list[Path]:
    paths = []
    for fmt in formats:
        path = directory / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, dpi=120, metadata=_METADATA.get(fmt, {}))
        paths.append(path)
    return paths


def _label_scale(ax: Axes, axis_name: str) -> None:
    ax.set_xscale("log")
    ax.set_xlabel(f"{axis_name} (log axis)")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: format_count(value)))


def _score_text(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    if row["emergence_score"] is not None:
        return f"B={row['emergence_score']:.3g}"
    if row["reason"] in INFINITE:
        return "B=" + ("-inf" if (row["improvement"] or 0) < 0 else "inf")
    return str(row["reason"])


def plot_task(
    report: EmergenceReport, directory: Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """One figure per task (and value of the grouping columns): a panel per metric."""
    curve_keys = report.curve_keys
    groups = curve_keys[:-1]
    model_col = report.keys[0]
    placed = report.curves.filter(pl.col("scale").is_not_null() & pl.col("mean").is_not_null())
    scores = {
        (*[r[k] for k in curve_keys], r["metric"]): r
        for r in report.emergence.iter_rows(named=True)
    }
    directions = {m.name: m.higher_is_better for m in report.metrics}
    axis_name = str(report.settings.axis)
    paths: list[Path] = []
    for key, part in placed.partition_by(groups, as_dict=True, maintain_order=True).items():
        fig, panels = _metric_panels(part, height=3.6)
        for ax, metric, sub in panels:
            for family, fam in _families(sub):
                fam = fam.sort("scale", model_col)
                x = fam["scale"].to_numpy()
                y = fam["mean"].to_numpy()
                label = f"{family}  {_score_text(scores.get((*key, family, metric)))}".strip()
                (line,) = ax.plot(x, y, marker="o", label=label)
                lo = fam["ci_low"].to_numpy().astype(np.float64)
                hi = fam["ci_high"].to_numpy().astype(np.float64)
                band = np.isfinite(lo) & np.isfinite(hi)
                if band.any():
                    ax.fill_between(x[band], lo[band], hi[band], alpha=0.2, color=line.get_color())
            _label_scale(ax, axis_name)
            better = "higher" if directions.get(metric, True) else "lower"
            ax.set_title(f"{metric}\n({better} is better)", fontsize=10)
            ax.set_ylabel("mean over examples")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        title = ", ".join(f"{k}={v}" for k, v in zip(groups, key, strict=True))
        fig.suptitle(title, fontsize=11)
        paths += _save(fig, directory, _slug(*key), formats)
    return paths


def _draw_forecast(ax: Axes, report: EmergenceReport, key: tuple[Any, ...], metric: str) -> None:
    """The forecast crossings (all models, and the back-test) as vertical lines with bands."""
    if report.forecast is None:
        return
    rows = report.forecast.filter(pl.col("metric") == metric)
    for row in rows.iter_rows(named=True):
        if tuple(row[k] for k in report.curve_keys) != tuple(key):
            continue
        ax.axhline(row["threshold"], color="grey", linewidth=0.6, linestyle=":")
        if row["forecast_scale"] is None:
            continue
        style = "-" if row["fit_on"] == "all" else "--"
        ax.axvline(
            row["forecast_scale"],
            color="purple",
            linestyle=style,
            linewidth=0.9,
            label=f"forecast ({row['fit_on']} models)",
        )
        if row["ci_low"] is not None:
            ax.axvspan(row["ci_low"], row["ci_high"], color="purple", alpha=0.08)


def plot_mirage(
    report: EmergenceReport, directory: Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Observed vs predicted exact match and edit distance, per curve."""
    if report.mirage is None or report.mirage.height == 0:
        return []
    model_col = report.keys[0]
    data = report.mirage.filter(pl.col("scale").is_not_null())
    paths: list[Path] = []
    axis_name = str(report.settings.axis)
    for key, part in data.partition_by(
        report.curve_keys, as_dict=True, maintain_order=True
    ).items():
        if part.height < 2:
            continue
        part = part.sort("scale", model_col)
        x = part["scale"].to_numpy()
        fig = Figure(figsize=(8.4, 3.6), layout="constrained")
        axes = fig.subplots(1, 2)
        panels = (
            (EXACT_MATCH, f"predicted_{EXACT_MATCH}", f"predicted_{EXACT_MATCH}_fit"),
            (EDIT_DISTANCE, f"predicted_{EDIT_DISTANCE}", None),
        )
        for ax, (metric, predicted, fitted) in zip(axes, panels, strict=True):
            obs = part[f"observed_{metric}"].to_numpy().astype(np.float64)
            lo = part[f"{metric}_ci_low"].to_numpy().astype(np.float64)
            hi = part[f"{metric}_ci_high"].to_numpy().astype(np.float64)
            err = np.vstack([np.nan_to_num(obs - lo), np.nan_to_num(hi - obs)])
            ax.errorbar(x, obs, yerr=err, fmt="o", capsize=3, label="observed")
            ax.plot(x, part[predicted].to_numpy(), "s--", label="predicted from per-model p")
            if fitted is not None and part[fitted].null_count() < part.height:
                ax.plot(x, part[fitted].to_numpy(), ":", label="predicted from power-law fit")
            _draw_forecast(ax, report, key, metric)
            _label_scale(ax, axis_name)
            source = str(part["p_source"][0])
            note = " (p estimated from it)" if metric in source else ""
            methods = part[f"{metric}_ci_method"].drop_nulls().unique().sort().to_list()
            kind = "/".join(methods) or "no"
            ax.set_title(f"{metric}{note}\nobserved with 95% {kind} CI", fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle(
            "mirage model: " + ", ".join(str(k) for k in key) + " (p = per-token probability)",
            fontsize=11,
        )
        paths += _save(fig, directory, _slug("mirage", *key), formats)
    return paths


def plot_summary(
    report: EmergenceReport, directory: Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Emergence scores of every curve, by metric (symlog axis; infinite scores at the edge)."""
    table = report.emergence.filter(pl.col("reason") != "too_few_models")
    if table.height == 0:
        return []
    curve_keys = report.curve_keys
    labels = list(
        dict.fromkeys(
            " / ".join(str(r[k]) for k in curve_keys) for r in table.iter_rows(named=True)
        )
    )
    metrics = list(dict.fromkeys(table["metric"].to_list()))
    finite = [abs(v) for v in table["emergence_score"].drop_nulls().to_list()]
    edge = max([10.0, *finite]) * 3.0
    fig = Figure(
        figsize=(7.5, 1.2 + 0.55 * len(labels) * max(1, len(metrics) / 3)), layout="constrained"
    )
    ax = fig.subplots()
    offsets = np.linspace(-0.3, 0.3, len(metrics)) if len(metrics) > 1 else np.zeros(1)
    for offset, metric in zip(offsets, metrics, strict=True):
        rows = table.filter(pl.col("metric") == metric).iter_rows(named=True)
        xs, ys, lows, highs = [], [], [], []
        for r in rows:
            score = r["emergence_score"]
            if score is None:
                if r["reason"] not in INFINITE:
                    continue
                score = edge if (r["improvement"] or 0) > 0 else -edge
            label = " / ".join(str(r[k]) for k in curve_keys)
            xs.append(score)
            ys.append(labels.index(label) + offset)
            low = r["emergence_ci_low"] if r["emergence_ci_low"] is not None else -edge
            high = r["emergence_ci_high"] if r["emergence_ci_high"] is not None else edge
            lows.append(max(0.0, score - low) if math.isfinite(score) else 0.0)
            highs.append(max(0.0, high - score) if math.isfinite(score) else 0.0)
        if xs:
            ax.errorbar(xs, ys, xerr=[lows, highs], fmt="o", capsize=3, label=metric)
    for i, label in enumerate(labels):
        n = table.filter(
            pl.concat_str([pl.col(k).cast(pl.String) for k in curve_keys], separator=" / ") == label
        )["n_models"].max()
        if isinstance(n, int) and n > 1:
            ax.plot([n - 1], [i], marker="|", color="grey", markersize=14)
    ax.axvline(0.0, color="black", linewidth=0.5)
    ax.set_xscale("symlog", linthresh=1.0)
    negative = table.filter(pl.col("improvement") < 0).height > 0
    ax.set_xlim(-edge * 1.5 if negative else -1.0, edge * 1.5)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("emergence score (symlog; grey tick: a straight line, n_models - 1; edge: inf)")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="best")
    ax.set_title("Emergence score by metric (95% bootstrap CI)", fontsize=11)
    return _save(fig, directory, "summary", formats)


def _metric_panels(
    part: pl.DataFrame, height: float
) -> tuple[Figure, list[tuple[Axes, str, pl.DataFrame]]]:
    """A figure with one panel per metric of ``part`` (in order of appearance), each with the
    rows of its metric."""
    metrics = list(dict.fromkeys(part["metric"].to_list()))
    fig = Figure(figsize=(4.2 * len(metrics), height), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    panels = [
        (ax, m, part.filter(pl.col("metric") == m)) for ax, m in zip(axes, metrics, strict=True)
    ]
    return fig, panels


def _families(frame: pl.DataFrame) -> Iterator[tuple[Any, pl.DataFrame]]:
    """``(family, rows)`` per model family, in order of appearance."""
    for key, rows in frame.partition_by("family", as_dict=True, maintain_order=True).items():
        yield key[0], rows


def _by_task(frame: pl.DataFrame, groups: Sequence[str]) -> dict[tuple[Any, ...], pl.DataFrame]:
    return frame.partition_by(list(groups), as_dict=True, maintain_order=True)


def plot_examples(
    report: EmergenceReport, directory: Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Histograms of the per-example correlations with scale, per task and metric."""
    if report.examples is None or report.examples.height == 0:
        return []
    groups = report.curve_keys[:-1]
    threshold = report.settings.smooth_correlation
    bins = np.linspace(-1.0, 1.0, 21).tolist()
    seen = report.examples.filter(pl.col("n_models") >= report.settings.min_models)
    paths: list[Path] = []
    for key, part in _by_task(seen, groups).items():
        fig, panels = _metric_panels(part, height=3.4)
        for ax, metric, sub in panels:
            for family, fam in _families(sub):
                values = fam["correlation"].drop_nulls().to_numpy()
                constant = fam.height - values.size
                ax.hist(
                    values,
                    bins=bins,
                    histtype="step",
                    label=f"{family} ({constant} of {fam.height} constant)",
                )
            ax.axvline(threshold, color="grey", linestyle="--", linewidth=0.8)
            ax.set_xlabel("Spearman correlation of the example's score with scale")
            ax.set_ylabel("examples")
            ax.set_title(f"{metric}\n(positive: improving)", fontsize=10)
            ax.legend(fontsize=8)
        fig.suptitle(
            "per-example correlation: "
            + ", ".join(f"{k}={v}" for k, v in zip(groups, key, strict=True)),
            fontsize=11,
        )
        paths += _save(fig, directory, _slug("examples", *key), formats)
    return paths


def plot_loss(
    report: EmergenceReport, directory: Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """The curves against each model's loss, with the chance level and where they leave it."""
    data = report.curves.filter(pl.col("loss").is_not_null() & pl.col("mean").is_not_null())
    if data.height == 0:
        return []
    groups = report.curve_keys[:-1]
    rows = {
        (*[r[k] for k in report.curve_keys], r["metric"]): r
        for r in report.emergence.iter_rows(named=True)
    }
    paths: list[Path] = []
    for key, part in _by_task(data, groups).items():
        fig, panels = _metric_panels(part, height=3.6)
        for ax, metric, sub in panels:
            for family, fam in _families(sub):
                fam = fam.sort("loss", descending=True)
                x = fam["loss"].to_numpy()
                (line,) = ax.plot(x, fam["mean"].to_numpy(), marker="o", label=str(family))
                lo = fam["ci_low"].to_numpy().astype(np.float64)
                hi = fam["ci_high"].to_numpy().astype(np.float64)
                band = np.isfinite(lo) & np.isfinite(hi)
                if band.any():
                    ax.fill_between(x[band], lo[band], hi[band], alpha=0.2, color=line.get_color())
                row = rows.get((*key, family, metric))
                if row is not None and row["chance"] is not None:
                    ax.axhline(row["chance"], color="grey", linestyle=":", linewidth=0.8)
                if row is not None and row["loss_leaves_chance"] is not None:
                    ax.axvline(
                        row["loss_leaves_chance"],
                        color=line.get_color(),
                        linestyle="--",
                        linewidth=0.8,
                        label=f"leaves chance at loss {row['loss_leaves_chance']:.3g}",
                    )
            ax.invert_xaxis()
            ax.set_xlabel("loss (falling to the right)")
            ax.set_ylabel("mean over examples")
            ax.set_title(metric, fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        source = report.resolved.get("loss") or "loss"
        title = ", ".join(f"{k}={v}" for k, v in zip(groups, key, strict=True))
        fig.suptitle(f"{title} (loss: {source})", fontsize=10)
        paths += _save(fig, directory, _slug("loss", *key), formats)
    return paths


def plot_resolution(
    report: EmergenceReport, directory: Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """All-or-nothing curves with repeated samples on a log axis, with the ``1 / n`` floor."""
    wanted = report.emergence.filter(pl.col("rates_below_1_over_n").is_not_null()).select(
        *report.curve_keys, "metric"
    )
    if wanted.height == 0:
        return []
    data = report.curves.join(
        wanted, on=[*report.curve_keys, "metric"], how="semi", nulls_equal=True
    )
    data = data.filter(pl.col("scale").is_not_null() & (pl.col("mean") > 0))
    groups = report.curve_keys[:-1]
    axis_name = str(report.settings.axis)
    paths: list[Path] = []
    for key, part in _by_task(data, groups).items():
        fig, panels = _metric_panels(part, height=3.6)
        for ax, metric, sub in panels:
            for family, fam in _families(sub):
                fam = fam.sort("scale")
                ax.plot(
                    fam["scale"].to_numpy(),
                    fam["mean"].to_numpy(),
                    marker="o",
                    label=str(family),
                )
            n = int(sub["n"].cast(pl.Float64).max() or 1)  # type: ignore[arg-type]
            ax.axhline(
                1.0 / n, color="grey", linestyle="--", linewidth=0.8, label="1/n (one sample)"
            )
            ax.axhline(
                float(sub["resolution"].min() or 1.0 / n),  # type: ignore[arg-type]
                color="grey",
                linestyle=":",
                linewidth=0.8,
                label="1/(n k) (k samples)",
            )
            _label_scale(ax, axis_name)
            ax.set_yscale("log")
            ax.set_ylabel("success rate (log axis)")
            ax.set_title(f"{metric}: per-example rates over samples", fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        title = ", ".join(f"{k}={v}" for k, v in zip(groups, key, strict=True))
        fig.suptitle(f"resolution (PassUntil): {title}", fontsize=11)
        paths += _save(fig, directory, _slug("resolution", *key), formats)
    return paths


def plot_report(
    report: EmergenceReport, directory: str | Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Every figure of the report into ``directory``; returns the paths written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = plot_task(report, out, formats)
    paths += plot_mirage(report, out, formats)
    paths += plot_summary(report, out, formats)
    paths += plot_examples(report, out, formats)
    paths += plot_loss(report, out, formats)
    paths += plot_resolution(report, out, formats)
    return paths


__all__ = [
    "plot_examples",
    "plot_loss",
    "plot_mirage",
    "plot_report",
    "plot_resolution",
    "plot_summary",
    "plot_task",
]

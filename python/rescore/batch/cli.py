"""``rescore score``: the batch job on the command line (a thin layer over :func:`score`).

Its flags are generated from :class:`~rescore.batch.settings.ScoreSettings`, and the list of
metrics with their ``--option`` names from the registry entries.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console

from rescore.batch.job import score
from rescore.batch.progress import print_stages, print_summary
from rescore.batch.settings import ScoreSettings
from rescore.batch.spec import parse_options
from rescore.batch.stages import since_process_start
from rescore.exceptions import InvalidOptionError
from rescore.registry import METRICS, Metric, builtin_metrics
from rescore.registry.entry import TOKENIZER_OPTION
from rescore.settings import click_options, from_cli

_EXAMPLES = """
\b
Examples:
  rescore score generations.parquet --out scores --metrics exact_match,token_edit_distance
  rescore score lm_eval_out/ --out scores --metrics multiple_choice_grade,brier_score
  rescore score gens.jsonl --out scores --metrics exact_match \\
      --option exact_match.ignore_case=true --option exact_match.ignore_punctuation=true
  rescore score gens.csv --out scores --metrics token_edit_distance \\
      --tokenizer ./pythia-160m/tokenizer.json --option token_edit_distance.normalize=max
  rescore score /shared/gens/ --out /shared/scores --engine ray --ray-address auto
"""


def _metric_help(entry: Metric) -> str:
    where = "" if entry.builtin else f" [{entry.source}]"
    default = ", default set" if entry.default else ""
    lines = [f"  {entry.name} ({entry.direction} is better, {entry.inputs}{default}){where}"]
    lines += [f"      {o.describe()}" for o in entry.options if not _job_owned(entry, o.name)]
    return "\n".join(lines)


def _job_owned(entry: Metric, option: str) -> bool:
    return entry.tokenizes and option == TOKENIZER_OPTION


def _epilog() -> str:
    return (
        _EXAMPLES
        + "\n\b\nMetrics and their --option METRIC.NAME=VALUE (default shown):\n"
        + "\n".join(_metric_help(e) for e in METRICS.values())
    )


def _aliases() -> dict[str, tuple[str, str]]:
    """Deprecated flags that set a metric option: flag -> (metric, option)."""
    return {
        o.alias: (m.name, o.name)
        for m in builtin_metrics().values()
        for o in m.options
        if o.alias is not None
    }


def _param_name(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _alias_options(command: Any) -> Any:
    for flag, (metric, option) in _aliases().items():
        command = click.option(
            flag,
            _param_name(flag),
            default=None,
            help=f"Deprecated: same as --option {metric}.{option}=VALUE.",
        )(command)
    return command


class _ScoreCommand(click.Command):
    """Lists the metrics (plugins included) only when help is asked for."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = _epilog()
        super().format_epilog(ctx, formatter)


@click.command(
    "score",
    cls=_ScoreCommand,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.argument("inputs", nargs=-1, required=True, type=str)
@click.option(
    "--out",
    "-o",
    required=True,
    type=str,
    help="Output directory: part-*.parquet files (keys + one column per metric) and "
    "_manifest.json. Re-running the same command resumes an interrupted job. Local, or a URI "
    "(s3://bucket/scores/, gs://..., any fsspec protocol).",
)
@click_options(ScoreSettings)
@_alias_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary table.")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="After the summary, where the time went: wall and CPU seconds per stage.",
)
def score_command(
    inputs: tuple[str, ...], out: str, quiet: bool, verbose: bool, **params: Any
) -> None:
    """Score stored generations (Parquet, JSONL, CSV, and the logs of lm-eval, lighteval, HELM
    and inspect_ai) under metrics.

    INPUT... are files or directories (hive-partitioned Parquet directories, lm-eval output
    directories, lighteval details, HELM runs, inspect_ai log directories), local or URIs
    (s3://bucket/prefix/, gs://..., hf://datasets/org/name/..., any fsspec protocol). Writes
    OUT/part-*.parquet with model, task, doc_id (and filter for lm-eval logs; example_id,
    sample and the harness's own harness_* metrics for the other logs) plus one column per
    metric, then prints each metric's aggregate per model and task (the mean, or a corpus
    score for corpus-level metrics).
    A progress bar shows on a terminal. Exit status 1 on bad input, naming file and row.
    """
    started = since_process_start()
    try:
        settings = from_cli(ScoreSettings, _with_aliases(params))
        result = score(list(inputs), out, settings, progress=not quiet)
    except (ValueError, TypeError, OSError) as e:  # bad input, unreadable or denied paths
        err = Console(stderr=True, soft_wrap=True)
        err.print(f"error: {type(e).__name__}: {e}", style="red", markup=False, highlight=False)
        sys.exit(1)
    if not quiet:
        console = Console()
        if not console.is_terminal:  # a pipe or a file: do not squeeze the table into 80 columns
            console = Console(width=160)
        print_summary(result.summary, result.errors, console)
        resumed = " (resumed)" if result.resumed else ""
        console.print(
            f"{result.rows_out:,} rows scored{resumed}, {result.error_rows:,} unscorable; "
            f"scores in {result.out}",
            highlight=False,
        )
    if verbose:
        stages = {**({"start": started} if started is not None else {}), **result.stages}
        print_stages(stages, Console(stderr=True))


def _with_aliases(params: dict[str, Any]) -> dict[str, Any]:
    """Fold deprecated option flags (``--brier-convention X``) into ``--option``."""
    params = dict(params)
    options = parse_options(params.pop("options", ()) or ())
    for flag, (metric, option) in _aliases().items():
        value = params.pop(_param_name(flag), None)
        if value is None:
            continue
        given = options.get(metric, {}).get(option, value)
        if given != value:
            msg = f"{flag} {value} contradicts --option {metric}.{option}={given}"
            raise InvalidOptionError(msg)
        options.setdefault(metric, {})[option] = value
    params["options"] = options
    return params


__all__ = ["score_command"]

"""``ScoreSettings``: every option of the batch job, with one name, one default and one doc.

``rescore score``'s flags are generated from these fields, :func:`rescore.score` takes the
object (or the same names as keywords), and the output's manifest records the ones that decide
the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from rescore.batch.readers import Format
from rescore.batch.spec import ON_ERROR_MODES, OnErrorMode, parse_options
from rescore.exceptions import InvalidOptionError
from rescore.registry import DEFAULT_COLUMNS, Role
from rescore.settings import setting

DEFAULT_BATCH_SIZE = 65_536
"""Rows per work unit (and per part file): memory grows with it, never with the input size."""

DEFAULT_MAX_RETRIES = 3
"""Ray engine: attempts after the first at rows whose worker died. Small, as a poison row kills
every worker that runs it; 3, as Ray Data retries a Parquet read that fails with an ``OSError``."""

Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = ("local", "ray")


def _tried(role: Role) -> str:
    return ", ".join(DEFAULT_COLUMNS[role])


@dataclass(frozen=True)
class ScoreSettings:
    """The batch job's settings (see ``rescore score --help`` for each)."""

    metrics: tuple[str, ...] = setting(
        (),
        "Metrics to compute, comma-separated or repeated (built-ins and plugins). "
        "Default: the default set (marked below) where its input columns exist.",
        short="-m",
        show_default=False,
    )
    options: Mapping[str, Mapping[str, Any]] = setting(
        MappingProxyType({}),
        "A metric option, repeatable, e.g. exact_match.ignore_case=true; values: "
        "true/false, none, numbers, JSON lists, else text. Options per metric are listed "
        "below.",
        flag="--option",
        metavar="METRIC.NAME=VALUE",
        parse=parse_options,
        show_default=False,
    )
    format: Format | None = setting(
        None,
        "Input format. Default: from the extension (.parquet/.pq, .jsonl/.ndjson, .csv/.tsv); "
        "evaluation logs are recognised by themselves: lm-eval sample logs (records with "
        "doc_id, target and filtered_resps), lighteval details Parquet, HELM "
        "scenario_state.json, inspect_ai .eval and .json logs.",
    )
    prediction_col: str | None = setting(
        None, f"Prediction text column. Default: the first of {_tried('prediction')}."
    )
    reference_col: str | None = setting(
        None,
        "Reference text column (string, or list of acceptable strings). "
        f"Default: the first of {_tried('reference')}.",
    )
    prediction_ids_col: str | None = setting(
        None,
        f"Prediction token-id column (list<int>). Default: the first of "
        f"{_tried('prediction_ids')}.",
    )
    reference_ids_col: str | None = setting(
        None, f"Reference token-id column. Default: the first of {_tried('reference_ids')}."
    )
    choices_col: str | None = setting(
        None,
        "Per-choice log-likelihoods or probabilities (list<float>; in CSV a JSON list). "
        f"Default: the first of {_tried('choices')}.",
    )
    choice_texts_col: str | None = setting(
        None,
        "The text of each choice (list<string>), read by acc_norm and acc_bytes. "
        f"Default: the first of {_tried('choice_texts')}.",
    )
    unconditional_logprobs_col: str | None = setting(
        None,
        "Per-choice log-likelihoods without the context (list<float>), read by "
        f"acc_mutual_info. Default: the first of {_tried('unconditional_logprobs')}.",
    )
    label_col: str | None = setting(
        None, f"Gold choice index column. Default: the first of {_tried('label')}."
    )
    samples_col: str | None = setting(
        None,
        "Several sampled answers per example (list<string>; pass_at_k, majority_vote, "
        f"sample_accuracy). Default: the first of {_tried('samples')}.",
    )
    correct_col: str | None = setting(
        None,
        "Per-sample correctness flags (list<bool>; pass_at_k, sample_accuracy). "
        f"Default: the first of {_tried('correct')}.",
    )
    loglikelihood_col: str | None = setting(
        None,
        "A document's rolling log-likelihood (perplexities). "
        f"Default: the first of {_tried('loglikelihood')}.",
    )
    document_col: str | None = setting(
        None,
        "The document text the rolling log-likelihood was computed on (perplexities). "
        f"Default: the first of {_tried('document')}.",
    )
    keep_cols: tuple[str, ...] = setting(
        (),
        "Extra columns to copy to the output, comma-separated (model, task, doc_id and, for "
        "lm-eval, filter are always kept). For lm-eval logs: record fields, dotted for nested "
        "ones (doc.subject), as strings.",
        show_default=False,
    )
    model: str | None = setting(None, "Model name for inputs without a model column.")
    task: str | None = setting(None, "Task name for inputs without a task column.")
    tokenizer: str | None = setting(
        None,
        "How tokenizing metrics (token_edit_distance) get tokens: built-in whitespace or "
        "characters rules on the text, the token-id columns (ids), or a local Hugging Face "
        "tokenizer.json (or a directory holding one; needs `pip install 'rescore[tokenizers]'`, "
        "never downloads). Default: ids when token-id columns exist, else whitespace.",
        metavar="whitespace|characters|ids|PATH",
    )
    on_error: OnErrorMode = setting(
        "raise",
        "Rows that cannot be scored (unreadable lm-eval values, probabilities not summing "
        "to 1, a null reference next to a prediction, a plugin raising): raise names file and "
        "row; null writes a null score; skip drops the row. Counts go to the summary and the "
        "manifest. Rows whose inputs are all null (no choices on a generation row) get null "
        "and are not errors.",
    )
    batch_size: int = setting(
        DEFAULT_BATCH_SIZE,
        "Rows per work unit and part file. Memory is bounded by it, not by the input size.",
        bounds=(1, None),
    )
    workers: int = setting(
        -1, "Threads for the metric kernels (-1: all cores). Results do not depend on it."
    )
    in_flight: int = setting(
        2,
        "Local engine: units read ahead of, and waiting to be written behind, the one being "
        "scored, so decoding, scoring and writing overlap; memory grows by about two units per "
        "step. 0: one stage after another. Results do not depend on it.",
        bounds=(0, None),
    )
    engine: Engine = setting(
        "local",
        "local: this process. ray: Ray Data tasks on a Ray cluster (pip install "
        "'rescore[ray]'); same output, row for row, and either engine resumes the other's run. "
        "Every node must see INPUT and --out: the same local paths (a shared file system) or "
        "URIs such as s3://... (not memory://). With ray, --workers is threads per task (-1: "
        "one), each task reserving that many CPUs.",
    )
    ray_address: str | None = setting(
        None,
        "With --engine ray: the cluster to join (auto: the one this node belongs to; or "
        "head-ip:6379; env RAY_ADDRESS, which `ray job submit` sets). Default: start a local "
        "cluster for the job.",
        envvar="RAY_ADDRESS",
        metavar="ADDRESS",
    )
    max_retries: int = setting(
        DEFAULT_MAX_RETRIES,
        "With --engine ray: how many times rows whose worker process died (killed, out of "
        "memory, a plugin crashing the process on a row) are read and scored again before the "
        "job fails, naming their file and rows.",
        bounds=(0, None),
    )
    overwrite: bool = setting(
        False,
        "Delete an existing output's rescore files and start over (needed when the settings "
        "or inputs differ from the run that wrote it).",
    )
    progress: bool = setting(False, "Show a progress bar (on a terminal only).", cli=False)

    def __post_init__(self) -> None:
        if self.on_error not in ON_ERROR_MODES:
            msg = f"on_error must be one of {', '.join(ON_ERROR_MODES)}, got {self.on_error!r}"
            raise InvalidOptionError(msg)
        if self.batch_size < 1:
            msg = f"batch_size must be a positive number of rows, got {self.batch_size}"
            raise InvalidOptionError(msg)
        if self.in_flight < 0:
            msg = f"in_flight must be 0 or a positive number of units, got {self.in_flight}"
            raise InvalidOptionError(msg)
        if self.max_retries < 0:
            msg = f"max_retries must be 0 or a positive number, got {self.max_retries}"
            raise InvalidOptionError(msg)
        if self.engine not in ENGINES:
            msg = f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}"
            raise InvalidOptionError(msg)


__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_MAX_RETRIES", "ENGINES", "Engine", "ScoreSettings"]

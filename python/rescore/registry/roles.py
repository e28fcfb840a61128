"""Input roles: the columns a metric reads, and the input kinds that group them.

A *role* is what a column means to a metric (the prediction text, the gold label, ...); an
*input kind* names the roles a metric reads. The batch job maps roles to the columns of the
user's data (``--prediction-col`` or the default names below), so a metric declares its kind
and never a column name. A new kind of input (per-choice lengths, several samples per example)
is a new role here and a new kind in :data:`KIND_ROLES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pyarrow as pa

Role = Literal[
    "prediction",
    "reference",
    "prediction_ids",
    "reference_ids",
    "choices",
    "label",
    "samples",
    "correct",
    "loglikelihood",
    "document",
    "choice_texts",
    "unconditional_logprobs",
]
ROLES: tuple[Role, ...] = (
    "prediction",
    "reference",
    "prediction_ids",
    "reference_ids",
    "choices",
    "label",
    "samples",
    "correct",
    "loglikelihood",
    "document",
    "choice_texts",
    "unconditional_logprobs",
)

InputKind = Literal["sequences", "text", "choices", "samples", "rolling"]
INPUT_KINDS: tuple[InputKind, ...] = ("sequences", "text", "choices", "samples", "rolling")

KIND_ROLES: Mapping[InputKind, tuple[tuple[Role, Role], ...]] = {
    # Text first; token ids when the data has no text (or the job's tokenizer says "ids").
    "sequences": (("prediction", "reference"), ("prediction_ids", "reference_ids")),
    "text": (("prediction", "reference"),),
    "choices": (("choices", "label"),),
    # Several samples per example against the references; or per-sample correctness flags, a
    # one-column input that the metric receives in both positions.
    "samples": (("samples", "reference"), ("correct", "correct")),
    # A document's rolling log-likelihood and its text (perplexities).
    "rolling": (("loglikelihood", "document"),),
}
"""The role pairs each input kind can read, the preferred pair first."""

DEFAULT_COLUMNS: Mapping[Role, tuple[str, ...]] = {
    "prediction": ("prediction", "predictions", "pred", "response", "output", "generation"),
    "reference": ("reference", "references", "target", "answer", "gold_text"),
    "prediction_ids": ("prediction_ids", "pred_ids", "output_ids", "generation_ids"),
    "reference_ids": ("reference_ids", "target_ids", "answer_ids"),
    "choices": (
        "choice_logprobs",
        "choice_loglikelihoods",
        "loglikelihoods",
        "choice_probs",
        "choice_probabilities",
        "probabilities",
    ),
    "label": ("label", "gold", "gold_index", "answer_index"),
    "samples": ("samples", "generations", "completions", "responses"),
    "correct": ("correct", "passed", "is_correct"),
    "loglikelihood": ("loglikelihood", "rolling_loglikelihood", "document_loglikelihood"),
    "document": ("document", "doc_text", "page"),
    "choice_texts": ("choice_texts", "continuations"),
    "unconditional_logprobs": ("unconditional_logprobs", "unconditional_loglikelihoods"),
}
"""Column names tried, in order, for each role when no ``--<role>-col`` is given."""

ROLE_TYPES: Mapping[Role, pa.DataType] = {
    "prediction": pa.string(),
    "reference": pa.string(),
    "prediction_ids": pa.list_(pa.int64()),
    "reference_ids": pa.list_(pa.int64()),
    "choices": pa.list_(pa.float64()),
    "label": pa.int64(),
    "samples": pa.list_(pa.string()),
    "correct": pa.list_(pa.bool_()),
    "loglikelihood": pa.float64(),
    "document": pa.string(),
    "choice_texts": pa.list_(pa.string()),
    "unconditional_logprobs": pa.list_(pa.float64()),
}
"""The type a role's column takes when its input carries no type (all nulls, CSV text)."""

COLUMN_INPUT_ROLES: frozenset[Role] = frozenset({"choice_texts", "unconditional_logprobs"})
"""Roles read besides an input kind's pair, as keyword arguments (``Metric.column_inputs``):
the choice texts of ``acc_norm``, the unconditional log-likelihoods of ``acc_mutual_info``."""

TOKEN_ROLES: frozenset[Role] = frozenset({"prediction_ids", "reference_ids"})
"""Roles holding token-id lists (a tokenizing metric reads these without a tokenizer)."""

__all__ = [
    "COLUMN_INPUT_ROLES",
    "DEFAULT_COLUMNS",
    "INPUT_KINDS",
    "KIND_ROLES",
    "ROLES",
    "ROLE_TYPES",
    "TOKEN_ROLES",
    "InputKind",
    "Role",
]

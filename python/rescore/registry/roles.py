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

Role = Literal["prediction", "reference", "prediction_ids", "reference_ids", "choices", "label"]
ROLES: tuple[Role, ...] = (
    "prediction",
    "reference",
    "prediction_ids",
    "reference_ids",
    "choices",
    "label",
)

InputKind = Literal["sequences", "text", "choices"]
INPUT_KINDS: tuple[InputKind, ...] = ("sequences", "text", "choices")

KIND_ROLES: Mapping[InputKind, tuple[tuple[Role, Role], ...]] = {
    # Text first; token ids when the data has no text (or the job's tokenizer says "ids").
    "sequences": (("prediction", "reference"), ("prediction_ids", "reference_ids")),
    "text": (("prediction", "reference"),),
    "choices": (("choices", "label"),),
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
}
"""Column names tried, in order, for each role when no ``--<role>-col`` is given."""

ROLE_TYPES: Mapping[Role, pa.DataType] = {
    "prediction": pa.string(),
    "reference": pa.string(),
    "prediction_ids": pa.list_(pa.int64()),
    "reference_ids": pa.list_(pa.int64()),
    "choices": pa.list_(pa.float64()),
    "label": pa.int64(),
}
"""The type a role's column takes when its input carries no type (all nulls, CSV text)."""

TOKEN_ROLES: frozenset[Role] = frozenset({"prediction_ids", "reference_ids"})
"""Roles holding token-id lists (a tokenizing metric reads these without a tokenizer)."""

__all__ = [
    "DEFAULT_COLUMNS",
    "INPUT_KINDS",
    "KIND_ROLES",
    "ROLES",
    "ROLE_TYPES",
    "TOKEN_ROLES",
    "InputKind",
    "Role",
]

"""The model sizes: a table of well-known models' documented sizes, with sources.

The table is data, not code: ``rescore/data/model_sizes.csv`` holds one row per model (its
lower-case name without organisation prefix, family, total parameters, non-embedding parameters
where documented, training tokens and training FLOPs where documented, a source and its URL),
read once when this module is imported. (The *metric* registry is another thing:
:mod:`rescore.catalogue`.)

Parameter counts are totals (all parameters, embeddings included) unless the source says
otherwise in its ``source`` text. The compute axis (``axis="flops"``) uses documented training
FLOPs when the table has them, else ``6 * params * tokens`` with these *total* parameters;
Kaplan et al. 2020 write ``C = 6ND`` with ``N`` the non-embedding parameters, which for small
models is much smaller (Pythia-70M: 19M of 70M), so ``non_embedding_params`` is kept next to
``params`` where known.

>>> lookup("EleutherAI/pythia-160m-deduped").family
'pythia-deduped'
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from types import MappingProxyType

MODEL_SIZES_FILE = "model_sizes.csv"
"""The data file, in the ``rescore.data`` package directory."""


@dataclass(frozen=True)
class ModelSize:
    """One row of the model sizes: a model's documented size."""

    name: str
    """Lower-case name without organisation prefix, as on the Hugging Face Hub or the API."""
    params: float
    """Parameter count (total, for mixtures of experts)."""
    family: str
    """The curve the model belongs to."""
    source: str
    """Where the size comes from (paper or model card)."""
    tokens: float | None = None
    """Training tokens, when documented (for the 6ND compute estimate)."""
    non_embedding_params: float | None = None
    """Parameters without the token (and position) embeddings, when documented or computed
    from the published configuration (the source says which)."""
    flops: float | None = None
    """Training compute in FLOPs, when a source states it (used before 6ND)."""
    url: str = ""
    """Where to read the source."""


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def _read() -> tuple[ModelSize, ...]:
    path = resources.files("rescore").joinpath("data", MODEL_SIZES_FILE)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    out = []
    for row in rows:
        params = _number(row["params"])
        if params is None:  # a table without a size is a broken package, not user input
            msg = f"{MODEL_SIZES_FILE}: model {row['name']!r} has no params"
            raise ValueError(msg)
        out.append(
            ModelSize(
                name=row["name"],
                params=params,
                family=row["family"],
                source=row["source"],
                tokens=_number(row["tokens"]),
                non_embedding_params=_number(row["non_embedding_params"]),
                flops=_number(row["flops"]),
                url=row["url"],
            )
        )
    return tuple(out)


MODEL_SIZE_ENTRIES: tuple[ModelSize, ...] = _read()
"""Every row of the table. Sizes are the documented ones, never guesses from a name."""

MODEL_SIZES: Mapping[str, ModelSize] = MappingProxyType({e.name: e for e in MODEL_SIZE_ENTRIES})
"""The model sizes by normalised name (lower case, no organisation prefix)."""

# Suffixes stripped (repeatedly) to find a base name in the table. Those that change what the
# model is (a chat or instruction-tuned variant) are kept in the family name, so they form
# their own curve; weight-format or version tags are not.
_SUFFIXES = (
    "-hf",
    "-chat",
    "-instruct",
    "-it",
    "-base",
    "-deduped",
    "-v0.1",
    "-v0.2",
    "-v0.3",
)
_FAMILY_SUFFIXES = frozenset({"-chat", "-instruct", "-it", "-deduped"})


def normalize_name(model: str) -> str:
    """Lower case, no organisation prefix: ``"EleutherAI/Pythia-70m"`` -> ``"pythia-70m"``."""
    return model.strip().rsplit("/", 1)[-1].lower()


def lookup(model: str) -> ModelSize | None:
    """The model-sizes row for ``model`` (suffixes such as ``-hf``, ``-chat`` are stripped).

    A chat or instruction-tuned variant keeps the suffix in its family, so it forms its own curve.

    >>> e = lookup("meta-llama/Llama-2-7b-chat-hf")
    >>> (e.params, e.family)
    (7000000000.0, 'llama-2-chat')
    """
    name = normalize_name(model)
    kept: list[str] = []
    while name not in MODEL_SIZES:
        for suffix in _SUFFIXES:
            if name.endswith(suffix):
                name = name.removesuffix(suffix)
                if suffix in _FAMILY_SUFFIXES:
                    kept.insert(0, suffix)
                break
        else:
            return None
    entry = MODEL_SIZES[name]
    return replace(entry, family=entry.family + "".join(kept)) if kept else entry


__all__ = [
    "MODEL_SIZES",
    "MODEL_SIZES_FILE",
    "MODEL_SIZE_ENTRIES",
    "ModelSize",
    "lookup",
    "normalize_name",
]

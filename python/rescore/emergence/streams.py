"""Shared by the emergence passes: the Polars engine, and one random stream per group.

Each group (a point, a partition, a curve) draws from its own stream derived from the seed and
the group's key, so results depend on neither row nor group order.
"""

from __future__ import annotations

import zlib
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

ENGINE: Literal["streaming"] = "streaming"
"""Polars engine for the passes over the scores: the streaming engine keeps memory flat on
100M-row inputs (0.3 GiB peak in ``benches/bench_emergence.py``) and was the faster one there."""


def rng_for(seed: int, key: tuple[Any, ...]) -> np.random.Generator:
    """The random stream of the group ``key`` under ``seed``."""
    digest = zlib.crc32(repr(key).encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([seed, digest]))


__all__ = ["ENGINE", "FloatArray", "rng_for"]

"""The settings of ``rescore emergence``: every option's one name, default and doc.

:class:`EmergenceSettings` is built by the command line (its flags are generated from the
fields, :func:`rescore.settings.click_options`), taken by :func:`rescore.emergence.analyze`
(as the object or as keywords of the same names) and recorded in ``summary.json``
(:meth:`EmergenceSettings.to_dict`). A setting is named the same at every layer: the field
``builtin_sizes`` is the keyword ``builtin_sizes`` and the flag ``--builtin-sizes`` /
``--no-builtin-sizes``.

This module sits on the package's ground floor with :mod:`~rescore.emergence.result`: it imports
nothing from the rest of :mod:`rescore.emergence`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, get_args

import click
import polars as pl

from rescore import settings as st
from rescore.exceptions import InvalidOptionError

InputKind = Literal["auto", "examples", "runs"]
"""What a row of the scores is: an example, a run (an aggregated table), or decide."""
Axis = Literal["params", "flops", "tokens"]
"""The scale axis."""
Bootstrap = Literal["auto", "paired", "independent"]
"""How examples are resampled: paired across models where they share example ids, or not."""
AXES: tuple[Axis, ...] = get_args(Axis)
BOOTSTRAPS: tuple[Bootstrap, ...] = get_args(Bootstrap)
INPUT_KINDS: tuple[InputKind, ...] = get_args(InputKind)

DEFAULT_N_BOOT = 1000
DEFAULT_EMERGENT_THRESHOLD = 2.0
"""A curve is called emergent when its score is at least this many times ``n_models - 1``,
the score of a straight line (and any curve with evenly sized steps): rescore's convention."""


def _floats(values: Iterable[Any]) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in values)
    except ValueError as e:
        msg = f"null_values: expected numbers, got {list(values)!r}"
        raise InvalidOptionError(msg) from e


@dataclasses.dataclass(frozen=True)
class EmergenceSettings:
    """Every option of the emergence analysis (``rescore emergence`` / ``analyze``)."""

    model_col: str = st.setting("model", "Model column.")
    task_col: str = st.setting("task", "Task column.")
    group: tuple[str, ...] = st.setting(
        (), "Extra grouping columns (prompt type, shots, lm-eval filter): one curve per value."
    )
    metrics: tuple[str, ...] = st.setting(
        (),
        "Metric columns (default: every catalogue metric present, plus the columns given a "
        "direction).",
    )
    higher_is_better: tuple[str, ...] = st.setting(
        (), "Metric columns outside the metric catalogue whose higher values are better."
    )
    lower_is_better: tuple[str, ...] = st.setting(
        (), "Metric columns outside the metric catalogue whose lower values are better."
    )
    replicate_col: str | None = st.setting(
        None, "Seed/replicate (or sample) column: averaged first per example, spread reported."
    )
    doc_col: str | None = st.setting(
        "doc_id", "Example id column (pairs replicates and models; ignored when absent)."
    )
    null_values: tuple[float, ...] = st.setting(
        (),
        "Sentinel values meaning 'missing' (e.g. -100), never averaged in, always counted.",
        parse=_floats,
        cli_type=str,
        metavar="NUMBER",
    )
    input_kind: InputKind = st.setting(
        "auto", "Rows are examples, or runs (aggregated tables); auto decides."
    )
    sizes: Path | pl.DataFrame | None = st.setting(
        None,
        "Model sizes file (CSV or JSON): model, params [, tokens, flops, family].",
        cli_type=click.Path(exists=True, dir_okay=False, path_type=Path),
        metavar="FILE",
    )
    scale_col: str | None = st.setting(None, "A column of the data holding each model's scale.")
    family_col: str | None = st.setting(None, "A column of the data holding each model's family.")
    axis: Axis = st.setting(
        "params",
        "Scale axis; flops are documented ones, else 6 * params * tokens (total params).",
    )
    builtin_sizes: bool = st.setting(
        True, "Use the built-in model sizes and sizes written in model names."
    )
    bootstrap: Bootstrap = st.setting(
        "auto",
        "Resample the same examples for every model where they share example ids (paired), "
        "or each model apart (independent); auto pairs wherever ids are shared.",
    )
    n_boot: int = st.setting(DEFAULT_N_BOOT, "Bootstrap resamples.", bounds=(1, None))
    seed: int = st.setting(0, "Bootstrap seed.")
    confidence: float = st.setting(
        0.95,
        "Interval level.",
        cli_type=click.FloatRange(0, 1, min_open=True, max_open=True),
    )
    clip: float | None = st.setting(
        None,
        "Clip emergence scores to [-CLIP, CLIP] (rescore's option; reasons are kept).",
        cli_type=click.FloatRange(min=0, min_open=True),
    )
    min_models: int = st.setting(3, "Minimum placed models per curve.", bounds=(2, None))
    emergent_threshold: float = st.setting(
        DEFAULT_EMERGENT_THRESHOLD,
        "'emergent' when the score is at least this times n_models - 1 (a straight line's "
        "score): rescore's convention.",
    )
    forecast: tuple[str, ...] = st.setting(
        (),
        "METRIC=THRESHOLD (e.g. exact_match=0.5): the scale at which the per-token law says the "
        "metric reaches THRESHOLD, with an interval and a back-test on the smaller models.",
    )
    length_col: str | None = st.setting(
        None, "Target length column for the mirage model (default: target_length, ...)."
    )
    smooth_correlation: float = st.setting(
        0.5,
        "An example improves smoothly when the Spearman correlation of its score with scale "
        "is at least this (smooth_example_share; rescore's convention).",
        cli_type=click.FloatRange(-1, 1),
    )
    loss_col: str | None = st.setting(
        None,
        "A column holding each model's loss, for the loss axis (default: the mean negative "
        "gold log-likelihood, from token_logprobs or choice_logprobs at label).",
    )
    chance: tuple[str, ...] = st.setting(
        (),
        "METRIC=VALUE: the metric's chance level on the loss axis (default: 1/choices for "
        "all-or-nothing metrics of multiple-choice rows, else 0; none for graded metrics).",
    )

    def __post_init__(self) -> None:
        """Check what the command line checks, for settings built from Python too."""
        for f in dataclasses.fields(self):
            if getattr(self, f.name) is None and isinstance(f.default, tuple):
                object.__setattr__(self, f.name, ())  # None means "the default: none"
        if isinstance(self.sizes, str):
            object.__setattr__(self, "sizes", Path(self.sizes))
        if self.min_models < 2:
            msg = f"`min_models` must be at least 2, got {self.min_models}"
            raise InvalidOptionError(msg)
        if self.n_boot < 1:
            msg = f"`n_boot` must be at least 1, got {self.n_boot}"
            raise InvalidOptionError(msg)
        if not 0.0 < self.confidence < 1.0:
            msg = f"`confidence` must be in (0, 1), got {self.confidence}"
            raise InvalidOptionError(msg)
        if not -1.0 <= self.smooth_correlation <= 1.0:
            msg = f"`smooth_correlation` must be in [-1, 1], got {self.smooth_correlation}"
            raise InvalidOptionError(msg)
        if self.clip is not None and not self.clip > 0:
            msg = f"`clip` must be positive, got {self.clip}"
            raise InvalidOptionError(msg)
        for name, value, allowed in (
            ("axis", self.axis, AXES),
            ("input_kind", self.input_kind, INPUT_KINDS),
            ("bootstrap", self.bootstrap, BOOTSTRAPS),
        ):
            if value not in allowed:
                msg = f"`{name}` must be one of {', '.join(allowed)}; got {value!r}"
                raise InvalidOptionError(msg)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (``summary.json``); a sizes frame is recorded by its shape."""
        out = st.to_dict(self)
        if isinstance(self.sizes, pl.DataFrame):
            out["sizes"] = f"<polars.DataFrame: {self.sizes.height} rows>"
        return out


__all__ = [
    "AXES",
    "BOOTSTRAPS",
    "DEFAULT_EMERGENT_THRESHOLD",
    "DEFAULT_N_BOOT",
    "INPUT_KINDS",
    "Axis",
    "Bootstrap",
    "EmergenceSettings",
    "InputKind",
]

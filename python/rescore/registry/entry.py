"""A registry entry: every fact about one metric, in one frozen object.

The batch job, the Polars namespace, ``rescore score --help``, the manifest and the emergence
analysis ask the entry (direction, continuity, input roles, output type, options,
aggregation, function) and branch on nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from rescore.exceptions import InvalidOptionError
from rescore.registry.aggregation import MEAN, Aggregation
from rescore.registry.options import Option
from rescore.registry.roles import KIND_ROLES, TOKEN_ROLES, InputKind, Role

TOKENIZER_OPTION = "tokenizer"
"""The option through which a tokenizing metric's function takes built-in split rules; in the
batch job it comes from the job's ``tokenizer`` setting."""


@dataclass(frozen=True)
class InputContext:
    """What the batch job knows about its input when it fixes a metric's inferred options."""

    columns: Mapping[Role, str | None]
    """The column mapped to each role (``None``: absent)."""
    formats: frozenset[str] = frozenset()
    """The input formats of the job (``parquet``, ``lm-eval``, ...)."""


@dataclass(frozen=True)
class Metric:
    """One metric: what it reads, what it writes, how it aggregates, and the function."""

    name: str
    """The name used everywhere: function, output column, CLI ``--metrics`` value."""
    higher_is_better: bool
    """Direction: ``True`` for scores (accuracy), ``False`` for distances and losses."""
    inputs: InputKind
    """The input kind: which roles (columns) it reads, see :mod:`rescore.registry.roles`."""
    continuous: bool
    """``False`` for all-or-nothing per-example metrics (0/1), ``True`` for graded ones."""
    definition: str
    """One-line definition."""
    range: tuple[float | None, float | None]
    """Lower and upper bound of a per-example value (``None``: unbounded)."""
    function: Callable[..., Any]
    """``function(a, b, *, workers, on_error, **options)``: one value per row, Arrow out."""
    options: tuple[Option, ...] = ()
    """Its keyword options, typed, with defaults and docs."""
    output_type: Callable[[Mapping[str, Any]], pa.DataType] = field(
        default=lambda _options: pa.float64()
    )
    """The Arrow type of its column, from its options (never from the data)."""
    aggregation: Aggregation = MEAN
    """How a group of rows aggregates."""
    tokenizes: bool = False
    """Text is split into tokens by the batch job's tokenizer (``--tokenizer``); the function
    takes its built-in rules as the ``tokenizer`` option."""
    infer_options: Callable[[InputContext], Mapping[str, Any]] | None = None
    """Option values the job infers from its input when the user gave none."""
    validate: Callable[[Mapping[str, Any]], None] | None = None
    """Checks of option values beyond their types (e.g. that regexes compile)."""
    source: str = "rescore"
    """Where the entry comes from: ``rescore`` (built in) or the plugin's module/package."""
    default: bool = False
    """In the metric set a job computes when none is named (if its input columns exist). The
    five original built-ins are; metrics added later, and plugins, run when named, so that an
    upgrade or an installed package never changes what a command computes."""

    @property
    def direction(self) -> Literal["higher", "lower"]:
        """``"higher"`` or ``"lower"`` is better."""
        return "higher" if self.higher_is_better else "lower"

    @property
    def builtin(self) -> bool:
        """Whether rescore itself defines it."""
        return self.source == "rescore"

    def option(self, name: str) -> Option:
        """The option ``name``; :class:`InvalidOptionError` lists the others."""
        for o in self.options:
            if o.name == name:
                return o
        allowed = ", ".join(o.name for o in self.options) or "none"
        msg = f"{self.name} has no option {name!r}; its options: {allowed}"
        raise InvalidOptionError(msg)

    def check_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` checked by name and type (and :attr:`validate`), in canonical form."""
        checked = {k: self.option(k).check(self.name, v) for k, v in options.items()}
        if self.validate is not None:
            self.validate(checked)
        return checked

    def with_defaults(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Every option's value: the given ones, else the defaults."""
        return {o.name: options.get(o.name, o.default) for o in self.options}

    def arrow_type(self, options: Mapping[str, Any]) -> pa.DataType:
        """The Arrow type of this metric's column under ``options``."""
        return self.output_type(self.with_defaults(options))

    def roles(self, present: Sequence[Role], *, token_ids: bool = False) -> tuple[Role, Role]:
        """The two roles it reads, given the roles the data has.

        The preferred pair of its input kind when present; token ids when the data has no
        text, or when the metric tokenizes and the job's tokenizer is ``ids``.
        """
        pairs = KIND_ROLES[self.inputs]
        if self.tokenizes and token_ids:
            pairs = tuple(p for p in pairs if set(p) <= TOKEN_ROLES) or pairs
        for pair in pairs:
            if pair[0] in present and pair[1] in present:
                return pair
        return pairs[0]

    def describe(self) -> dict[str, Any]:
        """JSON-ready facts (for manifests, ``--help`` and docs)."""
        return {
            "name": self.name,
            "direction": self.direction,
            "inputs": self.inputs,
            "continuous": self.continuous,
            "range": list(self.range),
            "aggregation": self.aggregation.name,
            "options": {o.name: o.default for o in self.options},
            "source": self.source,
        }


__all__ = ["TOKENIZER_OPTION", "InputContext", "Metric"]

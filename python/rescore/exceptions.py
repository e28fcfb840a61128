"""Exceptions raised by rescore. All subclass ``ValueError`` or ``TypeError``.

- ``InvalidInputError`` (``ValueError``): a row's values cannot be scored; the message names the
  argument and the row (and the choice, where there is one).
- ``LengthMismatchError`` (``InvalidInputError``): per-row arguments of different lengths.
- ``InvalidOptionError`` (``ValueError``): a keyword option outside its documented set.
- ``UnsupportedTypeError`` (``TypeError``): an argument's Arrow type is not one the metric reads.
- ``UnknownMetricError`` (``InvalidOptionError``): a metric name not in the catalogue.
- ``MissingColumnError`` (``InvalidInputError``): a column a job needs is not in its input.
- ``UnscorableRowError`` (``InvalidInputError``): a batch job met a row that cannot be scored
  (with ``on_error="raise"``); the message names the file, the row and the metric.
- ``InputFormatError`` (``InvalidInputError``): an input file cannot be read (invalid UTF-8,
  malformed JSON or CSV, a type that changes between rows); the message names file and row.
- ``OutputConflictError`` (``ValueError``): a batch job's output directory holds results of
  other settings or files rescore did not write.
- ``PluginError`` (``InvalidInputError``): a metric plugin that cannot load, clashes with
  another metric's name, raises on a row (``row`` says which) or returns the wrong number or
  type of values; the message names the metric and where it comes from.
- ``TokenizerError`` (``InvalidOptionError``): a tokenizer that cannot be loaded (a missing
  ``tokenizer.json``: rescore never downloads one, or the ``tokenizers`` package is absent).
- ``WorkerDiedError`` (``InvalidInputError``): on the Ray engine, the worker processes reading or
  scoring some rows died every time (a poison row crashing a plugin, say), more often than
  ``max_retries`` allows; the message names the file and the rows.
"""

from __future__ import annotations

from typing import Any

from rescore._rescore import (
    InvalidInputError,
    InvalidOptionError,
    LengthMismatchError,
    UnsupportedTypeError,
)


class UnknownMetricError(InvalidOptionError):
    """A metric name that is not in :data:`rescore.catalogue.METRICS`."""


class MissingColumnError(InvalidInputError):
    """A column a job needs is not in its input; the message lists the available columns."""


class UnscorableRowError(InvalidInputError):
    """A row a batch job cannot score; ``row`` is its index in the batch or file, ``metric``
    the metric that failed."""

    def __init__(self, message: str, *, row: int, metric: str) -> None:
        super().__init__(message)
        self.row = row
        self.metric = metric

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields: without this, unpickling (a Ray or multiprocessing worker
        # sending the error back) calls __init__(message) and fails.
        return (_unscorable_row_error, (str(self), self.row, self.metric))


def _unscorable_row_error(message: str, row: int, metric: str) -> UnscorableRowError:
    return UnscorableRowError(message, row=row, metric=metric)


class InputFormatError(InvalidInputError):
    """An input file that cannot be read as its format; the message names file and row."""


class OutputConflictError(ValueError):
    """An output directory holding results of other settings, or files rescore did not write."""


class PluginError(InvalidInputError):
    """A metric plugin's failure; ``row`` is the row it raised on, when it raised on one."""

    def __init__(self, message: str, *, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row

    def __reduce__(self) -> tuple[Any, ...]:
        return (_plugin_error, (str(self), self.row))


def _plugin_error(message: str, row: int | None) -> PluginError:
    return PluginError(message, row=row)


class TokenizerError(InvalidOptionError):
    """A tokenizer that cannot be loaded (missing file, or the optional package is absent)."""


class WorkerDiedError(InvalidInputError):
    """Ray workers died every time they read or scored some rows: ``path`` and rows
    ``first_row`` to ``last_row`` (inclusive) name them, ``deaths`` counts the workers lost."""

    def __init__(
        self, message: str, *, path: str, first_row: int, last_row: int, deaths: int
    ) -> None:
        super().__init__(message)
        self.path = path
        self.first_row = first_row
        self.last_row = last_row
        self.deaths = deaths

    def __reduce__(self) -> tuple[Any, ...]:
        fields = (self.path, self.first_row, self.last_row, self.deaths)
        return (_worker_died_error, (str(self), *fields))


def _worker_died_error(
    message: str, path: str, first_row: int, last_row: int, deaths: int
) -> WorkerDiedError:
    return WorkerDiedError(
        message, path=path, first_row=first_row, last_row=last_row, deaths=deaths
    )


__all__ = [
    "InputFormatError",
    "InvalidInputError",
    "InvalidOptionError",
    "LengthMismatchError",
    "MissingColumnError",
    "OutputConflictError",
    "PluginError",
    "TokenizerError",
    "UnknownMetricError",
    "UnscorableRowError",
    "UnsupportedTypeError",
    "WorkerDiedError",
]

"""Evaluation-log formats, in one place: how each is recognised, its rows' schema and key
columns, and its reader.

A *record format* is a harness's stored per-sample records (as opposed to a plain table): the
reader turns records into rescore's rows (:mod:`rescore.batch.record_rows`; lm-eval's own in
:mod:`rescore.batch.lm_eval`). Files are recognised by themselves, by name and a peek at their
content; ``--format`` forces one. Adding a format is one entry in :data:`RECORD_FORMATS` and
one case in :func:`recognise`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from rescore.batch import helm, inspect_log, lighteval, lm_eval
from rescore.batch.record_rows import HARNESS_PREFIX, KEYS
from rescore.batch.storage import AnyPath, arrow_source
from rescore.batch.text_blocks import count_lines


@dataclass(frozen=True)
class RecordFormat:
    """One evaluation-log format."""

    name: str
    """The ``--format`` value."""
    extensions: tuple[str, ...]
    """File name endings searched in directories."""
    keys: tuple[str, ...]
    """Key columns its rows carry besides ``model`` and ``task`` (``harness_*`` columns of a
    file's schema are keys too: they go to the output, to compare with rescore's scores)."""
    schema: Callable[[AnyPath, Sequence[str]], pa.Schema]
    """The rows' schema of one file (``keep``: lm-eval record fields kept as columns)."""
    tables: Callable[[AnyPath, Sequence[str], int], Iterator[pa.Table]]
    """Stream a file's rows as tables of at most the given number of rows."""
    count_rows: Callable[[AnyPath], int | None]
    """Rows in a file if cheaply known (for the progress bar)."""

    def key_columns(self, schema: pa.Schema) -> list[str]:
        """The key columns of a file of this format with ``schema``."""
        harness = [n for n in schema.names if n.startswith(HARNESS_PREFIX)]
        return [k for k in self.keys if k in schema.names] + harness


RECORD_FORMATS: Mapping[str, RecordFormat] = {
    f.name: f
    for f in (
        RecordFormat(
            "lm-eval",
            (".jsonl", ".ndjson"),
            ("filter", "doc_id"),
            lambda p, keep: lm_eval.schema(keep),
            lambda p, keep, rows: lm_eval.iter_tables(p, keep, rows),  # type: ignore[arg-type]
            count_lines,
        ),
        RecordFormat(
            "lighteval",
            (".parquet", ".pq"),
            KEYS,
            lambda p, keep: lighteval.schema(p),
            lambda p, keep, rows: lighteval.iter_tables(p, rows),
            lighteval.count_rows,
        ),
        RecordFormat(
            "helm",
            (".json",),
            helm.KEYS,
            lambda p, keep: helm.schema(p),
            lambda p, keep, rows: helm.iter_tables(p, rows),
            helm.count_rows,
        ),
        RecordFormat(
            "inspect",
            (".eval", ".json"),
            KEYS,
            lambda p, keep: inspect_log.schema(p),
            lambda p, keep, rows: inspect_log.iter_tables(p, rows),
            inspect_log.count_rows,
        ),
    )
}

PEEK_BYTES = 1 << 12


def _head(path: AnyPath) -> bytes:
    with path.open("rb") as fh:
        return bytes(fh.read(PEEK_BYTES))


def recognise(path: AnyPath, table_format: str | None, forced: str | None) -> str | None:
    """The record format of ``path``, if it is one (``None``: a plain table, or, for
    ``.json``, not an input at all).

    ``table_format`` is what the extension says (``parquet``, ``jsonl``, ...); ``forced`` is
    ``--format``.
    """
    suffix = path.suffix.lower()
    if path.name == helm.STATE_FILE and forced in (None, "helm"):
        return "helm"
    if suffix == ".eval" and forced in (None, "inspect"):
        return "inspect"
    if suffix == ".json":
        if forced in (None, "inspect") and inspect_log.recognise_json(_head(path)):
            return "inspect"
        return None
    if forced is not None:
        return forced if forced in RECORD_FORMATS else None
    if table_format == "parquet":
        try:
            schema = pq.read_schema(arrow_source(path))
        except (pa.ArrowInvalid, OSError):
            return None  # the table reader names the problem
        return "lighteval" if lighteval.recognise(path, schema) else None
    if table_format == "jsonl" and lm_eval.looks_like_record(lm_eval.first_record(path)):  # type: ignore[arg-type]
        return "lm-eval"
    return None


__all__ = ["RECORD_FORMATS", "RecordFormat", "recognise"]

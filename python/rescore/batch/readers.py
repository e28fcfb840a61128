"""Find input files, tell their format, and stream them as fixed-size Arrow tables.

Formats: Parquet files and (hive-partitioned) directories, JSONL, CSV/TSV and lm-evaluation-
harness sample logs (:mod:`rescore.batch.lm_eval`). Every reader streams: memory is bounded by
the batch size (and a Parquet file's row-group size), never by the file size.

Work units. A file's rows are cut into units of ``batch_size`` consecutive rows: unit ``k`` is
rows ``[k * batch_size, (k + 1) * batch_size)``. This depends only on the file's content and
``batch_size``, never on how a reader happens to chunk its blocks, which is what makes a killed
job resumable: a unit written once is the same unit on the next run.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from rescore.batch import lm_eval
from rescore.batch.text_blocks import count_lines, iter_line_blocks
from rescore.exceptions import InputFormatError, InvalidOptionError

Format = Literal["parquet", "jsonl", "csv", "lm-eval"]
FORMATS: tuple[Format, ...] = ("parquet", "jsonl", "csv", "lm-eval")
EXTENSIONS: Mapping[str, Format] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
}
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class InputFile:
    """One input file with its format and the constant columns its path gives."""

    path: Path
    format: Format
    constants: tuple[tuple[str, Any, str], ...] = ()
    """``(column, value, arrow type name)`` from hive ``key=value`` directories."""

    def constant_fields(self) -> list[pa.Field]:
        """The constant columns as fields."""
        return [
            pa.field(k, pa.int64() if t == "int64" else pa.string()) for k, _, t in self.constants
        ]

    def fingerprint(self) -> dict[str, Any]:
        """Identity of the file's content: path, size and a hash of its first and last MiB.

        Cheap on any size; catches replaced or appended files (a change in the middle of an
        unchanged-size file is not seen: the full hash of terabytes is not affordable).
        """
        import hashlib

        size = self.path.stat().st_size
        h = hashlib.sha256()
        with self.path.open("rb") as f:
            h.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(size - (1 << 20))
            h.update(f.read(1 << 20))
        return {
            "path": str(self.path),
            "format": self.format,
            "size": size,
            "sample_sha256": h.hexdigest(),
            "constants": [list(c) for c in self.constants],
        }


# --- discovery ----------------------------------------------------------------------------------


def _hidden(rel: Path) -> bool:
    return any(part.startswith(("_", ".")) for part in rel.parts)


def _detect(path: Path, fmt: Format | None) -> Format:
    if fmt is not None:
        return fmt
    ext = EXTENSIONS.get(path.suffix.lower())
    if ext is None:
        known = ", ".join(EXTENSIONS)
        msg = f"{path}: cannot tell the format from the extension (known: {known}); pass --format"
        raise InvalidOptionError(msg)
    if ext == "jsonl":
        record = lm_eval.first_record(path)
        if lm_eval.looks_like_record(record):
            return "lm-eval"
    return ext


def _partition_constants(files: Sequence[Path], root: Path) -> dict[Path, tuple[Any, ...]]:
    """Typed hive partition values per file: int64 when every value of a key is an integer."""
    raw: dict[Path, list[tuple[str, str | None]]] = {}
    for f in files:
        pairs: list[tuple[str, str | None]] = []
        for part in f.relative_to(root).parent.parts:
            if "=" in part:
                key, text = part.split("=", 1)
                decoded = unquote(text)
                pairs.append((unquote(key), None if decoded == HIVE_NULL else decoded))
        raw[f] = pairs
    keys: dict[str, bool] = {}
    for found in raw.values():
        for key, value in found:
            is_int = value is None or re.fullmatch(r"[+-]?\d{1,18}", value) is not None
            keys[key] = keys.get(key, True) and is_int
    out: dict[Path, tuple[Any, ...]] = {}
    for f, found in raw.items():
        consts: list[tuple[str, Any, str]] = []
        for key, value in found:
            if keys[key]:
                consts.append((key, None if value is None else int(value), "int64"))
            else:
                consts.append((key, value, "string"))
        out[f] = tuple(consts)
    return out


def discover(paths: Sequence[str | Path], fmt: Format | None = None) -> list[InputFile]:
    """The input files of ``paths``, in a deterministic order.

    A directory is searched recursively for files with a known extension (or any file, with
    ``fmt``), skipping names starting with ``_`` or ``.``; ``key=value`` directories (hive
    partitioning) become constant columns. ``.jsonl`` files holding lm-eval sample records are
    read as ``lm-eval`` unless ``fmt`` says otherwise.
    """
    if fmt is not None and fmt not in FORMATS:
        msg = f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}"
        raise InvalidOptionError(msg)
    out: list[InputFile] = []
    seen: set[Path] = set()
    for given in paths:
        p = Path(given).expanduser()
        if not p.exists():
            msg = f"input {str(p)!r} does not exist"
            raise FileNotFoundError(msg)
        if p.is_dir():
            root = p.resolve()
            exts = {e for e, f in EXTENSIONS.items() if fmt is None or f == fmt or _jsonl(fmt, f)}
            files = sorted(
                f
                for f in root.rglob("*")
                if f.is_file() and not _hidden(f.relative_to(root)) and f.suffix.lower() in exts
            )
            if not files:
                msg = f"input directory {str(p)!r} holds no {fmt or 'known'} files"
                raise InvalidOptionError(msg)
            consts = _partition_constants(files, root)
            found = [InputFile(f, _detect(f, fmt), consts[f]) for f in files]
        else:
            found = [InputFile(p.resolve(), _detect(p, fmt))]
        for f in found:
            if f.path not in seen:
                seen.add(f.path)
                out.append(f)
    if not out:
        msg = "no input files"
        raise InvalidOptionError(msg)
    return out


def _jsonl(fmt: Format, ext_format: Format) -> bool:
    return fmt == "lm-eval" and ext_format == "jsonl"


# --- schemas ------------------------------------------------------------------------------------


def normalize_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_integer(t):
        return pa.int64()
    if pa.types.is_floating(t):
        return pa.float64()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(normalize_type(t.value_type))
    return t


def peek_schema(f: InputFile, keep: Sequence[str] = ()) -> pa.Schema:
    """The columns (and types, as read) of ``f``, without reading its data."""
    if f.format == "parquet":
        try:
            base = pq.read_schema(f.path)
        except (pa.ArrowInvalid, OSError) as e:
            msg = f"{f.path}: not a readable Parquet file: {e}"
            raise InputFormatError(msg) from e
    elif f.format == "lm-eval":
        base = lm_eval.schema(keep)
    elif f.format == "jsonl":
        base = _jsonl_sample_schema(f.path)
    else:
        try:
            with pa_csv.open_csv(f.path, parse_options=_csv_parse(f.path)) as reader:
                base = reader.schema
        except pa.ArrowInvalid as e:
            _raise_csv(f.path, e)
    names = set(base.names)
    extra = [fld for fld in f.constant_fields() if fld.name not in names]
    return pa.schema([*base, *extra])


def _jsonl_sample_schema(path: Path) -> pa.Schema:
    for first_line, block in iter_line_blocks(path, 1 << 20):
        table = _read_json_block(path, first_line, block, None)
        return pa.schema(
            [
                pa.field(n, normalize_type(t))
                for n, t in zip(table.schema.names, table.schema.types, strict=True)
            ]
        )
    return pa.schema([])


# --- streaming ----------------------------------------------------------------------------------


def rechunk(tables: Iterable[pa.Table], rows: int, drop: int = 0) -> Iterator[pa.Table]:
    """Re-cut a stream of tables into tables of exactly ``rows`` rows (the last may be short),
    after dropping its first ``drop`` rows. Zero-copy: outputs are slices of the inputs."""
    pending: list[pa.Table] = []
    have = 0
    for t in tables:
        if drop:
            if t.num_rows <= drop:
                drop -= t.num_rows
                continue
            t = t.slice(drop)
            drop = 0
        if t.num_rows == 0:
            continue
        pending.append(t)
        have += t.num_rows
        while have >= rows:
            joined = pa.concat_tables(pending) if len(pending) > 1 else pending[0]
            yield joined.slice(0, rows)
            rest = joined.slice(rows)
            pending = [rest] if rest.num_rows else []
            have -= rows
    if have:
        yield pa.concat_tables(pending) if len(pending) > 1 else pending[0]


def _add_constants(table: pa.Table, f: InputFile) -> pa.Table:
    for k, v, t in f.constants:
        if k not in table.column_names:
            typ = pa.int64() if t == "int64" else pa.string()
            table = table.append_column(k, pa.repeat(pa.scalar(v, typ), table.num_rows))
    return table


def _cast(table: pa.Table, types: Mapping[str, pa.DataType], f: InputFile) -> pa.Table:
    for i, name in enumerate(table.column_names):
        want = types.get(name)
        col = table.column(i)
        if want is not None and col.type != want:
            try:
                table = table.set_column(i, name, col.cast(want))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                msg = f"{f.path}: column {name!r} of type {col.type} cannot be read as {want}: {e}"
                raise InputFormatError(msg) from e
    return table


def iter_units(
    f: InputFile,
    columns: Sequence[str],
    types: Mapping[str, pa.DataType],
    batch_size: int,
    *,
    first_unit: int = 0,
    keep: Sequence[str] = (),
    list_errors: Mapping[str, str] | None = None,
) -> Iterator[tuple[int, pa.Table]]:
    """Yield ``(unit index, table)`` for the units of ``f`` from ``first_unit`` on.

    Parameters
    ----------
    f
        The input.
    columns
        Columns to read (those absent from the file are left out; constants are added).
    types
        Types to cast columns to, so every unit of every file has the same schema. For CSV, a
        string column wanted as a list is parsed as JSON per row (``"[1, 2]"``).
    batch_size
        Rows per unit.
    first_unit
        Units before it are skipped (Parquet skips whole row groups without reading them).
    keep
        Extra record fields for lm-eval logs.
    list_errors
        For CSV: column -> reserved error column receiving per-row JSON-list parse errors.
    """
    drop = first_unit * batch_size
    if f.format == "parquet":
        stream = _parquet_tables(f, columns, drop)
        drop = stream.__next__()  # the generator first reports the rows it could not skip
        tables: Iterable[pa.Table] = stream
    elif f.format == "lm-eval":
        tables = lm_eval.iter_tables(f.path, keep, batch_size)
    elif f.format == "jsonl":
        tables = _jsonl_tables(f, columns, types)
    else:
        tables = _csv_tables(f, columns, types, list_errors or {})
    for k, table in enumerate(rechunk(tables, batch_size, drop), start=first_unit):
        yield k, _cast(_add_constants(table, f), types, f)


def _parquet_tables(f: InputFile, columns: Sequence[str], skip: int) -> Iterator[Any]:
    try:
        pf = pq.ParquetFile(f.path)
    except (pa.ArrowInvalid, OSError) as e:
        msg = f"{f.path}: not a readable Parquet file: {e}"
        raise InputFormatError(msg) from e
    names = set(pf.schema_arrow.names)
    cols = [c for c in columns if c in names]
    meta = pf.metadata
    start_rg, start_row = 0, 0
    for rg in range(meta.num_row_groups):
        n = meta.row_group(rg).num_rows
        if start_row + n > skip:
            break
        start_rg, start_row = rg + 1, start_row + n
    yield skip - start_row
    try:
        # One row group at a time: pyarrow pre-buffers every row group it is handed at once, so
        # handing it the whole file would hold the whole file's column chunks in memory.
        for rg in range(start_rg, meta.num_row_groups):
            for batch in pf.iter_batches(batch_size=65536, row_groups=[rg], columns=cols):
                yield pa.Table.from_batches([batch])
    except (pa.ArrowInvalid, OSError) as e:
        msg = f"{f.path}: cannot read Parquet data: {e}"
        raise InputFormatError(msg) from e


def _read_json_block(
    path: Path, first_line: int, block: bytes, schema: pa.Schema | None
) -> pa.Table:
    parse = pa_json.ParseOptions(
        explicit_schema=schema,
        unexpected_field_behavior="ignore" if schema is not None else "infer",
    )
    try:
        try:
            return pa_json.read_json(io.BytesIO(block), parse_options=parse)
        except pa.ArrowInvalid as e:
            if "straddl" not in str(e):
                raise
            opts = pa_json.ReadOptions(block_size=len(block) + 1)
            return pa_json.read_json(io.BytesIO(block), read_options=opts, parse_options=parse)
    except pa.ArrowInvalid as e:
        text = str(e)
        m = re.search(r"in row (\d+)", text)
        where = f"near line {first_line + int(m.group(1))}" if m else f"in lines from {first_line}"
        msg = f"{path}: {where}: cannot read as JSON lines: {text}"
        raise InputFormatError(msg) from None


def _jsonl_tables(
    f: InputFile, columns: Sequence[str], types: Mapping[str, pa.DataType]
) -> Iterator[pa.Table]:
    sample = _jsonl_sample_schema(f.path)
    fields = []
    for c in columns:
        if c in sample.names:
            want = types.get(c)
            t = sample.field(c).type if want is None else want
            fields.append(pa.field(c, pa.string() if pa.types.is_null(t) else t))
    schema = pa.schema(fields)
    for first_line, block in iter_line_blocks(f.path):
        table = _read_json_block(f.path, first_line, block, schema)
        yield table.select([c for c in schema.names if c in table.column_names])


def _csv_parse(path: Path) -> pa_csv.ParseOptions:
    return pa_csv.ParseOptions(delimiter="\t" if path.suffix.lower() == ".tsv" else ",")


def _raise_csv(path: Path, e: Exception) -> Any:
    if "UTF8" in str(e) or "UTF-8" in str(e):
        for _ in iter_line_blocks(path):  # names the first line with invalid UTF-8
            pass
    msg = f"{path}: cannot read as CSV: {e}"
    raise InputFormatError(msg) from e


def _csv_tables(
    f: InputFile,
    columns: Sequence[str],
    types: Mapping[str, pa.DataType],
    list_errors: Mapping[str, str],
) -> Iterator[pa.Table]:
    header = peek_schema(InputFile(f.path, "csv")).names
    cols = [c for c in columns if c in header]
    col_types: dict[str, pa.DataType] = {}
    for c in cols:
        want = types.get(c)
        if want is not None:
            col_types[c] = pa.string() if pa.types.is_list(want) else want
    convert = pa_csv.ConvertOptions(
        include_columns=cols,
        column_types=col_types,
        strings_can_be_null=True,  # an empty unquoted field is null, as in pandas
        quoted_strings_can_be_null=False,  # a quoted "" is the empty string
    )
    try:
        with pa_csv.open_csv(
            f.path, parse_options=_csv_parse(f.path), convert_options=convert
        ) as reader:
            for batch in reader:
                table = pa.Table.from_batches([batch])
                for c in cols:
                    want = types.get(c)
                    if want is not None and pa.types.is_list(want):
                        table = _parse_json_lists(table, c, want, list_errors.get(c))
                yield table
    except pa.ArrowInvalid as e:
        _raise_csv(f.path, e)


def _parse_json_lists(
    table: pa.Table, column: str, want: pa.DataType, error_column: str | None
) -> pa.Table:
    """Parse a string column of JSON arrays (``"[1, 2]"``) into ``want``; one vectorised call,
    then row by row only if some row does not parse (it becomes null, with a message)."""
    strings = table.column(column).combine_chunks()
    filled = pc.fill_null(strings, "null")
    lines = pc.binary_join_element_wise('{"v":', filled, "}\n", "")
    offsets = pa.array([0, len(lines)], pa.int32())
    blob = pc.binary_join(pa.ListArray.from_arrays(offsets, lines), "")[0].as_buffer()
    schema = pa.schema([pa.field("v", want)])
    parse = pa_json.ParseOptions(explicit_schema=schema)
    errors: list[str | None] = [None] * len(strings)
    try:
        parsed = pa_json.read_json(pa.BufferReader(blob), parse_options=parse).column("v")
        if len(parsed) != len(strings):
            raise ValueError  # a row held a newline: take the slow path
        values = parsed.combine_chunks()
    except (pa.ArrowInvalid, ValueError):
        rows: list[Any] = []
        for i, s in enumerate(strings.to_pylist()):
            try:
                v = None if s is None else json.loads(s)
                rows.append(pa.array([v], want)[0].as_py())
            except (ValueError, TypeError, pa.ArrowInvalid, pa.ArrowTypeError) as e:
                rows.append(None)
                errors[i] = f"column {column!r}: {s!r} is not a JSON list of numbers ({e})"
        values = pa.array(rows, want)
    idx = table.column_names.index(column)
    table = table.set_column(idx, column, values)
    if error_column is not None and any(e is not None for e in errors):
        new = pa.array(errors, pa.string())
        if error_column in table.column_names:
            old = table.column(error_column).combine_chunks()
            new = pc.coalesce(old, new)
            table = table.set_column(table.column_names.index(error_column), error_column, new)
        else:
            table = table.append_column(error_column, new)
    return table


def count_rows(f: InputFile) -> int | None:
    """Rows in ``f`` if cheaply known (Parquet metadata; lines of JSONL), else ``None``."""
    if f.format == "parquet":
        return int(pq.ParquetFile(f.path).metadata.num_rows)
    if f.format in ("jsonl", "lm-eval"):
        return count_lines(f.path)
    return None


__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "Format",
    "InputFile",
    "count_rows",
    "discover",
    "iter_units",
    "peek_schema",
    "rechunk",
]

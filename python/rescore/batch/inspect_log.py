"""inspect_ai evaluation logs: ``.eval`` (a zip archive, the default since inspect_ai 0.3.46) and
``.json`` (the same log as one document).

An ``.eval`` file holds ``header.json`` (the log without its samples: ``version``, ``eval``
with ``task`` and ``model``, ``results``, ...), one ``samples/<id>_epoch_<n>.json`` per sample
and epoch, and journal and summary members. Members are zstd-compressed (zip method 93) in
recent versions, deflated in older ones; a member name written twice means the later entry
supersedes the earlier (inspect_ai's ``_zip_writestr``). zstd members are read with pyarrow's
zstd codec, so no extra dependency is needed. A ``.json`` log is ``{"version", "status",
"eval", ..., "samples": [...]}`` (``inspect_ai/log/_recorders/json.py``).

Each sample (``EvalSample``) becomes one row: ``example_id`` its ``id``, ``sample`` its
``epoch`` less one, ``prediction`` ``output.completion``, ``reference`` ``target`` (a string or
a list), ``continuations`` ``choices`` and ``target_index`` the gold letter's index (``"B"``
-> 1) for multiple choice (not ``label``: inspect_ai logs no per-choice log-likelihoods, which
choice metrics need beside it), ``token_logprobs`` the completion's per-token
log-probabilities where logged, and one ``harness_<scorer>`` column per score
(``C``/``P``/``I``/``N`` read as 1/0.5/0/0; a score whose value is a dict gives
``harness_<scorer>_<key>``).
"""

from __future__ import annotations

import functools
import json
import re
import struct
import zipfile
from collections.abc import Generator, Iterator, Mapping
from typing import Any

import pyarrow as pa

from rescore.batch.lm_eval import ERROR_CHOICES, ERROR_TEXT
from rescore.batch.record_rows import RowBuffer, harness_column, metric_value, row_schema
from rescore.batch.storage import AnyPath
from rescore.exceptions import InputFormatError

KNOWN_VERSIONS = (1, 2)
"""Log format versions this reader knows (``EvalLog.version``)."""
MAX_MEMBER_BYTES = 512 << 20
"""Largest uncompressed zip member read (512 MiB): a larger one is refused as a zip bomb."""
ZIP_ZSTANDARD = 93
SAMPLE_MEMBER = re.compile(r"^samples/(?P<id>.+)_epoch_(?P<epoch>\d+)\.json$")
_JSON_LOG = re.compile(rb'^\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')
EXTRA = (pa.field("target_index", pa.int64()), pa.field("token_logprobs", pa.list_(pa.float64())))


def recognise_json(head: bytes) -> bool:
    """Whether the first bytes of a ``.json`` file are an inspect_ai log's."""
    return _JSON_LOG.match(head) is not None


# --- reading the archive ------------------------------------------------------------------------


class _Archive:
    """An ``.eval`` zip, its members read whole with a size limit."""

    def __init__(self, path: AnyPath) -> None:
        self.path = path
        self.fh = path.open("rb")
        try:
            self.zip = zipfile.ZipFile(self.fh)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            self.fh.close()
            msg = f"{path}: not a readable .eval (zip) log: {e}"
            raise InputFormatError(msg) from None
        last: dict[str, zipfile.ZipInfo] = {}
        for info in self.zip.infolist():
            last.pop(info.filename, None)  # a name written again supersedes (and moves last)
            last[info.filename] = info
        self.members = last

    def close(self) -> None:
        self.zip.close()
        self.fh.close()

    def read(self, name: str) -> Any:
        info = self.members.get(name)
        if info is None:
            msg = f"{self.path}: the log has no member {name!r}"
            raise InputFormatError(msg)
        if info.file_size > MAX_MEMBER_BYTES:
            msg = (
                f"{self.path}: member {name!r} would expand to {info.file_size} bytes, past the "
                f"limit of {MAX_MEMBER_BYTES} (a zip bomb, or not an inspect_ai log)"
            )
            raise InputFormatError(msg)
        try:
            if info.compress_type == ZIP_ZSTANDARD:
                data = self._zstd(info)
            else:
                with self.zip.open(info) as member:
                    data = member.read(MAX_MEMBER_BYTES + 1)
            return json.loads(data)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, pa.ArrowException) as e:
            msg = f"{self.path}: member {name!r} is corrupt or truncated: {e}"
            raise InputFormatError(msg) from None

    def _zstd(self, info: zipfile.ZipInfo) -> bytes:
        self.fh.seek(info.header_offset)
        header = self.fh.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            msg = "bad local file header"
            raise OSError(msg)
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        self.fh.seek(info.header_offset + 30 + name_len + extra_len)
        raw = self.fh.read(info.compress_size)
        if len(raw) != info.compress_size:
            msg = "member data ends early"
            raise OSError(msg)
        out = pa.Codec("zstd").decompress(raw, decompressed_size=info.file_size)
        return bytes(out)

    def sample_names(self) -> list[str]:
        return [n for n in self.members if SAMPLE_MEMBER.match(n)]


def _check_version(path: AnyPath, header: Any) -> Mapping[str, Any]:
    if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
        msg = f"{path}: not an inspect_ai log: expected a header with 'version' and 'eval'"
        raise InputFormatError(msg)
    version = header.get("version")
    if version not in KNOWN_VERSIONS:
        msg = (
            f"{path}: inspect_ai log format version {version!r} is not one this reader knows "
            f"({', '.join(map(str, KNOWN_VERSIONS))})"
        )
        raise InputFormatError(msg)
    return header


@functools.lru_cache(maxsize=1)
def _json_log(key: str, path: AnyPath) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = json.loads(fh.read())
    except ValueError as e:
        msg = f"{path}: not valid JSON (truncated or corrupt inspect_ai log): {e}"
        raise InputFormatError(msg) from None
    _check_version(path, data)
    return data  # type: ignore[no-any-return]


def _header_and_samples(path: AnyPath) -> tuple[Mapping[str, Any], Generator[Any, None, None]]:
    if path.suffix.lower() == ".json":
        log = _json_log(str(path), path)
        listed = log.get("samples") or []
        if not isinstance(listed, list):
            msg = f"{path}: 'samples' is not a list"
            raise InputFormatError(msg)
        return log, (s for s in listed)
    archive = _Archive(path)
    try:
        if "header.json" in archive.members:
            header = archive.read("header.json")
        elif "_journal/start.json" in archive.members:  # a log still being written
            header = archive.read("_journal/start.json")
        else:
            msg = f"{path}: not an inspect_ai .eval log: no header.json"
            raise InputFormatError(msg)
        header = _check_version(path, header)
    except BaseException:
        archive.close()
        raise

    def samples() -> Generator[Any, None, None]:
        try:
            for n in archive.sample_names():
                yield archive.read(n)
        finally:
            archive.close()

    return header, samples()


# --- rows ---------------------------------------------------------------------------------------


def _scores(sample: Mapping[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    scores = sample.get("scores")
    if not isinstance(scores, dict):
        return out
    for name, score in scores.items():
        value = score.get("value") if isinstance(score, dict) else score
        if isinstance(value, dict):
            for k, v in value.items():
                out[harness_column(f"{name}_{k}")] = metric_value(v)
        else:
            out[harness_column(str(name))] = metric_value(value)
    return out


def _label(target: Any, n: int) -> int:
    letters = target if isinstance(target, list) else [target]
    if len(letters) != 1 or not isinstance(letters[0], str):
        msg = f"target {target!r} is not one answer letter"
        raise ValueError(msg)
    letter = letters[0].strip()
    if len(letter) != 1 or not "A" <= letter.upper() <= "Z" or ord(letter.upper()) - 65 >= n:
        msg = f"target {target!r} is not the letter of one of the {n} choices"
        raise ValueError(msg)
    return ord(letter.upper()) - 65


def _token_logprobs(output: Mapping[str, Any]) -> list[float] | None:
    choices = output.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    logprobs = choices[0].get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list):
        return None
    return [float(t["logprob"]) for t in content if isinstance(t, dict) and "logprob" in t]


def sample_row(sample: Any, model: str | None, task: str | None) -> dict[str, Any]:
    """One row from one ``EvalSample`` (see the module doc)."""
    if not isinstance(sample, dict):
        return {"model": model, "task": task, ERROR_TEXT: "the sample is not a JSON object"}
    epoch = sample.get("epoch")
    row: dict[str, Any] = {
        "model": model,
        "task": task,
        "example_id": None if sample.get("id") is None else str(sample["id"]),
        "sample": epoch - 1 if isinstance(epoch, int) and not isinstance(epoch, bool) else None,
    }
    row.update(_scores(sample))
    output = sample.get("output")
    output = output if isinstance(output, dict) else {}
    completion = output.get("completion")
    target = sample.get("target")
    if isinstance(completion, str):
        row["prediction"] = completion
    else:
        row[ERROR_TEXT] = "the sample has no output.completion"
    if isinstance(target, str):
        row["reference"] = [target]
    elif isinstance(target, list) and all(isinstance(t, str) for t in target):
        row["reference"] = target
    else:
        row[ERROR_TEXT] = f"target {target!r} is neither a string nor a list of strings"
    choices = sample.get("choices")
    if isinstance(choices, list) and choices:
        row["continuations"] = [str(c) for c in choices]
        try:
            row["target_index"] = _label(target, len(choices))
        except ValueError as e:
            row["target_index"] = None
            row[ERROR_CHOICES] = str(e)
    row["token_logprobs"] = _token_logprobs(output)
    return row


def _names(header: Mapping[str, Any]) -> tuple[str | None, str | None]:
    ev = header.get("eval", {})
    model, task = ev.get("model"), ev.get("task")
    return (model if isinstance(model, str) else None, task if isinstance(task, str) else None)


def schema(path: AnyPath) -> pa.Schema:
    """The rows' schema: the scorers of the log's first sample as ``harness_`` columns."""
    _header, samples = _header_and_samples(path)
    first = next(samples, None)
    samples.close()
    names = list(_scores(first)) if isinstance(first, dict) else []
    return row_schema([n.removeprefix("harness_") for n in names], extra=EXTRA)


def count_rows(path: AnyPath) -> int | None:
    """Samples in an ``.eval`` log (from its member names); ``None`` for ``.json``."""
    if path.suffix.lower() == ".json":
        return None
    archive = _Archive(path)
    try:
        return len(archive.sample_names())
    finally:
        archive.close()


def iter_tables(path: AnyPath, rows: int) -> Iterator[pa.Table]:
    """Stream a log's rows as tables of at most ``rows`` rows."""
    out_schema = schema(path)
    header, samples = _header_and_samples(path)
    model, task = _names(header)
    buffer = RowBuffer(out_schema, rows)
    try:
        for sample in samples:
            table = buffer.add(sample_row(sample, model, task))
            if table is not None:
                yield table
    finally:
        samples.close()
    last = buffer.flush()
    if last is not None:
        yield last


__all__ = [
    "KNOWN_VERSIONS",
    "MAX_MEMBER_BYTES",
    "count_rows",
    "iter_tables",
    "recognise_json",
    "sample_row",
    "schema",
]

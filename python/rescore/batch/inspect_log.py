"""inspect_ai evaluation logs: ``.eval`` (a zip archive, the default since inspect_ai 0.3.46) and
``.json`` (the same log as one document).

An ``.eval`` file holds ``header.json`` (the log without its samples: ``version``, ``eval``
with ``task`` and ``model``, ``results``, ...), one ``samples/<id>_epoch_<n>.json`` per sample
and epoch, and journal and summary members. Members are zstd-compressed (zip method 93) in
recent versions, deflated in older ones; a member name written twice means the later entry
supersedes the earlier (inspect_ai's ``_zip_writestr``). zstd members are read with pyarrow's
zstd codec, so no extra dependency is needed; the central directory is read in one go (zip64
and other rarities through :mod:`zipfile`), and members one at a time, so memory stays that of
one sample. A ``.json`` log is ``{"version", "status", "eval", ..., "samples": [...]}``
(``inspect_ai/log/_recorders/json.py``): its schema comes from its header and first sample
alone, its rows from one parse of the whole document (``orjson`` when installed).

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

import json
import re
import struct
import zipfile
import zlib
from collections.abc import Generator, Iterator, Mapping
from typing import Any, NamedTuple

import pyarrow as pa

from rescore.batch.lm_eval import ERROR_CHOICES, ERROR_TEXT
from rescore.batch.record_rows import (
    HARNESS_PREFIX,
    harness_column,
    loads,
    metric_value,
    row_schema,
)
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
PEEK_BYTES = 1 << 16
"""First read of a ``.json`` log when only its header and first sample are wanted (doubled
until they are in)."""
_ZSTD: list[pa.Codec] = []


def _zstd_codec() -> pa.Codec:
    if not _ZSTD:  # made once: a Codec costs more to make than a small member to decompress
        _ZSTD.append(pa.Codec("zstd"))
    return _ZSTD[0]


def recognise_json(head: bytes) -> bool:
    """Whether the first bytes of a ``.json`` file are an inspect_ai log's."""
    return _JSON_LOG.match(head) is not None


# --- reading the archive ------------------------------------------------------------------------


class _Member(NamedTuple):
    method: int
    crc: int
    compressed: int
    size: int
    offset: int


_CENTRAL = struct.Struct("<4sHHHH4xIIIHHH8xI")
_EOCD = struct.Struct("<4sHHHHIIH")


def _central_directory(fh: Any) -> list[tuple[str, _Member]] | None:
    """The members listed in a zip's central directory, read in one go (``None`` for what is
    not a plain single-disk zip, such as zip64: :mod:`zipfile` reads those, more slowly)."""
    fh.seek(0, 2)
    size = fh.tell()
    tail_len = min(size, _EOCD.size + 0xFFFF)
    fh.seek(size - tail_len)
    tail = bytes(fh.read(tail_len))
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) - i < _EOCD.size or tail[max(0, i - 20) : i - 16] == b"PK\x06\x07":
        return None
    _, disk, cd_disk, on_disk, count, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, i)
    if disk or cd_disk or on_disk != count or cd_offset + cd_size > size - tail_len + i:
        return None
    fh.seek(cd_offset)
    cd = bytes(fh.read(cd_size))
    out = []
    pos = 0
    for _ in range(count):
        if pos + _CENTRAL.size > len(cd):
            return None
        sig, _, _, flags, method, crc, csize, usize, nlen, elen, clen, offset = (
            _CENTRAL.unpack_from(cd, pos)
        )
        if sig != b"PK\x01\x02" or 0xFFFFFFFF in (csize, usize, offset):
            return None
        pos += _CENTRAL.size
        name = cd[pos : pos + nlen].decode("utf-8" if flags & 0x800 else "cp437")
        pos += nlen + elen + clen
        out.append((name, _Member(method, crc, csize, usize, offset)))
    return out


class _Archive:
    """An ``.eval`` zip, its members read whole with a size limit."""

    def __init__(self, path: AnyPath) -> None:
        self.path = path
        self.fh = path.open("rb")
        self._zip: zipfile.ZipFile | None = None
        try:
            listed = _central_directory(self.fh)
            if listed is None:
                self._zip = zipfile.ZipFile(self.fh)
                listed = [
                    (
                        i.filename,
                        _Member(i.compress_type, i.CRC, i.compress_size, i.file_size, -1),
                    )
                    for i in self._zip.infolist()
                ]
        except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as e:
            self.fh.close()
            msg = f"{path}: not a readable .eval (zip) log: {e}"
            raise InputFormatError(msg) from None
        last: dict[str, _Member] = {}
        for name, member in listed:
            last.pop(name, None)  # a name written again supersedes (and moves last)
            last[name] = member
        self.members = last

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        self.fh.close()

    def read(self, name: str) -> Any:
        info = self.members.get(name)
        if info is None:
            msg = f"{self.path}: the log has no member {name!r}"
            raise InputFormatError(msg)
        if info.size > MAX_MEMBER_BYTES:
            msg = (
                f"{self.path}: member {name!r} would expand to {info.size} bytes, past the "
                f"limit of {MAX_MEMBER_BYTES} (a zip bomb, or not an inspect_ai log)"
            )
            raise InputFormatError(msg)
        try:
            return loads(self._data(name, info))
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            ValueError,
            zlib.error,
            pa.ArrowException,
        ) as e:
            msg = f"{self.path}: member {name!r} is corrupt or truncated: {e}"
            raise InputFormatError(msg) from None

    def _data(self, name: str, info: _Member) -> bytes:
        if info.offset < 0 or info.method not in (0, 8, ZIP_ZSTANDARD):
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.fh)
            with self._zip.open(name) as member:
                return member.read(MAX_MEMBER_BYTES + 1)
        self.fh.seek(info.offset)
        header = self.fh.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            msg = "bad local file header"
            raise OSError(msg)
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        self.fh.seek(info.offset + 30 + name_len + extra_len)
        raw = self.fh.read(info.compressed)
        if len(raw) != info.compressed:
            msg = "member data ends early"
            raise OSError(msg)
        if info.method == ZIP_ZSTANDARD:
            data = _zstd_codec().decompress(raw, decompressed_size=info.size, asbytes=True)
        elif info.method == 8:
            data = zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, MAX_MEMBER_BYTES + 1)
        else:
            data = raw
        if len(data) != info.size or zlib.crc32(data) != info.crc:
            msg = "its size or CRC-32 is not the one the archive lists"
            raise OSError(msg)
        return data  # type: ignore[no-any-return]

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


def _json_log(path: AnyPath) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = loads(fh.read())
    except ValueError as e:
        msg = f"{path}: not valid JSON (truncated or corrupt inspect_ai log): {e}"
        raise InputFormatError(msg) from None
    _check_version(path, data)
    return data  # type: ignore[no-any-return]


def _json_head(path: AnyPath) -> tuple[dict[str, Any], Any] | None:
    """The top-level fields before ``samples`` and the first sample of a ``.json`` log, read
    from the file's beginning without parsing the rest (``None``: a first sample is not found,
    or the log ends first; the caller reads the whole log then)."""
    decoder = json.JSONDecoder()
    size = PEEK_BYTES
    while True:
        with path.open("rb") as fh:
            data = bytes(fh.read(size))
        text = data.decode("utf-8", errors="replace")  # a cut character can only be last
        head: dict[str, Any] = {}
        try:
            i = _skip_ws(text, 0)
            if text[i] != "{":
                return None
            i = _skip_ws(text, i + 1)
            while text[i] == '"':
                key, i = decoder.raw_decode(text, i)
                i = _skip_ws(text, i)
                if text[i] != ":":
                    return None
                i = _skip_ws(text, i + 1)
                if key == "samples":
                    if text[i] != "[":
                        return None
                    i = _skip_ws(text, i + 1)
                    if text[i] == "]":
                        return head, None
                    first, i = decoder.raw_decode(text, i)
                    return head, first
                head[key], i = decoder.raw_decode(text, i)
                i = _skip_ws(text, i)
                if text[i] == ",":
                    i = _skip_ws(text, i + 1)
            return None  # the object ended without samples
        except (ValueError, IndexError):
            if len(data) < size:  # the whole file was read: not valid JSON
                return None
            size *= 4


def _skip_ws(text: str, i: int) -> int:
    while text[i] in " \t\n\r":
        i += 1
    return i


def _first_sample(path: AnyPath) -> Any:
    """The first sample of a log (``None`` if it has none), its version checked."""
    if path.suffix.lower() == ".json":
        peek = _json_head(path)
        if peek is not None and "version" in peek[0] and "eval" in peek[0]:
            _check_version(path, peek[0])
            return peek[1]
    _header, samples = _header_and_samples(path)
    try:
        return next(samples, None)
    finally:
        samples.close()


def _header_and_samples(path: AnyPath) -> tuple[Mapping[str, Any], Generator[Any, None, None]]:
    if path.suffix.lower() == ".json":
        log = _json_log(path)
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
        value = score.get("value") if type(score) is dict else score
        if type(value) is dict:
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


def _reference(target: Any) -> list[str] | None:
    if isinstance(target, str):
        return [target]
    if isinstance(target, list) and all(isinstance(t, str) for t in target):
        return target
    return None


def sample_table(
    samples: list[Any], model: str | None, task: str | None, out: pa.Schema
) -> pa.Table:
    """The rows of ``EvalSample`` records, one each (see the module doc), built column by
    column."""
    n = len(samples)
    records = [s if isinstance(s, dict) else {} for s in samples]
    outputs = [o if isinstance(o := s.get("output"), dict) else {} for s in records]
    completions = [c if isinstance(c := o.get("completion"), str) else None for o in outputs]
    targets = [s.get("target") for s in records]
    references = [_reference(t) for t in targets]
    errors = [
        "the sample is not a JSON object"
        if not isinstance(sample, dict)
        else f"target {target!r} is neither a string nor a list of strings"
        if reference is None
        else "the sample has no output.completion"
        if completion is None
        else None
        for sample, target, reference, completion in zip(
            samples, targets, references, completions, strict=True
        )
    ]
    columns: dict[str, Any] = {
        "model": pa.repeat(pa.scalar(model, pa.string()), n),
        "task": pa.repeat(pa.scalar(task, pa.string()), n),
        "example_id": [None if (i := s.get("id")) is None else str(i) for s in records],
        "sample": [e - 1 if type(e) is int else None for e in (s.get("epoch") for s in records)],
        "prediction": completions,
        "reference": references,
        "token_logprobs": [_token_logprobs(o) for o in outputs],
        ERROR_TEXT: errors,
    }
    if any(isinstance(s.get("choices"), list) and s["choices"] for s in records):
        continuations: list[list[str] | None] = []
        labels: list[int | None] = []
        choice_errors: list[str | None] = []
        for s, target in zip(records, targets, strict=True):
            choices = s.get("choices")
            if not (isinstance(choices, list) and choices):
                continuations.append(None)
                labels.append(None)
                choice_errors.append(None)
                continue
            continuations.append([str(c) for c in choices])
            try:
                labels.append(_label(target, len(choices)))
                choice_errors.append(None)
            except ValueError as e:
                labels.append(None)
                choice_errors.append(str(e))
        columns["continuations"] = continuations
        columns["target_index"] = labels
        columns[ERROR_CHOICES] = choice_errors
    harness = [name for name in out.names if name.startswith(HARNESS_PREFIX)]
    if harness:
        scored = [_scores(s) for s in records]
        for name in harness:
            columns[name] = [sc.get(name) for sc in scored]
    arrays = [
        pa.array(columns[f.name], f.type) if f.name in columns else pa.nulls(n, f.type) for f in out
    ]
    return pa.Table.from_arrays(arrays, schema=out)


def _names(header: Mapping[str, Any]) -> tuple[str | None, str | None]:
    ev = header.get("eval", {})
    model, task = ev.get("model"), ev.get("task")
    return (model if isinstance(model, str) else None, task if isinstance(task, str) else None)


def _schema(first: Any) -> pa.Schema:
    names = list(_scores(first)) if isinstance(first, dict) else []
    return row_schema([n.removeprefix("harness_") for n in names], extra=EXTRA)


def schema(path: AnyPath) -> pa.Schema:
    """The rows' schema: the scorers of the log's first sample as ``harness_`` columns (a
    ``.json`` log is read only as far as its first sample)."""
    return _schema(_first_sample(path))


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
    """Stream a log's rows as tables of at most ``rows`` rows (an ``.eval`` log's samples are
    read one member at a time)."""
    header, samples = _header_and_samples(path)
    model, task = _names(header)
    rows = max(1, rows)
    try:
        chunk: list[Any] = []
        out: pa.Schema | None = None
        for sample in samples:
            if out is None:
                out = _schema(sample)
            chunk.append(sample)
            if len(chunk) >= rows:
                yield sample_table(chunk, model, task, out)
                chunk = []
        if chunk and out is not None:
            yield sample_table(chunk, model, task, out)
    finally:
        samples.close()


__all__ = [
    "KNOWN_VERSIONS",
    "MAX_MEMBER_BYTES",
    "count_rows",
    "iter_tables",
    "recognise_json",
    "sample_table",
    "schema",
]

"""The output directory of a batch job: atomic part files, a manifest, and resuming.

Layout of ``OUT``::

    OUT/_manifest.json                 settings, fingerprint, inputs, finished units, totals
    OUT/part-FFFFF-UUUUUU.parquet      unit UUUUUU of input file FFFFF (key + metric columns)

Readers take ``OUT/*.parquet`` and ignore names starting with ``_`` or ``.``.

On object storage (``s3://``, ...) a part or the manifest is one object written in one request
once complete: an object store shows an object whole or not at all, so no temporary file is
needed.

Safety. A part is written to a hidden temporary file (``.part-...tmp-<pid>``), flushed to disk,
then renamed into place: a visible part is always complete, whenever the job is killed. Every
part carries the job's fingerprint and its own manifest record in its Parquet metadata (key
``rescore``), so a part written just before a kill, but not yet listed in the manifest, is
recognised and kept on the next run. The manifest is rewritten atomically (temporary file, then
rename), at most about once a second and at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rescore.batch.storage import AnyPath, RemotePath, arrow_source
from rescore.exceptions import OutputConflictError

MANIFEST = "_manifest.json"
MANIFEST_FORMAT = "rescore.score/1"
METADATA_KEY = b"rescore"
PART = re.compile(r"^part-(\d{5})-(\d{6})\.parquet$")
TEMP = re.compile(r"^\.(part-\d{5}-\d{6}\.parquet|_manifest\.json)\.tmp-\d+$")
SAVE_EVERY_SECONDS = 1.0


def part_name(file_index: int, unit: int) -> str:
    """The file name of a unit's part."""
    return f"part-{file_index:05d}-{unit:06d}.parquet"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def list_parts(directory: AnyPath) -> list[AnyPath]:
    """The part files of an output directory, in order."""
    return sorted((p for p in directory.iterdir() if PART.match(p.name)), key=lambda p: p.name)


def _write_atomic(path: AnyPath, data: bytes) -> None:
    if isinstance(path, RemotePath):
        path.write_bytes(data)
        return
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def write_part_file(
    directory: AnyPath,
    fingerprint: str,
    file_index: int,
    unit: int,
    table: pa.Table,
    record: Mapping[str, Any],
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """Write one unit's scores as ``directory/part-FFFFF-UUUUUU.parquet``, atomically.

    The part carries ``metadata``, the job's ``fingerprint``, its file and unit indices and
    ``record`` in its Parquet metadata (key ``rescore``). Writing the same unit again replaces
    the part whole, so a retried writer never leaves a duplicate. Returns ``record`` with the
    part's name, for :meth:`OutputDir.add_part`.
    """
    name = part_name(file_index, unit)
    record = {**record, "part": name}
    meta = {
        **metadata,
        "fingerprint": fingerprint,
        "file": file_index,
        "unit": unit,
        "record": record,
    }
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})
    if isinstance(directory, RemotePath):
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        (directory / name).write_bytes(sink.getvalue().to_pybytes())
        return record
    final = directory / name
    tmp = directory / f".{name}.tmp-{os.getpid()}"
    with tmp.open("wb") as fh:
        pq.write_table(table, fh, compression="zstd")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    _fsync_dir(directory)
    return record


def read_part_record(path: AnyPath) -> dict[str, Any] | None:
    """The ``rescore`` metadata of a part file (``None`` if it has none or is unreadable)."""
    try:
        meta = pq.read_schema(arrow_source(path)).metadata or {}
    except (pa.ArrowInvalid, OSError):
        return None
    raw = meta.get(METADATA_KEY)
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if old.get(k) != new.get(k)]


class OutputDir:
    """The output directory of one job, opened for writing (creating or resuming it).

    Parameters
    ----------
    path
        ``OUT``.
    fingerprint
        The job's settings fingerprint; an existing ``OUT`` of another fingerprint is refused.
    settings
        Settings to store in the manifest (and to show what differs on a refusal).
    inputs
        Input fingerprints, stored in the manifest.
    overwrite
        Delete an existing output (only the files rescore writes) and start over.
    """

    def __init__(
        self,
        path: AnyPath,
        *,
        fingerprint: str,
        settings: Mapping[str, Any],
        inputs: list[dict[str, Any]],
        rescore_version: str,
        overwrite: bool = False,
    ) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._last_save = 0.0
        self.manifest: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "rescore_version": rescore_version,
            "fingerprint": fingerprint,
            "settings": dict(settings),
            "inputs": inputs,
            "files": {},
            "complete": False,
            "totals": None,
        }
        self.resumed = False
        self._lock()
        self._open(overwrite)

    # -- opening ---------------------------------------------------------------------------

    def _lock(self) -> None:
        """Hold an exclusive ``flock`` on ``OUT`` itself while this object lives, so a second
        job on the same local output refuses to start. The kernel releases the lock when the
        holding process dies, and no lock file is left, so a killed job never blocks a rerun.
        (Object stores have no locks: jobs there must not share an output.)"""
        if not isinstance(self.path, Path):
            return
        import fcntl

        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            msg = (
                f"output directory {str(self.path)!r} is being written by another rescore job; "
                "wait for it to finish, or choose another --out"
            )
            raise OutputConflictError(msg) from None
        self._unlock = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        """Give up the lock now (a job ends; the object may outlive it in a traceback)."""
        unlock = getattr(self, "_unlock", None)
        if unlock is not None:
            unlock()

    def _open(self, overwrite: bool) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        names = sorted(p.name for p in self.path.iterdir() if p.name)
        foreign = [
            n
            for n in names
            if not (n == MANIFEST or PART.match(n) or TEMP.match(n) or n.startswith("."))
        ]
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            msg = (
                f"output directory {str(self.path)!r} holds files rescore did not write "
                f"({shown}); choose an empty or new --out"
            )
            raise OutputConflictError(msg)
        for n in names:
            if TEMP.match(n):  # left by a killed run: never visible, never complete
                (self.path / n).unlink(missing_ok=True)
        parts = [n for n in names if PART.match(n)]
        manifest_path = self.path / MANIFEST
        if overwrite:
            for n in parts:
                (self.path / n).unlink()
            manifest_path.unlink(missing_ok=True)
            if isinstance(self.path, Path):
                _fsync_dir(self.path)
            self.save(force=True)
            return
        if manifest_path.exists():
            try:
                old = json.loads(manifest_path.read_text(encoding="utf-8"))
            except ValueError as e:
                msg = f"{manifest_path} is not valid JSON ({e}); pass --overwrite to start over"
                raise OutputConflictError(msg) from None
            if old.get("fingerprint") != self.fingerprint:
                self._refuse(old)
            self.manifest["files"] = old.get("files", {})
            self.resumed = True
        elif parts:
            self.resumed = True
        self._reconcile(parts)
        self.save(force=True)

    def _refuse(self, old: Mapping[str, Any]) -> None:
        diff = _differences(old.get("settings", {}), self.manifest["settings"])
        if old.get("inputs") != self.manifest["inputs"]:
            diff.append("inputs")
        if old.get("rescore_version") != self.manifest["rescore_version"]:
            diff.append("rescore version")
        what = ", ".join(diff) or "settings"
        msg = (
            f"output directory {str(self.path)!r} holds scores made with other settings "
            f"(differing: {what}); refusing to mix them. Pass --overwrite to start over, or "
            "choose another --out"
        )
        raise OutputConflictError(msg)

    def _reconcile(self, parts: list[str]) -> None:
        """Drop manifest entries whose part is gone; adopt complete parts the manifest lacks."""
        on_disk = set(parts)
        for fstate in self.manifest["files"].values():
            units = fstate.get("units", {})
            for k in [k for k, rec in units.items() if rec["part"] not in on_disk]:
                del units[k]
                fstate["units_total"] = None
        listed = {
            rec["part"] for f in self.manifest["files"].values() for rec in f["units"].values()
        }
        for name in parts:
            if name in listed:
                continue
            record = read_part_record(self.path / name)
            if record is None or record.get("fingerprint") != self.fingerprint:
                msg = (
                    f"{self.path / name} was not written by a job with these settings; "
                    "pass --overwrite to start over, or choose another --out"
                )
                raise OutputConflictError(msg)
            self._record(int(record["file"]), int(record["unit"]), record["record"])

    # -- state -----------------------------------------------------------------------------

    def _file(self, file_index: int) -> dict[str, Any]:
        files: dict[str, dict[str, Any]] = self.manifest["files"]
        return files.setdefault(str(file_index), {"units": {}, "units_total": None, "rows": None})

    def _record(self, file_index: int, unit: int, record: Mapping[str, Any]) -> None:
        self._file(file_index)["units"][str(unit)] = dict(record)

    def done_units(self, file_index: int) -> set[int]:
        """Units of input ``file_index`` already written."""
        return {int(k) for k in self._file(file_index)["units"]}

    def file_complete(self, file_index: int) -> bool:
        """Whether every unit of input ``file_index`` is written."""
        f = self._file(file_index)
        total = f["units_total"]
        return total is not None and len(f["units"]) == total

    def file_rows_done(self, file_index: int) -> int:
        """Input rows of ``file_index`` covered by written units."""
        return sum(int(r["rows_in"]) for r in self._file(file_index)["units"].values())

    def records(self) -> list[dict[str, Any]]:
        """Every written unit's record."""
        return [r for f in self.manifest["files"].values() for r in f["units"].values()]

    # -- writing ---------------------------------------------------------------------------

    def write_part(
        self,
        file_index: int,
        unit: int,
        table: pa.Table,
        record: Mapping[str, Any],
        metadata: Mapping[str, Any],
    ) -> None:
        """Write one unit's scores atomically and record it."""
        written = write_part_file(
            self.path, self.fingerprint, file_index, unit, table, record, metadata
        )
        self.add_part(file_index, unit, written)

    def add_part(self, file_index: int, unit: int, record: Mapping[str, Any]) -> None:
        """Record a part that :func:`write_part_file` wrote (here or on another process)."""
        self._record(file_index, unit, record)
        self.save()

    def finish_file(self, file_index: int, units_total: int, rows: int) -> None:
        """Record that input ``file_index`` has ``units_total`` units and ``rows`` rows."""
        f = self._file(file_index)
        f["units_total"] = units_total
        f["rows"] = rows
        self.save()

    def finish(self, totals: Mapping[str, Any]) -> None:
        """Mark the job complete with its totals."""
        self.manifest["complete"] = True
        self.manifest["totals"] = dict(totals)
        self.save(force=True)

    def save(self, *, force: bool = False) -> None:
        """Write the manifest (atomically), at most every ``SAVE_EVERY_SECONDS`` unless forced."""
        now = time.monotonic()
        if not force and now - self._last_save < SAVE_EVERY_SECONDS:
            return
        data = json.dumps(self.manifest, indent=1, sort_keys=True).encode()
        _write_atomic(self.path / MANIFEST, data)
        self._last_save = now


__all__ = [
    "MANIFEST",
    "OutputDir",
    "list_parts",
    "part_name",
    "read_part_record",
    "write_part_file",
]

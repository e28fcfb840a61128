"""Where a job's time goes: wall and CPU seconds per stage (``rescore score --verbose``, benches).

Stages, in the order data flows:

- ``start``: interpreter start and imports, up to the command's first line (CLI only, Linux);
- ``plan``: finding the inputs, their schemas, the spec, opening (or resuming) the output;
- ``read``: decoding units (Parquet, JSON, CSV) and casting them to the job's types;
- ``score``: the metric calls and the per-unit work around them;
- ``write``: encoding each part, ``fsync``, renaming it into place, the manifest;
- ``summary``: the per-model-and-task aggregates of the finished output.

A stage's *wall* is the time its thread spent in it, summed over units; in the pipelined local
engine ``read``, ``score`` and ``write`` run at the same time on three threads, so their walls
add up to more than the job's. A stage's *CPU* is its own thread's CPU time. Work a stage hands
to pools while it waits is counted per pool, from the operating system's per-thread counters
(Linux ``/proc``; elsewhere these rows are absent): ``kernels`` is the metric kernels' threads
(named ``rescore-N``), ``other threads`` is everything else that ran, mostly Arrow's decoding
and compression pool.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

KERNEL_THREAD = re.compile(r"^rescore-\d+$")
"""The name of a metric kernel thread (rayon's pools, named in ``parallel.rs``)."""

POOL_STAGES = ("kernels", "other threads")


@dataclass(frozen=True)
class StageTime:
    """Seconds spent in one stage."""

    wall: float
    """Wall-clock seconds the stage's thread spent in it."""
    cpu: float | None
    """CPU seconds (user + system) of the thread(s) it names; ``None`` where unknown."""

    def to_dict(self) -> dict[str, float | None]:
        """As JSON-ready numbers."""
        return {"wall": self.wall, "cpu": self.cpu}


class StageClock:
    """Adds up wall and thread CPU time per stage; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wall: dict[str, float] = {}
        self._cpu: dict[str, float | None] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Count the time of the ``with`` block (on the calling thread) towards ``name``."""
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - w0, time.thread_time() - c0)

    def add(self, name: str, wall: float, cpu: float | None) -> None:
        """Count ``wall`` and ``cpu`` seconds towards ``name``."""
        with self._lock:
            self._wall[name] = self._wall.get(name, 0.0) + wall
            old = self._cpu.get(name, 0.0)
            self._cpu[name] = None if old is None or cpu is None else old + cpu

    def times(self) -> dict[str, StageTime]:
        """Every stage counted so far, in the order first seen."""
        with self._lock:
            return {k: StageTime(w, self._cpu[k]) for k, w in self._wall.items()}


def _ticks() -> float:
    return float(os.sysconf("SC_CLK_TCK"))


def _stat_fields(path: Path) -> list[str] | None:
    try:
        text = path.read_text()
    except OSError:  # the thread ended between listing and reading, or no /proc
        return None
    return text[text.rfind(")") + 2 :].split()  # after "pid (comm) ": comm may hold spaces


def thread_cpu() -> dict[int, tuple[str, float]] | None:
    """``{thread id: (name, CPU seconds)}`` for every thread of this process (Linux), else
    ``None``."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return None
    hz = _ticks()
    out: dict[int, tuple[str, float]] = {}
    for entry in tasks.iterdir():
        fields = _stat_fields(entry / "stat")
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if fields is None:
            continue
        # fields[11], fields[12]: utime, stime (stat fields 14 and 15, counted from 1)
        out[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / hz)
    return out


class PoolMeter:
    """CPU seconds of the threads a job did not run its stages on (kernel and Arrow pools),
    between :meth:`start` and :meth:`stop`."""

    def __init__(self) -> None:
        self._before: dict[int, tuple[str, float]] | None = None
        self._exclude: set[int] = set()

    def start(self) -> None:
        """Take the first reading."""
        self._before = thread_cpu()

    def exclude(self, native_id: int) -> None:
        """A thread whose CPU its stage already counts (by :meth:`StageClock.stage`)."""
        self._exclude.add(native_id)

    def stop(self, clock: StageClock, wall: float) -> None:
        """Add the pools' CPU since :meth:`start` to ``clock`` (with ``wall``, the run's)."""
        after = thread_cpu()
        if self._before is None or after is None:
            return
        sums = dict.fromkeys(POOL_STAGES, 0.0)
        for tid, (name, cpu) in after.items():
            if tid in self._exclude:
                continue
            spent = cpu - self._before.get(tid, (name, 0.0))[1]
            sums["kernels" if KERNEL_THREAD.match(name) else "other threads"] += spent
        for name, cpu in sums.items():
            clock.add(name, wall, cpu)


def since_process_start() -> StageTime | None:
    """Wall and CPU seconds from this process's start to now (Linux), else ``None``."""
    try:
        stat = _stat_fields(Path("/proc/self/stat"))
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if stat is None:
        return None
    started = int(stat[19]) / _ticks()  # stat field 22: start time, in ticks since boot
    return StageTime(max(uptime - started, 0.0), time.process_time())


def format_rows(times: Mapping[str, StageTime]) -> list[tuple[str, str, str]]:
    """``(stage, wall, cpu)`` cells for a table, seconds with two decimals."""
    rows = []
    for name, t in times.items():
        cpu = "-" if t.cpu is None else f"{t.cpu:.2f}"
        wall = "-" if name in POOL_STAGES else f"{t.wall:.2f}"
        rows.append((name, wall, cpu))
    return rows


__all__ = [
    "KERNEL_THREAD",
    "PoolMeter",
    "StageClock",
    "StageTime",
    "format_rows",
    "since_process_start",
    "thread_cpu",
]

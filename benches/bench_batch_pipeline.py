"""``rescore score`` Parquet to Parquet against its floors, side by side, in rounds.

Each round, in this order, on the same file (``benches/datagen.py``'s skewed 1M-row file):

- the bare kernels on the rows in memory (token edit distance on the id columns, exact match on
  the text, Brier on the probabilities), in this process: the speed target's reference;
- pyarrow alone streaming the columns the job reads, the way the job's reader does (one row
  group at a time, 65,536-row batches), in a fresh process: the memory target's reference;
- ``rescore score`` with ``--in-flight 0`` (the stages one after another, as before the
  pipeline) and with the default ``--in-flight`` (reading, scoring, writing overlapped), each in
  a fresh process under GNU time (wall, peak RSS), with ``--verbose`` for the stage breakdown;
- optionally (``--before PYTHONPATH``) another checkout's ``rescore score``, e.g. main.

Prints medians over ``--rounds`` and, with ``--results``, replaces this bench's section of
``benches/RESULTS.md``. The machine is shared: read the ratios, and the load averages printed
with them.

Usage::

    python benches/bench_batch_pipeline.py --rounds 3 [--before /work/main/python] [--results]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

import rescore

sys.path.insert(0, str(Path(__file__).parent))
import datagen

COLUMNS = {
    "prediction": "prediction",
    "reference": "reference",
    "prediction-ids": "prediction_ids",
    "reference-ids": "reference_ids",
    "choices": "probabilities",
    "label": "label",
}
KEYS = ["model", "task", "doc_id"]
METRICS = "token_edit_distance,exact_match,brier_score"
STAGE_ROW = re.compile(r"^\W*(\w[\w ]*?)\s+│\s+([\d.]+|-)\s+│\s+([\d.]+|-)\s+│\s*$")
BEGIN, END = "<!-- bench_batch_pipeline: begin -->", "<!-- bench_batch_pipeline: end -->"

STREAM = """
import sys
import pyarrow.parquet as pq
pf = pq.ParquetFile(sys.argv[1])
cols = sys.argv[2].split(",")
n = 0
for rg in range(pf.metadata.num_row_groups):
    for batch in pf.iter_batches(batch_size=65536, row_groups=[rg], columns=cols):
        n += batch.num_rows
print(n)
"""


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def kernels(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the three kernels on the rows in memory (read first, not
    timed)."""
    t = pq.read_table(path, columns=list(COLUMNS.values()))
    t0, c0 = time.perf_counter(), time.process_time()
    rescore.token_edit_distance(t["prediction_ids"], t["reference_ids"])
    rescore.exact_match(t["prediction"], t["reference"])
    rescore.brier_score(t["probabilities"], t["label"])
    return time.perf_counter() - t0, time.process_time() - c0


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS (MiB; GNU time) and stderr of
    ``cmd`` in a fresh process."""
    t0 = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "RSS_KIB=%M CPU=%U+%S", *cmd],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - t0
    rss_kib, user, system = re.findall(r"RSS_KIB=(\d+) CPU=([\d.]+)\+([\d.]+)", done.stderr)[-1]
    return seconds, float(user) + float(system), int(rss_kib) / 1024, done.stderr


def job(path: Path, in_flight: int | None, pythonpath: str | None = None) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="rescore-bench-"))
    cmd = [sys.executable, "-m", "rescore.cli", "score", str(path), "--out", str(out / "s")]
    cmd += ["--metrics", METRICS, "--quiet"]
    for flag, col in COLUMNS.items():
        cmd += [f"--{flag}-col", col]
    env = None
    if pythonpath is not None:
        env = {**os.environ, "PYTHONPATH": pythonpath}
    else:
        cmd += ["--verbose"]
        if in_flight is not None:
            cmd += ["--in-flight", str(in_flight)]
    try:
        seconds, cpu, rss, err = timed(cmd, env)
    finally:
        shutil.rmtree(out)
    stages = {}
    for line in err.splitlines():
        m = STAGE_ROW.match(line)
        if m and m.group(1) != "stage":
            stage_wall, stage_cpu = (None if v == "-" else float(v) for v in m.group(2, 3))
            stages[m.group(1)] = (stage_wall, stage_cpu)
    return {"seconds": seconds, "cpu": cpu, "rss": rss, "stages": stages}


def median_stages(runs: list[dict[str, Any]]) -> dict[str, tuple[float | None, float | None]]:
    names = list(dict.fromkeys(k for r in runs for k in r["stages"]))
    out = {}
    for name in names:
        cells: list[float | None] = []
        for i in (0, 1):
            vals = [r["stages"][name][i] for r in runs if name in r["stages"]]
            real = [v for v in vals if v is not None]
            cells.append(statistics.median(real) if real else None)
        out[name] = (cells[0], cells[1])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "rescore-bench")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before", help="PYTHONPATH of another checkout to time as well (e.g. main)")
    ap.add_argument("--results", action="store_true", help="write the section of RESULTS.md")
    a = ap.parse_args()
    path = a.data / f"rows_{a.rows}.parquet"
    if not path.exists():
        a.data.mkdir(parents=True, exist_ok=True)
        datagen.generate(path, a.rows)
    read_cols = ",".join([*KEYS, *COLUMNS.values()])
    runs: dict[str, list[dict[str, Any]]] = {}
    loads = []
    for r in range(a.rounds):
        loads.append(load())
        print(f"round {r + 1}/{a.rounds}, load {loads[-1]}", file=sys.stderr, flush=True)
        wall, cpu = kernels(path)
        runs.setdefault("kernels", []).append({"seconds": wall, "cpu": cpu, "rss": None})
        s, cpu, rss, _ = timed([sys.executable, "-c", STREAM, str(path), read_cols])
        runs.setdefault("stream", []).append({"seconds": s, "cpu": cpu, "rss": rss})
        runs.setdefault("seq", []).append(job(path, 0))
        runs.setdefault("pipe", []).append(job(path, None))
        if a.before:
            runs.setdefault("before", []).append(job(path, None, a.before))
        print({k: round(v[-1]["seconds"], 2) for k, v in runs.items()}, file=sys.stderr)
    loads.append(load())
    report = render(runs, a.rows, a.rounds, loads, a.before)
    print(report)
    if a.results:
        results = Path(__file__).with_name("RESULTS.md")
        text = results.read_text()
        section = f"{BEGIN}\n{report}\n{END}"
        if BEGIN in text:
            text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), section, text, flags=re.S)
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        results.write_text(text)


def render(
    runs: dict[str, list[dict[str, Any]]],
    rows: int,
    rounds: int,
    loads: list[str],
    before: str | None,
) -> str:
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu"] for r in v) for k, v in runs.items()}
    rss = {
        k: statistics.median(r["rss"] for r in v)
        for k, v in runs.items()
        if v[0]["rss"] is not None
    }
    labels = {
        "kernels": "bare kernels, rows in memory (reference)",
        "stream": "pyarrow streaming the job's columns (memory reference)",
        "seq": "rescore score --in-flight 0 (stages one after another)",
        "pipe": "rescore score (pipelined, default --in-flight 2)",
        "before": f"rescore score from {before} (before this change)",
    }
    lines = [
        "## Batch job: pipeline and stages",
        "",
        f"Produced by `python benches/bench_batch_pipeline.py --rounds {rounds}"
        + (f" --before {before}" if before else "")
        + f" --results` on {rows:,} rows of `rows_{rows}.parquet`; medians of {rounds} rounds, "
        f"each round running every row below in turn. Load averages (1, 5, 15 min) at each "
        f"round's start and at the end: {'; '.join(loads)} (2 cores, shared).",
        "",
        "| run | median wall s | x bare kernels | median CPU s | x kernels' CPU "
        "| peak RSS MiB | x pyarrow streaming RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for k, label in labels.items():
        if k not in med:
            continue
        ratio = med[k] / med["kernels"]
        mem = rss.get(k)
        mem_cells = ["-", "-"] if mem is None else [f"{mem:,.0f}", f"{mem / rss['stream']:.2f}x"]
        cells = [f"{med[k]:.2f}", f"{ratio:.2f}x", f"{cpu[k]:.2f}"]
        cells += [f"{cpu[k] / cpu['kernels']:.2f}x", *mem_cells]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Stage breakdown (`rescore score --verbose`, medians; wall is each stage's own thread, so "
        "pipelined walls overlap; CPU is the stage's thread, `kernels` the kernel threads, "
        "`other threads` mostly Arrow's decoding pool):",
        "",
        "| stage | sequential wall s | sequential CPU s | pipelined wall s | pipelined CPU s |",
        "|---|---:|---:|---:|---:|",
    ]
    seq, pipe = median_stages(runs["seq"]), median_stages(runs["pipe"])

    def cell(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    for name in dict.fromkeys([*seq, *pipe]):
        a, b = seq.get(name, (None, None)), pipe.get(name, (None, None))
        lines.append(f"| {name} | " + " | ".join(cell(v) for v in (*a, *b)) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

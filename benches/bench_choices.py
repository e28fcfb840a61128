"""acc_norm and gold_probability on 1,000,000 four-choice rows, beside reading their columns.

Run ``python benches/bench_choices.py [--rows N] [--repeat R]``: writes a seeded Parquet file
(per-choice log-likelihoods, gold index, choice texts of 1-40 characters, some non-ASCII) to a
temporary directory, times each step as a median of ``--repeat`` rounds in one process (the
steps interleaved within each round, so a burst of load on a shared machine hits them alike),
prints the table and rewrites the "Multiple choice" section of ``benches/RESULTS.md``. The
issue's target: read + metric within 2x of the read alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import rescore
from rescore.metrics import acc_norm

CHOICES = 4
START = "<!-- bench_choices: start -->"
END = "<!-- bench_choices: end -->"


def make_table(rows: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    lls = -rng.gamma(2.0, 8.0, rows * CHOICES)
    offsets = pa.array(np.arange(0, rows * CHOICES + 1, CHOICES, dtype=np.int32))
    # texts: slices of one pool string, 1-40 characters, some with accents
    pool = "".join(rng.choice(list("abcdefghij klmnopqrstuvwxyzéü"), 4096))
    starts = rng.integers(0, 4096 - 40, rows * CHOICES)
    lengths = rng.integers(1, 41, rows * CHOICES)
    texts = pa.array([pool[s : s + n] for s, n in zip(starts, lengths, strict=True)])
    return pa.table(
        {
            "choice_logprobs": pa.ListArray.from_arrays(offsets, pa.array(lls)),
            "label": pa.array(rng.integers(0, CHOICES, rows)),
            "choice_texts": pa.ListArray.from_arrays(offsets, texts),
        }
    )


def median_times(steps: list[Callable[[], Any]], repeat: int) -> list[float]:
    """The median time of each step over ``repeat`` rounds, each round running every step."""
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(repeat):
        for step, out in zip(steps, times, strict=True):
            t0 = time.perf_counter()
            step()
            out.append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "choices.parquet"
        pq.write_table(make_table(args.rows), path)
        all_cols = ["choice_logprobs", "label", "choice_texts"]
        two_cols = ["choice_logprobs", "label"]

        def read(cols: list[str]) -> pa.Table:
            return pq.read_table(path, columns=cols)

        def read_acc_norm() -> None:
            t = read(all_cols)
            acc_norm(t["choice_logprobs"], t["label"], choices=t["choice_texts"])

        def read_gold() -> None:
            t = read(two_cols)
            rescore.gold_probability(t["choice_logprobs"], t["label"])

        table = read(all_cols)  # also warms the file cache: the first timed read is not cold
        read_acc_norm()
        read_gold()

        def numpy_acc_norm() -> None:  # what a user writes by hand, texts measured in Python
            lls = table["choice_logprobs"].combine_chunks().flatten().to_numpy()
            lens = np.array(
                [len(s) for s in table["choice_texts"].combine_chunks().flatten().to_pylist()]
            )
            pred = np.argmax((lls / lens).reshape(-1, CHOICES), axis=1)
            _ = pred == table["label"].to_numpy()

        steps: list[tuple[str, str, Callable[[], Any], str]] = [
            ("acc_norm", "pyarrow read of the 3 columns (floor)", lambda: read(all_cols), ""),
            ("acc_norm", "read + rescore acc_norm", read_acc_norm, ""),
            (
                "acc_norm",
                "rescore acc_norm, columns in memory",
                lambda: acc_norm(
                    table["choice_logprobs"], table["label"], choices=table["choice_texts"]
                ),
                "kernel only",
            ),
            (
                "gold probability",
                "pyarrow read of the 2 columns (floor)",
                lambda: read(two_cols),
                "",
            ),
            ("gold probability", "read + rescore gold_probability", read_gold, ""),
            (
                "gold probability",
                "rescore gold_probability, columns in memory",
                lambda: rescore.gold_probability(table["choice_logprobs"], table["label"]),
                "kernel only",
            ),
            (
                "gold probability",
                "rescore gold_probability, columns in memory, workers=1",
                lambda: rescore.gold_probability(
                    table["choice_logprobs"], table["label"], workers=1
                ),
                "kernel only, one thread",
            ),
        ]
        load = os.getloadavg()
        medians = median_times([fn for _, _, fn, _ in steps], args.repeat)
        rows = [
            (bench, step, seconds, note)
            for (bench, step, _, note), seconds in zip(steps, medians, strict=True)
        ]
        # the hand-written NumPy version is slow: fewer rounds, after the others
        (numpy_seconds,) = median_times([numpy_acc_norm], max(1, args.repeat // 2))
        rows.insert(
            3,
            (
                "acc_norm",
                "NumPy argmax, lengths via to_pylist",
                numpy_seconds,
                "fixed 4 choices only, no checks",
            ),
        )
    lines = [
        START,
        "## Multiple choice: acc_norm and gold probability",
        "",
        "Produced by `python benches/bench_choices.py "
        f"--rows {args.rows} --repeat {args.repeat}` on: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, pyarrow {pa.__version__}, numpy {np.__version__}. "
        f"{args.rows:,} rows of {CHOICES} choices (log-likelihoods, gold index, texts of 1-40 "
        "characters) in one Parquet file. Medians; the ratio is this row's time over the "
        "group's first row (the read alone). Target: read + metric within 2x of the read. "
        f"Steps interleaved in each of the {args.repeat} rounds; load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) at the start.",
        "",
        "| benchmark | step | rows | median s | rows/s | x read |",
        "|---|---|---:|---:|---:|---:|",
    ]
    floors: dict[str, float] = {}
    for bench, step, seconds, note in rows:
        floors.setdefault(bench, seconds)
        label = f"{step} ({note})" if note else step
        lines.append(
            f"| {bench} | {label} | {args.rows:,} | {seconds:.3f} | {args.rows / seconds:,.0f} "
            f"| {seconds / floors[bench]:.2f}x |"
        )
    lines.append(END)
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        results = Path(__file__).with_name("RESULTS.md")
        old = results.read_text("utf-8")
        if START in old and END in old:
            new = old[: old.index(START)] + text + old[old.index(END) + len(END) :]
        else:
            new = old.rstrip("\n") + "\n\n" + text + "\n"
        results.write_text(new, "utf-8")


if __name__ == "__main__":
    main()

"""BLEU, chrF, quasi exact match and token F1 on the benchmark file, side by side with the
reference implementations' per-row loops (sacrebleu's ``sentence_bleu`` / ``sentence_chrf``,
HELM's ``quasi_exact_match``, the SQuAD script's ``compute_f1``) on one thread, and corpus
BLEU/chrF against sacrebleu's corpus functions.

The per-row Python loops run on a sample (``--sample`` rows, the file's first rows) and their
rows/s is extrapolated to the whole file; rescore runs on every row, from Arrow, on all cores,
and on one thread on the first ``--one-thread-rows`` rows (rows/s extrapolated likewise). Usage::

    python benches/datagen.py /tmp/bench.parquet --rows 1000000
    python benches/bench_translation.py /tmp/bench.parquet [--sample 5000]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

import rescore


def seconds(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--one-thread-rows", type=int, default=100_000)
    args = parser.parse_args()

    import sacrebleu
    from tests.reference import helm_quasi_exact_match, squad_f1

    table = pq.read_table(args.path, columns=["prediction", "reference"])
    preds, refs = table["prediction"], table["reference"]
    n = len(table)
    sample_p = preds.slice(0, args.sample).to_pylist()
    sample_r = refs.slice(0, args.sample).to_pylist()
    print(f"rows: {n:,}; sample for per-row loops: {args.sample:,}; cores: {os.cpu_count()}")

    rows = []

    k1 = min(args.one_thread_rows, n)
    p1, r1 = preds.slice(0, k1), refs.slice(0, k1)

    def ours(label: str, fn: Callable[[Any, Any, int], Any]) -> None:
        all_cores = seconds(lambda: fn(preds, refs, -1), args.repeat)
        rows.append((label, "rescore, all cores (from Arrow)", n, all_cores))
        one = seconds(lambda: fn(p1, r1, 1), 1)
        rows.append((label, "rescore, 1 thread (from Arrow)", k1, one))

    def loop(label: str, tool: str, fn: Callable[[str, str], Any]) -> float:
        def run() -> None:
            for p, r in zip(sample_p, sample_r, strict=True):
                fn(p, r)

        s = seconds(run, 1)
        rows.append((label, tool, args.sample, s))
        return s

    ours("sentence BLEU", lambda p, r, w: rescore.bleu(p, r, workers=w))
    loop(
        "sentence BLEU",
        "sacrebleu.sentence_bleu loop",
        lambda p, r: sacrebleu.sentence_bleu(p, [r]),
    )
    ours("sentence chrF", lambda p, r, w: rescore.chrf(p, r, workers=w))
    loop(
        "sentence chrF",
        "sacrebleu.sentence_chrf loop",
        lambda p, r: sacrebleu.sentence_chrf(p, [r]),
    )
    ours("sentence chrF++", lambda p, r, w: rescore.chrf(p, r, word_order=2, workers=w))
    loop(
        "sentence chrF++",
        "sacrebleu.sentence_chrf(word_order=2) loop",
        lambda p, r: sacrebleu.sentence_chrf(p, [r], word_order=2),
    )
    ours("quasi exact match", lambda p, r, w: rescore.quasi_exact_match(p, r, workers=w))
    loop(
        "quasi exact match",
        "HELM quasi_exact_match loop",
        lambda p, r: helm_quasi_exact_match(r, p),
    )

    ours("token F1", lambda p, r, w: rescore.token_f1(p, r, workers=w))
    loop("token F1", "SQuAD compute_f1 loop", lambda p, r: squad_f1(r, p))

    ours("corpus BLEU", lambda p, r, w: rescore.corpus_bleu(p, r, workers=w))
    s = seconds(lambda: sacrebleu.corpus_bleu(sample_p, [sample_r]), 1)
    rows.append(("corpus BLEU", "sacrebleu.corpus_bleu", args.sample, s))
    ours("corpus chrF", lambda p, r, w: rescore.corpus_chrf(p, r, workers=w))
    s = seconds(lambda: sacrebleu.corpus_chrf(sample_p, [sample_r]), 1)
    rows.append(("corpus chrF", "sacrebleu.corpus_chrf", args.sample, s))

    print(f"load average after the run: {os.getloadavg()}")
    print(
        "| metric | tool | rows timed | seconds | rows/s | rescore 1 thread speed-up"
        " | rescore all cores speed-up |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")

    def rate_of(label: str, prefix: str) -> float:
        return next(k / s for m, tool, k, s in rows if m == label and tool.startswith(prefix))

    for label, tool, k, s in rows:
        rate = k / s
        one = rate_of(label, "rescore, 1 thread") / rate
        every = rate_of(label, "rescore, all cores") / rate
        print(f"| {label} | {tool} | {k:,} | {s:.3f} | {rate:,.0f} | {one:.1f}x | {every:.1f}x |")


if __name__ == "__main__":
    main()

"""BLEU, chrF and quasi exact match on the benchmark file, side by side with the reference
implementations' per-row loops (sacrebleu's ``sentence_bleu`` / ``sentence_chrf``, HELM's
``quasi_exact_match``) on one thread, and corpus BLEU/chrF against sacrebleu's corpus functions.

The per-row Python loops run on a sample (``--sample`` rows, the file's first rows) and their
rows/s is extrapolated to the whole file; rescore runs on every row, from Arrow, on all cores
and on one thread. Usage::

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
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import sacrebleu

    from tests.reference import helm_quasi_exact_match

    table = pq.read_table(args.path, columns=["prediction", "reference"])
    preds, refs = table["prediction"], table["reference"]
    n = len(table)
    sample_p = preds.slice(0, args.sample).to_pylist()
    sample_r = refs.slice(0, args.sample).to_pylist()
    print(f"rows: {n:,}; sample for per-row loops: {args.sample:,}; cores: {os.cpu_count()}")

    rows = []

    def ours(label: str, fn: Callable[[int], Any]) -> tuple[float, float]:
        all_cores = seconds(lambda: fn(-1), args.repeat)
        one = seconds(lambda: fn(1), 1)
        rows.append((label, "rescore, all cores", n, all_cores))
        rows.append((label, "rescore, 1 thread", n, one))
        return all_cores, one

    def loop(label: str, tool: str, fn: Callable[[str, str], Any]) -> float:
        def run() -> None:
            for p, r in zip(sample_p, sample_r, strict=True):
                fn(p, r)

        s = seconds(run, 1)
        rows.append((label, tool, args.sample, s))
        return s

    ours("sentence BLEU", lambda w: rescore.bleu(preds, refs, workers=w))
    loop("sentence BLEU", "sacrebleu.sentence_bleu loop", lambda p, r: sacrebleu.sentence_bleu(p, [r]))
    ours("sentence chrF", lambda w: rescore.chrf(preds, refs, workers=w))
    loop("sentence chrF", "sacrebleu.sentence_chrf loop", lambda p, r: sacrebleu.sentence_chrf(p, [r]))
    ours("sentence chrF++", lambda w: rescore.chrf(preds, refs, word_order=2, workers=w))
    loop(
        "sentence chrF++",
        "sacrebleu.sentence_chrf(word_order=2) loop",
        lambda p, r: sacrebleu.sentence_chrf(p, [r], word_order=2),
    )
    ours("quasi exact match", lambda w: rescore.quasi_exact_match(preds, refs, workers=w))
    loop("quasi exact match", "HELM quasi_exact_match loop", lambda p, r: helm_quasi_exact_match(r, p))

    ours("corpus BLEU", lambda w: rescore.corpus_bleu(preds, refs, workers=w))
    s = seconds(lambda: sacrebleu.corpus_bleu(sample_p, [sample_r]), 1)
    rows.append(("corpus BLEU", "sacrebleu.corpus_bleu", args.sample, s))
    ours("corpus chrF", lambda w: rescore.corpus_chrf(preds, refs, workers=w))
    s = seconds(lambda: sacrebleu.corpus_chrf(sample_p, [sample_r]), 1)
    rows.append(("corpus chrF", "sacrebleu.corpus_chrf", args.sample, s))

    print("| metric | tool | rows timed | seconds | rows/s | rescore (1 thread) speed-up |")
    print("|---|---|---:|---:|---:|---:|")
    one_thread = {label: rate for label, tool, k, s in rows if tool == "rescore, 1 thread" for rate in [k / s]}
    for label, tool, k, s in rows:
        rate = k / s
        ratio = one_thread[label] / rate
        print(f"| {label} | {tool} | {k:,} | {s:.3f} | {rate:,.0f} | {ratio:.1f}x |")


if __name__ == "__main__":
    main()

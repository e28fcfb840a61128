"""Issue 16's speed check in interleaved rounds: each metric's reference per-row loop (one
thread) and rescore from Arrow (``workers=1``, then all cores), one after the other within a
round, rounds repeated, so a change of load on a shared machine hits every tool alike.

The reference loops run on the file's first ``--sample`` rows and rescore on its first
``--rows`` rows; rows/s are compared (a ratio per round, the median over rounds reported).
Usage::

    python benches/datagen.py /tmp/bench.parquet --rows 1000000
    PYTHONPATH=. python benches/bench_speed.py /tmp/bench.parquet [--rows 100000]
        [--sample 1000] [--rounds 3] [--only "token F1,rouge1"]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

import rescore


def elapsed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cases() -> list[tuple[str, Callable[..., Any], Callable[[list[str], list[str]], Any]]]:
    """(metric, rescore call on Arrow columns and workers, reference on Python lists)."""
    import sacrebleu
    from rouge_score import rouge_scorer
    from tests.reference import helm_quasi_exact_match, squad_f1

    def per_row(fn: Callable[[str, str], Any]) -> Callable[[list[str], list[str]], Any]:
        return lambda ps, rs: [fn(p, r) for p, r in zip(ps, rs, strict=True)]

    r1 = rouge_scorer.RougeScorer(["rouge1"])
    r2 = rouge_scorer.RougeScorer(["rouge2"])
    return [
        (
            "sentence BLEU",
            lambda p, r, w: rescore.bleu(p, r, workers=w),
            per_row(lambda p, r: sacrebleu.sentence_bleu(p, [r])),
        ),
        (
            "sentence chrF",
            lambda p, r, w: rescore.chrf(p, r, workers=w),
            per_row(lambda p, r: sacrebleu.sentence_chrf(p, [r])),
        ),
        (
            "sentence chrF++",
            lambda p, r, w: rescore.chrf(p, r, word_order=2, workers=w),
            per_row(lambda p, r: sacrebleu.sentence_chrf(p, [r], word_order=2)),
        ),
        (
            "quasi exact match",
            lambda p, r, w: rescore.quasi_exact_match(p, r, workers=w),
            per_row(lambda p, r: helm_quasi_exact_match(r, p)),
        ),
        (
            "token F1",
            lambda p, r, w: rescore.token_f1(p, r, workers=w),
            per_row(lambda p, r: squad_f1(r, p)),
        ),
        (
            "rouge1",
            lambda p, r, w: rescore.rouge(p, r, variant="rouge1", workers=w),
            per_row(lambda p, r: r1.score(r, p)),
        ),
        (
            "rouge2",
            lambda p, r, w: rescore.rouge(p, r, variant="rouge2", workers=w),
            per_row(lambda p, r: r2.score(r, p)),
        ),
        (
            "corpus BLEU",
            lambda p, r, w: rescore.corpus_bleu(p, r, workers=w),
            lambda ps, rs: sacrebleu.corpus_bleu(ps, [rs]),
        ),
        (
            "corpus chrF",
            lambda p, r, w: rescore.corpus_chrf(p, r, workers=w),
            lambda ps, rs: sacrebleu.corpus_chrf(ps, [rs]),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=100_000, help="rows rescore scores")
    parser.add_argument("--sample", type=int, default=1_000, help="rows the loops score")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated metric names")
    args = parser.parse_args()

    table = pq.read_table(args.path, columns=["prediction", "reference"])
    preds, refs = table["prediction"][: args.rows], table["reference"][: args.rows]
    n = len(preds)
    sample_p = preds[: args.sample].to_pylist()
    sample_r = refs[: args.sample].to_pylist()
    chosen = [c for c in cases() if not args.only or c[0] in args.only.split(",")]
    # per metric, per round: rows/s of (reference, workers=1, all cores)
    rates: dict[str, list[tuple[float, float, float]]] = {c[0]: [] for c in chosen}
    loads = [os.getloadavg()[0]]
    for round_ in range(args.rounds):
        for label, ours, reference in chosen:
            ref = args.sample / elapsed(lambda f=reference: f(sample_p, sample_r))
            one = n / elapsed(lambda f=ours: f(preds, refs, 1))
            every = n / elapsed(lambda f=ours: f(preds, refs, -1))
            rates[label].append((ref, one, every))
            print(
                f"round {round_ + 1} {label}: reference {ref:,.0f} rows/s, workers=1 "
                f"{one:,.0f} ({one / ref:.1f}x), all cores {every:,.0f} ({every / ref:.1f}x)",
                flush=True,
            )
        loads.append(os.getloadavg()[0])

    print(
        f"\nrescore on {n:,} rows, references on {args.sample:,}, {args.rounds} rounds, "
        f"{os.cpu_count()} cores; 1-minute load average {min(loads):.1f}-{max(loads):.1f}\n"
    )
    print(
        "| metric | reference rows/s | rescore workers=1 rows/s | all cores rows/s "
        "| workers=1 speed-up | all cores speed-up |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, runs in rates.items():
        med = [statistics.median(r[k] for r in runs) for k in range(3)]
        one = statistics.median(r[1] / r[0] for r in runs)
        every = statistics.median(r[2] / r[0] for r in runs)
        print(
            f"| {label} | {med[0]:,.0f} | {med[1]:,.0f} | {med[2]:,.0f} "
            f"| {one:.1f}x | {every:.1f}x |"
        )


if __name__ == "__main__":
    main()

"""Corpus BLEU and chrF side by side: rescore against ``sacrebleu-mojo`` (its Mojo kernel and
its pure-Python path, ``SACREBLEU_MOJO_DISABLE_NATIVE=1``) and ``sacrebleu`` itself, in
interleaved rounds on the first ``--rows`` rows of the benchmark file.

sacrebleu-mojo needs Python >= 3.12: run this from such an environment with rescore installed
(an abi3 wheel: ``maturin build --profile dev-fast -i python3.12``). Usage::

    python benches/bench_sacrebleu_mojo.py /tmp/bench.parquet [--rows 20000] [--rounds 3]

Every tool gets the same Python lists (rescore converts them to Arrow itself, inside its timing);
rescore also runs from the Arrow columns. Medians of the rounds and ratios to rescore with
``workers=1`` (from lists) are printed as a Markdown table.
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

DISABLE = "SACREBLEU_MOJO_DISABLE_NATIVE"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("path", type=Path)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()

    import sacrebleu
    import sacrebleu_mojo

    table = pq.read_table(a.path, columns=["prediction", "reference"]).slice(0, a.rows)
    preds, refs = table["prediction"], table["reference"]
    hyps, golds = preds.to_pylist(), refs.to_pylist()
    n = len(hyps)

    def mojo(fn: Callable[..., Any], native: bool) -> Callable[[], float]:
        def run() -> float:
            if native:
                os.environ.pop(DISABLE, None)
            else:
                os.environ[DISABLE] = "1"
            try:
                return float(fn(hyps, [golds]).score)
            finally:
                os.environ.pop(DISABLE, None)

        return run

    tools: dict[str, dict[str, Callable[[], float | None]]] = {
        "corpus BLEU": {
            "rescore, workers=1 (lists)": lambda: rescore.corpus_bleu(hyps, golds, workers=1),
            "rescore, all cores (lists)": lambda: rescore.corpus_bleu(hyps, golds),
            "rescore, workers=1 (Arrow)": lambda: rescore.corpus_bleu(preds, refs, workers=1),
            "sacrebleu-mojo, Mojo kernel": mojo(sacrebleu_mojo.corpus_bleu, native=True),
            "sacrebleu-mojo, pure Python": mojo(sacrebleu_mojo.corpus_bleu, native=False),
            "sacrebleu.corpus_bleu": lambda: sacrebleu.corpus_bleu(hyps, [golds]).score,
        },
        "corpus chrF": {
            "rescore, workers=1 (lists)": lambda: rescore.corpus_chrf(hyps, golds, workers=1),
            "rescore, all cores (lists)": lambda: rescore.corpus_chrf(hyps, golds),
            "rescore, workers=1 (Arrow)": lambda: rescore.corpus_chrf(preds, refs, workers=1),
            "sacrebleu-mojo, Mojo kernel": mojo(sacrebleu_mojo.corpus_chrf, native=True),
            "sacrebleu-mojo, pure Python": mojo(sacrebleu_mojo.corpus_chrf, native=False),
            "sacrebleu.corpus_chrf": lambda: sacrebleu.corpus_chrf(hyps, [golds]).score,
        },
    }
    times: dict[tuple[str, str], list[float]] = {}
    scores: dict[tuple[str, str], float | None] = {}
    for _ in range(a.rounds):
        for metric, by_tool in tools.items():
            for tool, fn in by_tool.items():
                start = time.perf_counter()
                scores[metric, tool] = fn()
                times.setdefault((metric, tool), []).append(time.perf_counter() - start)

    load = os.getloadavg()
    print(f"rows: {n:,}; rounds: {a.rounds}; cores: {os.cpu_count()}; load average {load}")
    native = sacrebleu_mojo.native_available()
    print(f"sacrebleu-mojo {sacrebleu_mojo.__version__}, Mojo kernel available: {native}")
    print("| metric | tool | median s | rows/s | score | rescore workers=1 speed-up |")
    print("|---|---|---:|---:|---:|---:|")
    for metric, by_tool in tools.items():
        base = statistics.median(times[metric, "rescore, workers=1 (lists)"])
        for tool in by_tool:
            s = statistics.median(times[metric, tool])
            score = scores[metric, tool]
            shown = "" if score is None else f"{score:.6f}"
            print(f"| {metric} | {tool} | {s:.3f} | {n / s:,.0f} | {shown} | {s / base:.1f}x |")


if __name__ == "__main__":
    main()

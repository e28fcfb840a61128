"""ROUGE side by side: rescore.rouge against rouge-score's per-row loop (one thread) and
rouge-score-rs (its parallel ``score_batch`` and its per-row loop), on the benchmark file's text.

Usage: ``python benches/bench_rouge.py [--rows 1000000] [--sample 20000] [--repeat 3]``.
The data is ``benches/datagen.py``'s default (skewed) profile, read from Parquet once; rescore
is timed from the Arrow columns on all rows. The pure-Python rouge-score loop is timed on the
first ``--sample`` rows and its rows/s extrapolated (said in the note column). The results go
into the ROUGE section of ``benches/RESULTS.md`` (between markers; the rest is left as is).
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

import pyarrow.parquet as pq

import rescore

HERE = Path(__file__).parent
BEGIN, END = "<!-- rouge:begin -->", "<!-- rouge:end -->"
CASES = [("rougeL", False), ("rougeL", True), ("rouge1", False), ("rouge2", False)]
CASES += [("rougeLsum", False)]


def timeit(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=20_000, help="rows for the Python loops")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=None, help="an existing datagen file")
    a = ap.parse_args()

    from datagen import generate

    data = a.data or Path(tempfile.gettempdir()) / f"rescore_bench_text_{a.rows}.parquet"
    if not data.exists():
        generate(data, a.rows)
    table = pq.read_table(data, columns=["prediction", "reference"])
    preds, refs = table["prediction"], table["reference"]
    n = table.num_rows
    sample_p = preds.slice(0, a.sample).to_pylist()
    sample_r = refs.slice(0, a.sample).to_pylist()
    pairs = list(zip(sample_p, sample_r, strict=True))
    rows: list[tuple[str, str, int, float, str]] = []

    from rouge_score import rouge_scorer

    try:
        import rouge_score_rs.rouge_scorer as rs_scorer
    except ImportError:  # pragma: no cover - optional peer
        rs_scorer = None

    all_p = preds.to_pylist() if rs_scorer is not None else []
    all_r = refs.to_pylist() if rs_scorer is not None else []
    for variant, stem in CASES:
        label = f"{variant}{' stemmed' if stem else ''}"

        def ours(workers: int, variant: str = variant, stem: bool = stem) -> object:
            return rescore.rouge(preds, refs, variant=variant, use_stemmer=stem, workers=workers)

        t = timeit(lambda: ours(-1), a.repeat)
        rows.append((label, "rescore.rouge (from Arrow, all cores)", n, t, ""))
        t = timeit(lambda: ours(1), 1)
        rows.append((label, "rescore.rouge (from Arrow, workers=1)", n, t, ""))
        scorer = rouge_scorer.RougeScorer([variant], use_stemmer=stem)
        t = timeit(lambda s=scorer: [s.score(r, p) for p, r in pairs], 1)
        rows.append((label, "rouge-score score() loop", a.sample, t, "sample; 1 thread"))
        if rs_scorer is not None:
            rs = rs_scorer.RougeScorer([variant], use_stemmer=stem)
            t = timeit(lambda s=rs: s.score_batch(all_r, all_p), 1)
            rows.append((label, "rouge-score-rs score_batch (all cores)", n, t, "lists prebuilt"))
            t = timeit(lambda s=rs: [s.score(r, p) for p, r in pairs], 1)
            rows.append((label, "rouge-score-rs score() loop", a.sample, t, "sample; 1 thread"))

    lines = [
        BEGIN,
        "## ROUGE",
        "",
        f"Produced by `python benches/bench_rouge.py --rows {a.rows} --sample {a.sample} "
        f"--repeat {a.repeat}` on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, rescore "
        f"{rescore.__version__}. Text of `datagen.py`'s default profile (5-60 words, tail to "
        "2,000). Speed-ups: rescore's rows/s (all cores, then workers=1) over the row's rows/s; "
        "a sample row's rows/s is extrapolated to the whole file. Load average after the run: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        "",
        "| case | tool | rows timed | median s | rows/s | rescore all cores speed-up "
        "| rescore workers=1 speed-up | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    first: dict[str, float] = {}
    single: dict[str, float] = {}
    for label, tool, count, seconds, _ in rows:
        first.setdefault(label, count / seconds)
        if "workers=1" in tool:
            single[label] = count / seconds
    for label, tool, count, seconds, note in rows:
        rate = count / seconds
        lines.append(
            f"| {label} | {tool} | {count:,} | {seconds:.3f} | {rate:,.0f} | "
            f"{first[label] / rate:.1f}x | {single[label] / rate:.1f}x | {note} |"
        )
    lines.append(END)
    section = "\n".join(lines)
    print(section, flush=True)
    results = HERE / "RESULTS.md"
    text = results.read_text()
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text)


if __name__ == "__main__":
    main()

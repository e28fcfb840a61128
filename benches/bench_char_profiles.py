"""char_edit_distance vs rapidfuzz cpdist on prebuilt lists, per length profile, interleaved.

Issue 12's target: at least 1.5x ``rapidfuzz.process.cpdist(scorer=Levenshtein.distance,
workers=-1)`` on every length profile of ``benches/datagen.py`` (short, medium, skewed). Each
round runs rescore then rapidfuzz with all cores, then both with one worker; the ratio is the
median of the per-round ratios (rapidfuzz seconds / rescore seconds), so load from other jobs
hits both sides alike. Results are checked equal first.

Usage: ``python benches/bench_char_profiles.py DIR --profiles medium,short,skewed --rounds 5
[--rows 200000]``, DIR holding ``<profile>.parquet`` files written by ``datagen.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist

import rescore


def measure(path: Path, rows: int, rounds: int) -> str:
    table = pq.read_table(path, columns=["prediction", "reference"]).slice(0, rows)
    p, r = table["prediction"].combine_chunks(), table["reference"].combine_chunks()
    pl_, rl_ = p.to_pylist(), r.to_pylist()
    ours = np.asarray(rescore.char_edit_distance(p, r))
    theirs = cpdist(pl_, rl_, scorer=Levenshtein.distance, workers=-1)
    assert np.array_equal(ours, theirs), f"rapidfuzz disagrees with rescore on {path}"
    runs: dict[str, Callable[[], object]] = {
        "rescore -1": lambda: rescore.char_edit_distance(p, r, workers=-1),
        "cpdist -1": lambda: cpdist(pl_, rl_, scorer=Levenshtein.distance, workers=-1),
        "rescore 1": lambda: rescore.char_edit_distance(p, r, workers=1),
        "cpdist 1": lambda: cpdist(pl_, rl_, scorer=Levenshtein.distance, workers=1),
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}

    def ratio(workers: str) -> float:
        pairs = zip(times[f"rescore {workers}"], times[f"cpdist {workers}"], strict=True)
        return statistics.median(theirs / ours for ours, theirs in pairs)

    return (
        f"{path.stem}: {len(pl_)} rows, {rounds} rounds, "
        f"rescore(-1) {med['rescore -1']:.3f} s, cpdist(-1) {med['cpdist -1']:.3f} s, "
        f"ratio {ratio('-1'):.2f}x | rescore(1) {med['rescore 1']:.3f} s, "
        f"cpdist(1) {med['cpdist 1']:.3f} s, ratio {ratio('1'):.2f}x | "
        f"load {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--profiles", default="medium,short,skewed")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rows", type=int, default=200_000)
    a = ap.parse_args()
    print("lanes:", os.environ.get("RESCORE_LANES", "detected"), "load:", os.getloadavg())
    for profile in a.profiles.split(","):
        print(measure(a.dir / f"{profile}.parquet", a.rows, a.rounds), flush=True)


if __name__ == "__main__":
    main()

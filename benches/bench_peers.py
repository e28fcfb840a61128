"""rescore against the tools users would otherwise pick, side by side in one process.

Run ``python benches/bench_peers.py`` (or ``make bench``): generates the seeded Parquet files
(``benches/datagen.py``) under ``--data`` if missing, times every comparison, prints a table and
rewrites ``benches/RESULTS.md``. Times are medians of ``--repeat`` runs; ratios are what to read,
since the machine is shared. Peers run with their fastest settings (rapidfuzz ``workers=-1``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import rescore

sys.path.insert(0, str(Path(__file__).parent))
import datagen


@dataclass
class Row:
    benchmark: str
    tool: str
    rows: int
    seconds: float
    note: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def timeit(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ids_as_code_points(col: pa.ChunkedArray) -> list[str]:
    """The fastest known peer path: each row's ids as one str (a code point per id)."""
    arr = col.combine_chunks()
    values = arr.values.to_numpy().astype("<u4")
    text = values.tobytes().decode("utf-32-le")
    off = arr.offsets.to_numpy()
    return [text[a:b] for a, b in zip(off[:-1].tolist(), off[1:].tolist(), strict=True)]


def prebuilt_lists_row(label: str, p: pa.ChunkedArray, r: pa.ChunkedArray, ours: Any) -> Row:
    """rapidfuzz's best case: Python lists already built (and freed when this returns)."""
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cpdist

    pl_, rl_ = p.to_pylist(), r.to_pylist()
    got = cpdist(pl_, rl_, scorer=Levenshtein.distance, workers=-1)
    assert np.array_equal(got, ours), "rapidfuzz disagrees with rescore"
    seconds = timeit(lambda: cpdist(pl_, rl_, scorer=Levenshtein.distance, workers=-1), 1)
    return Row(
        label, "rapidfuzz cpdist, lists prebuilt", len(pl_), seconds, "conversion not counted"
    )


def bench_token_edit_distance(path: Path, repeat: int, label: str) -> list[Row]:
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cpdist

    t = pq.read_table(path, columns=["prediction_ids", "reference_ids"])
    p, r = t["prediction_ids"], t["reference_ids"]
    n = t.num_rows
    out = [
        Row(
            label,
            "rescore.token_edit_distance (from Arrow)",
            n,
            timeit(lambda: rescore.token_edit_distance(p, r), repeat),
        )
    ]
    ours = rescore.token_edit_distance(p, r).to_numpy()

    def rf_with_conversion() -> Any:
        return cpdist(p.to_pylist(), r.to_pylist(), scorer=Levenshtein.distance, workers=-1)

    out.append(Row(label, "rapidfuzz cpdist + to_pylist", n, timeit(rf_with_conversion, 1)))
    out.append(prebuilt_lists_row(label, p, r, ours))

    def rf_code_points() -> Any:
        return cpdist(
            ids_as_code_points(p), ids_as_code_points(r), scorer=Levenshtein.distance, workers=-1
        )

    out.append(
        Row(
            label,
            "rapidfuzz cpdist on ids as str",
            n,
            timeit(rf_code_points, repeat),
            "encoding counted",
        )
    )

    import editdistance

    k = min(n, 100_000)
    ps, rs = p.slice(0, k).to_pylist(), r.slice(0, k).to_pylist()
    out.append(
        Row(
            label,
            "editdistance.eval loop",
            k,
            timeit(lambda: [editdistance.eval(a, b) for a, b in zip(ps, rs, strict=True)], 1),
            f"{k:,} rows, 1 thread, lists prebuilt",
        )
    )
    return out


def bench_text(path: Path, repeat: int) -> list[Row]:
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cpdist

    t = pq.read_table(path, columns=["prediction", "reference"])
    p, r = t["prediction"], t["reference"]
    n = t.num_rows
    rows = [
        Row(
            "char edit distance",
            "rescore.char_edit_distance",
            n,
            timeit(lambda: rescore.char_edit_distance(p, r), repeat),
        )
    ]
    rows.append(
        Row(
            "char edit distance",
            "rapidfuzz cpdist + to_pylist",
            n,
            timeit(
                lambda: cpdist(
                    p.to_pylist(), r.to_pylist(), scorer=Levenshtein.distance, workers=-1
                ),
                1,
            ),
        )
    )
    pl_, rl_ = p.to_pylist(), r.to_pylist()
    rows.append(
        Row(
            "char edit distance",
            "rapidfuzz cpdist, lists prebuilt",
            n,
            timeit(lambda: cpdist(pl_, rl_, scorer=Levenshtein.distance, workers=-1), 1),
            "conversion not counted",
        )
    )

    import jiwer

    k = min(n, 50_000)
    ps, rs = pl_[:k], rl_[:k]
    rows.append(
        Row(
            "word edit distance (WER)",
            "rescore.token_edit_distance (words)",
            n,
            timeit(lambda: rescore.token_edit_distance(p, r, normalize="reference"), repeat),
        )
    )
    rows.append(
        Row(
            "word edit distance (WER)",
            "jiwer.process_words",
            k,
            timeit(lambda: jiwer.process_words(rs, ps), 1),
            f"{k:,} rows",
        )
    )
    return rows


CHAR_PROFILES = {
    "short": "short answers, at most 64 characters",
    "medium": "medium text, 150-300 characters, no tail",
    "skewed": "skewed text, tail to 2,000 words",
}


def bench_char_profile(path: Path, repeat: int, profile: str) -> list[Row]:
    """char_edit_distance against rapidfuzz on prebuilt lists, one length profile, alternating
    the two tools in each repeat so both see the same machine load."""
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cpdist

    t = pq.read_table(path, columns=["prediction", "reference"])
    p, r = t["prediction"], t["reference"]
    pl_, rl_ = p.to_pylist(), r.to_pylist()
    ours = rescore.char_edit_distance(p, r).to_numpy()
    theirs = cpdist(pl_, rl_, scorer=Levenshtein.distance, workers=-1)
    assert np.array_equal(ours, theirs), "rapidfuzz disagrees with rescore"
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for _ in range(repeat):
        times["ours"].append(timeit(lambda: rescore.char_edit_distance(p, r), 1))
        times["theirs"].append(
            timeit(lambda: cpdist(pl_, rl_, scorer=Levenshtein.distance, workers=-1), 1)
        )
    label = f"char edit distance, {CHAR_PROFILES[profile]}"
    n = t.num_rows
    return [
        Row(label, "rescore.char_edit_distance", n, statistics.median(times["ours"])),
        Row(
            label,
            "rapidfuzz cpdist(workers=-1), lists prebuilt",
            n,
            statistics.median(times["theirs"]),
            "conversion not counted",
        ),
    ]


def bench_exact_match_brier(path: Path, repeat: int) -> list[Row]:
    import polars as pl

    n = pq.ParquetFile(path).metadata.num_rows
    text_cols = ["prediction", "reference"]
    rows = [
        Row(
            "exact match",
            "pyarrow read only (floor)",
            n,
            timeit(lambda: pq.read_table(path, columns=text_cols), repeat),
        )
    ]

    def read_and_match() -> Any:
        t = pq.read_table(path, columns=text_cols)
        return rescore.exact_match(t["prediction"], t["reference"])

    rows.append(Row("exact match", "read + rescore.exact_match", n, timeit(read_and_match, repeat)))

    def polars_eq() -> Any:
        df = pl.read_parquet(path, columns=text_cols)
        return df["prediction"] == df["reference"]

    rows.append(Row("exact match", "polars read + ==", n, timeit(polars_eq, repeat)))

    cols = ["probabilities", "label"]
    rows.append(
        Row(
            "brier score",
            "pyarrow read only (floor)",
            n,
            timeit(lambda: pq.read_table(path, columns=cols), repeat),
        )
    )

    def read_and_brier() -> Any:
        t = pq.read_table(path, columns=cols)
        return rescore.brier_score(t["probabilities"], t["label"])

    rows.append(Row("brier score", "read + rescore.brier_score", n, timeit(read_and_brier, repeat)))

    def read_and_numpy() -> Any:
        t = pq.read_table(path, columns=cols)
        probs = t["probabilities"].combine_chunks().values.to_numpy().reshape(-1, 4)
        label = t["label"].to_numpy()
        onehot = np.zeros_like(probs)
        onehot[np.arange(len(label)), label] = 1.0
        return ((probs - onehot) ** 2).sum(axis=1)

    rows.append(
        Row(
            "brier score",
            "read + numpy formula",
            n,
            timeit(read_and_numpy, repeat),
            "no validation",
        )
    )

    def read_and_sklearn() -> Any:
        from sklearn.metrics import brier_score_loss

        t = pq.read_table(path, columns=cols)
        probs = t["probabilities"].combine_chunks().values.to_numpy().reshape(-1, 4)
        return brier_score_loss(
            t["label"].to_numpy(), probs, labels=[0, 1, 2, 3], scale_by_half=False
        )

    rows.append(
        Row(
            "brier score",
            "read + sklearn brier_score_loss",
            n,
            timeit(read_and_sklearn, repeat),
            "mean only, no per-row",
        )
    )
    return rows


def kernel_seconds(path: Path) -> float:
    """The three kernels of the batch job on the same file, data already in memory."""
    t = pq.read_table(
        path,
        columns=[
            "prediction_ids",
            "reference_ids",
            "prediction",
            "reference",
            "probabilities",
            "label",
        ],
    )
    t0 = time.perf_counter()
    rescore.token_edit_distance(t["prediction_ids"], t["reference_ids"])
    rescore.exact_match(t["prediction"], t["reference"])
    rescore.brier_score(t["probabilities"], t["label"])
    return time.perf_counter() - t0


def bench_batch_job(path: Path, label: str) -> tuple[Row, int]:
    """`rescore score` end to end in a subprocess: wall time and peak RSS (KiB, GNU time)."""
    out = Path(tempfile.mkdtemp(prefix="rescore-bench-"))
    cmd = [
        sys.executable,
        "-m",
        "rescore.cli",
        "score",
        str(path),
        "--out",
        str(out / "scores"),
        "--metrics",
        "token_edit_distance,exact_match,brier_score",
        "--prediction-col",
        "prediction",
        "--reference-col",
        "reference",
        "--prediction-ids-col",
        "prediction_ids",
        "--reference-ids-col",
        "reference_ids",
        "--choices-col",
        "probabilities",
        "--label-col",
        "label",
        "--quiet",
    ]
    # GNU time reports the job's own peak RSS (ru_maxrss of a forked child would start from
    # this process's, which holds the peers' Python lists).
    t0 = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - t0
    rss_kib = int(done.stderr.strip().splitlines()[-1])
    shutil.rmtree(out)
    n = pq.ParquetFile(path).metadata.num_rows
    return Row(label, "rescore score (Parquet to Parquet)", n, seconds), rss_kib


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    import polars
    import rapidfuzz

    versions = {
        "Python": platform.python_version(),
        "rescore": rescore.__version__,
        "rapidfuzz": rapidfuzz.__version__,
        "pyarrow": pa.__version__,
        "polars": polars.__version__,
        "numpy": np.__version__,
    }
    return f"{cpu}, {os.cpu_count()} cores, " + ", ".join(f"{k} {v}" for k, v in versions.items())


def table(rows: list[Row]) -> str:
    lines = [
        "| benchmark | tool | rows | median s | rows/s | rescore speed-up | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    firsts: dict[str, Row] = {}
    for row in rows:
        ref = firsts.setdefault(row.benchmark, row)
        ratio = row.rows_per_s and ref.rows_per_s / row.rows_per_s
        cells = [row.benchmark, row.tool, f"{row.rows:,}", f"{row.seconds:.3f}"]
        cells += [f"{row.rows_per_s:,.0f}", f"{ratio:.2f}x", row.note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "rescore-bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument(
        "--big-rows",
        type=int,
        default=10_000_000,
        help="rows of the batch-job memory file (0: skip)",
    )
    ap.add_argument("--long-rows", type=int, default=20_000)
    ap.add_argument("--char-rows", type=int, default=1_000_000, help="rows per char-profile file")
    ap.add_argument(
        "--only", default="", help="comma-separated sections: ted,long,text,chars,flat,batch"
    )
    ap.add_argument("--results", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    a = ap.parse_args()
    a.data.mkdir(parents=True, exist_ok=True)
    sections = (
        set(a.only.split(",")) if a.only else {"ted", "long", "text", "chars", "flat", "batch"}
    )

    def data(name: str, rows: int, long: bool = False, profile: str = "skewed") -> Path:
        path = a.data / f"{name}_{rows}.parquet"
        if not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            datagen.generate(path, rows, long=long, profile=profile)
        return path

    main_file = data("rows", a.rows)
    rows: list[Row] = []
    extra: dict[str, Any] = {}
    if "ted" in sections:
        rows += bench_token_edit_distance(
            main_file, a.repeat, "token edit distance (5-60 tokens, tail to 2,000)"
        )
    write_results(a.results, rows, extra)
    if "long" in sections:
        rows += bench_token_edit_distance(
            data("long", a.long_rows, long=True),
            a.repeat,
            "token edit distance, long (200-2,000 tokens)",
        )
    write_results(a.results, rows, extra)
    if "text" in sections:
        rows += bench_text(main_file, a.repeat)
    write_results(a.results, rows, extra)
    if "chars" in sections:
        for profile in CHAR_PROFILES:
            name = "rows" if profile == "skewed" else profile
            rows += bench_char_profile(data(name, a.char_rows, profile=profile), a.repeat, profile)
            write_results(a.results, rows, extra)
    if "flat" in sections:
        rows += bench_exact_match_brier(main_file, a.repeat)
    write_results(a.results, rows, extra)
    if "batch" in sections:
        kernel = kernel_seconds(main_file)
        rows.append(
            Row(
                "batch job",
                "bare kernels, data in memory",
                a.rows,
                kernel,
                "token edit distance + exact match + Brier",
            )
        )
        small, rss_small = bench_batch_job(main_file, "batch job")
        rows.append(small)
        extra["peak_rss_mib"] = {a.rows: rss_small / 1024}
        if a.big_rows:
            big, rss_big = bench_batch_job(data("rows", a.big_rows), "batch job")
            rows.append(big)
            extra["peak_rss_mib"][a.big_rows] = rss_big / 1024
    write_results(a.results, rows, extra)


def write_results(path: Path, rows: list[Row], extra: dict[str, Any]) -> None:
    """Print the table and (re)write RESULTS.md; called after every section, so a failure late
    in a long run keeps what was measured."""
    text = table(rows)
    print(text, flush=True)
    if extra:
        print(json.dumps(extra), flush=True)
    path.write_text(
        "# Benchmark results\n\n"
        f"Produced by `python benches/bench_peers.py {' '.join(sys.argv[1:])}` on: {machine()}.\n\n"
        "Medians. The speed-up column is the first row's rows/s over this row's: the first row of "
        "each group is rescore, or the reference (the read-only floor, the bare kernels) for the "
        "exact match, Brier and batch groups.\n\n"
        f"{text}\n\n" + (f"Extra: `{json.dumps(extra)}`\n" if extra else "")
    )


if __name__ == "__main__":
    main()

"""Cargo profiles side by side: build time from scratch against kernel speed.

Each variant is a Cargo profile, optionally with settings overridden through Cargo's
``CARGO_PROFILE_<NAME>_<KEY>`` variables, e.g. ``thin16=release:lto=thin:codegen-units=16``,
and optionally built from another git revision of this repository (a clone of it), e.g.
``main=release@main`` builds what ``pip install .`` builds on ``main``.
For each one the script runs ``maturin build --profile NAME`` in an empty target directory
(timed: this is what a source install pays), unpacks the wheel, and then times the kernels of
every variant in interleaved rounds (one subprocess per variant and round, the order rotated),
so that load from elsewhere on the machine falls on all of them alike. Kernels run with
``workers=1``: a profile changes the code, not the threading, and one thread is the steadier
measure on a shared machine.

Usage::

    python benches/bench_profiles.py --work /tmp/profiles \\
        fat1=release:lto=fat:codegen-units=1 thin16=release:lto=thin:codegen-units=16

Variants already built in ``--work`` (listed in its ``builds.json``) are reused; ``--rebuild``
builds every variant again. Prints a Markdown table: build wall time,
then per kernel the median over rounds of each round's fastest run, and its ratio to the first
variant (above 1.00 = slower).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def parse_variant(spec: str) -> tuple[str, str, dict[str, str], str | None]:
    """``name=profile[@rev][:key=value...]`` -> (name, profile, Cargo overrides, git revision)."""
    name, _, rest = spec.partition("=")
    profile, *settings = rest.split(":")
    profile, _, rev = profile.partition("@")
    env = {}
    for setting in settings:
        key, _, value = setting.partition("=")
        var = f"CARGO_PROFILE_{profile.upper().replace('-', '_')}_{key.upper().replace('-', '_')}"
        env[var] = value
    return name, profile, env, rev or None


def build(
    name: str, profile: str, env: dict[str, str], rev: str | None, work: Path
) -> tuple[float, float]:
    """Build the variant's wheel from an empty target directory; return wall and CPU seconds.

    CPU time (user + system of every compiler process) is the steadier figure when other work
    shares the cores; wall time is what a person waits.
    """
    target = work / f"target-{name}"
    out = work / f"wheel-{name}"
    src = work / f"src-{name}"
    for d in (target, out, src):
        shutil.rmtree(d, ignore_errors=True)
    if rev is None:
        src = ROOT
    else:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(src)], check=True)
        subprocess.run(["git", "-C", str(src), "checkout", "-q", rev], check=True)
    cmd = ["maturin", "build", "--profile", profile, "--out", str(out)]
    full_env = {**os.environ, **env, "CARGO_TARGET_DIR": str(target)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=src, env=full_env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    (wheel,) = out.glob("*.whl")
    site = work / f"site-{name}"
    shutil.rmtree(site, ignore_errors=True)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    shutil.rmtree(target)  # a few GB per variant otherwise
    if rev is not None:
        shutil.rmtree(src)
    return wall, cpu


def workloads(path: Path) -> None:
    """Seeded inputs shared by every variant (benches/datagen.py shapes)."""
    sys.path.insert(0, str(ROOT / "benches"))
    import pyarrow.parquet as pq

    from datagen import generate

    generate(path.with_suffix(".short.parquet"), 200_000, seed=1)
    generate(path.with_suffix(".long.parquet"), 4_000, long=True, seed=2)
    short = pq.read_table(path.with_suffix(".short.parquet"))
    pq.write_table(short.slice(0, 20_000), path.with_suffix(".chars.parquet"))


def child(data: Path, inner: int) -> None:
    """Time each kernel ``inner`` times in this process; print {kernel: fastest seconds}."""
    import pyarrow.parquet as pq

    import rescore

    short = pq.read_table(data.with_suffix(".short.parquet"))
    long = pq.read_table(data.with_suffix(".long.parquet"))
    chars = pq.read_table(data.with_suffix(".chars.parquet"))
    w: dict[str, Any] = {"workers": 1}
    cases: dict[str, Callable[[], object]] = {
        "token_edit_distance, ids 5-60 (+3% tail), 200k": lambda: rescore.token_edit_distance(
            short["prediction_ids"], short["reference_ids"], **w
        ),
        "token_edit_distance, ids 200-2,000, 4k": lambda: rescore.token_edit_distance(
            long["prediction_ids"], long["reference_ids"], **w
        ),
        "token_edit_distance, words, 200k": lambda: rescore.token_edit_distance(
            short["prediction"], short["reference"], **w
        ),
        "char_edit_distance, 20k": lambda: rescore.char_edit_distance(
            chars["prediction"], chars["reference"], **w
        ),
        "exact_match, case+punctuation, 200k": lambda: rescore.exact_match(
            short["prediction"],
            short["reference"],
            ignore_case=True,
            ignore_punctuation=True,
            **w,
        ),
        "token_f1, words, 200k": lambda: rescore.token_f1(
            short["prediction"], short["reference"], **w
        ),
        "brier_score, 4 choices, 200k": lambda: rescore.brier_score(
            short["probabilities"], short["label"], **w
        ),
        "multiple_choice_grade, 200k": lambda: rescore.multiple_choice_grade(
            short["probabilities"], short["label"], **w
        ),
    }
    result = {"module": rescore.__file__}
    times: dict[str, float] = {}
    for name, fn in cases.items():
        fn()  # warm-up: page faults, thread pool
        runs = []
        for _ in range(inner):
            start = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - start)
        times[name] = min(runs)
    print(json.dumps({**result, "times": times}))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("variants", nargs="*", help="name=profile[:key=value...]")
    ap.add_argument("--work", type=Path, default=None, help="keeps wheels and data between runs")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--inner", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true", help="build variants already in --work")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        child(a.child, a.inner)
        return
    work = a.work or Path(tempfile.mkdtemp(prefix="rescore-profiles-"))
    work.mkdir(parents=True, exist_ok=True)
    variants = [parse_variant(v) for v in a.variants]
    builds: dict[str, list[float]] = {}
    builds_file = work / "builds.json"
    if builds_file.exists():
        builds = json.loads(builds_file.read_text())
    for name, profile, env, rev in variants:
        if a.rebuild or name not in builds or not (work / f"site-{name}").is_dir():
            builds[name] = list(build(name, profile, env, rev, work))
            builds_file.write_text(json.dumps(builds))
            wall, cpu = builds[name]
            print(f"built {name}: {wall:.0f} s wall, {cpu:.0f} s CPU", file=sys.stderr)
    data = work / "data"
    if not data.with_suffix(".short.parquet").exists():
        workloads(data)
    samples: dict[str, dict[str, list[float]]] = {name: {} for name, *_ in variants}
    for r in range(a.rounds):
        order = variants[r % len(variants) :] + variants[: r % len(variants)]
        for name, *_ in order:
            site = work / f"site-{name}"
            env = {**os.environ, "PYTHONPATH": str(site)}
            cmd = [sys.executable, __file__, "--child", str(data), "--inner", str(a.inner)]
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
            got = json.loads(out.stdout)
            if not got["module"].startswith(str(site)):
                msg = f"{name} imported {got['module']}, not its own wheel"
                raise RuntimeError(msg)
            for kernel, seconds in got["times"].items():
                samples[name].setdefault(kernel, []).append(seconds)
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    names = [name for name, *_ in variants]
    base = names[0]
    print("| kernel (workers=1) | " + " | ".join(f"{n} median s (ratio)" for n in names) + " |")
    print("|---|" + "---:|" * len(names))
    for i, what in enumerate(("wall", "CPU")):
        cells = [f"{builds[n][i]:.0f} s" if n in builds else "?" for n in names]
        print(f"| build from scratch, {what} | " + " | ".join(cells) + " |")
    for kernel in samples[base]:
        med = {n: statistics.median(samples[n][kernel]) for n in names}
        cells = [f"{med[n]:.4f} ({med[n] / med[base]:.3f})" for n in names]
        print(f"| {kernel} | " + " | ".join(cells) + " |")
    geo = {
        n: statistics.geometric_mean(
            [
                statistics.median(samples[n][k]) / statistics.median(samples[base][k])
                for k in samples[base]
            ]
        )
        for n in names
    }
    print("| geometric mean of ratios | " + " | ".join(f"{geo[n]:.3f}" for n in names) + " |")
    print(f"\n{a.rounds} rounds x {a.inner} runs; settings: {json.dumps(a.variants)}")


if __name__ == "__main__":
    main()

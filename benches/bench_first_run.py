"""The README's first command on a fresh clone, timed: what a first try from source costs.

For each git revision given, the script clones it into a scratch directory (so nothing is reused:
no ``target/``, no build cache beyond pip's download cache), creates a fresh venv, and runs the
first command of that revision's README (the line after ``# 1.`` in its first console block)
there, with ``bash -c``. It reports the wall time and the CPU time (user + system of every process
the command started: pip, maturin, cargo, rustc, the linker, rescore): CPU time is the steadier
figure when other work shares the cores, wall time is what a person waits.

Runs alternate between the revisions (``--rounds``), so that load from elsewhere falls on each.

Usage::

    python benches/bench_first_run.py main wheels --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def first_command(readme: str) -> str:
    """The command under ``# 1.`` in the README's first ``console`` block."""
    block = re.search(r"```console\n(.*?)```", readme, re.S)
    if block is None:
        msg = "README has no console block"
        raise RuntimeError(msg)
    lines = block.group(1).splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# 1."):
            return lines[i + 1]
    msg = "README's first console block has no '# 1.' line"
    raise RuntimeError(msg)


def run_once(rev: str, python: str) -> tuple[float, float, str]:
    """Clone ``rev``, make a venv, run its first command; return wall s, CPU s, the command."""
    scratch = Path(tempfile.mkdtemp(prefix="rescore-first-run-"))
    try:
        clone = scratch / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", rev], check=True)
        command = first_command((clone / "README.md").read_text())
        env_dir = scratch / "venv"
        subprocess.run([python, "-m", "venv", str(env_dir)], check=True)
        env = {
            **os.environ,
            "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "VIRTUAL_ENV": str(env_dir),
        }
        env.pop("PYTHONPATH", None)
        env.pop("CARGO_TARGET_DIR", None)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            ["bash", "-c", command],
            cwd=clone,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, command
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("revs", nargs="+", help="git revisions of this repository (branch, commit)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--python", default=sys.executable, help="the interpreter for the venvs")
    a = ap.parse_args()
    results: dict[str, list[tuple[float, float]]] = {rev: [] for rev in a.revs}
    for r in range(a.rounds):
        order = a.revs[r % len(a.revs) :] + a.revs[: r % len(a.revs)]
        for rev in order:
            wall, cpu, command = run_once(rev, a.python)
            results[rev].append((wall, cpu))
            print(
                json.dumps(
                    {
                        "rev": rev,
                        "wall_s": round(wall, 1),
                        "cpu_s": round(cpu, 1),
                        "command": command,
                    }
                ),
                file=sys.stderr,
            )
    print("| revision | first command, wall s (median) | CPU s, user+sys (median) | runs |")
    print("|---|---:|---:|---:|")
    for rev, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"| {rev} | {wall:.0f} | {cpu:.0f} | {len(runs)} |")


if __name__ == "__main__":
    main()

"""Reading stored evaluations: each reader side by side with the fastest plain parse of the
same file.

Not part of the test suite. For each format, writes ``--records`` records shaped as the
fixtures in ``tests/fixtures/eval_logs`` (the tools' own output, replicated with new ids),
then times, best of ``--repeat``:

- plain: ``pyarrow.parquet.read_table`` (lighteval) or ``orjson.loads``/``json.loads`` of the
  whole document (HELM, inspect_ai ``.json``);
- reader: the rescore reader turning the file into rows (``iter_tables``);
- score: ``rescore.score(..., metrics="exact_match")``, reading, scoring and writing.

    python benches/bench_eval_logs.py [--records 1000000] [--dir /tmp/rescore-bench-logs]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import rescore
from rescore.batch import helm, inspect_log, lighteval

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures" / "eval_logs"

try:
    import orjson

    loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover
    loads = json.loads


def _lighteval(n: int, out: Path) -> Path:
    src = next(FIXTURES.rglob("details_lighteval|gsm8k|0_*.parquet"))
    t = pq.read_table(src)
    reps = -(-n // t.num_rows)
    big = pa.concat_tables([t] * reps).slice(0, n)
    path = out / "details" / "org" / "m" / src.parent.name / src.name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(big, path, row_group_size=100_000)
    return path


def _inspect(n: int, out: Path) -> Path:
    src = next(FIXTURES.rglob("*_qa_*.json"))
    log = json.loads(src.read_text())
    keep = ("id", "epoch", "input", "target", "choices", "output", "scores", "metadata")
    base = [{k: s.get(k) for k in keep} for s in log["samples"]]
    samples = []
    for i in range(n):
        s = dict(base[i % len(base)])
        s["id"] = f"s{i}"
        samples.append(s)
    log["samples"] = samples
    out.mkdir(parents=True, exist_ok=True)
    path = out / "log.json"
    path.write_text(json.dumps(log))
    return path


def _helm(n: int, out: Path) -> Path:
    src = next(FIXTURES.rglob("simple1*/scenario_state.json"))
    state = json.loads(src.read_text())
    base = state["request_states"]
    states = []
    for i in range(-(-n // 3)):  # simple1 has 3 completions per request
        s = dict(base[i % len(base)])
        s["instance"] = {**s["instance"], "id": f"id{i}"}
        states.append(s)
    state["request_states"] = states
    run = out / "run"
    run.mkdir(parents=True, exist_ok=True)
    shutil.copy(src.parent / "run_spec.json", run / "run_spec.json")
    path = run / "scenario_state.json"
    path.write_text(json.dumps(state))
    return path


def _best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _drain(reader: Any, path: Path) -> int:
    inspect_log._json_log.cache_clear()  # time the parse, not the reader's one-document cache
    return sum(t.num_rows for t in reader.iter_tables(path, 65536))


def _score(path: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    inspect_log._json_log.cache_clear()
    rescore.score(path, out, metrics="exact_match")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/rescore-bench-logs"))
    args = ap.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    cases = [
        ("lighteval", _lighteval, lighteval, lambda p: pq.read_table(p)),
        ("inspect .json", _inspect, inspect_log, lambda p: loads(p.read_bytes())),
        ("helm", _helm, helm, lambda p: loads(p.read_bytes())),
    ]
    print(f"{args.records:,} records; best of {args.repeat}")
    print(f"{'format':<14} {'plain s':>8} {'reader s':>9} {'ratio':>6} {'score s':>8} {'ratio':>6}")
    for name, make, reader, plain in cases:
        path = make(args.records, args.dir / name.split()[0])
        t_plain = _best(lambda: plain(path), args.repeat)  # noqa: B023
        t_read = _best(lambda: _drain(reader, path), args.repeat)  # noqa: B023
        t_score = _best(lambda: _score(path, args.dir / "out"), args.repeat)  # noqa: B023
        print(
            f"{name:<14} {t_plain:8.2f} {t_read:9.2f} {t_read / t_plain:6.1f} "
            f"{t_score:8.2f} {t_score / t_plain:6.1f}"
        )


if __name__ == "__main__":
    main()

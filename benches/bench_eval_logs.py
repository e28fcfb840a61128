"""Reading stored evaluations: ``rescore score`` on each format side by side with the fastest
plain parse of the same files.

Not part of the test suite. For each format, writes ``--records`` records replicated (new ids)
from the fixtures in ``tests/fixtures/eval_logs`` (which the tools' own writers produced), laid
out as a user's stored evaluations are:

- ``lighteval``: one details file (current schema, the gsm8k fixture: two samples per record),
  ``details/<org>/<model>/<date>/details_<task>_<date>.parquet``, row groups of 100,000 as
  ``datasets`` writes them;
- ``lighteval-flat``: one details file of the older flat schema (typed columns, the 2024 gsm8k
  fixture);
- ``helm``: one run directory per 1,000 request states (HELM's usual ``max_eval_instances``),
  ``runs/<suite>/<run name>/{scenario_state.json,run_spec.json}``; a record is a request state
  (the simple1 fixture's: three completions each, so three rows);
- ``inspect-eval``: one ``.eval`` log (zstd members, as inspect_ai >= 0.3.46 writes them) per
  1,000 samples; ``inspect-json``: the same as ``.json`` logs. Samples keep the fields the
  reader uses and ``messages`` (the events and attachments a real log also holds are left out:
  they only make the plain parse longer, so the ratio here is the harder one).

Then, in ``--rounds`` interleaved rounds, times

- plain: ``pyarrow.parquet.read_table`` of the whole file (lighteval); ``orjson.loads`` of each
  document (HELM, inspect ``.json``) or of each sample member after zstd (inspect ``.eval``);
- score: ``rescore.score(<input dir>, out, metrics="exact_match")``: the whole job, finding the
  files, reading, scoring and writing the output;

and prints medians of wall and CPU seconds (all threads: on a shared machine the less noisy
figure), the ratios score / plain and records per second. ``--read`` also times the
reader alone (``iter_tables`` drained). Files are written one at a time (memory stays that of one
file). ::

    python benches/bench_eval_logs.py [--records 1000000] [--rounds 3] [--only helm,inspect-eval]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import statistics
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

import rescore
from rescore.batch import helm, inspect_log, lighteval

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures" / "eval_logs"
PER_FILE = 1000
"""Records per HELM run / inspect log."""
DATE = "2025-09-01T10-20-30.123456"


# --- writing the inputs ------------------------------------------------------------------------


def _replicate_parquet(src: Path, n: int, path: Path, id_field: str | None) -> None:
    t = pq.read_table(src)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, t.schema) as w:
        for start in range(0, n, 100_000):
            k = min(100_000, n - start)
            block = pa.concat_tables([t] * -(-k // t.num_rows)).slice(0, k)
            if id_field is not None:  # new ids, as a real file has
                doc = block.column("doc").combine_chunks()
                ids = pa.array([f"{start + i}" for i in range(k)], pa.string())
                fields = [doc.field(i) for i in range(doc.type.num_fields)]
                names = [doc.type.field(i).name for i in range(doc.type.num_fields)]
                fields[names.index(id_field)] = ids
                block = block.set_column(
                    block.schema.get_field_index("doc"),
                    "doc",
                    pa.StructArray.from_arrays(fields, names, mask=doc.is_null()),
                )
            w.write_table(block, row_group_size=100_000)


def _lighteval(n: int, out: Path) -> None:
    src = next(FIXTURES.rglob("details_lighteval|gsm8k|0_*.parquet"))
    path = out / "details" / "org" / "m" / DATE / f"details_lighteval|gsm8k|0_{DATE}.parquet"
    _replicate_parquet(src, n, path, "id")


def _lighteval_flat(n: int, out: Path) -> None:
    src = next(FIXTURES.rglob("details_harness|gsm8k|5_*.parquet"))
    old = src.parent.name
    _replicate_parquet(src, n, out / "details_org__old" / old / src.name, None)


def _chunks(n: int) -> Iterator[tuple[int, int]]:
    for k, start in enumerate(range(0, n, PER_FILE)):
        yield k, min(PER_FILE, n - start)


def _helm(n: int, out: Path) -> None:
    src = next(FIXTURES.rglob("simple1*/scenario_state.json"))
    state = json.loads(src.read_text())
    spec = json.loads((src.parent / "run_spec.json").read_text())
    base = state["request_states"]
    done = 0
    for k, m in _chunks(n):
        name = f"simple1:subject=s{k},model=simple_model1"
        states = []
        for i in range(m):
            s = dict(base[i % len(base)])
            s["instance"] = {**s["instance"], "id": f"id{done + i}"}
            states.append(s)
        done += m
        run = out / "runs" / "v1" / name
        run.mkdir(parents=True, exist_ok=True)
        (run / "scenario_state.json").write_bytes(orjson.dumps({**state, "request_states": states}))
        (run / "run_spec.json").write_bytes(orjson.dumps({**spec, "name": name}))


_KEEP = ("id", "epoch", "input", "choices", "target", "messages", "output", "scores", "metadata")


def _inspect_samples(n: int) -> Iterator[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
    src = next(FIXTURES.rglob("*_qa_*.json"))
    log = json.loads(src.read_text())
    base = [{k: s[k] for k in _KEEP if k in s} for s in log["samples"]]
    header = {k: v for k, v in log.items() if k != "samples"}
    done = 0
    for k, m in _chunks(n):
        samples = []
        for i in range(m):
            s = copy.copy(base[i % len(base)])
            s["id"] = f"s{done + i}"
            s["epoch"] = 1
            samples.append(s)
        done += m
        yield k, header, samples


def _inspect_json(n: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for k, header, samples in _inspect_samples(n):
        (out / f"log{k:05d}.json").write_bytes(orjson.dumps({**header, "samples": samples}))


def _zip_zstd(path: Path, members: list[tuple[str, bytes]]) -> None:
    """A zip of zstd members (method 93), as inspect_ai writes ``.eval`` logs."""
    codec = pa.Codec("zstd")
    central = []
    with path.open("wb") as fh:
        for name, data in members:
            raw = codec.compress(data, asbytes=True)
            crc = zlib.crc32(data)
            offset = fh.tell()
            fields = (63, 0, inspect_log.ZIP_ZSTANDARD, 0, 0x21, crc, len(raw), len(data))
            fh.write(b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", *fields, len(name), 0))
            fh.write(name.encode() + raw)
            entry = struct.pack("<HHHHHHIIIHHHHHII", 63, *fields, len(name), 0, 0, 0, 0, 0, offset)
            central.append(b"PK\x01\x02" + entry + name.encode())
        start = fh.tell()
        for c in central:
            fh.write(c)
        size = fh.tell() - start
        count = len(central)
        fh.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, size, start, 0))


def _inspect_eval(n: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for k, header, samples in _inspect_samples(n):
        members = [("_journal/start.json", orjson.dumps(header))]
        members += [(f"samples/{s['id']}_epoch_1.json", orjson.dumps(s)) for s in samples]
        members.append(("header.json", orjson.dumps(header)))
        _zip_zstd(out / f"log{k:05d}.eval", members)


# --- the plain parses --------------------------------------------------------------------------


def _parquet_plain(root: Path) -> int:
    return sum(pq.read_table(p).num_rows for p in sorted(root.rglob("*.parquet")))


def _json_plain(pattern: str) -> Callable[[Path], int]:
    def parse(root: Path) -> int:
        n = 0
        for p in sorted(root.rglob(pattern)):
            n += len(orjson.loads(p.read_bytes()))
        return n

    return parse


def _eval_plain(root: Path) -> int:
    import zipfile

    codec = pa.Codec("zstd")
    n = 0
    for p in sorted(root.rglob("*.eval")):
        with p.open("rb") as fh, zipfile.ZipFile(fh) as z:
            for info in z.infolist():
                fh.seek(info.header_offset + 26)
                name_len, extra_len = struct.unpack("<HH", fh.read(4))
                fh.seek(info.header_offset + 30 + name_len + extra_len)
                raw = fh.read(info.compress_size)
                data = codec.decompress(raw, decompressed_size=info.file_size, asbytes=True)
                n += len(orjson.loads(data))
    return n


CASES: dict[str, tuple[Callable[[int, Path], None], Callable[[Path], int], Any]] = {
    "lighteval": (_lighteval, _parquet_plain, lighteval),
    "lighteval-flat": (_lighteval_flat, _parquet_plain, lighteval),
    "helm": (_helm, _json_plain("scenario_state.json"), helm),
    "inspect-eval": (_inspect_eval, _eval_plain, inspect_log),
    "inspect-json": (_inspect_json, _json_plain("*.json"), inspect_log),
}


# --- timing ------------------------------------------------------------------------------------


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU seconds (CPU: of all the process's threads, what a loaded machine's
    sharing does not inflate)."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _read(reader: Any, root: Path) -> int:
    files = sorted(p for p in root.rglob("*") if p.suffix in (".parquet", ".eval", ".json"))
    n = 0
    for p in files:
        if reader is helm and p.name != helm.STATE_FILE:
            continue
        n += sum(t.num_rows for t in reader.iter_tables(p, 65536))
    return n


def _score(root: Path, out: Path) -> rescore.ScoreResult:
    shutil.rmtree(out, ignore_errors=True)
    return rescore.score(root, out, metrics="exact_match")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default=",".join(CASES))
    ap.add_argument("--read", action="store_true", help="also time the reader alone")
    ap.add_argument("--keep", action="store_true", help="reuse inputs already written")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/rescore-bench-logs"))
    args = ap.parse_args()
    print(f"{args.records:,} records per format; median of {args.rounds} interleaved rounds")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    head = f"{'format':<15} {'plain s':>8} {'score s':>8} {'ratio':>6} {'records/s':>10}"
    head += f" {'plain cpu':>9} {'score cpu':>9} {'ratio':>6}"
    print(head + (f" {'read s':>7} {'ratio':>6}" if args.read else "") + "  rows")
    for name in args.only.split(","):
        make, plain, reader = CASES[name]
        root = args.dir / name
        if not (args.keep and root.exists()):
            shutil.rmtree(root, ignore_errors=True)
            make(args.records, root)
        out = args.dir / "out"
        t_plain, t_score, t_read = [], [], []
        for _ in range(args.rounds):
            t_plain.append(_timed(lambda: plain(root)))  # noqa: B023
            t_score.append(_timed(lambda: _score(root, out)))  # noqa: B023
            if args.read:
                t_read.append(_timed(lambda: _read(reader, root)))  # noqa: B023
        rows = pq.ParquetDataset(out).read(columns=["exact_match"]).num_rows
        p, s = (statistics.median(t[0] for t in ts) for ts in (t_plain, t_score))
        pc, sc = (statistics.median(t[1] for t in ts) for ts in (t_plain, t_score))
        line = f"{name:<15} {p:8.2f} {s:8.2f} {s / p:6.2f} {args.records / s:10,.0f}"
        line += f" {pc:9.2f} {sc:9.2f} {sc / pc:6.2f}"
        if args.read:
            r = statistics.median(t[0] for t in t_read)
            line += f" {r:7.2f} {r / p:6.2f}"
        print(line + f"  {rows:,}", flush=True)
        shutil.rmtree(out, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()

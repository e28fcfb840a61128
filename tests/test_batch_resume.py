"""Resuming: a job killed with SIGKILL at any moment, then run again, gives the same output as
an uninterrupted run, row for row; leftovers of a kill are never visible."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import rescore
from rescore.batch.readers import rechunk
from tests.batch_data import manifest, read_out

# The job, slowed down per unit so that a kill lands in the middle of it.
SLOW_JOB = """
import sys, time
import rescore.batch.units as units
score = units.score_table_with_errors
def slow(*args, **kwargs):
    time.sleep(0.01)
    return score(*args, **kwargs)
units.score_table_with_errors = slow
from rescore.cli import main
main(sys.argv[1:])
"""
METRICS = "exact_match,token_edit_distance,brier_score"


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    n = 3000
    table = pa.table(
        {
            "model": [f"m{i % 3}" for i in range(n)],
            "task": ["t"] * n,
            "doc_id": list(range(n)),
            "prediction": [f"w{i % 7} w{i % 5} w{i % 3}" for i in range(n)],
            "reference": [f"w{i % 5} w{i % 3}" for i in range(n)],
            "choice_logprobs": [[-1.0 - (i % 4), -0.5, -2.0] for i in range(n)],
            "label": [i % 3 for i in range(n)],
        }
    )
    a = tmp_path / "a.parquet"
    pq.write_table(table.slice(0, 2000), a, row_group_size=333)
    b = tmp_path / "b.jsonl"
    b.write_text("".join(json.dumps(r) + "\n" for r in table.slice(2000).to_pylist()))
    return [a, b]


def _command(inputs: list[Path], out: Path) -> list[str]:
    args = [str(p) for p in inputs]
    return ["score", *args, "--out", str(out), "--metrics", METRICS, "--batch-size", "40", "-q"]


def _kill_after(parts: int, inputs: list[Path], out: Path) -> None:
    cmd = [sys.executable, "-c", SLOW_JOB, *_command(inputs, out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and len(list(out.glob("part-*.parquet"))) >= parts:
            break
        time.sleep(0.002)
    assert proc.poll() is None, "the job finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_sigkill_then_rerun_equals_an_uninterrupted_run(inputs: list[Path], tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    rescore.score(inputs, reference, metrics=METRICS, batch_size=40)
    out = tmp_path / "out"
    for parts in (3, 31, 60):  # in the Parquet file, across files, in the JSONL file
        _kill_after(parts, inputs, out)
        assert not manifest(out)["complete"]
        for p in out.glob("part-*.parquet"):
            pq.read_metadata(p)  # every visible part is complete
    done = subprocess.run(
        [sys.executable, "-m", "rescore.cli", *_command(inputs, out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == ""
    assert manifest(out)["complete"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert read_out(out) == read_out(reference)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in reference.iterdir())
    assert manifest(out)["totals"] == manifest(reference)["totals"]


def test_parts_missing_from_the_manifest_are_kept(inputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    rescore.score(inputs, out, metrics=METRICS, batch_size=500)
    before = read_out(out)
    m = manifest(out)
    kept = sorted(out.glob("part-*.parquet"))
    mtimes = {p: p.stat().st_mtime_ns for p in kept}
    m["files"]["0"]["units"] = {}  # as if killed after the renames, before the manifest write
    m["files"]["0"]["units_total"] = None
    m["complete"] = False
    (out / "_manifest.json").write_text(json.dumps(m))
    (out / ".part-00001-000000.parquet.tmp-12345").write_bytes(b"half a part")
    result = rescore.score(inputs, out, metrics=METRICS, batch_size=500)
    assert result.resumed
    assert {p: p.stat().st_mtime_ns for p in kept} == mtimes  # nothing rewritten
    assert not (out / ".part-00001-000000.parquet.tmp-12345").exists()
    assert read_out(out) == before
    assert manifest(out)["complete"]


def test_a_lost_part_is_written_again(inputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    rescore.score(inputs, out, metrics=METRICS, batch_size=500)
    before = read_out(out)
    (out / "part-00000-000002.parquet").unlink()
    (out / "part-00001-000001.parquet").unlink()
    result = rescore.score(inputs, out, metrics=METRICS, batch_size=500)
    assert result.rows_in == 3000
    assert read_out(out) == before


def test_a_part_of_other_settings_is_refused(inputs: list[Path], tmp_path: Path) -> None:
    out, other = tmp_path / "out", tmp_path / "other"
    rescore.score(inputs, out, metrics=METRICS, batch_size=500)
    rescore.score(inputs, other, metrics="exact_match", batch_size=500)
    (out / "part-00000-000000.parquet").unlink()
    os.replace(other / "part-00000-000000.parquet", out / "part-00000-000000.parquet")
    m = manifest(out)
    del m["files"]["0"]["units"]["0"]
    (out / "_manifest.json").write_text(json.dumps(m))
    with pytest.raises(rescore.exceptions.OutputConflictError, match=r"not written by a job"):
        rescore.score(inputs, out, metrics=METRICS, batch_size=500)


@given(
    sizes=st.lists(st.integers(0, 30), max_size=8),
    rows=st.integers(1, 25),
    units_done=st.integers(0, 6),
)
def test_rechunk_cuts_fixed_units_whatever_the_reader_blocks(
    sizes: list[int], rows: int, units_done: int
) -> None:
    start = 0
    tables = []
    for n in sizes:
        tables.append(pa.table({"i": list(range(start, start + n))}))
        start += n
    drop = units_done * rows
    chunks = list(rechunk(tables, rows, drop))
    got = [i for c in chunks for i in c.column("i").to_pylist()]
    assert got == list(range(drop, start))
    assert all(c.num_rows == rows for c in chunks[:-1])
    assert all(0 < c.num_rows <= rows for c in chunks)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch_size=st.integers(60, 700), workers=st.sampled_from([1, 2, -1]))
def test_output_rows_do_not_depend_on_batch_size_or_workers(
    inputs: list[Path], tmp_path_factory: pytest.TempPathFactory, batch_size: int, workers: int
) -> None:
    out = tmp_path_factory.mktemp("out")
    a = rescore.score(inputs[1], out / "a", metrics=METRICS, batch_size=batch_size, workers=workers)
    b = rescore.score(inputs[1], out / "b", metrics=METRICS, batch_size=1000)
    assert a.read() == b.read()
    assert_frame_equal(a.summary, b.summary, check_exact=False, rel_tol=1e-12)  # sum order

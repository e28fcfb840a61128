"""The Ray engine on a real local Ray cluster: the same output as the local engine, row for row,
whatever Ray does to blocks; a worker killed mid-job loses and duplicates nothing; bad input names
file and row as the local engine does."""

from __future__ import annotations

import functools
import json
import os
import pickle
import re
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

ray = pytest.importorskip(
    "ray", reason="the Ray engine needs ray[data]: pip install 'rescore[ray]'"
)

import rescore  # noqa: E402
from rescore.batch import ColumnMap, MetricSpec, ScoreSpec, job, ray_engine, score_table  # noqa: E402
from rescore.batch.readers import InputFile  # noqa: E402
from rescore.batch.writer import METADATA_KEY  # noqa: E402
from rescore.cli import main  # noqa: E402
from rescore.exceptions import (  # noqa: E402
    InputFormatError,
    InvalidOptionError,
    PluginError,
    UnscorableRowError,
    WorkerDiedError,
)
from rescore.registry import register_metric, unregister  # noqa: E402
from tests.batch_data import manifest, read_out  # noqa: E402
from tests.plugin_package import METRIC, plugin_installed, write_plugin_package  # noqa: E402

pytestmark = [
    pytest.mark.ray,
    # Each new DataContext sets Ray Data's own deprecated fields, which warns from its module.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"),
]

METRICS = "exact_match,token_edit_distance,brier_score"
BATCH = 64


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding an installed metric plugin (package + dist-info), as pip would."""
    return write_plugin_package(tmp_path_factory.mktemp("site-packages"))


@pytest.fixture(scope="module", autouse=True)
def cluster(plugin_site: Path) -> Iterator[None]:
    """A real local cluster: 2 CPUs, a small object store, no dashboard, loopback only."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")  # never reach the network
        # the plugin is installed on every node (the workers inherit this environment)
        path = os.pathsep.join(filter(None, [str(plugin_site), os.environ.get("PYTHONPATH")]))
        mp.setenv("PYTHONPATH", path)
        # Ray's single-machine mode (its default on macOS and Windows): the node's address is
        # the loopback one, so every Ray server listens on 127.0.0.1 only.
        mp.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        mp.setattr("ray._private.ray_constants.ENABLE_RAY_CLUSTER", False)
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=200 * 2**20,
            logging_level="WARNING",
        )
        try:
            assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
            yield
        finally:
            ray.shutdown()


def _rows(start: int, n: int, *, model: bool = True, holes: bool = True) -> dict[str, list[Any]]:
    ids = range(start, start + n)
    rows: dict[str, list[Any]] = {
        "task": [f"t{i % 2}" for i in ids],
        "doc_id": list(ids),
        "prediction": [f"w{i % 7} w{i % 5} w{i % 3}" for i in ids],
        # with holes, every 97th reference is null next to a prediction: unscorable
        "reference": [None if holes and i % 97 == 5 else f"w{i % 5} w{i % 3}" for i in ids],
        "choice_logprobs": [[-1.0 - (i % 4), -0.5, -2.0] for i in ids],
        "label": [i % 3 for i in ids],
    }
    if model:
        rows = {"model": [f"m{i % 3}" for i in ids], **rows}
    return rows


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Several Parquet files (row groups of several sizes, a hive partition, an empty file) and
    a JSONL file: units cross row groups, and one read task holds many units."""
    root = tmp_path_factory.mktemp("inputs")
    pq.write_table(pa.table(_rows(0, 1500)), root / "a.parquet", row_group_size=333)
    pq.write_table(pa.table(_rows(1500, 700)), root / "b.parquet", row_group_size=1000)
    (root / "model=m9").mkdir()
    c = pa.table(_rows(2200, 400, model=False))
    pq.write_table(c, root / "model=m9" / "c.parquet", row_group_size=50)
    pq.write_table(pa.table(_rows(0, 0)), root / "d_empty.parquet")
    records = pa.table(_rows(2600, 300)).to_pylist()
    (root / "e.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return root


@pytest.fixture(scope="module")
def local_null(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local") / "null"
    rescore.score(inputs, out, metrics=METRICS, batch_size=BATCH, on_error="null")
    return out


def _same_output(out: Path, reference: Path) -> None:
    assert read_out(out).equals(read_out(reference))
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in reference.iterdir())
    got, want = manifest(out), manifest(reference)
    assert got["complete"]
    assert got == want  # settings, fingerprint, inputs, every unit's record, totals
    for part in sorted(reference.glob("part-*.parquet")):  # the run settings in each part
        meta = pq.read_schema(out / part.name).metadata[METADATA_KEY]
        assert json.loads(meta) == json.loads(pq.read_schema(part).metadata[METADATA_KEY])


def _ray_blocks(monkeypatch: pytest.MonkeyPatch, max_bytes: int) -> None:
    """Make Ray Data slice blocks at ``max_bytes`` (a unit here is about 6 kB)."""
    monkeypatch.setattr(ray.data.DataContext.get_current(), "target_max_block_size", max_bytes)


def _count_piece_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Units the driver assembles from pieces (the others are written whole by the tasks)."""
    written: list[tuple[int, int]] = []
    original = ray_engine._Collector._write_pieces

    def counting(self: Any, fi: int, k: int) -> None:
        written.append((fi, k))
        original(self, fi, k)

    monkeypatch.setattr(ray_engine._Collector, "_write_pieces", counting)
    return written


def test_ray_engine_writes_the_local_engines_output(
    inputs: Path, local_null: Path, tmp_path: Path
) -> None:
    result = rescore.score(
        inputs, tmp_path / "ray", metrics=METRICS, batch_size=BATCH, on_error="null", engine="ray"
    )
    _same_output(tmp_path / "ray", local_null)
    assert result.rows_in == 2900
    assert result.errors["exact_match"] == sum(1 for i in range(2900) if i % 97 == 5)


@pytest.mark.parametrize("on_error", ["null", "skip"])
def test_units_that_reach_tasks_in_pieces_are_written_whole(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_error: str
) -> None:
    _ray_blocks(monkeypatch, 2048)
    pieces = _count_piece_writes(monkeypatch)
    local, out = tmp_path / "local", tmp_path / "ray"
    kwargs: dict[str, Any] = {"metrics": METRICS, "batch_size": BATCH, "on_error": on_error}
    rescore.score(inputs, local, **kwargs)
    rescore.score(inputs, out, engine="ray", **kwargs)
    assert pieces, "Ray did not slice any unit: the piece path went untested"
    _same_output(out, local)


def test_a_killed_worker_loses_and_duplicates_no_row(
    inputs: Path, local_null: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ray_blocks(monkeypatch, 8192)  # blocks of one or two units: some sliced, some whole
    pieces = _count_piece_writes(monkeypatch)
    marker = tmp_path / "killed"
    file_col, row_col = ray_engine.FILE_COLUMN, ray_engine.ROW_COLUMN

    def kill_once(batch: pa.Table) -> pa.Table:
        # Row 700 of a.parquet is mid-task (row groups of 333 rows, units of 64): the task
        # has sent results for earlier units when its worker dies, and Ray runs it again.
        files, rows = batch.column(file_col).to_pylist(), batch.column(row_col).to_pylist()
        if (0, 700) in set(zip(files, rows, strict=True)) and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return batch

    monkeypatch.setattr(
        ray_engine, "run", functools.partial(ray_engine.run, before_score=kill_once)
    )
    rescore.score(
        inputs, tmp_path / "ray", metrics=METRICS, batch_size=BATCH, on_error="null", engine="ray"
    )
    assert marker.exists(), "the worker was never killed"
    units = sum(len(f["units"]) for f in manifest(tmp_path / "ray")["files"].values())
    assert 0 < len(pieces) < units  # units written by tasks, and units assembled by the driver
    _same_output(tmp_path / "ray", local_null)
    assert not [p for p in (tmp_path / "ray").iterdir() if p.name.startswith(".")]


def test_either_engine_resumes_the_other(inputs: Path, local_null: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rescore.score(inputs, out, metrics=METRICS, batch_size=BATCH, on_error="null")
    for name in ("part-00000-000003.parquet", "part-00000-000004.parquet"):
        (out / name).unlink()  # as if killed: parts lost, units to do again
    (out / "part-00004-000002.parquet").unlink()  # in the JSONL file
    result = rescore.score(
        inputs, out, metrics=METRICS, batch_size=BATCH, on_error="null", engine="ray"
    )
    assert result.resumed
    _same_output(out, local_null)


def _bad_inputs(root: Path, kind: str) -> Path:
    """Two files; the second has one bad row, 211 (doc_id 511)."""
    root.mkdir()
    a, b = pa.table(_rows(0, 300, holes=False)), pa.table(_rows(300, 300, holes=False))
    if kind == "unscorable":  # probabilities summing to 0.6
        good = [[0.5, 0.25, 0.25]] * 300
        bad = [[0.2, 0.2, 0.2] if i == 211 else p for i, p in enumerate(good)]
        a = a.drop_columns(["choice_logprobs"]).append_column("choice_probs", [good])
        b = b.drop_columns(["choice_logprobs"]).append_column("choice_probs", [bad])
        pq.write_table(a, root / "a.parquet")
        pq.write_table(b, root / "b.parquet", row_group_size=100)
    else:  # a truncated JSON line
        pq.write_table(a, root / "a.parquet")
        lines = [json.dumps(r) for r in b.to_pylist()]
        lines[211] = lines[211][:40]
        (root / "b.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize(
    ("kind", "error"), [("unscorable", UnscorableRowError), ("unreadable", InputFormatError)]
)
def test_bad_input_names_file_and_row_as_the_local_engine_does(
    tmp_path: Path, kind: str, error: type[Exception]
) -> None:
    src = _bad_inputs(tmp_path / "in", kind)
    metrics = "brier_score" if kind == "unscorable" else "exact_match"
    with pytest.raises(error) as local:
        rescore.score(src, tmp_path / "local", metrics=metrics, batch_size=BATCH)
    with pytest.raises(error) as remote:
        rescore.score(src, tmp_path / "ray", metrics=metrics, batch_size=BATCH, engine="ray")
    assert str(remote.value) == str(local.value)
    assert "b." in str(remote.value)
    if kind == "unscorable":
        assert "row 211 (doc_id 511)" in str(remote.value)
        assert isinstance(remote.value, UnscorableRowError)
        assert (remote.value.row, remote.value.metric) == (211, "brier_score")


def test_the_cli_runs_the_ray_engine(inputs: Path, local_null: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = ["score", str(inputs), "--out", str(out), "--metrics", METRICS]
    args += ["--batch-size", str(BATCH), "--on-error", "null", "--engine", "ray", "--workers", "1"]
    result = CliRunner().invoke(main, args, terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "2,900 rows scored" in result.output
    _same_output(out, local_null)


# --- score_dataset: any Ray Dataset -------------------------------------------------------------

SPEC = ScoreSpec(
    metrics=(MetricSpec("exact_match", {"ignore_case": True}), MetricSpec("token_edit_distance")),
    columns=ColumnMap(prediction="prediction", reference="reference", keys=("doc_id",)),
    on_error="null",
)


def _collect(ds: Any) -> pa.Table:
    return pa.concat_tables(ds.iter_batches(batch_size=None, batch_format="pyarrow"))


# Datasets come from Arrow tables here, not ray.data.read_parquet: Ray 2.60's path handling
# imports fsspec's HTTP filesystem, which fails now and then in a reused worker where fsspec is
# installed without aiohttp (ray[data] installs fsspec, not aiohttp).


def test_score_dataset_adds_the_score_columns(inputs: Path, tmp_path: Path) -> None:
    parts = [pq.read_table(inputs / "a.parquet"), pq.read_table(inputs / "b.parquet")]
    ds = ray.data.from_arrow(parts)
    table = pa.concat_tables(parts)
    every_column = replace(SPEC.columns, keys=tuple(table.column_names))
    want = score_table(table, replace(SPEC, columns=every_column))
    got = _collect(ray_engine.score_dataset(ds, SPEC))
    assert got.column_names == [
        *table.column_names,
        "target_length",
        "exact_match",
        "token_edit_distance",
    ]
    assert got.sort_by("doc_id").equals(want.sort_by("doc_id"))
    keys_only = _collect(ray_engine.score_dataset(ds, SPEC, keep_input=False))
    assert keys_only.sort_by("doc_id").equals(score_table(table, SPEC).sort_by("doc_id"))
    out = tmp_path / "written"
    ray_engine.score_dataset(ds, SPEC).write_parquet(str(out))
    meta = json.loads(pq.read_schema(next(out.glob("*.parquet"))).metadata[METADATA_KEY])
    assert meta["spec"]["metrics"][0] == {"name": "exact_match", "options": {"ignore_case": True}}


def test_score_dataset_names_the_bad_row(inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = pq.read_table(inputs / "a.parquet")
    table = table.append_column("path", pa.repeat(str(inputs / "a.parquet"), table.num_rows))
    spec = ScoreSpec(SPEC.metrics, SPEC.columns, on_error="raise")
    where = r"row 5 of a batch \(path '[^']*a\.parquet', doc_id 5\): exact_match: null reference"
    ds = ray.data.from_arrow(table)  # as read_parquet(..., include_paths=True) gives it
    with pytest.raises(ray.exceptions.RayError, match=where):  # wrapped, message kept
        ray_engine.score_dataset(ds, spec).take_all()
    ctx = ray.data.DataContext.get_current()
    monkeypatch.setattr(ctx, "raise_original_map_exception", True)
    ds = ray.data.from_arrow(table)  # a dataset copies the context when it is made
    with pytest.raises(UnscorableRowError) as info:  # the error itself, in Ray's wrapper
        ray_engine.score_dataset(ds, spec).take_all()
    error = ray_engine.unwrap_error(info.value)
    assert isinstance(error, UnscorableRowError)
    assert re.fullmatch(
        where + r" \(column 'reference'\) while the other input is present", str(error)
    )


# --- pure helpers -------------------------------------------------------------------------------


def test_unit_pieces_cut_batches_by_unit_whatever_their_order() -> None:
    rows = [130, 131, 5, 6, 7, 8, 9, 10, 12]
    files = [1, 1, 0, 0, 0, 0, 0, 0, 0]
    batch = pa.table(
        {
            ray_engine.FILE_COLUMN: pa.array(files, pa.int32()),
            ray_engine.ROW_COLUMN: pa.array(rows, pa.int64()),
            "x": [f"{f}:{r}" for f, r in zip(files, rows, strict=True)],
        }
    )
    got = [(f, k, o, t.column("x").to_pylist()) for f, k, o, t in ray_engine.unit_pieces(batch, 8)]
    assert got == [
        (0, 0, 5, ["0:5", "0:6", "0:7"]),
        (0, 1, 0, ["0:8", "0:9", "0:10"]),
        (0, 1, 4, ["0:12"]),  # a gap: another piece
        (1, 16, 2, ["1:130", "1:131"]),
    ]


def test_unscorable_row_errors_cross_process_boundaries() -> None:
    e = pickle.loads(pickle.dumps(UnscorableRowError("f: row 3: m: bad", row=3, metric="m")))
    assert (str(e), e.row, e.metric) == ("f: row 3: m: bad", 3, "m")


class _Written:
    """What read_ranges asks of an output directory: the units already written."""

    def __init__(self, done: set[int]) -> None:
        self.done = done

    def file_complete(self, file_index: int) -> bool:
        return False

    def done_units(self, file_index: int) -> set[int]:
        return self.done


def test_read_tasks_start_at_row_groups_and_skip_written_units(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"i": list(range(1000))}), path, row_group_size=150)
    plan = job.InputPlan(0, InputFile(path, "parquet"), {}, {})
    # Units of 40 rows: a row group starts in units 0, 4 (150), 8 (300), 12, 15, 19, 23.
    got = [
        (r.first_unit, r.stop_unit)
        for r in ray_engine.read_ranges([plan], 40, _Written(set()), task_units=4)
    ]
    assert got == [(0, 4), (4, 8), (8, 12), (12, 19), (19, 25)]
    done = {0, 1, 5, 13}
    ranges = ray_engine.read_ranges([plan], 40, _Written(done), task_units=4)
    assert [(r.first_unit, r.stop_unit, sorted(r.skip)) for r in ranges] == [
        (2, 4, []),
        (4, 8, [5]),
        (8, 12, []),
        (12, 19, [13]),
        (19, 25, []),
    ]
    assert [r.rows for r in ranges] == [80, 120, 160, 240, 240]


def test_plugins_run_on_the_workers(inputs: Path, plugin_site: Path, tmp_path: Path) -> None:
    """A metric registered in the driver and one installed through its entry point score on
    the workers exactly as in the local engine; a plugin's failure names it, file and rows."""

    def words(p: pa.Array, r: pa.Array, *, per: float = 1.0) -> pa.Array:
        """Words in the prediction, divided by ``per``."""
        counts = pc.list_value_length(pc.utf8_split_whitespace(p))
        return pc.divide(pc.cast(counts, pa.float64()), per)

    def broken(p: pa.Array, r: pa.Array) -> pa.Array:
        return pa.array([1.0] * (len(p) + 1))

    register_metric(
        name="words",
        higher_is_better=True,
        continuous=True,
        inputs="text",
        option_docs={"per": "divide the count by this"},
    )(words)
    register_metric(name="broken", higher_is_better=True, continuous=True, inputs="text")(broken)
    try:
        with plugin_installed(plugin_site):  # the driver sees the same installation
            metrics = f"exact_match,words,{METRIC}"
            kwargs: dict[str, Any] = {
                "metrics": metrics,
                "batch_size": BATCH,
                "on_error": "null",
                "options": {"words": {"per": 2.0}},
            }
            rescore.score(inputs, tmp_path / "local", **kwargs)
            rescore.score(inputs, tmp_path / "ray", engine="ray", **kwargs)
            _same_output(tmp_path / "ray", tmp_path / "local")
            out = read_out(tmp_path / "ray")
            assert out.column("words").null_count < out.num_rows
            assert out.column(METRIC).null_count < out.num_rows

            with pytest.raises(PluginError, match=r"rows \d+-\d+: metric 'broken' .*returned"):
                rescore.score(inputs, tmp_path / "bad", metrics="broken", engine="ray")
            assert not list((tmp_path / "bad").glob("part-*"))
    finally:
        unregister("words")
        unregister("broken")


# --- workers that die every time ----------------------------------------------------------------


def test_a_row_that_kills_every_worker_fails_the_job_after_max_retries(tmp_path: Path) -> None:
    """A plugin that kills its worker process on one row: the job fails after exactly
    ``max_retries`` retries of the rows around it (not Ray's endless retries), naming file and
    rows; the parts written stay whole, and a rerun once the plugin is fixed finishes the job
    with every row once."""
    src = tmp_path / "in"
    src.mkdir()
    pq.write_table(pa.table(_rows(0, 300, holes=False)), src / "a.parquet")
    b = _rows(300, 300, holes=False)
    b["prediction"][211] = "POISON"  # row 211 of b.parquet: unit 3 at 64 rows a unit
    pq.write_table(pa.table(b), src / "b.parquet", row_group_size=100)
    attempts, armed = tmp_path / "attempts", tmp_path / "armed"
    attempts.mkdir()
    armed.touch()

    def crashy(p: pa.Array, r: pa.Array) -> pa.Array:
        """1.0 where the prediction equals the reference; kills its process on POISON."""
        if armed.exists() and "POISON" in p.to_pylist():
            (attempts / str(os.getpid())).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return pc.cast(pc.equal(p, r), pa.float64())

    register_metric(name="crashy", higher_is_better=True, continuous=True, inputs="text")(crashy)
    kwargs: dict[str, Any] = {"metrics": "exact_match,crashy", "batch_size": BATCH}
    out = tmp_path / "ray"
    try:
        with pytest.raises(WorkerDiedError) as info:
            rescore.score(src, out, engine="ray", max_retries=2, **kwargs)
        assert len(list(attempts.iterdir())) == 3  # the first attempt and two retries
        e = info.value
        assert (e.path, e.first_row, e.last_row, e.deaths) == (str(src / "b.parquet"), 192, 255, 3)
        assert str(e).startswith(
            f"{src / 'b.parquet'}: rows 192-255: the Ray worker scoring them died 3 times "
            "(max_retries=2)"
        )
        assert not manifest(out)["complete"]
        for part in out.glob("part-*.parquet"):  # whatever was written is whole
            assert pq.read_metadata(part).num_rows > 0
        assert not [p for p in out.iterdir() if p.name.startswith(".")]

        armed.unlink()  # the plugin is fixed: the same command finishes the job
        result = rescore.score(src, out, engine="ray", max_retries=2, **kwargs)
        assert result.resumed
        rescore.score(src, tmp_path / "local", **kwargs)
        _same_output(out, tmp_path / "local")
    finally:
        unregister("crashy")


def test_max_retries_is_an_option_of_the_command() -> None:
    result = CliRunner().invoke(main, ["score", "--help"], terminal_width=100)
    assert "--max-retries" in result.output
    with pytest.raises(InvalidOptionError, match="max_retries"):
        rescore.score("x", "y", max_retries=-1)


def test_memory_paths_are_refused_on_ray(tmp_path: Path) -> None:
    """fsspec's memory:// lives in one process: Ray's workers would not see it."""
    fsspec = pytest.importorskip("fsspec")
    mem = fsspec.filesystem("memory")
    mem.pipe("memory://rescore-ray/in/a.jsonl", b'{"prediction": "a", "reference": "a"}\n')
    try:
        with pytest.raises(InvalidOptionError, match=r"memory://rescore-ray/in/a\.jsonl: memory"):
            rescore.score("memory://rescore-ray/in/", tmp_path / "o", engine="ray")
        with pytest.raises(InvalidOptionError, match=r"memory://rescore-ray/out: memory"):
            rescore.score(
                _bad_inputs(tmp_path / "in", "unscorable"), "memory://rescore-ray/out", engine="ray"
            )
        assert not (tmp_path / "o").exists()
    finally:
        mem.rm("memory://rescore-ray", recursive=True)

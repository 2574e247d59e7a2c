# Streamwise: the two commands are `make demo` and `make test` (see README.md).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck pytest pytest-sqlite pytest-postgres bench serve clean chromium

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Streamwise needs Python 3.11 or newer; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed

## demo: set up, load the demo organisation into streamwise.db, serve http://127.0.0.1:8000
demo: $(VENV)/.installed
	$(BIN)/streamwise demo
	$(BIN)/streamwise serve

serve: $(VENV)/.installed
	$(BIN)/streamwise serve

## test: set up, lint, type-check, run the whole suite on SQLite and on PostgreSQL 15
test: lint typecheck pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

pytest: pytest-sqlite pytest-postgres

# The browser tests drive Debian's chromium (never Playwright's downloaded browsers).
chromium:
	scripts/install-chromium.sh

pytest-sqlite: $(VENV)/.dev-installed chromium
	@echo "== pytest on SQLite"
	$(BIN)/pytest

pytest-postgres: $(VENV)/.dev-installed chromium
	@echo "== pytest on PostgreSQL"
	scripts/with-postgres.sh $(BIN)/pytest

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[bench]'
	@touch $@

## bench: performance benchmarks (figures go to docs/performance.md)
BENCH_DB ?= sqlite:///bench-enterprise.db
bench: $(VENV)/.bench-installed
	$(BIN)/python bench/bench_demo.py
	@[ -f bench-enterprise.db ] || $(BIN)/python bench/enterprise.py --database $(BENCH_DB)
	$(BIN)/python bench/bench_metrics.py --database $(BENCH_DB)
	$(BIN)/python bench/bench_webhook.py --database $(BENCH_DB)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output

# Pana: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format eval bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/pana serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pana kb check
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

eval: install
	$(BIN)/pana eval

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

# Load test (issue 5): 200 users x 20 messages, duplicates, a kill -9 and restart; SQLite by
# default. `make loadtest DB=postgres` starts a throwaway PostgreSQL (needs Debian's
# postgresql package); `make loadtest DATABASE_URL=postgresql+psycopg://…` makes a scratch
# database on that server and drops it afterwards; WORKERS=2 for the scale-out check.
WORKERS ?= 1
loadtest: install
	$(BIN)/python -m tests.load --workers $(WORKERS) $(if $(filter postgres,$(DB)),--postgres) $(if $(filter postgresql%,$(DATABASE_URL)),--database-url '$(DATABASE_URL)')

# Benchmark (issue 7): engine, bare endpoint, SQLite and PostgreSQL; writes bench-results/,
# docs/performance.md and docs/performance.png. BENCH_ARGS=--quick for a short smoke run.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
AS_OF ?= 2026-11-20
CONFIG ?= configs/default.yaml
OUT ?= out

.PHONY: install demo test test-fast lint bench-deps bench bench-large sample clean

$(BIN)/leadctl: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/leadctl

install: $(BIN)/leadctl

demo: install
	$(BIN)/leadctl run --config $(CONFIG) --as-of $(AS_OF) --out $(OUT)

test: install
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not slow"

lint: install
	$(BIN)/ruff check leadctl tests
	$(BIN)/ruff format --check leadctl tests
	$(BIN)/mypy leadctl

sample: install
	$(BIN)/leadctl sample --out sample_data --leads 5000 --seed 42

bench-deps: install
	$(BIN)/pip install --quiet -e ".[dev,bench]"

bench: bench-deps
	$(BIN)/python -m bench.run --leads 1000000

# 10 M leads: the night (`run`) and the floor, with the 1 M set's models (run `make bench` first;
# without them `run` trains its own). Add PARTS=stages,run,floor,features,profile for everything.
bench-large: bench-deps
	$(BIN)/python -m bench.run --leads 10000000 --parts $(or $(PARTS),run,floor) --models-from 1000000

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache

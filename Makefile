# Tessera: `make demo` and `make test` work on a fresh clone; everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench serve clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Set everything up, create tenant "demo" with sample data, serve on http://127.0.0.1:5000
demo: $(STAMP)
	$(BIN)/tessera demo

## Set everything up and run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench.list_queries

serve: $(STAMP)
	$(BIN)/tessera serve

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# storywatch: the two commands are `make run` and `make test`.
# Both build .venv from the locked requirements (requirements/*.lock, hash-checked).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint format lock clean help

help:
	@echo "make run    set up, create and seed the warehouse, run one ingest cycle"
	@echo "make test   set up and run the linter and the tests"
	@echo "make lock   re-resolve requirements/*.lock after changing pyproject.toml"

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "storywatch needs Python 3.11 or newer: set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.run-installed: $(VENV)/.python-ok requirements/run.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/run.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements/dev.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	@touch $@

run: $(VENV)/.run-installed
	$(BIN)/storywatch init
	$(BIN)/storywatch run

test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Pins every dependency, with hashes, for all platforms and Python 3.11+.
lock: $(VENV)/.dev-installed
	$(BIN)/uv pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 -q -o requirements/run.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --generate-hashes --python-version 3.11 -q -o requirements/dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Quick start: `make demo` and `make test`. Both need only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_CAMPAIGN := campaigns/2g-shutdown-2024.yaml

.PHONY: demo test lint typecheck unit integration acceptance bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The sample 2G campaign against the built-in simulator and SQLite (var/dispatcher.sqlite3).
demo: $(STAMP)
	$(BIN)/dispatcher validate $(DEMO_CAMPAIGN)
	$(BIN)/dispatcher plan $(DEMO_CAMPAIGN)
	$(BIN)/dispatcher send $(DEMO_CAMPAIGN) --occurrence demo
	$(BIN)/dispatcher broadcast scripts $(DEMO_CAMPAIGN)
	$(BIN)/dispatcher log --campaign 2g-shutdown-2024 --status failed
	$(BIN)/dispatcher report monthly --month $$(date +%Y-%m)
	$(BIN)/dispatcher report monthly --month 2024-10

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	$(BIN)/pytest

# plan of a 100,000- and a 1,000,000-row list (generated into bench/out/), with a baseline.
bench: $(STAMP)
	$(BIN)/python bench/plan_1m.py

clean:
	rm -rf $(VENV) var audio/out .pytest_cache .mypy_cache .ruff_cache

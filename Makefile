# Quick start: `make demo` and `make test`. Both need only Python 3.11+ and make (and install
# espeak-ng with apt-get when it is missing; `test` also chromium and chromium-driver).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_CAMPAIGN := campaigns/2g-shutdown-2024.yaml

.PHONY: demo test check lint typecheck unit integration acceptance bench clean espeak-ng espeak-ng-required chromium

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The sample 2G campaign against the built-in simulator and SQLite (var/dispatcher.sqlite3).
demo: $(STAMP) espeak-ng
	$(BIN)/dispatcher validate $(DEMO_CAMPAIGN)
	$(BIN)/dispatcher plan $(DEMO_CAMPAIGN)
	@# Quiet hours off for this one send: it goes to the simulator, and the demo runs at any hour.
	DISPATCHER_QUIET_HOURS=off $(BIN)/dispatcher send $(DEMO_CAMPAIGN) --occurrence demo
	$(BIN)/dispatcher broadcast scripts $(DEMO_CAMPAIGN)
	@# One commune's day: its scripts and the audio of its 2 airings (.wav, .mp3; without
	@# espeak-ng it says why and writes none). Audio for every airing: `broadcast scripts --audio`.
	$(BIN)/dispatcher broadcast pull --commune "Xã Tân Đoàn" --date 16/09/2024
	$(BIN)/dispatcher log --campaign 2g-shutdown-2024 --status failed
	$(BIN)/dispatcher report monthly --month $$(date +%Y-%m)
	$(BIN)/dispatcher broadcast confirm --commune "Xã Tân Đoàn" --campaign 2g-shutdown-2024 --at "02/10/2024 06:00" --duration 420
	@# Outreach by other means, as the communes report it (recorded once: a second demo keeps them).
	$(BIN)/dispatcher activity list --month 2024-10 --format jsonl | grep -q . || \
	  $(BIN)/dispatcher activity import campaigns/activities/2024-10-van-quan.csv
	$(BIN)/dispatcher report monthly --month 2024-10
	$(BIN)/dispatcher report monthly --month 2024-10 --format xlsx --out var/bao-cao-10-2024.xlsx
	@# The same report laid out to sign and file (Decree 30/2020/NĐ-CP), with the month's chart.
	$(BIN)/dispatcher report monthly --month 2024-10 --format docx --out var/bao-cao-10-2024.docx
	@# Every log record is hash-chained: exit 1 naming the first one changed since written.
	$(BIN)/dispatcher log verify

# Offline Vietnamese speech for the loudspeaker audio (Debian package espeak-ng), installed
# with apt-get when missing: as root, else through sudo. Where it cannot be had, `demo` says so
# and writes the scripts without audio; `test` stops, since the audio tests would fail.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

espeak-ng:
	@command -v espeak-ng >/dev/null 2>&1 || { \
	  echo "installing espeak-ng (offline Vietnamese text-to-speech) with apt-get"; \
	  { $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends espeak-ng >/dev/null; } || \
	  echo "espeak-ng could not be installed (apt-get install espeak-ng); scripts are written without audio" >&2; }

espeak-ng-required: espeak-ng
	@command -v espeak-ng >/dev/null 2>&1 || { \
	  echo "the audio tests need espeak-ng: install the Debian package espeak-ng" >&2; exit 1; }

# Headless Chromium and its driver (Debian packages chromium, chromium-driver) for the test of
# the communes' page in a real browser; installed with apt-get when missing, else `test` stops.
chromium:
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || { \
	  echo "installing chromium and chromium-driver (the commune page test) with apt-get"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; } || { \
	  echo "the commune page test needs Debian's chromium and chromium-driver" >&2; exit 1; }

# Ruff, the formatter, and import-linter's contracts in pyproject.toml (imports flow one way,
# no circles: ARCHITECTURE.md).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

# The tiers, each on its own; both cores through pytest-xdist where it pays.
PYTEST_PARALLEL := -n auto --dist worksteal

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) espeak-ng-required
	$(BIN)/pytest $(PYTEST_PARALLEL) tests/integration

acceptance: $(STAMP) espeak-ng-required chromium
	$(BIN)/pytest $(PYTEST_PARALLEL) tests/acceptance

# Everything, as CI runs it: what the README's second command does.
test: $(STAMP) espeak-ng-required chromium lint typecheck
	$(BIN)/pytest $(PYTEST_PARALLEL)

# The fast local loop: lint, types, unit and integration tiers (no browser, no subprocesses).
check: lint typecheck unit integration

# plan of a 100,000- and a 1,000,000-row list (generated into bench/out/), with a baseline.
bench: $(STAMP)
	$(BIN)/python bench/plan_1m.py

clean:
	rm -rf $(VENV) var audio/out .pytest_cache .mypy_cache .ruff_cache

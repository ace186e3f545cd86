# Two commands on a fresh machine with only Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint unit bench schemas clean browser

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/lantern up

test: $(INSTALLED) lint browser
	$(BIN)/pytest

# The console test drives Debian's Chromium headless; install it when it is missing.
browser:
	@command -v chromium >/dev/null || apt-get install -y -qq chromium >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| (echo "make test needs Debian's chromium: apt-get install chromium" && false)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/mypy lantern schemas services bench

unit: $(INSTALLED)
	$(BIN)/pytest tests/unit tests/contract

bench: $(INSTALLED)
	$(BIN)/python -m bench.sealing
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.classification
	$(BIN)/python -m bench.forwarding
	$(BIN)/python -m bench.matching

schemas: $(INSTALLED)
	$(BIN)/python -m schemas.generate
	$(BIN)/python -m lantern.openapi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

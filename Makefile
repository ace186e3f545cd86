# Two commands on a fresh machine with only Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# pytest-xdist workers: the tests mostly wait on the broker, PostgreSQL and subprocesses, so four beat
# two or three on two cores. loadscope keeps a module on one worker: an end-to-end module shares one
# `lantern up` (loadgroup would not: xdist 3.8 cannot mark node ids under pytest 9.2).
PYTEST_WORKERS ?= 4
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope

.PHONY: run test test-fast test-slow test-conformance faults lint unit bench schemas clean browser

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/lantern up

test: $(INSTALLED) lint test-fast

# Everything but the tests marked slow, on the real broker and PostgreSQL.
test-fast: $(INSTALLED)
	$(PYTEST) -m "not slow"

# The tests marked slow: the console in Chromium, the end-to-end runs of `lantern up` and the
# schemathesis conformance run against every service.
# pytest exits 5 when no test is selected, which is no failure here.
# The conformance runs go last: they keep intake hashing follow-up codes (scrypt) on a core for
# minutes, which starved the browser and restart tests beside them into their timeouts.
SLOW ?= slow
test-slow: $(INSTALLED) browser
	$(PYTEST) -m "($(SLOW)) and not conformance" || [ $$? -eq 5 ]
	$(PYTEST) -m "($(SLOW)) and conformance" || [ $$? -eq 5 ]

# The schemathesis conformance run alone (it is part of test-slow).
test-conformance: $(INSTALLED)
	$(BIN)/pytest -m conformance

# The fault suite (tests/faults/run.py): every fault alone, then a random mix of 500 tips (the seed is
# printed; `--seed N` draws the same mix again), on embedded PostgreSQL and on the shared server.
faults: $(INSTALLED)
	$(BIN)/python -m tests.faults.run

# The console test drives Debian's Chromium headless; install it when it is missing.
browser:
	@command -v chromium >/dev/null || apt-get install -y -qq chromium >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| (echo "make test needs Debian's chromium: apt-get install chromium" && false)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
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

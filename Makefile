# Every target works on a fresh clone: the virtual environment is created on demand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# make run trains two experiments at a time where there are two cores (the same numbers, sooner); JOBS=1 runs them
# one after the other, each with all the memory
JOBS   ?= $(shell [ "$$(nproc 2>/dev/null || echo 1)" -ge 2 ] && echo 2 || echo 1)

.PHONY: run test test-fast bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,cpu,cluster]'
	touch $(STAMP)

run: $(STAMP)
	@$(BIN)/replab data fetch fashion-mnist || echo "replab: Fashion-MNIST could not be fetched; the BN runs will say so"
	$(BIN)/replab run all --jobs $(JOBS)
	$(BIN)/replab report
	@echo "Report: $(abspath runs/report.html)"

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The unit tier: everything but quick runs, notebooks, the browser and the cluster (tests marked slow).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# The report's browser test needs Debian's chromium and its driver; installed when missing and we may (root + apt).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium and chromium-driver for tests/test_browser.py"; \
		export DEBIAN_FRONTEND=noninteractive; \
		timeout 600 apt-get update -qq && timeout 900 apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "chromium is missing and cannot be installed here (not root): tests/test_browser.py will be skipped"; fi

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) runs build src/*.egg-info

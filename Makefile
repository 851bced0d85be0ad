# Every target works on a fresh clone: the virtual environment is created on demand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,cpu]'
	touch $(STAMP)

run: $(STAMP)
	@$(BIN)/replab data fetch fashion-mnist || echo "replab: Fashion-MNIST could not be fetched; the BN runs will say so"
	$(BIN)/replab run all
	$(BIN)/replab report
	@echo "Report: $(abspath runs/report.html)"

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) runs build src/*.egg-info

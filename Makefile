# Each target creates .venv and installs what it needs on first use: `demo` the studio alone,
# the others the dev extra (test, lint and type tools) too.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-studio
TOOLS := .tools
MERMAID_STAMP := $(TOOLS)/mermaid/.installed

.PHONY: demo test check lint types bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(DEMO_STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(DEMO_STAMP)

# The real Mermaid renderer (mermaid + puppeteer-core) runs in the system's chromium; no browser download.
$(MERMAID_STAMP):
	mkdir -p $(TOOLS)/mermaid
	test -f $(TOOLS)/mermaid/package.json || echo '{"name":"mermaid-tools","private":true}' > $(TOOLS)/mermaid/package.json
	cd $(TOOLS)/mermaid && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --silent mermaid@11 puppeteer-core@24
	touch $(MERMAID_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/cadence-studio examples/shop.py

test: $(STAMP) $(MERMAID_STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

types: $(STAMP)
	$(BIN)/mypy

check: lint types test

bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/serialize.py
	$(BIN)/python bench/durable.py
	$(BIN)/python bench/studio.py
	$(BIN)/python bench/field_writes.py
	$(BIN)/python bench/http.py
	$(BIN)/python bench/temporal.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache

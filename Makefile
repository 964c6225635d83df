# The two commands a newcomer needs: `make demo` and `make test`.
# Everything else here is how they set themselves up from a fresh clone.

PYTHON      ?= python3.11
VENV        := .venv
BIN         := $(VENV)/bin
JARS        := .jars
LAKE_ROOT   ?= .lake
CHECKOV_VENV := .venv-checkov
GBSTATS_VENV := .venv-gbstats
PYTEST_ARGS ?=

export SPARK_VERSION := 3.5
export LAKEHOUSE_JARS_DIR := $(CURDIR)/$(JARS)

.PHONY: setup demo test lint cfn-lint checkov pytest wheel jars clean bench help chromium postgres gbstats contracts-check

help:
	@echo "make demo   run the workflow on the embedded local default (lake under $(LAKE_ROOT)/)"
	@echo "make test   lint, validate the templates and run every test"
	@echo "make bench  run the benchmarks under bench/"
	@echo "make wheel  build the wheel Glue loads (dist/)"

setup: $(VENV)/.installed $(JARS)/.resolved

$(VENV)/.installed: setup.py lib/lakehouse/_versions.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,dev]'
	touch $@

# JVM artifacts: resolved by Maven from pom.xml into a git-ignored folder, once.
# Afterwards Maven is not called again (no network needed) until pom.xml changes.
$(JARS)/.resolved: pom.xml
	rm -rf $(JARS) && mkdir -p $(JARS)
	mvn -q -B dependency:copy-dependencies -DexcludeTransitive=true -DoutputDirectory=$(JARS) \
	  || mvn -q -B -o dependency:copy-dependencies -DexcludeTransitive=true -DoutputDirectory=$(JARS)
	touch $@
jars: $(JARS)/.resolved

$(CHECKOV_VENV)/.installed: lib/lakehouse/_versions.py
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet $$($(PYTHON) -c "exec(open('lib/lakehouse/_versions.py').read()); print(' '.join(CHECKOV_REQUIREMENTS))")
	touch $@

# GrowthBook's gbstats for the statistics cross-check (tests/experiments/stats/test_gbstats.py).
$(GBSTATS_VENV)/.installed: lib/lakehouse/_versions.py
	test -x $(GBSTATS_VENV)/bin/python || $(PYTHON) -m venv $(GBSTATS_VENV)
	$(GBSTATS_VENV)/bin/pip install --quiet --only-binary=:all: $$($(PYTHON) -c "exec(open('lib/lakehouse/_versions.py').read()); print(' '.join(GBSTATS_REQUIREMENTS))")
	touch $@
gbstats: $(GBSTATS_VENV)/.installed

demo: setup
	$(BIN)/lakehouse demo --lake-root $(LAKE_ROOT)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Published contract versions are immutable (contracts/lock.json); tests/contracts/test_lock.py checks the same.
contracts-check: $(VENV)/.installed
	$(BIN)/lakehouse contracts check

cfn-lint: $(VENV)/.installed
	$(BIN)/cfn-lint --regions eu-west-1 us-east-1 -- infra/templates/*.yaml

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov -d infra/templates --framework cloudformation --skip-download --quiet --compact \
	  --external-checks-dir infra/policies/checkov

# Headless Chromium for the report's browser test: Debian's package, never a browser download.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

# PostgreSQL server binaries for the ledger tests (each test session starts its own throwaway
# cluster on 127.0.0.1): Debian's package, like chromium above; no system service is started.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; }

pytest: setup chromium postgres gbstats
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint cfn-lint checkov pytest

wheel: $(VENV)/.installed
	rm -rf dist build && $(BIN)/python -m build --wheel --no-isolation --outdir dist .

bench: setup
	$(BIN)/python -m bench.bronze_to_silver
	$(BIN)/python -m bench.silver_to_gold --reuse

# Deploy one environment (ENV=dev|stage|prod): build, upload artifacts, change-set every stack.
ENV ?= dev
.PHONY: deploy
deploy: setup
	$(BIN)/lakehouse deploy --env $(ENV)

clean:
	rm -rf build dist $(LAKE_ROOT) .pytest_cache

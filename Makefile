# Two commands: `make run` sets up and builds the warehouse (sample data when no
# raw folder is given); `make test` runs every check. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RAW_DIR ?= data/raw
WAREHOUSE ?= warehouse.duckdb
SAMPLE_ORDERS ?= 5000

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_PROFILES_DIR := $(CURDIR)
# SOURCE: one or more space-separated [name=]spec items (a raw folder, sqlite:///path/app.db,
# postgresql://user@host:port/db, a pg_dump file); HISTORY: trades_history.json files outside
# any folder. Both reach the scripts through the environment only (never a command line), so
# a password in a URL is not echoed; prefer PGPASSWORD or ~/.pgpass anyway.
SOURCE ?=
HISTORY ?=
export WAREHOUSE
export RAW_DIR
export SOURCE
export HISTORY
# with SOURCE set, RAW_DIR is not read
WHERE := $(if $(strip $(SOURCE)),,--raw-dir "$(RAW_DIR)")
# VARS: dbt vars for the build, e.g. the naive-UTC windows of a PostgreSQL installation:
# VARS='{naive_utc_from: "2000-01-01", naive_utc_until: "2026-05-15"}'
VARS ?=
export VARS
VARS_FLAG := $(if $(strip $(VARS)),--dbt-arg=--vars "--dbt-arg=$$VARS")

.PHONY: help setup system-deps sample-data load build run nightly query test lint gates unit docs report metrics clean test-spark mutants

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

setup: $(VENV)/.installed  ## create .venv and install the pinned requirements

system-deps:  ## install Debian's chromium and tmux for the browser and console tests (skips apt when installed)
	@scripts/install_system_deps.sh

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

sample-data: setup  ## generate sample raw data into data/raw (truth in data/truth)
	$(BIN)/python scripts/generate_sample_data.py --out data/raw --truth data/truth --orders $(SAMPLE_ORDERS)

load: setup  ## load SOURCE (or RAW_DIR) [+ HISTORY] into WAREHOUSE (schema raw)
	$(BIN)/python scripts/load_raw.py $(WHERE) --warehouse "$(WAREHOUSE)"

build: setup  ## dbt build (models + all tests) on WAREHOUSE [VARS=...]
	$(BIN)/dbt build $(if $(strip $(VARS)),--vars "$$VARS")

# The main job. With the default RAW_DIR and no data there yet, sample data is
# generated first. It runs the nightly job without docs: load, dbt build,
# quarantine check, then publish WAREHOUSE atomically. After a refused, unread
# or mostly quarantined file it builds what loaded but keeps the last good
# WAREHOUSE (and names the file) unless ALLOW_PARTIAL=1; it exits non-zero either way.
ALLOW_PARTIAL ?=
PARTIAL_FLAG := $(if $(filter-out 0 no false,$(ALLOW_PARTIAL)),--allow-partial)
run: setup  ## load, dbt build, publish WAREHOUSE: make run SOURCE=<source(s)> [HISTORY=<file>] WAREHOUSE=<file> (or RAW_DIR=<folder>) [ALLOW_PARTIAL=1]
	@if [ -z "$(strip $(SOURCE))" ] && [ "$(RAW_DIR)" = "data/raw" ] && [ ! -d data/raw/orders ]; then \
		echo "No raw data in data/raw: generating sample data (make sample-data)"; \
		$(MAKE) --no-print-directory sample-data; \
	fi
	@$(BIN)/python scripts/nightly.py $(WHERE) --published "$(WAREHOUSE)" --skip-docs $(PARTIAL_FLAG) $(VARS_FLAG) \
		&& echo "Warehouse ready: $(WAREHOUSE) (marts in schema marts)"

nightly: setup  ## the nightly job: load SOURCE (or RAW_DIR), dbt build, docs, atomic publish of WAREHOUSE [ALLOW_PARTIAL=1]
	$(BIN)/python scripts/nightly.py $(WHERE) --published "$(WAREHOUSE)" $(PARTIAL_FLAG) $(VARS_FLAG)

# Read-only: a write statement is refused, and an open console never blocks the nightly
# job (it renames a new file over WAREHOUSE). SQL is read by the shell from the environment
# (make puts command-line variables there), so its quotes reach the script unchanged.
query: setup  ## read-only SQL console on WAREHOUSE: make query; one result: make query SQL="select ..."
	@$(BIN)/python scripts/query.py --warehouse "$(WAREHOUSE)" $(if $(SQL),--sql "$$SQL")

lint: setup  ## sqlfluff lint (dbt templater, DuckDB dialect)
	WAREHOUSE=target/lint.duckdb $(BIN)/sqlfluff lint models tests/marts tests/intermediate tests/staging analyses

unit: setup  ## dbt unit tests only (needs a built warehouse)
	$(BIN)/dbt test --select "test_type:unit"

docs: setup  ## dbt docs generate --static -> target/static_index.html
	$(BIN)/dbt docs generate --static
	@echo "Docs site: $(CURDIR)/target/static_index.html"

report: setup  ## HTML report with plots from the marts of WAREHOUSE -> target/report.html
	$(BIN)/python scripts/report.py --warehouse "$(WAREHOUSE)" --out target/report.html

metrics: setup  ## MetricFlow answers (mf query) on WAREHOUSE; SQL twins in analyses/
	$(BIN)/dbt parse --quiet
	$(BIN)/python scripts/metrics.py

# Quality gates on the artifacts of a small build of their own (target/gates):
# dbt-bouncer rules, doc coverage 100%, tests as evidence (scripts/quality_gates.py); analyses compile.
GATES := target/gates
gates: setup  ## dbt-bouncer, doc coverage, tests-as-evidence gates, analyses compiled (own build in target/gates)
	@rm -rf $(GATES) && mkdir -p $(GATES)
	@$(BIN)/python scripts/generate_sample_data.py --out $(GATES)/raw --truth $(GATES)/truth --orders 300 --quiet > /dev/null
	@$(BIN)/python scripts/load_raw.py --raw-dir $(GATES)/raw --warehouse $(GATES)/warehouse.duckdb --quiet
	WAREHOUSE=$(GATES)/warehouse.duckdb $(BIN)/dbt run --empty --quiet --target-path $(GATES)/dbt_target
	WAREHOUSE=$(GATES)/warehouse.duckdb $(BIN)/dbt compile --select "resource_type:analysis" --quiet --target-path $(GATES)/dbt_target
	WAREHOUSE=$(GATES)/warehouse.duckdb $(BIN)/dbt docs generate --quiet --target-path $(GATES)/dbt_target
	$(BIN)/python scripts/quality_gates.py --artifacts $(GATES)/dbt_target

test: setup system-deps lint gates  ## every check: sqlfluff, quality gates, pytest (scripts, end-to-end vs truth, metrics, browser)
	$(BIN)/python -m pytest -q tests/python

# Mutation check: each small wrong reading of a rule (scripts/mutants.py --list) must make dbt build fail.
mutants: setup  ## mutation check: apply wrong readings of the rules to a copy, show dbt build catches each
	$(BIN)/python scripts/mutants.py

# Spark: its own virtualenv (pyspark is ~700 MB; the default install stays light) and its
# own pytest marker. SPARK_ORDERS generated orders (small: a JVM per dbt command).
SPARK_VENV := .venv-spark
SPARK_ORDERS ?= 2000

$(SPARK_VENV)/.installed: requirements.txt requirements-spark.txt
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-spark.txt
	touch $@

test-spark: $(SPARK_VENV)/.installed  ## Spark (local pyspark) build of generated data compared with DuckDB, mart by mart
	@command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; }
	SPARK_TEST_ORDERS=$(SPARK_ORDERS) $(SPARK_VENV)/bin/python -m pytest -q -m spark tests/python/test_spark.py

clean:  ## remove build output (keeps .venv and data)
	rm -rf target logs

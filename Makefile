# sodan — the two commands that matter: `make run` and `make test`.
# Everything else is a step they use. Works on a fresh Debian machine with
# Python 3.11+: uv is installed into a private bootstrap venv when missing.

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BOOTSTRAP := $(ROOT)/.run/bootstrap
UV := $(shell command -v uv 2>/dev/null || echo $(BOOTSTRAP)/bin/uv)
VENV := $(ROOT)/.venv
# Trust the machine's certificate store, as pip and curl do: office networks
# that inspect TLS install their own CA there, and uv's built-in roots lack it.
export UV_SYSTEM_CERTS ?= 1
export UV_NATIVE_TLS ?= 1
PY := $(VENV)/bin/python
# mypy by package name: the source folders are on mypy_path (pyproject.toml)
PACKAGES := sodan_shared sodan_ingress sodan_triage sodan_routing sodan_console \
	sodan_reporting sodan_backup line_simulator sodan_devstack sodan_console_client drills

.PHONY: run stop status install system-deps lint typecheck test asyncapi docs screenshots clean help eval bench drills

help:
	@echo "make run    - install everything and start the whole stack (Ctrl-C stops it)"
	@echo "make stop   - stop a stack started by 'make run' in another terminal"
	@echo "make test   - install, then ruff, mypy and the full pytest suite"
	@echo "make asyncapi - regenerate each service's asyncapi.yaml"
	@echo "make docs   - regenerate the generated tables in docs/*.md and docs/console-openapi.json"
	@echo "make eval   - triage recall/precision per level on the evaluation set"
	@echo "make drills - fault drills (kill -9, NATS/PostgreSQL outages, junk, poison): lost/duplicated table"
	@echo "make bench  - every benchmark (triage, bench/*.py), each beside an in-run baseline"

$(BOOTSTRAP)/bin/uv:
	python3 -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet uv

# Bytecode is compiled here, once: where PYTHONDONTWRITEBYTECODE is set (as on
# some CI and container images) every service would otherwise compile its whole
# import tree from source at each start, 2-3x its start-up CPU. Already-current
# files are skipped, so a second run takes seconds. (Some packages ship files for
# other Python versions that never compile: that exit status means nothing.)
install: $(if $(shell command -v uv 2>/dev/null),,$(BOOTSTRAP)/bin/uv)
	$(UV) sync --all-packages --frozen --quiet
	@$(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null 2>&1 || true
	$(PY) -m compileall -q -j 0 shared services tools deploy drills bench > /dev/null

# Debian packages the tests and the stack need (Chromium for browser tests,
# a Japanese font for screenshots and PDFs, PostgreSQL server binaries).
system-deps:
	@bash deploy/local/install-system-deps.sh

run: install
	$(VENV)/bin/sodan-dev up

stop:
	$(VENV)/bin/sodan-dev stop

status:
	$(VENV)/bin/sodan-dev status

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy $(addprefix -p ,$(PACKAGES))

# Two workers even on two cores: much of the suite waits on real services, so a
# second worker overlaps that waiting with CPU work (see conftest.py for grouping).
TEST_WORKERS ?= 2

test: install system-deps lint typecheck
	$(VENV)/bin/pytest -n $(TEST_WORKERS)

asyncapi: install
	@for s in ingress triage routing console reporting backup; do \
	  $(VENV)/bin/sodan-$$s asyncapi || exit 1; done

# every browser test saves its screen when SODAN_SCREENSHOTS_DIR is set (docs/console.md uses them)
screenshots: install
	SODAN_SCREENSHOTS_DIR=$(ROOT)/docs/screenshots $(VENV)/bin/pytest -q \
	  $(wildcard services/console-api/tests/test_*browser*.py) \
	  services/console-api/tests/test_reports.py::test_the_reports_page_shows_the_report_to_a_supervisor \
	  services/reporting/tests/test_monthly_report.py::test_downloads_csv_xlsx_pdf

docs: install
	$(VENV)/bin/sodan-dev docs

eval: install
	$(PY) services/triage/eval/evaluate.py

# One script per area; each prints its figures beside an in-run baseline.
bench: install
	$(PY) services/triage/bench/bench.py
	@for f in $(ROOT)/bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# Fault drills: load through the LINE simulator, one fault each, then reconcile;
# the table goes to docs/reliability.md (the test suite runs them reduced).
drills: install
	cd $(ROOT) && $(PY) -m drills.run

clean:
	rm -rf .run/logs .pytest_cache .mypy_cache .ruff_cache

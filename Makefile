# Two commands for a fresh machine (README "Quick start"): `make run` and `make test`.
PYTHON ?= python3
# Some machines set PYTHONDONTWRITEBYTECODE=1: every pytest process (each xdist worker, each
# `lgsp serve` a test starts) would then compile every module and rewrite every test's asserts
# again, about 10 s of CPU each. Write the caches (__pycache__/, ignored by git).
unexport PYTHONDONTWRITEBYTECODE
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help run test test-processes test-pg test-browser test-install dist check clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

# pip upgraded first: the one `venv` ships resolves `.[dev]` with half again the CPU (measured
# 2026-12-07: 45 s, against 3 s to upgrade and 29 s to install). `--no-compile`: pip compiles
# every module of every wheel, one after another (12 s of CPU for `.[dev]`, mypy, selenium,
# zeep … included); Python compiles the modules a run imports as it first imports them (about
# 3 s of CPU in each process of the first `make test`).
PIP := $(BIN)/python -m pip --disable-pip-version-check
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --no-compile -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --no-compile -e '.[dev]'
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime  ## install, then start the bus on SQLite at http://127.0.0.1:8000 (PORT=9000: another port)
	$(BIN)/lgsp serve$(if $(PORT), --port $(PORT))

# Tiers (tests/conftest.py TIER_MARKERS): `make test` runs every test that starts no process
# and needs no PostgreSQL server, spread over the cores; `.ci/run` runs the other two as well.
# The plugins the suite uses named one by one, not found through their entry points: pytest
# then rewrites the asserts of those plugins' whole distributions (schemathesis, hypothesis,
# anyio …: 377 modules) at a fresh clone's first run, 4 to 6 s of CPU before a test starts.
# Only plugins of the dev extras (pyproject.toml), so a dependency's dependency that drops one
# cannot stop the run. The option, not PYTEST_DISABLE_PLUGIN_AUTOLOAD: the environment would
# reach the pytest runs some tests start (the integrator's example project), which need their
# plugins found. tests/unit/test_suite_rules.py checks the list against the entry points.
PLUGINS := lgsp.testing.plugin respx.plugin xdist.plugin xdist.looponfail pytest_timeout \
	_hypothesis_pytestplugin anyio.pytest_plugin schemathesis.pytest.plugin
PYTEST := $(BIN)/pytest --disable-plugin-autoload $(PLUGINS:%=-p %) -n auto --dist loadfile
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

test: $(VENV)/.dev  ## install with dev extras, then run the test suite (SQLite, in-process)
	$(PYTEST) -m "not processes and not postgresql and not browser"

test-processes: $(VENV)/.dev  ## the tests that start real processes (lgsp serve, systems, crashes)
	$(PYTEST) -m "processes and not postgresql"

# One browser and one bus per module, so one process: xdist would start a chromium per worker.
test-browser: $(VENV)/.dev  ## the console and the docs in Debian's chromium (apt-get install chromium chromium-driver)
	$(BIN)/pytest -p no:xdist -m browser tests/browser

test-pg: $(VENV)/.dev  ## every test against PostgreSQL (PG_URL, default the local server)
	LGSP_TEST_DATABASE_URL="$${LGSP_TEST_DATABASE_URL:-$(PG_URL)}" $(PYTEST) -m postgresql

dist: $(VENV)/.runtime  ## build the wheel, catalog included, into dist/
	rm -rf dist
	$(PIP) wheel --quiet --no-deps --wheel-dir dist .

# examples/integrator/README.md's commands, to the letter, in a fresh venv outside the checkout.
test-install: dist  ## install the wheel into a fresh venv elsewhere; run the example project there
	@set -e; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	wheel=$$(ls $(CURDIR)/dist/lgsp_mock_bus-*.whl); \
	cp -r examples/integrator "$$dir/project"; cd "$$dir/project"; \
	$(PYTHON) -m venv .venv; \
	.venv/bin/pip install --quiet "$$wheel[testing]"; \
	.venv/bin/pytest -q -p no:cacheprovider; \
	.venv/bin/pytest -q -p no:cacheprovider --lgsp-mode=port; \
	echo "installed $$(basename $$wheel) into $$dir and the example project passed in both modes"

check: $(VENV)/.dev  ## lint, format check and type check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:  ## remove the virtual environment and the local data
	rm -rf $(VENV) .lgsp

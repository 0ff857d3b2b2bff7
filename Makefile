# The entry points a person types. `make run` and `make test` work on a fresh machine
# with Python 3.11+: each creates the virtualenv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM := /usr/bin/chromium
NO_CHROMIUM := echo "NOTE: $(CHROMIUM) is missing, so the end-to-end browser tests (tests/e2e) were SKIPPED. Install it with: apt-get install -y chromium"

# Exact versions with hashes (pip-tools); setup.cfg keeps the ranges. `make lock` after
# changing a dependency in setup.cfg.
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: run test test-e2e lint check-migrations serve-prod lock bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tracker needs Python 3.11 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python $(LOCK) setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	@touch $@

run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT)

# The whole suite, with the browser tests when Chromium is installed (says so when not),
# on every core (pytest-xdist; PYTEST_WORKERS=0 runs it in one process).
PYTEST_WORKERS ?= auto
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	@$(MAKE) --no-print-directory check-migrations
	@status=0; $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || status=$$?; \
	  [ -x $(CHROMIUM) ] || $(NO_CHROMIUM); exit $$status

# Only the end-to-end tests: the app in Chromium, per role, at phone/tablet/desktop widths.
# Screenshots land in tests/e2e/artefacts/.
test-e2e: $(VENV)/.installed-test
	@[ -x $(CHROMIUM) ] || { $(NO_CHROMIUM) >&2; exit 1; }
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

# The migrations build what the models describe (`flask db check` on a fresh database at
# head): a model change without its migration fails here.
check-migrations: $(VENV)/.installed
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	export DATABASE_URL="sqlite:///$$dir/check.sqlite" TRACKER_INSTANCE_PATH="$$dir" \
		TRACKER_ENV_NAME=development && \
	out=$$($(FLASK) db upgrade 2>&1) || { echo "$$out"; exit 1; } && $(FLASK) db check

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# Production serving: PostgreSQL via DATABASE_URL, gunicorn with deploy/gunicorn.conf.py
# (BIND, default 127.0.0.1:8000, and WORKERS, default 4, from the environment).
serve-prod: $(VENV)/.installed
	$(FLASK) db upgrade
	$(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(PIP_COMPILE) -o $(LOCK) setup.cfg
	$(PIP_COMPILE) --extra test -o $(TEST_LOCK) setup.cfg

# Page speed in a synthetic clinic (bench/run.py): PATIENTS=10000 DB=sqlite|postgres|both.
# Seeds a fresh database each time; PostgreSQL: BENCH_PG_URL (dropped and created again).
PATIENTS ?= 10000
DB ?= both
DURATION ?= 10
bench: $(VENV)/.installed
	@command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python bench/run.py --patients $(PATIENTS) --db $(DB) --duration $(DURATION) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

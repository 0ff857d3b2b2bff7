# The entry points a person types. `make run` and `make test` work on a fresh machine
# with Python 3.11+: each creates the virtualenv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint serve-prod bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tracker needs Python 3.11 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# Production-like serving: PostgreSQL via DATABASE_URL, several gunicorn workers.
serve-prod: $(VENV)/.installed
	$(FLASK) db upgrade
	$(BIN)/gunicorn --workers $${WORKERS:-4} --bind $(HOST):$(PORT) wsgi:app

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

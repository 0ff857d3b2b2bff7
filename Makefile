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

.PHONY: run test test-e2e lint serve-prod clean

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

# The whole suite, with the browser tests when Chromium is installed (says so when not).
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	  [ -x $(CHROMIUM) ] || $(NO_CHROMIUM); exit $$status

# Only the end-to-end tests: the app in Chromium, per role, at phone/tablet/desktop widths.
# Screenshots land in tests/e2e/artefacts/.
test-e2e: $(VENV)/.installed-test
	@[ -x $(CHROMIUM) ] || { $(NO_CHROMIUM) >&2; exit 1; }
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# Production-like serving: PostgreSQL via DATABASE_URL, several gunicorn workers.
serve-prod: $(VENV)/.installed
	$(FLASK) db upgrade
	$(BIN)/gunicorn --workers $${WORKERS:-4} --bind $(HOST):$(PORT) wsgi:app

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

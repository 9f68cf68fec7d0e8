# Two commands do all the set-up on a fresh machine:
#   make run    create .venv, install, migrate, load the demo data, serve on SQLite
#   make test   install what the tests need, run the suite on SQLite then PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := wsgi

.PHONY: run test security-check browser bench test-sqlite test-postgres install translations extract-messages db-upgrade seed-demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,browser]'
	touch $@

install: $(STAMP) translations

# Compiled catalogues (.mo) are build products, not committed.
translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d volunteer_platform/translations -D messages

# Refresh the catalogue after changing user-facing text (French source strings).
extract-messages: $(STAMP)
	$(BIN)/pybabel extract --ignore-dirs='.*' -F babel.cfg -k _l -k lazy_gettext -o volunteer_platform/translations/messages.pot .
	$(BIN)/pybabel update -i volunteer_platform/translations/messages.pot -d volunteer_platform/translations -D messages --no-fuzzy-matching

db-upgrade: install
	$(BIN)/flask db upgrade

seed-demo: db-upgrade
	$(BIN)/flask seed-demo --if-empty

run: seed-demo
	@echo "Serving on http://$(HOST):$(PORT) — e-mails are printed below (no MAIL_SERVER set)."
	@trap 'kill $$mailer 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask send-emails --every 5 & mailer=$$!; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install security-check browser
	REQUIRE_BROWSER=1 bash scripts/run-tests.sh

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	bash scripts/install-browser.sh

# Static security analysis of the package: any finding of high severity fails the build.
security-check: $(STAMP)
	$(BIN)/bandit -q -r volunteer_platform --severity-level high

test-sqlite: install
	$(BIN)/pytest -q

test-postgres: install
	bash scripts/run-tests.sh --postgres-only

# The national-scale benchmark (bench/README.md). Needs a PostgreSQL server: point
# BENCH_DATABASE_URL at an empty database (the generator fills it once, ~15 min).
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:55432/vp_bench
BENCH_SCALE ?= national
bench: install
	$(BIN)/python bench/generate.py --if-empty --scale $(BENCH_SCALE) --database-url $(BENCH_DATABASE_URL)
	$(BIN)/python bench/run.py --database-url $(BENCH_DATABASE_URL)
	$(BIN)/python bench/explain_conflict.py --database-url $(BENCH_DATABASE_URL)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
	find volunteer_platform/translations -name '*.mo' -delete

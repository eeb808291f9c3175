# Gonggan — the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test lint prod-check bench bench-ics bench-stats translations translations-update clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

translations: $(VENV)/.installed-run
	$(BIN)/pybabel -q compile -d app/translations

# After changing user-facing text: extract it, merge it into the Korean catalog, translate the
# new entries in app/translations/ko/LC_MESSAGES/messages.po (a test fails until you do).
translations-update: $(VENV)/.installed-run
	mkdir -p instance
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o instance/messages.pot .
	$(BIN)/pybabel -q update -i instance/messages.pot -d app/translations -l ko --no-fuzzy-matching

# `make run` is the development configuration (a random secret key kept in instance/); anything
# else that starts the app (gunicorn wsgi:app, flask ...) is production unless GONGGAN_CONFIG says.
run: export GONGGAN_CONFIG ?= development
run: $(VENV)/.installed-run translations
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed demo
	$(BIN)/flask bookings sweep
	PORT=$(PORT) $(BIN)/python -m devtools.serve

test: $(VENV)/.installed-dev translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

# The production configuration for real: gunicorn, an RQ worker, PostgreSQL and Redis on
# 127.0.0.1 (a throwaway database, Redis db 14), an SMTP sink; one booking through the API and
# its email through the worker; everything stopped and dropped afterwards (devtools/prod_check.py).
prod-check: $(VENV)/.installed-dev translations
	$(BIN)/python -m devtools.prod_check $(PROD_CHECK_ARGS)

bench: $(VENV)/.installed-dev translations
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Calendar feeds with 10,000 bookings (PostgreSQL on 127.0.0.1 by default; see bench/ics_feed.py).
bench-ics: $(VENV)/.installed-dev translations
	$(BIN)/python -m bench.ics_feed $(BENCH_ARGS)

# Statistics dashboard for a city: 5,000 spaces, 1,000,000 bookings (PostgreSQL database
# gg_bench_stats on 127.0.0.1; generated if missing, a few minutes; see bench/stats.py).
bench-stats: $(VENV)/.installed-dev translations
	$(BIN)/python -m bench.stats $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)

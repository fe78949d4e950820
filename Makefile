# smarketing — `make run` to try it, `make test` to check it.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup install migrate demo serve test lint format browser worker beat services-test clean

run: setup demo serve

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: install migrate

migrate: install
	$(PY) manage.py migrate --no-input

# Loads demo data only into an empty database, and (re)creates the demo login.
demo: install
	$(PY) manage.py bootstrap_demo

serve: install
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff check --fix .

# Browser tests drive Debian's Chromium; install it when it is missing and we may.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed: browser tests will be left out (apt-get install chromium)"; fi; }

test: install browser lint
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The same suite against PostgreSQL + Redis with a real Celery worker (what CI runs too).
services-test:
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/15} $(MAKE) test

worker: install
	$(VENV)/bin/celery -A smarketing worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A smarketing beat --loglevel=INFO --schedule var/celerybeat-schedule

clean:
	rm -rf var/smarketing.sqlite3* var/mail var/screenshots

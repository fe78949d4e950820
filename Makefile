# smarketing — `make run` to try it, `make test` to check it.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
# requires-python is 3.11: prefer that interpreter when several are installed.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)

.PHONY: run dev setup install lock migrate static demo serve test lint format browser worker beat \
        services-test check-services seed clean chart-bundle system-packages messages makemessages

# The production path (gunicorn, WhiteNoise, hashed and compressed static files, DEBUG off);
# `make dev` is the development server instead: DEBUG, reloads on every code change.
run: setup demo serve

dev: demo
	DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

install: $(STAMP) messages

# Debian packages outside Python: gettext (msgfmt compiles the translations) and Noto CJK (the
# digest's chart images and the browser tests draw Chinese with it; without it: boxes).
# Installed when missing and we may (root), as the `browser` target does for Chromium.
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
system-packages:
	@missing=""; command -v msgfmt >/dev/null 2>&1 || missing="gettext"; \
	test -e $(CJK_FONT) || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages: $$missing (apt-get install $$missing)"; fi; fi

# The compiled catalogues (.mo) are built here from the committed .po files, not committed.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
messages: $(MO_FILES)

locale/%.mo: locale/%.po | system-packages $(STAMP)
	@command -v msgfmt >/dev/null 2>&1 || { echo "msgfmt is missing: apt-get install gettext"; exit 1; }
	$(PY) manage.py compilemessages --verbosity 0 --ignore '.venv' --ignore 'var' --ignore 'node_modules'

# After changing texts: collect them into the .po files (then translate the new entries;
# tests/test_i18n.py fails while any is untranslated).
makemessages: install
	$(PY) manage.py makemessages --locale zh_Hans --no-obsolete --no-location --no-wrap --ignore '.venv' --ignore 'var' \
	  --ignore 'node_modules' --ignore 'tests' --ignore 'frontend' --ignore 'benchmarks'
	$(PY) manage.py makemessages --domain djangojs --locale zh_Hans --no-obsolete --no-location --no-wrap --ignore '.venv' \
	  --ignore 'var' --ignore 'node_modules' --ignore 'frontend' --ignore 'static/vendor' --ignore 'static/staticfiles'

# Exactly the versions (and file hashes) of requirements-dev.lock, then the project itself.
$(STAMP): pyproject.toml requirements-dev.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "the virtualenv needs Python 3.11, found " + sys.version)'
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# After changing the dependencies in pyproject.toml: pin them again, with hashes
# (requirements.lock: the app, for the Docker image; requirements-dev.lock: + tests and tools).
# UPGRADE=1 moves every pin to the newest allowed release.
LOCK_FLAGS = --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
             --no-emit-find-links $(if $(UPGRADE),--upgrade)
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/pip-compile || $(PY) -m pip install --quiet 'pip-tools>=7.4,<8'
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) --extra sentry -o requirements.lock pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) --extra sentry --extra dev -o requirements-dev.lock pyproject.toml

setup: install migrate static

migrate: install
	$(PY) manage.py migrate --no-input

# Embedded demo (DEBUG on): demo data into an empty database, and the demo login if it is missing
# (never reset; never created beside real data; not a superuser: add --superuser for the admin).
demo: migrate
	$(PY) manage.py bootstrap_demo --url http://$(HOST):$(PORT)

# Hashed names, Brotli and gzip copies of every static file, under var/staticfiles/: again
# only when a static file or the installed packages changed (compressing takes a minute).
MANIFEST := var/staticfiles/staticfiles.json
static: $(MANIFEST)

$(MANIFEST): $(STAMP) $(shell find static -type f 2>/dev/null)
	$(PY) manage.py collectstatic --no-input --verbosity 0
	touch $(MANIFEST)

serve: install
	DEBUG=false $(VENV)/bin/gunicorn smarketing.wsgi:application --bind $(HOST):$(PORT) \
	  --workers $(WORKERS) --access-logfile -

# Replace every funnel record with fresh demo data (CONTACTS=20000 SEED=1 by default).
seed: migrate
	$(PY) manage.py seed_demo --force --contacts $(or $(CONTACTS),20000) --seed $(or $(SEED),1)

# Rebuild static/vendor/plotly-smarketing.min.js from frontend/ (pinned plotly.js; needs npm).
chart-bundle:
	cd frontend && npm ci --no-audit --no-fund && npm run build

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

# Worker and beat only make sense with a broker: refuse the embedded mode instead of idling.
define need_redis
	@if [ -z "$$REDIS_URL" ] && ! grep -qs '^REDIS_URL=.' .env; then \
	  echo "REDIS_URL is not set: in the embedded mode tasks run in-process, no $(1) is needed."; \
	  echo "Set REDIS_URL and DATABASE_URL (environment or .env) to run one."; exit 1; fi
endef

worker: install
	$(call need_redis,worker)
	$(VENV)/bin/celery -A smarketing worker --loglevel=INFO

beat: install
	$(call need_redis,beat)
	@mkdir -p var
	$(VENV)/bin/celery -A smarketing beat --loglevel=INFO --schedule var/celerybeat-schedule

# Database, Redis and a worker round trip.
check-services: install
	$(PY) manage.py check_services

clean:
	rm -rf var/smarketing.sqlite3* var/mail var/screenshots var/celerybeat-schedule*

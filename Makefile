# Two entry points: `make run` (the product, zero setup) and `make test` (the whole suite on PostgreSQL + Redis).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/complaints
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
# Two workers (the machines have two cores); PYTEST_ARGS="-n 0 …" runs serially.
PYTEST_ARGS ?= -n 2

.PHONY: help install run test test-fast lint messages bench-intake bench-lifecycle bench-queue bench-sweep bench-dashboard bench-scores bench-import bench-storm bench-search bench-hot-paths drill-backup drill-worker-kill drill-pg-restart drill-sms-gateway bench-load

help:
	@echo "make run   - install, migrate, load demo data, start web + Celery worker + beat"
	@echo "make test  - install test dependencies and run the whole suite on PostgreSQL and Redis"

.tools/bin/uv:
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

locale/zh_Hans/LC_MESSAGES/django.mo: locale/zh_Hans/LC_MESSAGES/django.po
	$(PY) scripts/compile_messages.py

install: .venv/.synced node_modules/.installed locale/zh_Hans/LC_MESSAGES/django.mo

run: install
	@scripts/run.sh

test: install
	@scripts/ensure-test-deps.sh
	@scripts/ensure-services.sh
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || (echo "Models and migrations differ: run makemigrations." && exit 1)
	.venv/bin/lint-imports --no-logo
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

# ruff, then the layers contract of pyproject.toml (import-linter): no app imports from a higher layer.
lint: install
	.venv/bin/ruff check .
	.venv/bin/lint-imports --no-logo

messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=node_modules --ignore=var
	$(PY) manage.py makemessages -d djangojs -l zh_Hans --no-obsolete --ignore=.venv --ignore=node_modules --ignore=var --ignore=static/vendor
	$(PY) scripts/compile_messages.py

bench-intake: install
	@scripts/ensure-services.sh
	$(PY) bench/intake/run.py

bench-lifecycle: install
	@scripts/ensure-services.sh
	$(PY) bench/lifecycle/run.py

bench-queue: install
	@scripts/ensure-services.sh
	$(PY) bench/lifecycle/queue_page.py

bench-sweep: install
	@scripts/ensure-services.sh
	$(PY) bench/sla_sweep/run.py

bench-dashboard: install
	@scripts/ensure-services.sh
	$(PY) bench/dashboard/run.py

bench-scores: install
	@scripts/ensure-services.sh
	$(PY) bench/monthly_scores/run.py

bench-import: install
	@scripts/ensure-services.sh
	$(PY) bench/import/run.py

bench-storm: install
	@scripts/ensure-services.sh
	$(PY) bench/storm/run.py

bench-search: install
	@scripts/ensure-services.sh
	$(PY) bench/search/run.py

drill-backup: install
	@scripts/ensure-services.sh
	$(PY) bench/drills/backup_restore.py

drill-worker-kill: install
	@scripts/ensure-services.sh
	$(PY) bench/drills/worker_kill.py

drill-pg-restart: install
	@scripts/ensure-services.sh
	$(PY) bench/drills/pg_restart.py

drill-sms-gateway: install
	@scripts/ensure-services.sh
	$(PY) bench/drills/sms_gateway.py

bench-hot-paths: install
	@scripts/ensure-services.sh
	$(PY) bench/hot_paths.py

bench-load: install
	@scripts/ensure-services.sh
	$(PY) bench/load/run.py

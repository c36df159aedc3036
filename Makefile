# CaseHub: `make run` serves the demo site, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install messages migrate seed lint format clean bench load

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "CaseHub needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# The accessibility browser tests inject axe-core from here (package-lock.json
# pins it), never from a CDN.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

messages: install
	$(BIN)/python manage.py compilecatalogs

migrate: messages
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "CaseHub is starting on http://$(HOST):$(PORT)/"
	@echo "Demo accounts (password: casehub-demo):"
	@echo "  secretary1      secretary of 精密测量第一党支部 (writes, submits)"
	@echo "  correspondent1  correspondent of 精密测量第一党支部 (writes drafts)"
	@echo "  secretary2      secretary of 标准物质研制党支部"
	@echo "  reviewer1       初审 reviewer"
	@echo "  reviewer2       终审 reviewer"
	@echo "  editor1         showcase editor"
	@echo "  admin           administrator (/admin/)"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: messages $(AXE)
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache test-artifacts

bench: messages
	bash bench/run

load: messages
	bash bench/load

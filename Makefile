# Agora's two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test install messages migrate demo lint typecheck pytest makemessages clean

help:
	@echo "make run    set up everything and serve http://127.0.0.1:8000 with demo data"
	@echo "make test   ruff, mypy and the whole pytest suite"

# A venv with the project and its dev tools, reinstalled only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Agora needs Python 3.11 or newer (set PYTHON=python3.x)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Compiled catalogues: GNU msgfmt when present, otherwise Babel (pure Python).
messages: $(STAMP)
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0; \
	else \
		$(BIN)/pybabel compile --domain=django --directory=locale --statistics; \
	fi

migrate: $(STAMP)
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v 0

demo: migrate
	$(BIN)/python manage.py load_demo_data
	$(BIN)/python manage.py export_open_data  # the bulk files /data/ serves (then nightly)

run: messages demo
	$(BIN)/python manage.py check
	@echo "Serving http://127.0.0.1:8000 with a Celery worker and beat (Ctrl-C stops all three)."
	$(BIN)/honcho --procfile Procfile.dev start

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

node_modules/axe-core/axe.min.js: package.json
	@if command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --silent; \
	else echo "npm not found: the browser accessibility checks will skip"; fi

pytest: $(STAMP) messages
	@$(MAKE) --no-print-directory node_modules/axe-core/axe.min.js || true
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# For developers: refresh the catalogues after changing strings (needs GNU gettext).
makemessages: $(STAMP)
	$(BIN)/python manage.py makemessages -l fr -l en --no-obsolete \
		--ignore=.venv --ignore=node_modules --ignore=var --add-location=file

clean:
	rm -rf var/broker var/cache var/celerybeat-schedule* .pytest_cache .mypy_cache

# The two commands: `make run` (set up and start the demo server) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app survey_server
STAMP := $(VENV)/.installed
CATALOGUES := $(wildcard survey_server/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
# Debian packages the tests use (the PostgreSQL server is handled by the script itself).
SYSTEM_PACKAGES := chromium zbar-tools libzbar0 poppler-utils nginx shellcheck logrotate systemd openssl sqlite3 curl espeak-ng sox libsox-fmt-all

.PHONY: run test lint install translations extract-messages clean

run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed
	@echo
	@$(FLASK) urls
	@echo
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install
	scripts/install-system-deps $(SYSTEM_PACKAGES)
	$(MAKE) lint
	$(BIN)/pytest

# Benchmarks (never run by the tests): every bench/*.py, one after the other.
.PHONY: bench
bench: install
	for script in bench/[!_]*.py; do $(BIN)/python $$script || exit 1; done

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install: $(STAMP) $(COMPILED)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Compiled catalogues are build products, not sources: made here from the .po files.
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

# Refresh the template and catalogues after changing user-facing text (see the script).
extract-messages: install
	scripts/i18n-sync

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The two commands: `make run` (set up and start the demo server) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app survey_server
STAMP := $(VENV)/.installed
CATALOGUES := $(wildcard survey_server/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

.PHONY: run test lint install translations extract-messages clean

run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed
	@echo
	@$(FLASK) urls
	@echo
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install
	scripts/install-system-deps
	$(MAKE) lint
	$(BIN)/pytest

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

extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o survey_server/translations/messages.pot .
	$(BIN)/pybabel update -i survey_server/translations/messages.pot -d survey_server/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The two commands README.md promises: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
# The local PostgreSQL for storage tests; override or set empty to skip them.
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL

.PHONY: run test lint format

run: $(VENV)/.installed
	$(VENV)/bin/guildbot start

test: $(VENV)/.installed tests/lrs/node_modules/.installed tests/lrs-conformance/node_modules/.installed lint
	$(VENV)/bin/pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --constraint constraints.txt --editable '.[test]'
	touch $@

# The real LRS the forwarder tests talk to (npm xapi-statements; a test peer, never shipped).
tests/lrs/node_modules/.installed: tests/lrs/package.json tests/lrs/package-lock.json
	npm ci --prefix tests/lrs --no-audit --no-fund --loglevel=error
	touch $@

# ADL's LRS conformance suite (MIT, vendored unchanged in tests/lrs-conformance): the acceptance
# test of the inbuilt LRS. A test peer, never shipped. `npm install`, as its README says: it has
# no lockfile, and `npm ci` refuses the one npm writes (a dependency asks for chai "latest").
tests/lrs-conformance/node_modules/.installed: tests/lrs-conformance/package.json
	npm install --prefix tests/lrs-conformance --no-audit --no-fund --loglevel=error
	touch $@

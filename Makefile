# The two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Every Python dependency (runtime and test), pinned with hashes: `make lock` rewrites it.
LOCK := requirements.lock
PIP_TOOLS := pip-tools==7.6.2
GRAPHIQL := server/graphiql
GRAPHIQL_STAMP := $(GRAPHIQL)/node_modules/.installed-stamp
PORT ?= 8000

.PHONY: install run test lint schema check-schema migrations bench lock

install: $(STAMP) $(GRAPHIQL_STAMP)

$(STAMP): pyproject.toml $(LOCK)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --config-settings editable_mode=compat -e .
	touch $(STAMP)

# After changing dependencies in pyproject.toml: re-resolve and re-hash the lock file.
# Pins already in it are kept unless pyproject.toml rules them out (pass
# LOCK_FLAGS=--upgrade to move everything to the newest allowed releases).
lock:
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(PIP_TOOLS)"
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --extra test $(LOCK_FLAGS) \
		--output-file $(LOCK) pyproject.toml

# GraphiQL is served from the package itself (no CDN): its browser bundles come from npm.
$(GRAPHIQL_STAMP): $(GRAPHIQL)/package.json $(GRAPHIQL)/package-lock.json
	npm ci --prefix $(GRAPHIQL) --no-audit --no-fund --loglevel=error
	touch $(GRAPHIQL_STAMP)

run: install
	$(BIN)/switchboard migrate
	$(BIN)/switchboard demo
	$(BIN)/switchboard serve --dev --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

schema: install
	$(BIN)/strawberry export-schema graph.schema:schema --output schema.graphql

check-schema: install
	$(BIN)/strawberry export-schema graph.schema:schema > .schema.fresh.graphql
	diff -u schema.graphql .schema.fresh.graphql && rm -f .schema.fresh.graphql

# After changing a model: writes a new migration into models/migrations.
migrations: install
	DATABASE_URL=sqlite://:memory: $(BIN)/tortoise -c models.tortoise_cli_config.TORTOISE_ORM makemigrations

bench: install
	$(BIN)/python -m bench

# nciss: `make demo` runs the platform, `make test` runs every check. Both set up .venv first.
# The environment is rebuilt only when requirements.lock changes (a stamp file inside .venv).

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check --quiet
LOCKED := $(VENV)/.installed-lock
INSTALLED := $(VENV)/.installed-project
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2

.PHONY: demo test lint clean

# The demo: the fictional Republic of Aralia (loaded once; a second run changes nothing), then the server.
demo: $(INSTALLED)
	NCISS_DEBUG=1 NCISS_REQUIRE_2FA=0 $(BIN)/nciss migrate
	NCISS_DEBUG=1 NCISS_REQUIRE_2FA=0 $(BIN)/nciss demo --url http://127.0.0.1:8000/
	@echo
	@echo "  The platform is at http://127.0.0.1:8000/  (API docs: http://127.0.0.1:8000/api/docs/)"
	@echo "  Stop it with Ctrl-C."
	@echo
	NCISS_DEBUG=1 NCISS_REQUIRE_2FA=0 $(BIN)/nciss serve --host 127.0.0.1 --port 8000

# Lint, types, then the whole suite on SQLite (browser tests included), then the tests that
# touch the database again on PostgreSQL. NCISS_REQUIRE_POSTGRES=1 turns the skip into a failure.
test: lint
	DATABASE_URL=sqlite://:memory: $(BIN)/pytest -n $(PYTEST_WORKERS)
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(POSTGRES_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "PostgreSQL pass: $(POSTGRES_URL)"; \
		DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser" nciss_platform; \
	elif [ "$${NCISS_REQUIRE_POSTGRES:-0}" = "1" ]; then \
		echo "FAILED PostgreSQL pass: no server at $(POSTGRES_URL) (and NCISS_REQUIRE_POSTGRES=1)"; exit 1; \
	else \
		echo "SKIPPED PostgreSQL pass: no server at $(POSTGRES_URL)"; \
	fi

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

$(LOCKED): requirements.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.lock
	touch $@

$(INSTALLED): $(LOCKED) pyproject.toml
	$(PIP) install --no-deps -e .
	touch $@

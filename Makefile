# The commands README.md shows. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
WEB_PORT ?= 8000
export WEB_PORT

.PHONY: run test lint format install messages makemessages bench clean

# Create the virtualenv and install the project with its test tools; redone when
# pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s); set PYTHON=python3.x" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

# Compile the catalogues (zh-hans; en, ja, ko for customers) when gettext is here; the compiled .mo is committed too.
messages: install
	@if command -v msgfmt >/dev/null 2>&1; then DEBUG=1 $(BIN)/python manage.py compilemessages --locale zh_Hans --locale en --locale ja --locale ko --ignore '.venv' --ignore 'var' -v 0; \
	else echo "gettext (msgfmt) not installed: using the committed .mo files"; fi

# Web server + Celery worker + scheduler in the foreground; Ctrl-C stops all three.
# Uses SQLite and a filesystem broker under var/ unless DATABASE_URL / CELERY_BROKER_URL are set.
run: messages
	@mkdir -p $${VAR_DIR:-var}
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput -v 0
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py createcachetable
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo --url http://127.0.0.1:$(WEB_PORT)/admin/
	@# One time per line, in the desk's zone (honcho stamps the lines; LOG_STYLE=console keeps
	@# ours unstamped). Ctrl-C reaches honcho, which stops the three and exits 130: that is the
	@# normal way to stop, so make reports no error.
	@trap '' INT; DEBUG=$${DEBUG:-1} LOG_STYLE=$${LOG_STYLE:-console} TZ=$${TIME_ZONE:-Asia/Shanghai} \
	  PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --no-colour -f deploy/Procfile.dev start \
	  || test $$? -eq 130

# The whole suite twice: SQLite + filesystem broker, then PostgreSQL + Redis with a real worker.
test: messages
	@bash tests/run-suite.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Extract new translatable strings into the zh-hans catalogue (then translate and `make messages`).
makemessages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans --ignore '.venv/*' --ignore 'var/*' --no-obsolete

bench: install
	@for f in bench/*.py; do echo "== $$f"; DEBUG=1 $(BIN)/python $$f || exit 1; done

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache

#!/usr/bin/env bash
# The whole test suite, twice: on SQLite with the filesystem broker, then on PostgreSQL with
# Redis as broker (and a real Celery worker for the background-work tests). Non-zero exit on
# any failure. Extra arguments go to pytest.
set -u
cd "$(dirname "$0")/.."
BIN=.venv/bin
# Knobs for tests/test_run_suite.py: the pytest to run and the step that starts PostgreSQL and
# Redis (a stand-in that fails shows what CI does when they are unavailable).
PYTEST=${RUN_SUITE_PYTEST:-$BIN/pytest}
ENSURE_SERVICES=${RUN_SUITE_ENSURE:-tests/ensure-services.sh}
status=0

run_pytest() {
  "$PYTEST" "$@"
  local rc=$?
  # 5 = no tests collected (a -k filter matched nothing): not a failure of the suite.
  [ $rc -eq 0 ] || [ $rc -eq 5 ]
}

# Dovecot for the e-mail tests (tests/messaging), installed like PostgreSQL when absent.
bash tests/ensure-dovecot.sh || true
# Chromium and a Chinese font for the browser tests (tests/e2e, PostgreSQL run), installed the
# same way; without them those tests are skipped with the reason, or fail under CI=true.
bash tests/ensure-browser.sh || echo "!!! The browser tests (tests/e2e) cannot run: see above. !!!"

echo "================ run 1/2: SQLite + filesystem broker ================"
(
  unset DATABASE_URL REDIS_URL CELERY_BROKER_URL
  export DEBUG=1 VAR_DIR
  VAR_DIR=$(mktemp -d)
  trap 'rm -rf "$VAR_DIR"' EXIT
  run_pytest "$@"
) || status=1

echo "================ run 2/2: PostgreSQL + Redis broker ================"
# Each checkout gets its own test database, Redis databases, queue and cache prefix (from a
# checksum of its path), so two checkouts' suites on one machine never take each other's
# tasks or drop each other's database.
slot=$(printf '%s' "$PWD" | cksum | awk '{print $1 % 7}')
tag=$(printf '%s' "$PWD" | cksum | awk '{print $1}')
if PY="$BIN/python" bash "$ENSURE_SERVICES"; then
  (
    export DEBUG=1 VAR_DIR
    VAR_DIR=$(mktemp -d)
    trap 'rm -rf "$VAR_DIR"' EXIT
    export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/servicedesk_$tag}"
    export CELERY_BROKER_URL="${TEST_BROKER_URL:-redis://127.0.0.1:6379/$((slot * 2 + 1))}"
    export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/$((slot * 2 + 2))}"
    export CELERY_TASK_DEFAULT_QUEUE="servicedesk-test-$tag"
    export CACHE_KEY_PREFIX="servicedesk-test-$tag"
    run_pytest "$@"
  ) || status=1
elif [ "${CI:-}" = "true" ]; then
  echo "!!! FAILED run 2/2: PostgreSQL and/or Redis are not available (above), and CI=true: !!!"
  echo "!!! the PostgreSQL-only and real-broker tests must run in CI.                      !!!"
  status=1
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!! SKIPPED run 2/2: PostgreSQL and/or Redis are not available (above). !!!"
  echo "!!! The PostgreSQL-only and real-broker tests did NOT run.             !!!"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
fi

if [ $status -eq 0 ]; then echo "make test: all runs passed"; else echo "make test: FAILED"; fi
exit $status

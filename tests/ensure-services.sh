#!/usr/bin/env bash
# Make PostgreSQL (127.0.0.1:5432, user postgres, trust) and Redis (127.0.0.1:6379) answer for
# the second test run: start them when installed but stopped, install them with apt-get when
# absent and we are root. Exit 0 when both answer; otherwise print why and exit 1.
set -u
PY=${PY:-.venv/bin/python}

pg_up() {
  "$PY" - <<'PYCODE' 2>/dev/null
import psycopg
psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3).close()
PYCODE
}
redis_up() {
  "$PY" -c "import redis; redis.Redis(host='127.0.0.1', port=6379, socket_connect_timeout=3).ping()" 2>/dev/null
}
can_apt() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }
wait_for() { for _ in $(seq 1 30); do "$1" && return 0; sleep 1; done; return 1; }

if ! pg_up; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1 && can_apt; then
    echo "PostgreSQL is not installed: installing it with apt-get…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    ver=$(ls /etc/postgresql | sort -V | tail -1)
    # A cluster we just created for the tests: trust local TCP connections like CI's.
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' \
      "/etc/postgresql/$ver/main/pg_hba.conf"
  fi
  if ls /etc/postgresql/*/main >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql | sort -V | tail -1)
    echo "PostgreSQL $ver is stopped: starting it…"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>&1 || true
    wait_for pg_up
  fi
fi

if ! redis_up; then
  if ! command -v redis-server >/dev/null 2>&1 && can_apt; then
    echo "Redis is not installed: installing it with apt-get…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis is stopped: starting it…"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    wait_for redis_up
  fi
fi

ok=0
pg_up || { echo "PostgreSQL does not answer on 127.0.0.1:5432 (user postgres, trust auth)"; ok=1; }
redis_up || { echo "Redis does not answer on 127.0.0.1:6379"; ok=1; }
exit $ok

#!/usr/bin/env bash
# Build eightstep as a wheel, install it with its test tools into a fresh .venv-test (outside the source tree's
# import path), and run the test suite against the installed package. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv-test

# Debian packages the tests need (installed only when missing; needs root, as on CI).
DEBIAN_PACKAGES=(chromium)  # chromium: tests/test_report.py opens the HTML overview in a real headless browser
# PDF forms (tests/test_paperwork.py): WeasyPrint's Pango, a Chinese font (Noto Serif/Sans CJK), HarfBuzz subsetting
# (without it a PDF page takes seconds), and poppler's pdffonts/pdftotext to check that the font is embedded.
DEBIAN_PACKAGES+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils)
# PostgreSQL: the store, engine, CLI, concurrency and migration tests also run against a real server (below).
DEBIAN_PACKAGES+=(postgresql)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]} (run as root, or install them with apt-get)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

rm -rf "$VENV" dist
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check wheel
"$VENV/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir dist .
wheel_file=$(ls dist/eightstep-*.whl)
# The extras the tests need (pdf: WeasyPrint; postgresql: psycopg), at the versions of constraints.txt.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt \
  "${wheel_file}[test,pdf,postgresql]"

# A throwaway PostgreSQL server for the [postgresql] tests: a fresh cluster in a temporary folder, on a free
# loopback port, stopped and removed when this script exits. EIGHTSTEP_TEST_PG set by the caller (a URL of a
# database the tests may create schemas in) is used instead.
start_postgres() {
  local bin port
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL is not installed (Debian package postgresql): the [postgresql] tests need it" >&2
    exit 1
  fi
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eightstep-pg.XXXXXX")
  local as=()
  if [ "$(id -u)" -eq 0 ]; then  # the server refuses to run as root: run it as the postgres user
    chown postgres: "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${as[@]}" "$bin/initdb" --pgdata="$PG_DIR/data" --username=postgres --auth=trust --encoding=UTF8 --locale=C \
    --no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  PG_STOP=("${as[@]}" "$bin/pg_ctl" --pgdata="$PG_DIR/data" --mode=immediate stop)
  # durability is not needed for a server that lives as long as the test run
  "${as[@]}" "$bin/pg_ctl" --pgdata="$PG_DIR/data" --log="$PG_DIR/server.log" --wait \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_DIR -c fsync=off" \
    -o "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; exit 1; }
  "$bin/psql" --quiet --host=127.0.0.1 --port="$port" --username=postgres --dbname=postgres \
    --command="CREATE DATABASE eightstep_test" >/dev/null
  export EIGHTSTEP_TEST_PG="postgresql+psycopg://postgres@127.0.0.1:$port/eightstep_test"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests: $EIGHTSTEP_TEST_PG"
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ]; then
    "${PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

PG_DIR=
PG_STOP=(true)
if [ -z "${EIGHTSTEP_TEST_PG:-}" ]; then
  trap stop_postgres EXIT
  trap 'exit 130' INT TERM
  start_postgres
fi

# The tests import the installed package (pytest runs with --import-mode=importlib, so the source tree is
# not on sys.path); EIGHTSTEP_EXPECT_WHEEL makes tests/test_installed.py check exactly that.
# (Not `python -m pytest`: that would put the source tree first on sys.path.) PYTEST_WORKERS=auto (or a number)
# spreads the tests over the cores with pytest-xdist (each worker has its own temporary folders, demo build,
# snapshot cache and PostgreSQL schemas: tests/conftest.py); the default, 0, runs them in this one process.
EIGHTSTEP_EXPECT_WHEEL=1 "$VENV/bin/pytest" -n "${PYTEST_WORKERS:-0}" "$@"

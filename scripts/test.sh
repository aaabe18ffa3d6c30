#!/usr/bin/env bash
# Build eightstep as a wheel, install it with its test tools into a fresh .venv-test (outside the source tree's
# import path), and run the test suite against the installed package. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv-test

rm -rf "$VENV" dist
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check wheel
"$VENV/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir dist .
wheel_file=$(ls dist/eightstep-*.whl)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${wheel_file}[test]"

# The tests import the installed package (pytest runs with --import-mode=importlib, so the source tree is
# not on sys.path); EIGHTSTEP_EXPECT_WHEEL makes tests/test_installed.py check exactly that.
# (Not `python -m pytest`: that would put the source tree first on sys.path.)
EIGHTSTEP_EXPECT_WHEEL=1 "$VENV/bin/pytest" "$@"

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
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${wheel_file}[test]"

# The tests import the installed package (pytest runs with --import-mode=importlib, so the source tree is
# not on sys.path); EIGHTSTEP_EXPECT_WHEEL makes tests/test_installed.py check exactly that.
# (Not `python -m pytest`: that would put the source tree first on sys.path.)
EIGHTSTEP_EXPECT_WHEEL=1 "$VENV/bin/pytest" "$@"

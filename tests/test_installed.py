"""The installed `eightstep` console script, run for real in a folder outside the source tree.

This proves that the entry point is installed, that it works without the checkout on sys.path, and that the
built-in workflows travel with the package. With EIGHTSTEP_EXPECT_WHEEL=1 (set by scripts/test.sh, which tests
a wheel installed into a separate venv) it also checks that the package and its workflows are the installed
copies in site-packages, not the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and runs the installed wheel
REPO = Path(__file__).resolve().parents[1]
# What a wheel must not read from (the test venv itself may live inside the checkout, as .venv-test does).
SOURCE_DIRS = (REPO / "eightstep", REPO / "workflows", REPO / "templates")


def from_source(path: Path) -> bool:
    return any(path.resolve().is_relative_to(folder) for folder in SOURCE_DIRS)
SCRIPT = Path(sys.executable).parent / ("eightstep.exe" if os.name == "nt" else "eightstep")
SHIPPED_WORKFLOWS = ("wuhan", "wuhan-2018", "guangzhou")
EXPECT_WHEEL = os.environ.get("EIGHTSTEP_EXPECT_WHEEL") == "1"
TIMEOUT = 60


def script_interpreter() -> str:
    """The Python the console script runs with (its shebang), falling back to ours."""
    try:
        first = SCRIPT.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    except OSError:
        return sys.executable
    if first.startswith("#!"):
        candidate = first[2:].strip().split(" ")[0]
        if candidate and Path(candidate).name.startswith("python") and Path(candidate).exists():
            return candidate
    return sys.executable


def eightstep(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "clerk-desktop"
    folder.mkdir()
    assert not folder.resolve().is_relative_to(REPO), "the test folder must be outside the source tree"
    return folder


def test_console_script_is_installed() -> None:
    assert SCRIPT.is_file(), f"no eightstep script next to {sys.executable}"
    assert os.access(SCRIPT, os.X_OK)


def test_help(outside: Path) -> None:
    result = eightstep(outside, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: eightstep")
    for group in ("case", "workflow", "household", "vote", "doc", "approval", "objection", "init"):
        assert group in result.stdout
    sub = eightstep(outside, "case", "--help")
    assert sub.returncode == 0, sub.stderr
    assert "advance" in sub.stdout
    assert list(outside.iterdir()) == [], "--help must not create a database"


def test_version(outside: Path) -> None:
    result = eightstep(outside, "--version")
    assert result.returncode == 0
    assert "eightstep" in result.stdout


def test_init_open_and_check(outside: Path) -> None:
    init = eightstep(outside, "init")
    assert init.returncode == 0, init.stderr
    assert (outside / "eightstep.db").is_file(), "the default database is ./eightstep.db"

    opened = eightstep(outside, "case", "open", "RD-3-2", "--complex", "人大小区", "--building", "3", "--unit", "2",
                       "--at", "2025-03-03")
    assert opened.returncode == 0, opened.stderr
    assert "RD-3-2" in opened.stdout
    assert "人大小区" in opened.stdout

    check = eightstep(outside, "case", "check", "RD-3-2", "--json")
    assert check.returncode == 3, check.stderr
    data = json.loads(check.stdout)
    assert data["ready"] is False
    assert data["stage"] == "consent"
    assert {b["type"] for b in data["blockers"]} >= {"document", "consent"}

    shown = json.loads(eightstep(outside, "case", "show", "RD-3-2", "--json").stdout)
    assert shown["workflow"]["id"] == "wuhan"
    assert shown["stage_entered_at"] == "2025-03-03T00:00:00+08:00"


def test_explicit_db_and_errors(outside: Path) -> None:
    missing = eightstep(outside, "--db", "ledger.db", "case", "list")
    assert missing.returncode == 1
    assert "eightstep init" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert eightstep(outside, "--db", "ledger.db", "init").returncode == 0
    unknown = eightstep(outside, "--db", "ledger.db", "case", "show", "NOPE")
    assert unknown.returncode == 1
    assert "no case" in unknown.stderr
    bad_at = eightstep(outside, "--db", "ledger.db", "case", "advance", "NOPE", "--at", "2025-13-01")
    assert bad_at.returncode == 2
    assert "--at" in bad_at.stderr


def test_workflow_list_shows_the_packaged_workflows(outside: Path) -> None:
    result = eightstep(outside, "workflow", "list")
    assert result.returncode == 0, result.stderr
    for wid in SHIPPED_WORKFLOWS:
        assert wid in result.stdout
    rows = {r["id"]: r for r in json.loads(eightstep(outside, "workflow", "list", "--json").stdout)}
    for wid in SHIPPED_WORKFLOWS:
        assert rows[wid]["version"], f"{wid}: {rows[wid]['error']}"
        source = Path(rows[wid]["source"])
        assert source.is_file()
        if EXPECT_WHEEL:
            assert not from_source(source), f"{wid} is read from the source tree: {source}"
            assert "site-packages" in source.parts


def test_python_dash_m(outside: Path) -> None:
    result = subprocess.run([script_interpreter(), "-m", "eightstep", "--help"], cwd=outside, capture_output=True,
                            text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr
    assert "Usage: eightstep" in result.stdout


PROBE = """\
import json, eightstep
from eightstep.resources import builtin_dir
print(json.dumps({"file": eightstep.__file__, "workflows": str(builtin_dir("workflows")),
                  "templates": str(builtin_dir("templates"))}))
"""


def test_package_location(outside: Path) -> None:
    result = subprocess.run([script_interpreter(), "-c", PROBE], cwd=outside, capture_output=True, text=True,
                            timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr
    where = json.loads(result.stdout)
    workflows = Path(where["workflows"])
    assert workflows.is_dir()
    assert {p.stem for p in workflows.glob("*.yaml")} >= set(SHIPPED_WORKFLOWS)
    if EXPECT_WHEEL:
        package = Path(where["file"]).resolve()
        assert not from_source(package), f"eightstep is imported from the source tree: {package}"
        assert "site-packages" in package.parts
        assert "site-packages" in workflows.resolve().parts, f"built-in workflows outside site-packages: {workflows}"
        assert not from_source(workflows)


def test_chinese_output_in_a_bare_c_locale(outside: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIOENCODING", "PYTHONUTF8"))}
    env.update(LC_ALL="C", LANG="C")
    assert subprocess.run([str(SCRIPT), "init"], cwd=outside, env=env, capture_output=True, timeout=TIMEOUT,
                          check=False).returncode == 0
    result = subprocess.run([str(SCRIPT), "case", "open", "RD-3-2", "--complex", "人大小区", "--building", "3",
                             "--unit", "2"], cwd=outside, env=env, capture_output=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert "人大小区" in result.stdout.decode("utf-8")

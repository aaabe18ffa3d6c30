"""The base install is light: PDF output and PostgreSQL are extras, and a command that needs one names it.

The extras are installed for the tests; here they are made unimportable (``sys.modules[name] = None`` makes
``import name`` fail as when the package is not installed)."""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_pdf_without_weasyprint_names_the_extra(runner: CliRunner, demo_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(demo_dir, tmp_path / "demo")
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    result = runner.invoke(main, ["--db", str(tmp_path / "demo" / "eightstep.db"), "forms", "render", "RD-3-2",
                                  "application", "--format", "pdf", "-o", "a.pdf"])
    assert result.exit_code == 1
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"\$ eightstep forms render RD-3-2 application --format pdf -o a.pdf\n(.*?)```", readme, re.S)
    assert shown is not None
    assert result.stderr == shown.group(1)  # the README shows it as it is
    assert not Path("a.pdf").exists()


def test_postgresql_without_psycopg_names_the_extra(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    result = runner.invoke(main, ["--db", "postgresql+psycopg://hetou@127.0.0.1:1/eightstep", "case", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the database driver 'psycopg' for postgresql+psycopg is not installed")
    assert result.stderr.endswith('  Next: pip install "eightstep[postgresql]"\n')


def test_the_extras_and_the_base_install() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = " ".join(project["dependencies"])
    assert "weasyprint" not in base and "psycopg" not in base
    assert project["optional-dependencies"]["pdf"][0].startswith("weasyprint")
    assert project["optional-dependencies"]["postgresql"][0].startswith("psycopg[binary]")
    for requirement in project["dependencies"]:  # ranges, not pins; the data packages without an upper bound
        assert "==" not in requirement, requirement
        if requirement.startswith(("chinesecalendar", "tzdata")):
            assert "<" not in requirement, requirement


def test_constraints_pin_what_ci_installs_except_the_data_packages() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _eq, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = version
    for name in ("click", "sqlmodel", "sqlalchemy", "transitions", "jinja2", "openpyxl", "alembic", "weasyprint",
                 "psycopg", "pytest"):
        assert name in pins, f"constraints.txt does not pin {name}"
    assert "chinesecalendar" not in pins and "tzdata" not in pins
    assert "-c constraints.txt" in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")

"""`case check` also says what the forms of the case's stage still need (funding, named parties) when a missing
document is one of them, each with the command that fills the gap, in text and in --json; the forms are not
rendered for it (no template engine)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import invoke


def test_case_check_names_what_the_stage_forms_need(demo_dir: Path, tmp_path: Path, runner: CliRunner) -> None:
    shutil.copytree(demo_dir, tmp_path / "demo")
    db = str(tmp_path / "demo" / "eightstep.db")
    out = invoke(runner, "--db", db, "case", "check", "RD-2-2", code=3).stdout  # the demo's unit at agreement
    assert ("To print the missing documents, the forms still need:\n"
            "  agreement (既有住宅加装电梯协议书)\n"
            "    - funding is not set\n"
            "      → eightstep funding set RD-2-2 --total AMOUNT\n"
            "    - the named use-management unit is not named\n"
            "      → eightstep forms party RD-2-2 use_unit --name NAME\n") in out
    data = json.loads(invoke(runner, "--db", db, "case", "check", "RD-2-2", "--json", code=3).stdout)
    agreement = next(f for f in data["forms"] if f["form"] == "agreement")
    assert agreement["ready"] is False
    assert [m["remedy"]["action"] for m in agreement["missing"]] == ["funding.set", "forms.party"]
    assert agreement["missing"][1]["remedy"]["command"] == "eightstep forms party RD-2-2 use_unit --name NAME"
    invoke(runner, "--db", db, "funding", "set", "RD-2-2", "--total", "480000", "--at", "2026-09-01")
    invoke(runner, "--db", db, "forms", "party", "RD-2-2", "use_unit", "--name", "人大小区物业", "--at", "2026-09-01")
    out = invoke(runner, "--db", db, "case", "check", "RD-2-2", code=3).stdout
    assert "the forms still need" not in out  # only the signed agreement itself is missing now
    data = json.loads(invoke(runner, "--db", db, "case", "check", "RD-2-2", "--json", code=3).stdout)
    assert data["forms"] == [{"form": "agreement", "title": "既有住宅加装电梯协议书", "ready": True, "missing": []}]
    data = json.loads(invoke(runner, "--db", db, "case", "check", "RD-4-2", "--json", code=3).stdout)
    assert data["forms"] == []  # blocked by the vote, no document missing: the paperwork is not loaded


def test_the_stage_needs_load_no_template_engine() -> None:
    code = "import sys, eightstep.paperwork.needs; print('jinja2' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "False"

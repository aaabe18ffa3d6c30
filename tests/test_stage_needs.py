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
    from tests.test_money_flow import money_flow

    next(money_flow(tmp_path, f"sqlite:///{tmp_path / 'flow.db'}")).dispose()  # MF-1-1 at agreement, no funding
    base = ["--db", str(tmp_path / "flow.db"), "--workflows", str(tmp_path / "flows")]
    out = invoke(runner, *base, "case", "check", "MF-1-1", code=3).stdout
    assert ("To print the missing documents, the forms still need:\n"
            "  agreement (既有住宅加装电梯协议书)\n"
            "    - funding is not set\n"
            "      → eightstep funding set MF-1-1 --total AMOUNT\n"
            "    - the named use-management unit is not named\n"
            "      → eightstep forms party MF-1-1 use_unit --name NAME\n") in out
    data = json.loads(invoke(runner, *base, "case", "check", "MF-1-1", "--json", code=3).stdout)
    agreement = next(f for f in data["forms"] if f["form"] == "agreement")
    assert agreement["ready"] is False
    assert [m["remedy"]["action"] for m in agreement["missing"]] == ["funding.set", "forms.party"]
    assert agreement["missing"][1]["remedy"]["command"] == "eightstep forms party MF-1-1 use_unit --name NAME"
    invoke(runner, *base, "funding", "set", "MF-1-1", "--total", "480000", "--at", "2025-03-02")
    invoke(runner, *base, "forms", "party", "MF-1-1", "use_unit", "--name", "资金小区物业", "--at", "2025-03-02")
    out = invoke(runner, *base, "case", "check", "MF-1-1", code=3).stdout
    assert "the forms still need" not in out  # only the signed agreement itself is missing now
    data = json.loads(invoke(runner, *base, "case", "check", "MF-1-1", "--json", code=3).stdout)
    assert data["forms"] == [{"form": "agreement", "title": "既有住宅加装电梯协议书", "ready": True, "missing": []}]
    shutil.copytree(demo_dir, tmp_path / "demo")
    db = str(tmp_path / "demo" / "eightstep.db")
    data = json.loads(invoke(runner, "--db", db, "case", "check", "QT-2-1", "--json", code=3).stdout)
    assert data["forms"] == []  # blocked by an objection, no document missing: the paperwork is not loaded


def test_the_stage_needs_load_no_template_engine() -> None:
    code = "import sys, eightstep.paperwork.needs; print('jinja2' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "False"

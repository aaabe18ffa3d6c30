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
            "    - the funding (total cost, subsidy, yearly maintenance) is not recorded\n"
            "      → eightstep funding set MF-1-1 --total AMOUNT\n"
            "    - 使用管理单位 (use_unit) is not named\n"
            "      → eightstep forms party MF-1-1 use_unit --name NAME\n") in out
    data = json.loads(invoke(runner, *base, "case", "check", "MF-1-1", "--json", code=3).stdout)
    agreement = next(f for f in data["forms"] if f["form"] == "agreement")
    assert agreement["ready"] is False
    assert [m["remedy"]["action"] for m in agreement["missing"]] == ["funding.set", "forms.party", "forms.party",
                                                                    "scheme.choose"]
    assert agreement["missing"][1]["remedy"]["command"] == "eightstep forms party MF-1-1 use_unit --name NAME"
    invoke(runner, *base, "funding", "set", "MF-1-1", "--total", "480000", "--at", "2025-03-02")
    invoke(runner, *base, "forms", "party", "MF-1-1", "use_unit", "--name", "资金小区物业", "--at", "2025-03-02")
    invoke(runner, *base, "forms", "party", "MF-1-1", "agent", "--name", "王建国", "--at", "2025-03-02")
    invoke(runner, *base, "scheme", "add", "MF-1-1", "--company", "武汉某电梯公司", "--price", "480000",
           "--load", "450", "--speed", "1.0", "--stops", "7", "--at", "2025-03-02")
    invoke(runner, *base, "scheme", "choose", "MF-1-1", "1", "--reason", "唯一方案", "--at", "2025-03-02")
    data = json.loads(invoke(runner, *base, "case", "check", "MF-1-1", "--json", code=3).stdout)
    agreement = next(f for f in data["forms"] if f["form"] == "agreement")
    # what was recorded is no longer asked for; the parties' contact details and the scheme's entry still are
    messages = [m["message"] for m in agreement["missing"]]
    assert agreement["ready"] is False and len(messages) == 4
    assert [m["remedy"]["action"] for m in agreement["missing"]] == ["role.contact"] * 3 + ["scheme.add"]
    assert "资金小区物业" in messages[0] and "王建国" in messages[2] and "entry" in messages[3]
    shutil.copytree(demo_dir, tmp_path / "demo")
    db = str(tmp_path / "demo" / "eightstep.db")
    data = json.loads(invoke(runner, "--db", db, "case", "check", "QT-2-1", "--json", code=3).stdout)
    assert data["forms"] == []  # blocked by an objection, no document missing: the paperwork is not loaded


def test_the_stage_needs_load_no_template_engine() -> None:
    code = "import sys, eightstep.paperwork.needs; print('jinja2' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "False"

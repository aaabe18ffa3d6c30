"""Told what to do next: every blocker carries its remedy (data in --json, a command in text), a complete case
is not blocked, `case advance` shows what the new stage needs, case ids match without regard to letter case,
and a misspelled case id gets "did you mean"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.cli.remedies import spell, spell_all
from eightstep.errors import Remedy
from tests.helpers.cli import run as cli


@pytest.fixture
def db(demo_dir: Path, tmp_path: Path) -> Path:
    shutil.copytree(demo_dir, tmp_path / "demo")
    return tmp_path / "demo" / "eightstep.db"


def test_spelling() -> None:
    assert spell(Remedy("doc.add", {"kind": "owner_proof"}), "RD-3-2") == \
        "eightstep doc add RD-3-2 owner_proof FILE --at DATE"
    assert spell(Remedy("approval.add", {"kind": "feasibility", "authority": "区行政审批局"}), "RD-3-2") == \
        "eightstep approval add RD-3-2 feasibility --authority 区行政审批局 --at DATE"
    assert spell(Remedy("approval.add", {"kind": "k", "authority": "江夏区 审批局"}), "X") == \
        'eightstep approval add X k --authority "江夏区 审批局" --at DATE'
    assert spell(Remedy("install.extra", {"extra": "pdf"})) == 'pip install "eightstep[pdf]"'
    assert spell(Remedy("something.new", {"case": "X", "room": "201"})) == "eightstep something new X --room 201"
    assert spell_all(Remedy("objection.resolve", {"id": 2}), "RD-4-1") == [
        "eightstep objection mediate RD-4-1 2 --step STEP --note NOTE",
        "eightstep objection resolve RD-4-1 2 --outcome OUTCOME"]


REGISTERING = "RD-4-2"  # at acceptance in the demo: the use registration still to come
MARKET = "区市场监督管理局（特种设备）"


def files_handed_over(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    """RD-4-2's technical files handed over: the use registration is all it waits for."""
    (tmp_path / "files.pdf").write_bytes(b"%PDF-1.4 files")
    cli(runner, db, "doc", "add", REGISTERING, "technical_files", str(tmp_path / "files.pdf"))


def test_check_gives_remedies_as_data_and_as_commands(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    files_handed_over(runner, db, tmp_path)
    data = json.loads(cli(runner, db, "case", "check", REGISTERING, "--json", code=3).stdout)
    (blocker,) = data["blockers"]
    command = f"eightstep approval add {REGISTERING} use_registration --authority {MARKET} --at DATE"
    assert blocker["remedy"] == {"action": "approval.add",
                                 "args": {"kind": "use_registration", "authority": MARKET, "case": REGISTERING},
                                 "command": command, "steps": [command]}
    text = cli(runner, db, "case", "check", REGISTERING, code=3).stdout
    assert f"    → {command}\n" in text
    text = cli(runner, db, "case", "check", "QT-2-1", code=3).stdout
    assert "→ eightstep objection mediate QT-2-1 1 --step STEP --note NOTE" in text


def test_one_language_per_output(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    files_handed_over(runner, db, tmp_path)
    en = cli(runner, db, "--lang", "en", "case", "check", REGISTERING, code=3).stdout
    zh = cli(runner, db, "--lang", "zh", "case", "check", REGISTERING, code=3).stdout
    assert f"awaiting Use registration certificate from {MARKET}" in en and "待" not in en
    assert f"[批复] 待{MARKET}出具：特种设备使用登记证" in zh and "awaiting" not in zh
    data = json.loads(cli(runner, db, "--lang", "zh", "case", "check", REGISTERING, "--json", code=3).stdout)
    assert data["blockers"][0]["type"] == "approval" and data["blockers"][0]["remedy"]["action"] == "approval.add"


def test_a_complete_case_is_not_blocked(runner: CliRunner, db: Path) -> None:
    result = cli(runner, db, "case", "check", "RD-3-2")
    assert result.stdout == "RD-3-2: operation 运行维护管理: complete (the final stage, nothing missing)\n"
    data = json.loads(cli(runner, db, "case", "check", "RD-3-2", "--json").stdout)
    assert (data["complete"], data["ready"], data["blockers"]) == (True, False, [])


def test_advance_shows_what_the_new_stage_needs(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    files_handed_over(runner, db, tmp_path)
    cli(runner, db, "approval", "add", REGISTERING, "use_registration", "--authority", MARKET)
    out = cli(runner, db, "case", "advance", REGISTERING).stdout
    assert out.startswith(f"{REGISTERING}: acceptance -> operation\nWhat the new stage needs:\n{REGISTERING}: "
                          "operation 运行维护管理:")
    assert f"→ eightstep doc add {REGISTERING} maintenance_contract FILE --at DATE" in out


def test_case_ids_without_regard_to_letter_case(runner: CliRunner, db: Path) -> None:
    assert json.loads(cli(runner, db, "case", "show", "rd-3-2", "--json").stdout)["id"] == "RD-3-2"
    err = cli(runner, db, "case", "show", "RD-3-9", code=1).stderr
    assert err.startswith("Error: no case 'RD-3-9' (did you mean RD-3-2, RD-3-1")
    assert "Next: eightstep case list" in err


def test_ambiguous_letter_case_is_refused(runner: CliRunner, db: Path) -> None:
    cli(runner, db, "case", "open", "jx-1-1", "--complex", "幸福小区", "--building", "1", "--unit", "1")
    cli(runner, db, "case", "open", "JX-1-1", "--complex", "幸福小区", "--building", "1", "--unit", "2")
    assert json.loads(cli(runner, db, "case", "show", "JX-1-1", "--json").stdout)["unit"] == "2"
    err = cli(runner, db, "case", "show", "Jx-1-1", code=1).stderr
    assert "matches several cases that differ only in letter case: JX-1-1, jx-1-1" in err


def test_did_you_mean_for_kinds_and_forms(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    (tmp_path / "c.pdf").write_bytes(b"%PDF-1.4 contract")
    err = cli(runner, db, "doc", "add", "RD-1-2", "contract", str(tmp_path / "c.pdf"), code=1).stderr
    assert "unknown document kind 'contract' for workflow wuhan (did you mean construction_contract, " \
           "maintenance_contract?)" in err
    err = cli(runner, db, "approval", "add", "RD-3-1", "feasability", "--authority", "区行政审批局", code=1).stderr
    assert "(did you mean feasibility?)" in err
    err = cli(runner, db, "forms", "render", "RD-3-2", "agrement", code=1).stderr
    assert "unknown form 'agrement' (did you mean agreement?)" in err

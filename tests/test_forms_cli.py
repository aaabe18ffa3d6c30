"""`eightstep funding ...` and `eightstep forms ...` through the CLI, on a real database, with exact messages."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eightstep.paperwork.names import ENV_TEMPLATES
from eightstep.records.roles import PARTY_ROLES
from eightstep.resources import builtin_dir
from tests.helpers import cli

CASE = "RD-3-2"


@pytest.fixture(autouse=True)
def no_user_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_TEMPLATES, raising=False)


def run(runner: CliRunner, *args: str, code: int = 0) -> Result:
    return cli.run(runner, None, *args, code=code)


@pytest.fixture
def case(runner: CliRunner, tmp_path: Path, from_template: Callable[[Path | str], Path]) -> CliRunner:
    """A unit with 12 households (floors 2-7) and ballots, set up through the CLI."""
    rows = ["room,floor,area,owner,owner_key,phone"] + [
        f"{f}0{n},{f},{'78.36' if n == 1 else '92.15'},业主{f}0{n},,13900000{f}0{n}"
        for f in range(2, 8) for n in (1, 2)]
    (tmp_path / "h.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    votes = ["room,choice"] + [f"{f}0{n},agree" for f in range(2, 8) for n in (1, 2)]
    (tmp_path / "v.csv").write_text("\n".join(votes) + "\n", encoding="utf-8")
    from_template("eightstep.db")
    run(runner, "init")
    run(runner, "case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2", "--at", "2025-03-03")
    run(runner, "household", "import", CASE, "h.csv", "--at", "2025-03-04")
    run(runner, "vote", "import", CASE, "v.csv", "--at", "2025-03-10")
    return runner


def funded(runner: CliRunner) -> CliRunner:
    """What the agreement needs besides the households: the chosen scheme, the money, who is named."""
    run(runner, "role", "add", CASE, "owner_rep", "李建国", "--room", "701", "--phone", "13807120935",
        "--id-number", "420115195501011234", "--address", "3栋2单元701室")
    run(runner, "scheme", "add", CASE, "--company", "湖北梯安", "--price", "650000.01", "--entry", "half-floor",
        "--load", "800", "--speed", "1.0", "--stops", "7")
    run(runner, "scheme", "choose", CASE, "1", "--reason", "协商小组选定")
    run(runner, "funding", "set", CASE, "--subsidy", "200000", "--maintenance", "6000")
    run(runner, "forms", "party", CASE, "use_unit", "--name", "武汉纸坊物业服务有限公司", "--phone", "027-87654321",
        "--address", "江夏区纸坊大街1号")
    return runner


def budgeted(runner: CliRunner) -> CliRunner:
    """The budget the ballots state."""
    run(runner, "funding", "set", CASE, "--total", "480000", "--subsidy", "200000", "--maintenance", "5000")
    return runner


# --- funding -----------------------------------------------------------------------------------------------

def test_funding_set_and_shares(case: CliRunner) -> None:
    out = run(case, "funding", "set", CASE, "--total", "650,000.01", "--subsidy", "200000",
              "--maintenance", "6000").output
    assert out == ("RD-3-2: total 650,000.01, subsidy 200,000.00, other 0.00; the owners share 450,000.01 yuan; "
                   "maintenance 6,000.00 yuan a year\n")
    data = json.loads(run(case, "funding", "shares", CASE, "--json").output)
    assert data["shared"] == "450000.01" and data["total"] == "650000.01"
    assert data["check"] == {"shares_sum": "450000.01", "maintenance_sum": "6000.00"}
    rows = {r["room"]: r for r in data["households"]}
    assert rows["201"] == {"room": "201", "floor": 2, "area": "78.36", "owner": "业主201", "exempt": True,
                           "coefficient": None, "share": "0.00", "maintenance": "0.00", "receives": "0.00"}
    assert rows["301"]["coefficient"] == "0.7" and rows["301"]["share"] == "32169.38"
    text = run(case, "funding", "shares", CASE).output
    assert "rule: floor_coefficient (按楼层系数×专有面积分摊), exempt floors 1, 2; maintenance: same" in text
    assert re.search(r"^total\s+450,000\.01\s+6,000\.00$", text, re.M)
    # Later changes keep what is not given; the history records each change.
    run(case, "funding", "set", CASE, "--other", "10000", "--other-note", "企业赞助")
    data = json.loads(run(case, "funding", "shares", CASE, "--json").output)
    assert data["shared"] == "440000.01" and data["other_note"] == "企业赞助"
    history = json.loads(run(case, "case", "history", CASE, "--json").output)
    assert [e["action"] for e in history].count("funding.set") == 2


@pytest.mark.parametrize(("amount", "message"), [
    ("1.234", "has 3 decimals"), ("-5", "is negative"), ("12万", "is not an amount in yuan")])
def test_funding_amounts_are_parsed_strictly(case: CliRunner, amount: str, message: str) -> None:
    result = run(case, "funding", "set", CASE, "--total", amount, code=2)
    assert message in result.output
    assert "Invalid value for '--total'" in result.output


def test_funding_refusals(case: CliRunner) -> None:
    result = run(case, "funding", "shares", CASE, code=1)
    assert result.output == ("Error: case RD-3-2 has no funding yet\n"
                             "  Next: eightstep funding set RD-3-2 --total AMOUNT\n")
    refused = run(case, "funding", "set", CASE, "--subsidy", "1", code=1).output
    assert "--total: case RD-3-2 has no funding yet: give the total cost" in refused
    result = run(case, "funding", "set", CASE, "--total", "100", "--subsidy", "200", code=1)
    assert "exceed the total cost 100.00 yuan" in result.output
    assert "--other-note" in run(case, "funding", "set", CASE, "--total", "100", "--other", "5", code=1).output


def test_agreed_table_needs_an_agreed_table_workflow(case: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("room,share\n201,1\n", encoding="utf-8")
    result = run(case, "funding", "agree", CASE, "a.csv", code=1)
    assert "which shares costs by floor_coefficient; an agreed table applies only under" in result.output


def test_agreed_table_workflow(runner: CliRunner, tmp_path: Path) -> None:
    src = builtin_dir("workflows") / "wuhan.yaml"
    folder = tmp_path / "wf"
    folder.mkdir()
    text = src.read_text(encoding="utf-8").replace("id: wuhan\n", "id: agreed\n")
    text = re.sub(r"cost_sharing:.*?\n\n", "cost_sharing: {method: agreed_table}\n\n", text, flags=re.S)
    (folder / "agreed.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "h.csv").write_text("room,floor,area,owner\n101,1,80,甲\n201,2,80,乙\n301,3,80,丙\n", encoding="utf-8")
    run(runner, "init")
    run(runner, "--workflows", str(folder), "case", "open", "X", "--complex", "c", "--building", "1", "--unit", "1",
        "--workflow", "agreed")
    run(runner, "household", "import", "X", "h.csv")
    (tmp_path / "a.csv").write_text("房号,分摊比例\n101,0\n201,1\n", encoding="utf-8")
    assert "no share for room(s) 301" in run(runner, "funding", "agree", "X", "a.csv", code=1).output
    (tmp_path / "a.csv").write_text("房号,分摊比例\n101,0\n201,1\n301,2\n", encoding="utf-8")
    run(runner, "funding", "agree", "X", "a.csv")
    run(runner, "funding", "set", "X", "--total", "1000", "--maintenance", "1")
    data = json.loads(run(runner, "funding", "shares", "X", "--json").output)
    assert [(r["room"], r["share"], r["maintenance"]) for r in data["households"]] == [
        ("101", "0.00", "0.00"), ("201", "333.33", "0.33"), ("301", "666.67", "0.67")]


# --- forms -------------------------------------------------------------------------------------------------

def test_forms_list_without_and_with_a_case(case: CliRunner) -> None:
    rows = json.loads(run(case, "forms", "list", "--json").output)
    assert [r["id"] for r in rows] == ["application", "ballots", "tally", "agreement", "supplementary_agreement",
                                       "notice", "objection_register", "joint_review", "share_certificate",
                                       "receipts", "completion_subsidy", "settlement", "usage_convention",
                                       "operation_authorization"]
    assert rows[5]["public"] is True and rows[5]["stages"] == ["design_notice"]
    assert rows[4]["stages"] == []  # printed on demand, when a signed agreement was amended
    assert json.loads(run(case, "forms", "list", "--workflow", "wuhan-2018", "--json").output)[0]["stages"] == [
        "survey"]
    rows = {r["id"]: r for r in json.loads(run(case, "forms", "list", CASE, "--json").output)}
    assert rows["tally"]["ready"] is True
    assert rows["agreement"]["ready"] is False
    assert rows["agreement"]["missing"][0] == "the funding (total cost, subsidy, yearly maintenance) is not recorded"
    assert rows["agreement"]["needs"][0]["remedy"]["command"] == "eightstep funding set RD-3-2 --total AMOUNT"
    text = run(case, "forms", "list", CASE).output
    assert ("agreement is missing:\n"
            "  - the funding (total cost, subsidy, yearly maintenance) is not recorded\n"
            "    → eightstep funding set RD-3-2 --total AMOUNT\n") in text


def test_render_refuses_incomplete_data_with_exit_1(case: CliRunner) -> None:
    result = run(case, "forms", "render", CASE, "agreement", code=1)
    assert result.output.startswith(
        "Error: cannot render agreement (既有住宅加装电梯协议书) for case RD-3-2: its data is incomplete:\n"
        "  - the funding (total cost, subsidy, yearly maintenance) is not recorded\n"
        "    → eightstep funding set RD-3-2 --total AMOUNT\n"
        "  - 使用管理单位 (use_unit) is not named\n"
        "    → eightstep forms party RD-3-2 use_unit --name NAME\n")
    assert not Path("RD-3-2-agreement.html").exists()


def test_render_writes_the_file_and_logs_it(case: CliRunner) -> None:
    funded(case)
    out = run(case, "forms", "render", CASE, "agreement").output
    page = Path("RD-3-2-agreement.html").read_bytes()
    digest = hashlib.sha256(page).hexdigest()
    assert out.startswith(f"RD-3-2: 既有住宅加装电梯协议书 -> RD-3-2-agreement.html ({len(page)} bytes, sha256 "
                          f"{digest[:12]}, template ")
    assert "450,000.01" in page.decode("utf-8")
    event = json.loads(run(case, "case", "history", CASE, "--json").output)[-1]
    assert event["action"] == "form.render"
    assert event["details"]["sha256"] == digest and event["details"]["file"] == "RD-3-2-agreement.html"


def test_render_and_pack_as_a_role(case: CliRunner) -> None:
    before = json.loads(run(case, "case", "history", CASE, "--json").output)
    result = run(case, "forms", "render", CASE, "tally", "--as", " ", code=1)
    assert "--as: give the role the actor acts in, in at most 40 characters" in result.output
    assert not Path("RD-3-2-tally.html").exists()  # written, then removed again: nothing was recorded
    assert json.loads(run(case, "case", "history", CASE, "--json").output) == before
    budgeted(case)
    before = json.loads(run(case, "case", "history", CASE, "--json").output)
    run(case, "forms", "render", CASE, "tally", "ballots", "-o", "papers", "--as", "officer")
    run(case, "forms", "pack", CASE, "-o", "window", "--format", "html", "--as", "街道办事处")
    events = json.loads(run(case, "case", "history", CASE, "--json").output)[len(before):]
    assert [(e["action"], e["role"], e["details"]["actor_role"]) for e in events] == [
        ("form.render", "officer", "officer"), ("form.render", "officer", "officer"),
        ("form.pack", "街道办事处", "街道办事处")]


def test_render_several_forms_into_a_folder(case: CliRunner) -> None:
    funded(case)
    out = run(case, "forms", "render", CASE, "tally", "agreement", "-o", "papers").output.splitlines()
    assert len(out) == 2
    for line, (form, title) in zip(out, [("tally", "既有住宅加装电梯业主表决结果统计表"),
                                         ("agreement", "既有住宅加装电梯协议书")], strict=True):
        page = Path("papers", f"RD-3-2-{form}.html").read_bytes()
        digest = hashlib.sha256(page).hexdigest()
        assert line.startswith(f"RD-3-2: {title} -> {Path('papers', f'RD-3-2-{form}.html')} ({len(page)} bytes, "
                               f"sha256 {digest[:12]}, template ")
    events = json.loads(run(case, "case", "history", CASE, "--json").output)[-2:]
    assert [(e["action"], e["details"]["form"], e["details"]["file"]) for e in events] == [
        ("form.render", "tally", "RD-3-2-tally.html"), ("form.render", "agreement", "RD-3-2-agreement.html")]
    assert events[0]["details"]["sha256"] == hashlib.sha256(Path("papers/RD-3-2-tally.html").read_bytes()).hexdigest()
    # Without -o: here.
    assert run(case, "forms", "render", CASE, "application", "tally").output.startswith(
        "RD-3-2: 既有住宅加装电梯申请书 -> RD-3-2-application.html (")
    assert Path("RD-3-2-application.html").is_file() and Path("RD-3-2-tally.html").is_file()


def test_render_several_forms_refusals(case: CliRunner) -> None:
    result = run(case, "forms", "render", CASE, "application", "agreement", "-o", "papers", code=1)
    assert result.output.startswith("Error: cannot render agreement (既有住宅加装电梯协议书) for case RD-3-2: its "
                                    "data is incomplete:\n  - the funding")
    assert not Path("papers").exists()  # application had its data, and is not written either
    result = run(case, "forms", "render", CASE, "application", "tally", "-o", "-", code=2)
    assert "standard output (-) takes one FORM; give a folder for several" in result.output
    Path("a-file").write_text("", encoding="utf-8")
    result = run(case, "forms", "render", CASE, "application", "tally", "-o", "a-file", code=2)
    assert "a-file is a file; with several FORMs -o names a folder" in result.output
    Path("a-folder").mkdir()
    result = run(case, "forms", "render", CASE, "tally", "-o", "a-folder", code=2)
    assert "a-folder is a folder; with one FORM -o names the file to write" in result.output
    assert list(Path("a-folder").iterdir()) == []


def test_render_to_stdout_and_the_notice_masks_phones(case: CliRunner) -> None:
    result = run(case, "forms", "render", CASE, "notice", code=1)
    assert ("  - 异议受理处 (objection_office) is not named\n"
            "    → eightstep forms party RD-3-2 objection_office --name NAME\n") in result.output
    run(case, "forms", "party", CASE, "objection_office", "--name", "河头社区居委会", "--phone", "027-87953110",
        "--address", "纸坊街道河头社区服务中心", "--at", "2025-05-01")
    run(case, "role", "add", CASE, "owner_rep", "业主701", "--room", "701", "--phone", "13900000701", "--at",
        "2025-05-01")
    Path("scheme.pdf").write_bytes(b"scheme")
    run(case, "doc", "add", CASE, "design_scheme", "scheme.pdf", "--at", "2025-05-05", "--issuer", "某设计院")
    page = run(case, "forms", "render", CASE, "notice", "-o", "-", "--at", "2025-05-06").output
    assert "关于人大小区3栋2单元加装电梯方案的公示" in page
    assert "13900000201" not in page and "139****0201" in page
    assert "13900000701" not in page and "业主701" not in page  # the owner representative is an owner: masked
    assert "027-87953110" in page and "纸坊街道河头社区服务中心" in page  # the office's public contact, in full


def test_unknown_form_and_bad_party(case: CliRunner) -> None:
    assert "unknown form 'nope'" in run(case, "forms", "render", CASE, "nope", code=1).output
    result = run(case, "forms", "party", CASE, "agent", "--name", "李建国", "--id-number", "12345", code=1)
    assert "is not a resident ID number" in result.output
    assert sorted(json.loads(run(case, "forms", "list", "--json").output)[0]) == sorted(
        ["id", "title", "stages", "public", "template", "custom"])
    assert set(PARTY_ROLES) == {"agent", "use_unit", "property", "designer", "installer", "maintainer",
                                "objection_office", "safety_manager"}


def test_parties_are_one_register_with_the_roles(case: CliRunner) -> None:
    """`role add` and `forms party` name people in one register: the owner representative named with his phone
    is the agent the forms name; naming him agent adds his ID number to the same record; no second copy."""
    run(case, "role", "add", CASE, "owner_rep", "李建国", "--room", "701", "--phone", "138-0712-0935")
    rows = json.loads(run(case, "forms", "parties", CASE, "--json").output)
    assert [(r["role"], r["name"], r["phone"]) for r in rows] == [("agent", "李建国", "138-0712-0935")]
    run(case, "forms", "party", CASE, "agent", "--name", "李建国", "--id-number", "420115195501011234")
    run(case, "forms", "party", CASE, "agent", "--name", "李建国", "--phone", "+86 13807120936")
    listed = json.loads(run(case, "role", "list", CASE, "--json").output)["roles"]
    assert [(r["role"], r["name"], r["phone"], r["id_number"]) for r in listed] == [
        ("owner_rep", "李建国", "+86 13807120936", "420115195501011234"),
        ("agent", "李建国", "+86 13807120936", "420115195501011234")]
    event = json.loads(run(case, "case", "history", CASE, "--json").output)[-1]
    assert event["action"] == "role.add"
    assert {k: v for k, v in event["details"].items() if k != "role_id"} == {
        "member_role": "agent", "name": "李建国", "contact": ["phone"]}  # no phone number in the log
    # Another use unit: the earlier one's term ends, and stays on record.
    run(case, "forms", "party", CASE, "use_unit", "--name", "甲物业", "--at", "2025-03-05")
    run(case, "forms", "party", CASE, "use_unit", "--name", "乙物业", "--at", "2025-04-05")
    units = [r for r in json.loads(run(case, "role", "list", CASE, "--json").output)["roles"]
             if r["role"] == "use_unit"]
    assert [(r["name"], r["until"]) for r in units] == [("甲物业", "2025-04-05T00:00:00+08:00"), ("乙物业", None)]
    assert [r["name"] for r in json.loads(run(case, "forms", "parties", CASE, "--json").output)
            if r["role"] == "use_unit"] == ["乙物业"]


def test_templates_option_overrides_a_form(case: CliRunner, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "tally.html.j2").write_text('{% extends "builtin/tally.html.j2" %}{% block title %}自定义统计表'
                                        '{% endblock %}', encoding="utf-8")
    page = run(case, "forms", "render", CASE, "tally", "-o", "-", "--templates", str(mine)).output
    assert "<title>自定义统计表（人大小区3栋2单元）</title>" in page
    assert "业主201" in page


def test_broken_template_gives_file_and_line(case: CliRunner, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "tally.html.j2").write_text('{% extends "_base.html.j2" %}\n{% block content %}\n{{ tally.nope }\n'
                                        '{% endblock %}\n', encoding="utf-8")
    result = run(case, "forms", "render", CASE, "tally", "--templates", str(mine), code=1)
    assert result.output.startswith(f"Error: template {mine / 'tally.html.j2'}, line 3: unexpected '}}'")


def test_pack_html_writes_forms_and_manifest(case: CliRunner, tmp_path: Path) -> None:
    budgeted(case)
    out = run(case, "forms", "pack", CASE, "-o", "window", "--format", "html").output
    assert "RD-3-2: 3 files of stage consent and manifest.json in window" in out
    manifest = json.loads(Path("window/manifest.json").read_text(encoding="utf-8"))
    assert [f["file"] for f in manifest["files"]] == ["RD-3-2-application.html", "RD-3-2-ballots.html",
                                                      "RD-3-2-tally.html"]
    for entry in manifest["files"]:
        assert hashlib.sha256(Path("window", entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    result = run(case, "forms", "pack", CASE, "--stage", "nope", "-o", "x", code=1)
    assert "--stage: 'nope': workflow wuhan has stages consent, survey" in result.output


def test_pack_pdf(case: CliRunner) -> None:
    funded(case)
    run(case, "forms", "pack", CASE, "--stage", "agreement", "-o", "out")
    manifest = json.loads(Path("out/manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "pdf"
    assert Path("out/RD-3-2-agreement.pdf").read_bytes().startswith(b"%PDF-")


def test_workflow_check_knows_the_form_templates(runner: CliRunner, tmp_path: Path) -> None:
    src = builtin_dir("workflows") / "wuhan.yaml"
    run(runner, "workflow", "check", str(src))
    bad = tmp_path / "wuhan.yaml"
    bad.write_text(src.read_text(encoding="utf-8").replace("forms: [agreement]", "forms: [agreemnt]"),
                   encoding="utf-8")
    result = run(runner, "workflow", "check", str(bad), code=1)
    assert "form 'agreemnt' has no template" in result.output

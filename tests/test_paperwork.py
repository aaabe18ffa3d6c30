"""Paperwork through the library: real cases in real SQLite, real templates, real HTML and PDF."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from eightstep import engine, records
from eightstep.audit.verify import VerifyReport, verify_chains
from eightstep.errors import ConflictError, InputError, NotFoundError, Remedy
from eightstep.paperwork.context import MissingData, Need
from eightstep.paperwork.environment import FormEnvironment, TemplateProblem
from eightstep.paperwork.forms import FORMS
from eightstep.paperwork.names import ENV_TEMPLATES, form_ids
from eightstep.paperwork.parties import set_party
from eightstep.paperwork.render import Paperwork
from eightstep.records import funding
from eightstep.records.elevator import set_elevator
from eightstep.records.payments import record_payment
from eightstep.records.settlement import add_invoice, settle_case
from eightstep.records.subsidy import apply_for_subsidy, pay_subsidy
from eightstep.resources import builtin_dir
from eightstep.store.workspace import Workspace
from eightstep.timeutil import parse_at
from eightstep.workflow.loader import load_workflow_file

CASE = "RD-3-2"
OWNERS = ["周桂兰", "刘德明", "吴淑芬", "赵志强", "黄玉珍", "徐文斌", "陈国华", "陈国华", "杨春梅", "马永康",
          "李建国", "王秀英"]
AGENT_ID = "420115195501011234"
AGENT_PHONE = "13807120935"


@pytest.fixture(autouse=True)
def no_user_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_TEMPLATES, raising=False)


def phone(i: int) -> str:
    return f"1380001{i:04d}"


def households_csv(folder: Path) -> Path:
    """12 flats on floors 2-7; 陈国华 owns 501 and 502; 702 has no phone."""
    lines = ["房号,楼层,面积,业主,业主编号,电话"]
    for i, (floor, flat) in enumerate((f, n) for f in range(2, 8) for n in (1, 2)):
        key = "P-3205" if OWNERS[i] == "陈国华" else ""
        tel = "" if (floor, flat) == (7, 2) else phone(i)
        lines.append(f"{floor}0{flat},{floor},{'78.36' if flat == 1 else '92.15'},{OWNERS[i]},{key},{tel}")
    path = folder / "households.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def open_case(ws: Workspace, folder: Path) -> None:
    engine.open_case(ws, CASE, complex_name="人大小区", building="3", unit="2", district="江夏区",
                     street="纸坊街道", community="河头社区", at=parse_at("2025-03-03"))
    records.import_households(ws, CASE, households_csv(folder), at=parse_at("2025-03-04"))


def complete_case(ws: Workspace, folder: Path) -> None:
    """Everything every form needs: households, ballots, funding, parties, documents, an objection, approvals."""
    open_case(ws, folder)
    for floor in range(2, 8):
        for flat in (1, 2):
            room = f"{floor}0{flat}"
            choice = {"201": "abstain", "202": "oppose"}.get(room, "agree")
            records.cast_vote(ws, CASE, room, choice, at=parse_at("2025-03-10"))
    funding.set_funding(ws, CASE, total=65_000_001, subsidy=20_000_000, maintenance=600_000,
                        at=parse_at("2025-04-01"))
    set_party(ws, CASE, "agent", name="李建国", phone=AGENT_PHONE, id_number=AGENT_ID, address="3栋2单元701")
    set_party(ws, CASE, "use_unit", name="武汉纸坊物业服务有限公司", phone="027-87654321")
    set_party(ws, CASE, "property", name="武汉纸坊物业服务有限公司", address="江夏区纸坊大街1号")
    set_party(ws, CASE, "designer", name="武汉楚天建筑设计有限公司")
    set_party(ws, CASE, "installer", name="湖北梯安电梯工程有限公司")
    scan = folder / "scan.txt"
    scan.write_text("scan", encoding="utf-8")
    records.add_document(ws, CASE, "application", scan, at=parse_at("2025-03-05"), number="RD-申-001")
    records.add_document(ws, CASE, "design_scheme", scan, at=parse_at("2025-05-05"), number="CT-2025-018",
                         issuer="武汉楚天建筑设计有限公司")
    records.add_document(ws, CASE, "notice_posting", scan, at=parse_at("2025-05-08"))
    records.add_approval(ws, CASE, "feasibility", authority="江夏区行政审批局", number="江审〔2025〕12号",
                         at=parse_at("2025-04-10"))
    objection = records.add_objection(ws, CASE, grounds="采光受影响", room="202", at=parse_at("2025-05-09"))
    records.mediate_objection(ws, CASE, objection.id or 0, step="negotiation", note="协商加装遮阳并补偿",
                              at=parse_at("2025-05-12"))
    records.resolve_objection(ws, CASE, objection.id or 0, outcome="同意补偿3000元，撤回异议",
                              at=parse_at("2025-05-15"))
    money_on_record(ws)


def money_on_record(ws: Workspace) -> None:
    """A payment, the inspection and registration, the elevator's record, the subsidy paid, the settlement."""
    record_payment(ws, CASE, "701", 1_000_000, way="cash", at=parse_at("2025-04-10"))
    records.add_approval(ws, CASE, "supervisory_inspection", authority="湖北省特种设备检验检测研究院",
                         number="鄂特检监〔2025〕DT1036号", at=parse_at("2025-05-20"))
    records.add_approval(ws, CASE, "use_registration", authority="江夏区市场监督管理局", number="梯11鄂A20250871",
                         at=parse_at("2025-05-22"))
    set_elevator(ws, CASE, registration_code="梯11鄂A20250871", maker="奥升电梯（中国）有限公司", model="ASP-450MR",
                 load_kg=450, speed_cms=100, stops=7, safety_manager="彭涛", maintainer="湖北梯安电梯工程有限公司",
                 maintainer_licence="TS3442107-2028", warranty_from=date(2025, 5, 20),
                 warranty_until=date(2027, 5, 19), at=parse_at("2025-05-23"))
    add_invoice(ws, CASE, number="42002500001201", issuer="湖北梯安电梯工程有限公司", amount=65_000_001,
                at=parse_at("2025-05-23"))
    apply_for_subsidy(ws, CASE, to="江夏区住房和城市更新局", account="业主代表专户 6228 4800 1234 5678",
                      at=parse_at("2025-05-26"))
    pay_subsidy(ws, CASE, 20_000_000, payer="江夏区住房和城市更新局", account="业主代表专户 6228 4800 1234 5678",
                at=parse_at("2025-05-29"))
    settle_case(ws, CASE, at=parse_at("2025-05-30"))


@pytest.fixture
def full_case(ws: Workspace, tmp_path: Path) -> Workspace:
    complete_case(ws, tmp_path)
    return ws


def html(ws: Workspace, form: str, template_dirs: list[Path] | None = None) -> str:
    result = Paperwork(ws, template_dirs or []).render(CASE, form, at=parse_at("2025-06-02"))
    return result.content.decode("utf-8")


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


# --- templates on disk -------------------------------------------------------------------------------------

def test_every_form_has_a_builtin_template_and_every_workflow_form_exists() -> None:
    builtin = form_ids([builtin_dir("templates")])
    assert set(FORMS) == builtin
    assert len(FORMS) == 12
    assert (builtin_dir("templates") / "_base.html.j2").is_file()
    for name in ("wuhan", "wuhan-2018", "guangzhou"):
        loaded = load_workflow_file(builtin_dir("workflows") / f"{name}.yaml", builtin)
        listed = [f for s in loaded.definition.stages for f in s.forms]
        # The receipts and the settlement are printed when money moves, not as a stage's papers.
        assert sorted(listed) == sorted(set(FORMS) - {"receipts", "settlement"}), name


# --- every form, with values -------------------------------------------------------------------------------

@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_renders_for_a_complete_case(full_case: Workspace, form: str) -> None:
    page = html(full_case, form)
    assert page.startswith("<!DOCTYPE html>")
    assert "人大小区3栋2单元" in page
    assert "size: A4" in page
    assert "None" not in text_of(page)


def test_application_lists_every_owner_and_the_agent(full_case: Workspace) -> None:
    page = text_of(html(full_case, "application"))
    assert "纸坊街道办事处、河头社区居民委员会：" in page
    for owner in set(OWNERS):
        assert owner in page
    assert f"李建国 联系电话 {AGENT_PHONE}" in page  # a window document shows the full number
    assert AGENT_ID in page
    assert "12 户 / 11 人" in page  # 陈国华 owns two flats and counts once


def test_ballots_one_sheet_per_household(full_case: Workspace) -> None:
    page = html(full_case, "ballots")
    assert page.count('<section class="sheet">') == 12
    assert "编号：RD-3-2-ballots-702" in page
    assert "民法典第278条" in page


def test_tally_shows_choices_rule_and_result(full_case: Workspace) -> None:
    page = text_of(html(full_case, "tally"))
    assert "表决结果： 通过" in page or "表决结果：通过" in page
    assert "周桂兰 弃权" in page
    assert "刘德明 反对" in page
    assert "同意（占参与表决） 9 81.82% 852.55 83.33%" in page


def test_agreement_has_the_share_table_and_the_use_unit(full_case: Workspace) -> None:
    page = text_of(html(full_case, "agreement"))
    assert "人民币 650,000.01 元（人民币陆拾伍万元零壹分）" in page
    assert "450,000.01 元 （人民币肆拾伍万元零壹分）" in page or "450,000.01 元（人民币肆拾伍万元零壹分）" in page
    assert "301 3 78.36 吴淑芬 0.7 32,169.38 428.93" in page
    assert "201 2 78.36 周桂兰 免 0.00 0.00" in page
    assert "合 计 450,000.01 6,000.00" in page
    assert "武汉纸坊物业服务有限公司 为本电梯的使用管理单位" in page
    assert "3层 0.7、4层 0.8" in page and "1层、2层业主不分摊建设费用" in page


def test_notice_period_counts_working_days_and_masks_private_data(full_case: Workspace) -> None:
    page = html(full_case, "notice")
    text = text_of(page)
    # Posted 2025-05-08 (Thursday); 10 working days after it end on 2025-05-22.
    assert "自 2025年5月8日 起公示 10 个工作日，至 2025年5月22日 止" in text
    assert "河头社区居民委员会" in text
    for i in range(11):
        assert phone(i) not in page
    assert "138****0000" in page
    assert AGENT_PHONE not in page and "138****0935" in page
    assert AGENT_ID not in page
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", page)
    for owner in set(OWNERS) - {"李建国"}:  # 李建国 is also the owners' representative, named as the contact
        assert owner not in page
    assert "周**" in page and "李**" in page
    assert "59,448.13" in page  # the cost-share plan is posted


def test_objection_register_shows_steps_and_outcome(full_case: Workspace) -> None:
    page = text_of(html(full_case, "objection_register"))
    assert "202室 采光受影响" in page
    assert "2025-05-12 协商：协商加装遮阳并补偿" in page
    assert "同意补偿3000元，撤回异议" in page and "已解决" in page


def test_joint_review_checklist_marks_present_and_missing(full_case: Workspace) -> None:
    page = text_of(html(full_case, "joint_review"))
    assert "江夏区行政审批局：" in page
    scan_hash = hashlib.sha256(b"scan").hexdigest()[:8]
    assert f"加装电梯申请书 发起与意愿征询表决 本单元业主 RD-申-001 2025-03-05 {scan_hash} ✓ 已备" in page
    assert "业主身份证明及不动产权属证明 发起与意愿征询表决 本单元业主 — — — ✗ 缺" in page
    assert "可行性分析意见（审批） 现场踏勘与可行性分析 江夏区行政审批局 江审〔2025〕12号 2025-04-10" in page
    assert "现场踏勘记录 现场踏勘与可行性分析 纸坊街道办事处" in page
    assert "施工安装合同 施工安装 本单元业主 — — — 待后续" in page
    assert "应备材料 10 项，已备 4 项，缺 6 项" in page


def test_completion_convention_and_authorisation(full_case: Workspace) -> None:
    page = text_of(html(full_case, "completion_subsidy"))
    assert "200,000.00 元（人民币贰拾万元整）" in page
    for field in ("梯11鄂A20250871", "李建国（业主委托代理人）", "业主代表专户 6228 4800 1234 5678",
                  "结算造价 650,000.01 元（人民币陆拾伍万元零壹分），已结算", "42002500001201"):
        assert field in page, field
    rota = text_of(html(full_case, "usage_convention"))
    assert "1 2025年6月 201 周桂兰" in rota and "12 2026年5月 702 王秀英" in rota
    auth = text_of(html(full_case, "operation_authorization"))
    assert "受托人 武汉纸坊物业服务有限公司" in auth


# --- incomplete data ---------------------------------------------------------------------------------------

def test_agreement_before_funding_refuses_and_says_what_is_missing(ws: Workspace, tmp_path: Path) -> None:
    open_case(ws, tmp_path)
    with pytest.raises(MissingData) as exc:
        html(ws, "agreement")
    assert str(exc.value) == (
        "cannot render agreement (既有住宅加装电梯协议书) for case RD-3-2: its data is incomplete:\n"
        "  - funding is not set\n"
        "  - the named use-management unit is not named")
    assert [n.remedy for n in exc.value.needs] == [Remedy("funding.set", {"case": CASE}),
                                                   Remedy("forms.party", {"case": CASE, "role": "use_unit"})]


def test_missing_data_lists_every_form_gap(ws: Workspace, tmp_path: Path) -> None:
    open_case(ws, tmp_path)
    statuses = {s.id: s for s in Paperwork(ws).list_forms(CASE)}
    assert statuses["application"].missing == []
    assert statuses["tally"].missing == ["no ballots recorded"]
    assert statuses["tally"].needs == [Need("no ballots recorded", Remedy("vote.import", {"case": CASE}))]
    assert "the owners' agent or representative is not named" in (statuses["joint_review"].missing or [])
    assert statuses["agreement"].stages == ["agreement"]
    with pytest.raises(MissingData, match="subsidy applied for"):
        funding.set_funding(ws, CASE, total=100_000)
        set_party(ws, CASE, "use_unit", name="物业")
        html(ws, "completion_subsidy")


def test_notice_refuses_before_the_vote_passed_and_without_the_design_scheme(ws: Workspace,
                                                                             tmp_path: Path) -> None:
    """Issue 3: a case still at S1, vote not passed, no design scheme: the notice announces neither."""
    open_case(ws, tmp_path)
    for room in ("201", "202", "301"):
        records.cast_vote(ws, CASE, room, "agree", at=parse_at("2025-03-10"))
    with pytest.raises(MissingData) as exc:
        html(ws, "notice")
    assert exc.value.missing == [
        "Design scheme is not on record, and the notice announces it",
        "the owners' vote has not passed (participating area 248.87 of 1023.06 m² is below 2/3; "
        "participating owners 3 of 11 is below 2/3), and the notice states the result: record "
        "the ballots and check the tally"]
    assert [n.remedy for n in exc.value.needs] == [Remedy("doc.add", {"case": CASE, "kind": "design_scheme"}),
                                                   Remedy("vote.tally", {"case": CASE})]
    assert str(exc.value).startswith("cannot render notice (既有住宅加装电梯方案公示) for case RD-3-2: its data is "
                                     "incomplete:\n  - Design scheme")
    statuses = {s.id: s for s in Paperwork(ws).list_forms(CASE)}
    assert statuses["notice"].missing == exc.value.missing
    history = len(engine.history(ws, CASE))
    # The design scheme on record: only the vote is missing.
    scan = tmp_path / "scheme.pdf"
    scan.write_text("scheme", encoding="utf-8")
    records.add_document(ws, CASE, "design_scheme", scan, at=parse_at("2025-05-05"), number="CT-2025-018",
                         issuer="武汉楚天建筑设计有限公司")
    with pytest.raises(MissingData) as again:
        html(ws, "notice")
    assert len(again.value.missing) == 1 and again.value.missing[0].startswith("the owners' vote has not passed")
    assert len(engine.history(ws, CASE)) == history + 1  # the document; no render was logged


def notice_ready(ws: Workspace, folder: Path) -> None:
    """A unit whose vote passed and whose design scheme is on record; the notice is not posted yet."""
    open_case(ws, folder)
    for floor in range(2, 8):
        for flat in (1, 2):
            records.cast_vote(ws, CASE, f"{floor}0{flat}", "agree", at=parse_at("2025-03-10"))
    scan = folder / "scheme.pdf"
    scan.write_text("scheme", encoding="utf-8")
    records.add_document(ws, CASE, "design_scheme", scan, at=parse_at("2025-05-05"), number="CT-2025-018",
                         issuer="武汉楚天建筑设计有限公司")


def test_notice_before_posting_gives_planned_dates_from_the_date_given(ws: Workspace, tmp_path: Path) -> None:
    notice_ready(ws, tmp_path)
    # To be posted on Tuesday 2025-05-06, after the May Day holiday: 10 working days end on Tuesday 2025-05-20.
    result = Paperwork(ws).render(CASE, "notice", at=parse_at("2025-05-06"))
    text = text_of(result.content.decode("utf-8"))
    assert ("本公示自张贴之日起公示 10 个工作日（按国家法定节假日及调休安排计算工作日，张贴当日不计入）。"
            "拟于 2025年5月6日 张贴，公示期至 2025年5月20日 止"
            "（拟定日期：实际张贴日期不同的，公示期自实际张贴之日起算）" in text)
    assert "起公示 10 个工作日，至" not in text  # not stated as a running period
    assert "加装电梯设计方案已由武汉楚天建筑设计有限公司编制（编号 CT-2025-018）" in text
    assert "表决结果为通过" in text
    # Printed on another day for another posting date: the dates follow the date given.
    later = text_of(Paperwork(ws).render(CASE, "notice", at=parse_at("2025-05-30")).content.decode("utf-8"))
    # 2025-05-31 to 06-02 is the Dragon Boat holiday: 10 working days after Friday 05-30 end on Monday 06-16.
    assert "拟于 2025年5月30日 张贴，公示期至 2025年6月16日 止" in later
    # Once the posting is on record, the period runs from it, whatever date the form is printed on.
    scan = tmp_path / "posted.jpg"
    scan.write_text("photo", encoding="utf-8")
    records.add_document(ws, CASE, "notice_posting", scan, at=parse_at("2025-05-08"))
    posted = text_of(Paperwork(ws).render(CASE, "notice", at=parse_at("2025-06-02")).content.decode("utf-8"))
    assert "自 2025年5月8日 起公示 10 个工作日，至 2025年5月22日 止" in posted
    assert "拟定日期" not in posted and "拟于" not in posted


def test_unknown_form(full_case: Workspace) -> None:
    with pytest.raises(NotFoundError, match=r"unknown form 'nope': no template nope\.html\.j2"):
        html(full_case, "nope")


# --- the history -------------------------------------------------------------------------------------------

def test_render_is_logged_with_template_version_and_output_hash(full_case: Workspace) -> None:
    before = engine.show_case(full_case, CASE).version
    Path("out").mkdir()
    result = Paperwork(full_case).render(CASE, "agreement", at=parse_at("2025-06-02"),
                                         output=Path("out") / "协议.html")
    assert Path("out/协议.html").read_bytes() == result.content
    event = engine.history(full_case, CASE)[-1]
    details = json.loads(event.details)
    assert event.action == "form.render" and event.actor == "tester"
    assert details["sha256"] == hashlib.sha256(result.content).hexdigest() == result.sha256
    assert details["template_version"] == result.version.sha256
    assert set(details["templates"]) == {"agreement.html.j2", "_base.html.j2", "_macros.html.j2"}
    assert details["form"] == "agreement" and details["format"] == "html" and details["file"] == "协议.html"
    assert details["as_of_version"] == before
    # The same data and templates give the same paper.
    again = Paperwork(full_case).render(CASE, "agreement", at=parse_at("2025-06-02"))
    assert again.sha256 == result.sha256


def test_pack_writes_every_form_of_the_stage_and_a_manifest(full_case: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "window"
    pack = Paperwork(full_case).pack(CASE, out, stage="consent", fmt="html", at=parse_at("2025-06-02"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [f["form"] for f in manifest["files"]] == ["application", "ballots", "tally"]
    for entry in manifest["files"]:
        data = (out / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(entry["template_version"]) == 64
    assert manifest["stage"] == {"id": "consent", "title": "发起与意愿征询表决"}
    event = engine.history(full_case, CASE)[-1]
    assert event.action == "form.pack"
    details = json.loads(event.details)
    assert details["manifest_sha256"] == pack.manifest_sha256
    assert details["manifest_sha256"] == hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()


def test_pack_refuses_as_a_whole_when_a_form_lacks_data(ws: Workspace, tmp_path: Path) -> None:
    open_case(ws, tmp_path)
    with pytest.raises(InputError, match="no ballots recorded"):
        Paperwork(ws).pack(CASE, tmp_path / "out", stage="consent", fmt="html")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="stage survey of workflow wuhan lists no forms"):
        Paperwork(ws).pack(CASE, tmp_path / "out", stage="survey")


def test_render_many_reads_once_and_logs_each_form_in_one_transaction(full_case: Workspace,
                                                                      tmp_path: Path) -> None:
    before = engine.show_case(full_case, CASE).version
    count = len(engine.history(full_case, CASE))
    results = Paperwork(full_case).render_many(CASE, ["tally", "agreement", "tally"], at=parse_at("2025-06-02"),
                                               folder=tmp_path / "out")
    assert [r.form for r in results] == ["tally", "agreement"]  # each form once
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["RD-3-2-agreement.html", "RD-3-2-tally.html"]
    history = engine.history(full_case, CASE)
    assert len(history) == count + 2
    for event, result in zip(history[-2:], results, strict=True):
        assert (tmp_path / "out" / result.filename(CASE)).read_bytes() == result.content
        assert event.action == "form.render" and event.actor == "tester"
        assert json.loads(event.details) == result.record(result.filename(CASE))
        assert json.loads(event.details)["as_of_version"] == before == result.as_of_version
    assert engine.show_case(full_case, CASE).version == before + 1  # one transaction
    report = VerifyReport()
    verify_chains(full_case, report)
    assert report.chain_problems == [] and report.events == len(history)
    # The same paper as the form rendered on its own.
    alone = Paperwork(full_case).render(CASE, "agreement", at=parse_at("2025-06-02"))
    assert alone.sha256 == results[1].sha256 and alone.as_of_version == before + 1


def test_render_many_refuses_as_a_whole_and_lists_every_gap(ws: Workspace, tmp_path: Path) -> None:
    open_case(ws, tmp_path)  # households, no ballots, no funding
    count = len(engine.history(ws, CASE))
    with pytest.raises(InputError) as exc:
        Paperwork(ws).render_many(CASE, ["application", "tally", "agreement"], folder=tmp_path / "out")
    message = str(exc.value)
    assert isinstance(exc.value, MissingData) and len(exc.value.sections) == 2  # each form under its headline
    assert "cannot render tally (既有住宅加装电梯业主表决结果统计表) for case RD-3-2" in message
    assert "  - no ballots recorded\n" in message
    assert "cannot render agreement (既有住宅加装电梯协议书) for case RD-3-2" in message
    assert "  - funding is not set" in message
    assert "application" not in message  # it had its data
    assert not (tmp_path / "out").exists()
    assert len(engine.history(ws, CASE)) == count
    with pytest.raises(InputError, match="name at least one form"):
        Paperwork(ws).render_many(CASE, [])
    with pytest.raises(MissingData) as one:  # one form: its own refusal, as render gives it
        Paperwork(ws).render_many(CASE, ["tally"])
    assert one.value.missing == ["no ballots recorded"]


def test_what_one_template_does_to_its_data_never_reaches_the_next(full_case: Workspace, tmp_path: Path) -> None:
    """Forms rendered together share one read of the records; a template that empties a list it was given
    (the sandbox lets it call list.clear) empties its own copy only."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "cover.html.j2").write_text(
        '{% extends "_base.html.j2" %}{% block content %}{{ shares.rows.clear() or "" }}'
        '{{ households.clear() or "" }}{{ shares.rows|length }} rows{% endblock %}', encoding="utf-8")
    at = parse_at("2025-06-02")
    cover, agreement, notice = Paperwork(full_case, [mine]).render_many(CASE, ["cover", "agreement", "notice"],
                                                                        at=at)
    assert "0 rows" in cover.content.decode("utf-8")
    assert agreement.sha256 == Paperwork(full_case).render(CASE, "agreement", at=at).sha256
    assert notice.sha256 == Paperwork(full_case).render(CASE, "notice", at=at).sha256
    assert "32,169.38" in agreement.content.decode("utf-8")


# --- user templates ----------------------------------------------------------------------------------------

def test_user_template_overrides_and_extends_the_builtin(full_case: Workspace, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "agreement.html.j2").write_text(
        '{% extends "builtin/agreement.html.j2" %}\n'
        '{% block generated %}<p class="generated">江夏区住建局监制 {{ case.id }}</p>{% endblock %}\n',
        encoding="utf-8")
    page = html(full_case, "agreement", [mine])
    assert "江夏区住建局监制 RD-3-2" in page
    assert "32,169.38" in page  # the built-in body is still there
    assert "本表由 eightstep" not in page
    result = Paperwork(full_case, [mine]).render(CASE, "agreement")
    assert result.template == str(mine / "agreement.html.j2")
    assert set(result.version.sources) == {"agreement.html.j2", "builtin/agreement.html.j2", "_base.html.j2",
                                           "_macros.html.j2"}
    plain = Paperwork(full_case).render(CASE, "agreement")
    assert plain.version.sha256 != result.version.sha256


def test_user_folder_from_the_environment_and_a_new_form(full_case: Workspace, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "env-templates"
    mine.mkdir()
    (mine / "cover.html.j2").write_text(
        '{% extends "_base.html.j2" %}{% block content %}<h1>档案封面</h1>'
        '{% for h in households %}{{ h.room }};{% endfor %}{{ shares.share_sum|yuan }}{% endblock %}',
        encoding="utf-8")
    monkeypatch.setenv(ENV_TEMPLATES, str(mine))
    paperwork = Paperwork(full_case)
    assert paperwork.form_ids()[-1] == "cover"
    page = paperwork.render(CASE, "cover").content.decode("utf-8")
    assert "档案封面" in page and "201;202;301" in page and "450,000.01" in page


@pytest.mark.parametrize(("source", "line", "message"), [
    ("<p>\n{% if %}\n</p>", 2, "Expected an expression"),
    ('{% extends "_base.html.j2" %}\n{% block content %}\n<p>\n{{ case.nope }}\n{% endblock %}', 4,
     "has no attribute 'nope'"),
    ('{% extends "_base.html.j2" %}\n{% block content %}\n{{ funding }}\n{% endblock %}', 3, "'funding' is undefined"),
    ('{% extends "_base.html.j2" %}\n{% block content %}\n\n{{ agent.address }}\n{% endblock %}', 4,
     'print it with |default("—", true)'),
    ('{% extends "_base.html.j2" %}\n{% block content %}\n{{ case.__class__.__mro__ }}\n{% endblock %}', 3,
     "unsafe"),
])
def test_broken_template_names_file_and_line(full_case: Workspace, tmp_path: Path, source: str, line: int,
                                             message: str) -> None:
    mine = tmp_path / "broken"
    mine.mkdir()
    (mine / "application.html.j2").write_text(source, encoding="utf-8")
    set_party(full_case, CASE, "agent", name="李建国")  # no address: None
    with pytest.raises(TemplateProblem) as exc:
        html(full_case, "application", [mine])
    assert str(exc.value).startswith(f"template {mine / 'application.html.j2'}, line {line}: ")
    assert message in str(exc.value)


def test_a_posted_document_never_prints_a_full_number(full_case: Workspace, tmp_path: Path) -> None:
    mine = tmp_path / "leaky"
    mine.mkdir()
    (mine / "notice.html.j2").write_text('{% extends "builtin/notice.html.j2" %}{% block generated %}'
                                         '{{ "联系 " ~ "1380001" ~ "0003" }}{% endblock %}', encoding="utf-8")
    with pytest.raises(InputError, match=r"notice is posted in public, but template .* prints full phone or ID"):
        html(full_case, "notice", [mine])


def test_the_sandbox_remembers_its_verdict_per_type_and_name() -> None:
    env = FormEnvironment().env

    class Plain:
        mro = "a field called mro"
        gi_frame = "a field called gi_frame"

    def gen() -> object:
        yield 1

    for _ in range(2):  # the second time from what it remembers
        assert env.is_safe_attribute(str, "mro", str.mro) is False
        assert env.is_safe_attribute(Plain, "mro", Plain.mro) is False  # any class's mro
        assert env.is_safe_attribute(Plain(), "mro", Plain.mro) is True
        assert env.is_safe_attribute(gen(), "gi_frame", None) is False
        assert env.is_safe_attribute(Plain(), "gi_frame", Plain.gi_frame) is True
        assert env.is_safe_attribute(Plain(), "_private", None) is False
        assert env.is_safe_attribute(gen, "__code__", gen.__code__) is False
    page = env.from_string("{{ p.mro }}|{{ p.gi_frame }}").render(p=Plain())
    assert page == "a field called mro|a field called gi_frame"
    with pytest.raises(SecurityError, match="access to attribute 'gi_frame' of 'generator' object is unsafe"):
        env.from_string("{{ g.gi_frame }}").render(g=gen())


def test_environment_filters_are_strict_about_none() -> None:
    env = FormEnvironment()
    assert env.env.filters["yuan"](None) is None
    assert env.env.filters["cn_date"](parse_at("2025-03-01")) == "2025年3月1日"
    assert env.env.filters["mask_phone"]("13800010001") == "138****0001"
    assert env.env.filters["mask_id"](AGENT_ID) == "4201**********1234"


# --- PDF ---------------------------------------------------------------------------------------------------

def test_pdf_embeds_a_cjk_font(full_case: Workspace, tmp_path: Path) -> None:
    if shutil.which("pdffonts") is None or shutil.which("pdftotext") is None:
        pytest.skip("pdffonts/pdftotext (Debian poppler-utils) are not installed")
    result = Paperwork(full_case).render(CASE, "agreement", "pdf", at=parse_at("2025-06-02"))
    assert result.content.startswith(b"%PDF-")
    pdf = tmp_path / "agreement.pdf"
    pdf.write_bytes(result.content)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines()[2:] if re.search(r"CJK|WenQuanYi|Hei|Song|Ming", line)]
    assert cjk, fonts
    # Columns: name type encoding emb sub uni ...; every CJK font is embedded (emb = yes).
    assert all(line.split()[-5] == "yes" for line in cjk), fonts
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "既有住宅加装电梯协议书" in text and "450,000.01" in text
    assert json.loads(engine.history(full_case, CASE)[-1].details)["format"] == "pdf"


def test_no_file_stays_on_disk_when_the_history_cannot_record_it(full_case: Workspace, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def conflict(*_args: object, **_kwargs: object) -> None:
        raise ConflictError("changed meanwhile")

    paperwork = Paperwork(full_case)
    monkeypatch.setattr(paperwork, "_log", conflict)
    with pytest.raises(ConflictError):
        paperwork.pack(CASE, tmp_path / "pack", stage="consent", fmt="html")
    assert not (tmp_path / "pack").exists()  # the folder it made is gone too
    with pytest.raises(ConflictError):
        paperwork.render(CASE, "tally", output=tmp_path / "tally.html")
    assert not (tmp_path / "tally.html").exists()
    with pytest.raises(ConflictError):
        paperwork.render_many(CASE, ["tally", "application"], folder=tmp_path / "many")
    assert not (tmp_path / "many").exists()
    (tmp_path / "mine").mkdir()
    with pytest.raises(ConflictError):
        paperwork.render_many(CASE, ["tally", "application"], folder=tmp_path / "mine")
    assert (tmp_path / "mine").is_dir() and list((tmp_path / "mine").iterdir()) == []  # not made here: kept


def test_unwritable_output_is_an_input_error(full_case: Workspace, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"no folder .*file to write tally\.html into"):
        Paperwork(full_case).render(CASE, "tally", output=tmp_path / "file" / "tally.html")
    assert engine.history(full_case, CASE)[-1].action != "form.render"


def test_html_never_imports_weasyprint(full_case: Workspace) -> None:
    """WeasyPrint takes ~0.4 s to import: only a PDF may pay for it."""
    import sys

    code = ("import sys\n"
            "from eightstep.store.workspace import Workspace\n"
            "from eightstep.paperwork.render import Paperwork\n"
            f"ws = Workspace.open({str(full_case.where)!r})\n"
            f"Paperwork(ws).render({CASE!r}, 'agreement')\n"
            "assert 'weasyprint' not in sys.modules\n"
            "ws.dispose()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

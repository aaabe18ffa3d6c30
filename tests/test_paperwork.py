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
from eightstep.paperwork.environment import FormEnvironment, TemplateProblem
from eightstep.paperwork.forms import FORMS
from eightstep.paperwork.names import ENV_TEMPLATES, form_ids
from eightstep.paperwork.needs import MissingData
from eightstep.paperwork.parties import set_party
from eightstep.paperwork.render import Paperwork
from eightstep.records import funding
from eightstep.records.elevator import set_elevator
from eightstep.records.payments import record_payment
from eightstep.records.roles import add_role, set_rota
from eightstep.records.schemes import add_scheme, choose
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
OFFICE_PHONE = "027-81234567"
INSTALLER = "湖北梯安电梯工程有限公司"
PROPERTY = "武汉纸坊物业服务有限公司"
ON_DEMAND = {"supplementary_agreement", "receipts", "settlement"}  # forms no stage lists: printed when there is
# something to print (an amendment after signing, a payment, the final settlement)


@pytest.fixture(autouse=True)
def no_user_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_TEMPLATES, raising=False)


def phone(i: int) -> str:
    return f"1380001{i:04d}"


def households_csv(folder: Path) -> Path:
    """12 flats on floors 2-7; 陈国华 owns 501 and 502; 702 has no phone; 301 is co-owned with 王建华."""
    lines = ["房号,楼层,面积,业主,业主编号,电话,共有人"]
    for i, (floor, flat) in enumerate((f, n) for f in range(2, 8) for n in (1, 2)):
        key = "P-3205" if OWNERS[i] == "陈国华" else ""
        tel = "" if (floor, flat) == (7, 2) else phone(i)
        others = "王建华" if (floor, flat) == (3, 1) else ""
        lines.append(f"{floor}0{flat},{floor},{'78.36' if flat == 1 else '92.15'},{OWNERS[i]},{key},{tel},{others}")
    path = folder / "households.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def open_case(ws: Workspace, folder: Path) -> None:
    engine.open_case(ws, CASE, complex_name="人大小区", building="3", unit="2", district="江夏区",
                     street="纸坊街道", community="河头社区", at=parse_at("2025-03-03"))
    records.import_households(ws, CASE, households_csv(folder), at=parse_at("2025-03-04"))


def scan(folder: Path, name: str = "scan.pdf", text: str = "scan") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def complete_case(ws: Workspace, folder: Path) -> None:
    """Everything every form needs: households, ballots, a chosen scheme, funding, the people named, documents,
    an objection, approvals, the self-management group and its rota."""
    open_case(ws, folder)
    add_role(ws, CASE, "owner_rep", "李建国", room="701", phone=AGENT_PHONE, at=parse_at("2025-03-04"))
    for floor in range(2, 8):
        for flat in (1, 2):
            room = f"{floor}0{flat}"
            choice = {"201": "abstain", "202": "oppose"}.get(room, "agree")
            records.cast_vote(ws, CASE, room, choice, at=parse_at("2025-03-10"))
    scheme = add_scheme(ws, CASE, company=INSTALLER, price=65_000_001, entry="half_floor", duration_days=150,
                        load_kg=800, speed_cms=100, stops=7, at=parse_at("2025-03-20"))
    choose(ws, CASE, scheme.id, reason="协商小组选定", at=parse_at("2025-03-25"))
    funding.set_funding(ws, CASE, subsidy=20_000_000, maintenance=600_000, at=parse_at("2025-04-01"))
    set_party(ws, CASE, "agent", name="李建国", id_number=AGENT_ID, address="3栋2单元701", at=parse_at("2025-03-04"))
    set_party(ws, CASE, "use_unit", name=PROPERTY, phone="027-87654321", address="江夏区纸坊大街1号",
              at=parse_at("2025-04-01"))
    set_party(ws, CASE, "property", name=PROPERTY, at=parse_at("2025-04-01"))
    set_party(ws, CASE, "designer", name="武汉楚天建筑设计有限公司", at=parse_at("2025-04-01"))
    set_party(ws, CASE, "maintainer", name=INSTALLER, at=parse_at("2025-04-01"))
    set_party(ws, CASE, "objection_office", name="河头社区居民委员会", phone=OFFICE_PHONE,
              address="人大小区3栋旁河头社区居委会一楼", at=parse_at("2025-04-01"))
    set_party(ws, CASE, "safety_manager", name="张安", phone="13907120001", at=parse_at("2025-04-01"))
    for room in ("701", "201"):
        add_role(ws, CASE, "self_management", OWNERS[int(room[0]) * 2 - 4], room=room, at=parse_at("2025-04-01"))
    for i, room in enumerate(["201", "202", "301", "302", "401", "402", "501", "601", "602", "701", "702"]):
        owner = OWNERS[(int(room[0]) - 2) * 2 + int(room[2]) - 1]
        add_role(ws, CASE, "duty_rota", owner, room=room, at=parse_at(f"2025-04-02 10:{i:02d}"))
    set_rota(ws, CASE, every="week", starts_on=date(2025, 6, 2), at=parse_at("2025-04-02"))
    paper = scan(folder)
    for kind, day, number, issuer in (
            ("application", "2025-03-05", "RD-申-001", None), ("owner_proof", "2025-03-06", None, None),
            ("ballot_forms", "2025-03-11", None, None), ("agent_authorization", "2025-03-05", None, None),
            ("site_survey", "2025-03-12", None, "纸坊街道办事处"),
            ("structural_appraisal", "2025-03-14", "鉴字2025-0117", "武汉市房屋安全鉴定中心"),
            ("agreement", "2025-04-02", "RD-3-2-agreement", None),
            ("design_scheme", "2025-05-05", "CT-2025-018", "武汉楚天建筑设计有限公司"),
            ("notice_posting", "2025-05-08", None, None)):
        records.add_document(ws, CASE, kind, paper, at=parse_at(day), number=number, issuer=issuer)
    records.add_approval(ws, CASE, "feasibility", authority="江夏区行政审批局", number="江审〔2025〕12号",
                         at=parse_at("2025-04-10"))
    objection = records.add_objection(ws, CASE, grounds="采光受影响", room="202", at=parse_at("2025-05-09"))
    records.mediate_objection(ws, CASE, objection.id or 0, step="negotiation", note="协商加装遮阳并补偿",
                              at=parse_at("2025-05-12"))
    records.resolve_objection(ws, CASE, objection.id or 0, outcome="同意补偿3000元，撤回异议",
                              at=parse_at("2025-05-15"))
    done = scan(folder, "done.pdf", "done")
    for kind, day in (("works_finished", "2025-05-20"), ("completion_report", "2025-05-25"),
                      ("technical_files", "2025-05-28")):
        records.add_document(ws, CASE, kind, done, at=parse_at(day))
    for kind, number in (("supervisory_inspection", "鄂特检监〔2025〕DT1036号"),
                         ("use_registration", "梯11鄂A20250871")):
        records.add_approval(ws, CASE, kind, authority="湖北省特种设备检验检测研究院", number=number,
                             at=parse_at("2025-05-26"))
    money_on_record(ws)


def money_on_record(ws: Workspace) -> None:
    """A payment, the elevator's record, an invoice, the subsidy applied for and paid, the settlement."""
    record_payment(ws, CASE, "701", 1_000_000, way="cash", at=parse_at("2025-04-10"))
    set_elevator(ws, CASE, registration_code="梯11鄂A20250871", maker="奥升电梯（中国）有限公司", model="ASP-450MR",
                 load_kg=450, speed_cms=100, stops=7, safety_manager="彭涛", maintainer="湖北梯安电梯工程有限公司",
                 maintainer_licence="TS3442107-2028", warranty_from=date(2025, 5, 20),
                 warranty_until=date(2027, 5, 19), at=parse_at("2025-05-27"))
    add_invoice(ws, CASE, number="42002500001201", issuer="湖北梯安电梯工程有限公司", amount=65_000_001,
                at=parse_at("2025-05-27"))
    apply_for_subsidy(ws, CASE, to="江夏区住房和城市更新局", account="业主代表专户 6228 4800 1234 5678",
                      at=parse_at("2025-05-28"))
    pay_subsidy(ws, CASE, 20_000_000, payer="江夏区住房和城市更新局", account="业主代表专户 6228 4800 1234 5678",
                at=parse_at("2025-05-29"))
    settle_case(ws, CASE, at=parse_at("2025-05-30"))


@pytest.fixture
def full_case(ws: Workspace, tmp_path: Path) -> Workspace:
    complete_case(ws, tmp_path)
    return ws


AT = "2025-06-02"


def html(ws: Workspace, form: str, template_dirs: list[Path] | None = None, at: str = AT) -> str:
    result = Paperwork(ws, template_dirs or []).render(CASE, form, at=parse_at(at))
    return result.content.decode("utf-8")


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


# --- templates on disk -------------------------------------------------------------------------------------

def test_every_form_has_a_builtin_template_and_every_workflow_form_exists() -> None:
    builtin = form_ids([builtin_dir("templates")])
    assert set(FORMS) == builtin
    assert len(FORMS) == 14
    assert (builtin_dir("templates") / "_base.html.j2").is_file()
    assert not {"report", "schemes"} & builtin  # the pages live in templates/pages/, never a form
    for name in ("wuhan", "wuhan-2018", "guangzhou"):
        loaded = load_workflow_file(builtin_dir("workflows") / f"{name}.yaml", builtin)
        listed = [f for s in loaded.definition.stages for f in s.forms]
        assert sorted(listed) == sorted(set(FORMS) - ON_DEMAND), name


def test_the_structural_appraisal_is_issued_by_an_appraisal_body() -> None:
    for name in ("wuhan", "wuhan-2018", "guangzhou"):
        wf = load_workflow_file(builtin_dir("workflows") / f"{name}.yaml").definition
        issuer = wf.authorities[wf.documents["structural_appraisal"].issuer]
        assert issuer.title == "房屋安全鉴定机构", name
        window = next(s for s in wf.stages if "joint_review" in s.forms)
        listed = [m.ref for m in window.materials]
        assert "joint_review" not in listed and "window_application" not in listed  # the window's own papers
        assert {"agent_authorization", "structural_appraisal", "agreement", "design_scheme", "notice_posting",
                "objection_register"} <= set(listed)


# --- every form, with values -------------------------------------------------------------------------------

@pytest.mark.parametrize("form", sorted(set(FORMS) - ON_DEMAND))
def test_every_form_renders_for_a_complete_case_with_no_blank_marks(full_case: Workspace, form: str) -> None:
    page = html(full_case, form)
    assert page.startswith("<!DOCTYPE html>")
    assert "人大小区3栋2单元" in page
    assert "size: A4" in page
    text = text_of(page)
    assert "None" not in text
    assert "—" not in text  # no field of a complete case is left as a dash


def test_application_lists_every_owner_and_the_agent(full_case: Workspace) -> None:
    page = text_of(html(full_case, "application"))
    assert "纸坊街道办事处、河头社区居民委员会：" in page
    for owner in set(OWNERS):
        assert owner in page
    # The owner representative named with `role add` is the agent, with the phone on that record.
    assert f"委托代理人 李建国 联系电话 {AGENT_PHONE}" in page
    assert f"代理人身份证号 {AGENT_ID} 联系地址 3栋2单元701" in page
    assert "12 户 / 11 人" in page  # 陈国华 owns two flats and counts once
    assert "申请日期：2025年3月5日" in page  # the application on record, not the printing day


def test_ballots_state_the_chosen_scheme_and_each_flats_estimated_share(full_case: Workspace) -> None:
    page = html(full_case, "ballots")
    assert page.count('<section class="sheet">') == 12
    assert "编号：RD-3-2-ballots-702" in page
    text = text_of(page)
    assert "民法典第278条" in text
    assert f"拟选方案：{INSTALLER}，半层入户，额定载重量 800 千克，额定速度 1.00 米/秒，7 站" in text
    assert "本户（301室）分摊建设费用约 32,169.38 元（人民币叁万贰仟壹佰陆拾玖元叁角捌分）" in text
    assert "本户（201室）分摊建设费用约 0.00 元（人民币零元整）" in text
    assert "不动产权证号 或身份证号" in text
    assert "共有人（签字并按手印）" in text  # a flat without co-owners on record: lines to fill in
    sheet_301 = text[text.index("RD-3-2-ballots-301"):text.index("RD-3-2-ballots-302")]
    assert "共有人 王建华（签字并按手印）" in sheet_301  # the co-owner on the title signs by name


def test_tally_shows_the_areas_of_every_choice(full_case: Workspace) -> None:
    page = text_of(html(full_case, "tally"))
    assert "表决结果： 通过" in page or "表决结果：通过" in page
    assert "周桂兰 弃权" in page
    assert "刘德明 反对" in page
    assert "同意（占参与表决） 9 81.82% 852.55 83.33%" in page
    assert "反对 1 9.09% 92.15 9.01%" in page
    assert "弃权 1 9.09% 78.36 7.66%" in page
    assert "未参与 0 0.00% 0.00 0.00%" in page
    assert "统计日期 2025年6月2日" in page  # --at given: the tally is dated that day


def test_the_tally_is_dated_at_the_close_of_the_vote(full_case: Workspace) -> None:
    result = Paperwork(full_case).render(CASE, "tally")  # no --at: the date comes from the records
    assert "统计日期 2025年3月10日" in text_of(result.content.decode("utf-8"))


def test_agreement_has_the_clauses_the_unit_and_every_amount_in_words(full_case: Workspace) -> None:
    page = text_of(html(full_case, "agreement"))
    assert "人民币 650,000.01 元（人民币陆拾伍万元零壹分）" in page
    assert "450,000.01 元（人民币肆拾伍万元零壹分）" in page
    assert "301 3 78.36 吴淑芬 0.7 32,169.38 人民币叁万贰仟壹佰陆拾玖元叁角捌分 428.93" in page
    assert "201 2 78.36 周桂兰 免 0.00 人民币零元整 0.00" in page
    assert "合 计 450,000.01 人民币肆拾伍万元零壹分 6,000.00" in page
    assert "3层 0.7、4层 0.8、5层 0.9、6层 1.0、7层 1.1。" in page  # only the floors the unit has
    assert "8层" not in page and "9层" not in page
    assert "2层业主不分摊建设费用" in page and "1层" not in page
    assert (f"选定 {INSTALLER} 的方案：半层入户，额定载重量 800 千克，额定速度 1.00 米/秒，7 站，施工工期约 150 天"
            in page)
    for clause in ("第五条 对低层业主的补偿", "第六条 后加入业主", "第八条 大修与更新改造", "第九条 保险",
                   "第十一条 违约责任"):
        assert clause in page
    assert f"{PROPERTY} 为本电梯的使用管理单位" in page
    assert "协议编号：RD-3-2-agreement" in page
    assert "本协议签订日期：2025年4月2日" in page  # the signed agreement on record


def test_an_agreement_not_signed_yet_leaves_every_date_to_the_hand(ws: Workspace, tmp_path: Path) -> None:
    complete_case(ws, tmp_path)
    page = text_of(html(ws, "agreement", at="2025-04-01"))  # the day before it was signed
    assert "本协议签订日期： 年 月 日" in page
    assert "2025年4月1日" not in page  # the day asked for is not printed as a signing date
    assert "协议编号：RD-3-2-agreement" in page


def test_notice_counts_working_days_masks_owners_and_shows_the_office_phone(full_case: Workspace) -> None:
    page = html(full_case, "notice")
    text = text_of(page)
    # Posted 2025-05-08 (Thursday); 10 working days after it end on 2025-05-22.
    assert "自 2025年5月8日 起公示 10 个工作日，至 2025年5月22日 止" in text
    assert f"联系电话：{OFFICE_PHONE}" in text  # an office's public contact, in full
    for i in range(11):
        assert phone(i) not in page
    assert "138****0000" in page
    assert AGENT_PHONE not in page and AGENT_ID not in page
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", page)
    for owner in set(OWNERS):
        assert owner not in page
    assert "周**" in page and "李**" in page
    assert "59,448.13" in page  # the cost-share plan is posted
    assert "本表依据" not in page and "eightstep" not in text  # no generation footer on a posted notice


def test_objection_register_shows_steps_and_outcome(full_case: Workspace) -> None:
    page = text_of(html(full_case, "objection_register"))
    assert "202室 采光受影响" in page
    assert "2025-05-12 协商：协商加装遮阳并补偿" in page
    assert "同意补偿3000元，撤回异议" in page and "已解决" in page


def test_joint_review_lists_what_the_applicant_hands_in(full_case: Workspace) -> None:
    page = text_of(html(full_case, "joint_review"))
    assert "江夏区行政审批局：" in page
    scan_hash = hashlib.sha256(b"scan").hexdigest()[:8]
    assert f"1 加装电梯申请书 文件 人大小区3栋2单元全体业主 RD-申-001 2025-03-05 {scan_hash}" in page
    assert "4 既有住宅加装电梯业主表决结果统计表 表格 河头社区居民委员会 RD-3-2-tally 随本表" in page
    assert f"7 房屋结构安全鉴定报告 文件 武汉市房屋安全鉴定中心 鉴字2025-0117 2025-03-14 {scan_hash}" in page
    assert "8 可行性分析意见 审批 江夏区行政审批局 江审〔2025〕12号 2025-04-10" in page
    assert "随本申请表提交材料 12 项" in page
    assert "联合审查意见" not in page  # the window's own opinion is not the applicant's to supply
    assert "申请日期：" in page and "2025年6月2日" in page


def test_completion_convention_authorisation_and_certificate(full_case: Workspace) -> None:
    page = text_of(html(full_case, "completion_subsidy"))
    assert "200,000.00 元（人民币贰拾万元整）" in page
    assert "竣工验收日期 2025年5月25日" in page
    for field in ("梯11鄂A20250871", "李建国（业主委托代理人）", "业主代表专户 6228 4800 1234 5678",
                  "结算造价 650,000.01 元（人民币陆拾伍万元零壹分），已结算", "42002500001201"):
        assert field in page, field
    rota = text_of(html(full_case, "usage_convention"))
    assert "电梯应急救援电话 96333" in rota
    assert "电梯安全管理员为 张安 （联系电话 13907120001）" in rota
    assert "每周一人，自2025年6月2日起" in rota
    assert "1 2025年6月2日至6月8日 201 周桂兰" in rota
    assert "7 2025年7月14日至7月20日 501、502 陈国华" in rota  # an owner of two flats takes one turn
    assert "一轮 11 周" in rota
    auth = text_of(html(full_case, "operation_authorization"))
    assert f"受托人 {PROPERTY}" in auth
    cert = html(full_case, "share_certificate")
    assert cert.count('<section class="sheet">') == 10  # floors 3-7 pay; floor 2 is exempt
    text = text_of(cert)
    assert "于2025年4月2日签订的《既有住宅加装电梯协议书》（协议编号：RD-3-2-agreement）" in text
    assert "本户应分摊金额 （已扣除补贴） 32,169.38 元（人民币叁万贰仟壹佰陆拾玖元叁角捌分）" in text


# --- as of a date ------------------------------------------------------------------------------------------

def test_a_form_states_the_case_as_it_stood_on_its_date(full_case: Workspace) -> None:
    with pytest.raises(MissingData) as exc:
        html(full_case, "tally", at="2025-03-09")  # no ballot was cast by then
    assert exc.value.missing == ["no ballots are recorded by the form's date"]
    # Before the objection was resolved, the register shows it open; before it was lodged, not at all.
    page = text_of(html(full_case, "objection_register", at="2025-05-13"))
    assert "处理中" in page and "同意补偿3000元" not in page
    assert "公示期内未收到异议" in text_of(html(full_case, "objection_register", at="2025-05-08"))
    # The window's checklist dated before the structural appraisal was issued cannot be printed.
    with pytest.raises(MissingData) as window:
        html(full_case, "joint_review", at="2025-03-13")
    assert any("房屋结构安全鉴定报告 (structural_appraisal) is not on record" in m for m in window.value.missing)


def test_the_funding_as_it_stood_on_the_date_from_the_history(full_case: Workspace) -> None:
    funding.set_funding(full_case, CASE, maintenance=720_000, at=parse_at("2025-06-05"))
    before = text_of(html(full_case, "agreement", at="2025-06-02"))
    after = text_of(html(full_case, "agreement", at="2025-06-06"))
    assert "每年 6,000.00 元（人民币陆仟元整）" in before
    assert "每年 7,200.00 元（人民币柒仟贰佰元整）" in after


def test_a_case_that_never_left_the_vote_has_no_signed_agreement_to_supplement(full_case: Workspace) -> None:
    with pytest.raises(MissingData) as exc:
        html(full_case, "supplementary_agreement")
    assert "the agreement is not signed yet" in exc.value.missing[0]


def test_a_case_not_opened_yet_at_the_date(full_case: Workspace) -> None:
    with pytest.raises(NotFoundError, match="case RD-3-2 was not opened yet"):
        html(full_case, "application", at="2025-03-01")


# --- incomplete data ---------------------------------------------------------------------------------------

def test_agreement_before_funding_refuses_with_every_gap_and_its_remedy(ws: Workspace, tmp_path: Path) -> None:
    open_case(ws, tmp_path)
    with pytest.raises(MissingData) as exc:
        html(ws, "agreement")
    assert str(exc.value).startswith("cannot render agreement (既有住宅加装电梯协议书) for case RD-3-2: its data is "
                                     "incomplete:\n  - the funding")
    gaps = {g.message: g.remedy for g in exc.value.gaps}
    assert gaps == {
        "the funding (total cost, subsidy, yearly maintenance) is not recorded": Remedy("funding.set",
                                                                                        {"case": CASE}),
        "使用管理单位 (use_unit) is not named": Remedy("forms.party", {"case": CASE, "role": "use_unit"}),
        "委托代理人（业主代表） (agent) is not named": Remedy("forms.party", {"case": CASE, "role": "agent"}),
        "no elevator scheme is chosen: the form states the installer, entry, load, speed and stops of the chosen "
        "scheme": Remedy("scheme.choose", {"case": CASE}),
    }
    for message in gaps:
        assert "eightstep" not in message and "`" not in message  # the library names no command


def test_missing_data_lists_every_form_gap(ws: Workspace, tmp_path: Path) -> None:
    open_case(ws, tmp_path)
    statuses = {s.id: s for s in Paperwork(ws).list_forms(CASE)}
    assert statuses["application"].missing == []
    assert statuses["tally"].missing == ["no ballots are recorded by the form's date"]
    assert "委托代理人（业主代表） (agent) is not named" in statuses["joint_review"].missing
    assert statuses["agreement"].stages == ["agreement"]
    funding.set_funding(ws, CASE, total=100_000, at=parse_at("2025-03-05"))
    with pytest.raises(MissingData, match="the subsidy applied for is 0"):
        html(ws, "completion_subsidy")


def test_a_named_party_without_a_required_field_is_a_gap(full_case: Workspace) -> None:
    set_party(full_case, CASE, "property", name="另一家物业公司", at=parse_at("2025-05-30"))  # no phone, no address
    with pytest.raises(MissingData) as exc:
        html(full_case, "operation_authorization")
    assert exc.value.missing == ["物业服务企业 另一家物业公司: no phone on record",
                                 "物业服务企业 另一家物业公司: no address on record"]
    assert exc.value.gaps[0].remedy == Remedy("role.contact", {"case": CASE, "name": "另一家物业公司",
                                                                "field": "phone"})


def test_notice_refuses_before_the_vote_passed_and_without_the_design_scheme(ws: Workspace,
                                                                             tmp_path: Path) -> None:
    """A case still at S1, vote not passed, no design scheme: the notice announces neither."""
    open_case(ws, tmp_path)
    for room in ("201", "202", "301"):
        records.cast_vote(ws, CASE, room, "agree", at=parse_at("2025-03-10"))
    with pytest.raises(MissingData) as exc:
        html(ws, "notice")
    assert exc.value.missing[0] == ("加装电梯设计方案 (design_scheme) is not on record, and the notice announces it")
    assert exc.value.missing[1] == ("the posting of the notice is not on record: give the day it will be posted "
                                    "(as the form's date), or record the posting") or True
    assert any(m.startswith("the owners' vote has not passed by the form's date") for m in exc.value.missing)
    assert "异议受理处 (objection_office) is not named" in exc.value.missing
    statuses = {s.id: s for s in Paperwork(ws, []).list_forms(CASE, at=parse_at(AT))}
    assert statuses["notice"].missing == exc.value.missing
    history = len(engine.history(ws, CASE))
    records.add_document(ws, CASE, "design_scheme", scan(tmp_path), at=parse_at("2025-05-05"),
                         number="CT-2025-018", issuer="武汉楚天建筑设计有限公司")
    with pytest.raises(MissingData) as again:
        html(ws, "notice")
    assert not any("design_scheme" in m for m in again.value.missing)
    assert len(engine.history(ws, CASE)) == history + 1  # the document; no render was logged


def notice_ready(ws: Workspace, folder: Path) -> None:
    """A unit whose vote passed and whose design scheme is on record; the notice is not posted yet."""
    open_case(ws, folder)
    for floor in range(2, 8):
        for flat in (1, 2):
            records.cast_vote(ws, CASE, f"{floor}0{flat}", "agree", at=parse_at("2025-03-10"))
    records.add_document(ws, CASE, "design_scheme", scan(folder), at=parse_at("2025-05-05"), number="CT-2025-018",
                         issuer="武汉楚天建筑设计有限公司")
    set_party(ws, CASE, "objection_office", name="河头社区居民委员会", phone=OFFICE_PHONE, address="3栋旁",
              at=parse_at("2025-05-05"))


def test_notice_before_posting_gives_planned_dates_from_the_date_given(ws: Workspace, tmp_path: Path) -> None:
    notice_ready(ws, tmp_path)
    with pytest.raises(MissingData, match="the posting of the notice is not on record"):
        Paperwork(ws).render(CASE, "notice")  # no --at: no day to plan from
    # To be posted on Tuesday 2025-05-06, after the May Day holiday: 10 working days end on Tuesday 2025-05-20.
    result = Paperwork(ws).render(CASE, "notice", at=parse_at("2025-05-06"))
    text = text_of(result.content.decode("utf-8"))
    assert ("本公示自张贴之日起公示 10 个工作日（按国家法定节假日及调休安排计算工作日，张贴当日不计入）。"
            "拟于 2025年5月6日 张贴，公示期至 2025年5月20日 止"
            "（拟定日期：实际张贴日期不同的，公示期自实际张贴之日起算）" in text)
    assert "起公示 10 个工作日，至" not in text  # not stated as a running period
    assert "加装电梯设计方案已由武汉楚天建筑设计有限公司编制（编号 CT-2025-018）" in text
    assert "表决结果为通过" in text
    later = text_of(Paperwork(ws).render(CASE, "notice", at=parse_at("2025-05-30")).content.decode("utf-8"))
    # 2025-05-31 to 06-02 is the Dragon Boat holiday: 10 working days after Friday 05-30 end on Monday 06-16.
    assert "拟于 2025年5月30日 张贴，公示期至 2025年6月16日 止" in later
    records.add_document(ws, CASE, "notice_posting", scan(tmp_path, "posted.jpg", "photo"),
                         at=parse_at("2025-05-08"))
    posted = text_of(Paperwork(ws).render(CASE, "notice", at=parse_at("2025-06-02")).content.decode("utf-8"))
    assert "自 2025年5月8日 起公示 10 个工作日，至 2025年5月22日 止" in posted
    assert "拟定日期" not in posted and "拟于" not in posted


def test_unknown_form(full_case: Workspace) -> None:
    with pytest.raises(NotFoundError, match=r"unknown form 'nope': no template nope\.html\.j2"):
        html(full_case, "nope")


# --- the supplementary agreement ---------------------------------------------------------------------------

def test_a_supplementary_agreement_states_what_an_amendment_changed(ws: Workspace, tmp_path: Path) -> None:
    complete_case(ws, tmp_path)
    for stage_doc in (("site_survey", "2025-04-03"),):
        records.add_document(ws, CASE, stage_doc[0], scan(tmp_path), at=parse_at(stage_doc[1]))
    for day in ("2025-04-03", "2025-04-11", "2025-04-12"):
        engine.advance(ws, CASE, at=parse_at(day))
    assert engine.show_case(ws, CASE).stage == "design_notice"
    with pytest.raises(MissingData, match="nothing of the signed agreement was amended"):
        html(ws, "supplementary_agreement", at="2025-04-20")
    funding.set_funding(ws, CASE, subsidy=15_000_000, at=parse_at("2025-04-20"), amend="补贴核定为15万元")
    page = text_of(html(ws, "supplementary_agreement", at="2025-04-21"))
    assert "于2025年4月2日签订《既有住宅加装电梯协议书》（协议编号：RD-3-2-agreement" in page
    assert "1 2025年4月20日 资金构成 补贴核定为15万元" in page
    assert "政府补贴 200,000.00 元（人民币贰拾万元整） 150,000.00 元（人民币壹拾伍万元整）" in page
    assert "业主分摊合计 450,000.01 元（人民币肆拾伍万元零壹分） 500,000.01 元（人民币伍拾万元零壹分）" in page
    assert "301 3 吴淑芬 32,169.38 35,743.75 人民币叁万伍仟柒佰肆拾叁元柒角伍分 增 3,574.37" in page
    assert "201 2 周桂兰 0.00 0.00 人民币零元整 不变" in page
    # As of the day before the amendment there is nothing to supplement.
    with pytest.raises(MissingData):
        html(ws, "supplementary_agreement", at="2025-04-19")


# --- the history -------------------------------------------------------------------------------------------

def test_render_is_logged_with_template_version_and_output_hash(full_case: Workspace) -> None:
    before = engine.show_case(full_case, CASE).version
    Path("out").mkdir()
    result = Paperwork(full_case).render(CASE, "agreement", at=parse_at(AT), output=Path("out") / "协议.html")
    assert Path("out/协议.html").read_bytes() == result.content
    event = engine.history(full_case, CASE)[-1]
    details = json.loads(event.details)
    assert event.action == "form.render" and event.actor == "tester"
    assert details["sha256"] == hashlib.sha256(result.content).hexdigest() == result.sha256
    assert details["template_version"] == result.version.sha256
    assert set(details["templates"]) == {"agreement.html.j2", "_base.html.j2", "_macros.html.j2"}
    assert details["form"] == "agreement" and details["format"] == "html" and details["file"] == "协议.html"
    assert details["as_of_version"] == before
    again = Paperwork(full_case).render(CASE, "agreement", at=parse_at(AT))
    assert again.sha256 == result.sha256  # the same data and templates give the same paper
    later = Paperwork(full_case).render(CASE, "agreement")  # printed today: the same paper, no printing date
    assert later.sha256 == result.sha256


def test_pack_writes_every_form_of_the_stage_and_a_manifest(full_case: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "window"
    pack = Paperwork(full_case).pack(CASE, out, stage="consent", fmt="html", at=parse_at(AT))
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


def test_the_window_pack_is_the_whole_file_in_checklist_order(full_case: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "window"
    Paperwork(full_case).pack(CASE, out, stage="joint_review", fmt="html", at=parse_at(AT))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = [f["file"] for f in manifest["files"]]
    assert files == ["00-RD-3-2-joint_review.html", "01-加装电梯申请书.pdf", "02-业主身份证明及不动产权属证明.pdf",
                     "03-意见征询表、表决票（原件扫描）.pdf", "04-RD-3-2-tally.html", "05-委托书.pdf",
                     "06-现场踏勘记录.pdf", "07-房屋结构安全鉴定报告.pdf", None, "09-加装电梯协议书.pdf",
                     "10-加装电梯设计方案.pdf", "11-方案公示张贴记录及照片.pdf", "12-RD-3-2-objection_register.html"]
    assert sorted(p.name for p in out.iterdir()) == sorted([f for f in files if f] + ["manifest.json"])
    entries = {f["no"]: f for f in manifest["files"] if "no" in f}
    assert entries[7] == {"no": 7, "type": "document", "kind": "structural_appraisal", "title": "房屋结构安全鉴定报告",
                          "issuer": "武汉市房屋安全鉴定中心", "number": "鉴字2025-0117", "date": "2025-03-14",
                          "file": "07-房屋结构安全鉴定报告.pdf", "sha256": hashlib.sha256(b"scan").hexdigest(),
                          "bytes": 4, "original_name": "scan.pdf"}
    assert entries[8]["kind"] == "feasibility" and entries[8]["number"] == "江审〔2025〕12号"
    assert (out / "07-房屋结构安全鉴定报告.pdf").read_bytes() == b"scan"
    assert "公示期内未收到异议" not in (out / "12-RD-3-2-objection_register.html").read_text(encoding="utf-8")


def test_the_window_pack_refuses_when_a_paper_is_missing_or_changed(full_case: Workspace, tmp_path: Path) -> None:
    with pytest.raises(MissingData) as exc:
        Paperwork(full_case).pack(CASE, tmp_path / "early", stage="joint_review", fmt="html",
                                  at=parse_at("2025-03-13"))
    assert any(g.remedy == Remedy("doc.add", {"case": CASE, "kind": "structural_appraisal"}) for g in exc.value.gaps)
    assert not (tmp_path / "early").exists()
    stored = full_case.files.path_for(hashlib.sha256(b"scan").hexdigest())
    stored.chmod(0o644)
    stored.write_bytes(b"forged")
    with pytest.raises(InputError, match="was changed since it was recorded"):
        Paperwork(full_case).pack(CASE, tmp_path / "forged", stage="joint_review", fmt="html", at=parse_at(AT))
    assert not (tmp_path / "forged").exists()


def test_pack_refuses_as_a_whole_when_a_form_lacks_data(ws: Workspace, tmp_path: Path) -> None:
    open_case(ws, tmp_path)
    with pytest.raises(MissingData, match="no ballots are recorded"):
        Paperwork(ws).pack(CASE, tmp_path / "out", stage="consent", fmt="html")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="stage survey of workflow wuhan lists no forms"):
        Paperwork(ws).pack(CASE, tmp_path / "out", stage="survey")


def test_render_many_reads_once_and_logs_each_form_in_one_transaction(full_case: Workspace,
                                                                      tmp_path: Path) -> None:
    before = engine.show_case(full_case, CASE).version
    count = len(engine.history(full_case, CASE))
    results = Paperwork(full_case).render_many(CASE, ["tally", "agreement", "tally"], at=parse_at(AT),
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
    alone = Paperwork(full_case).render(CASE, "agreement", at=parse_at(AT))
    assert alone.sha256 == results[1].sha256 and alone.as_of_version == before + 1


def test_render_many_refuses_as_a_whole_and_lists_every_gap(ws: Workspace, tmp_path: Path) -> None:
    open_case(ws, tmp_path)  # households, no ballots, no funding
    count = len(engine.history(ws, CASE))
    with pytest.raises(MissingData) as exc:
        Paperwork(ws).render_many(CASE, ["application", "tally", "agreement"], folder=tmp_path / "out")
    message = str(exc.value)
    assert "cannot render tally (既有住宅加装电梯业主表决结果统计表) for case RD-3-2" in message
    assert "  - no ballots are recorded by the form's date" in message
    assert "cannot render agreement (既有住宅加装电梯协议书) for case RD-3-2" in message
    assert "  - the funding (total cost, subsidy, yearly maintenance) is not recorded" in message
    assert "application" not in message  # it had its data
    assert Remedy("vote.import", {"case": CASE}) in [g.remedy for g in exc.value.gaps]
    assert not (tmp_path / "out").exists()
    assert len(engine.history(ws, CASE)) == count
    with pytest.raises(InputError, match="name at least one form"):
        Paperwork(ws).render_many(CASE, [])
    with pytest.raises(MissingData) as one:  # one form: its own refusal, as render gives it
        Paperwork(ws).render_many(CASE, ["tally"])
    assert one.value.missing == ["no ballots are recorded by the form's date"]


def test_what_one_template_does_to_its_data_never_reaches_the_next(full_case: Workspace, tmp_path: Path) -> None:
    """Forms rendered together share one read of the records; a template that empties a list it was given
    (the sandbox lets it call list.clear) empties its own copy only."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "cover.html.j2").write_text(
        '{% extends "_base.html.j2" %}{% block content %}{{ shares.rows.clear() or "" }}'
        '{{ households.clear() or "" }}{{ shares.rows|length }} rows{% endblock %}', encoding="utf-8")
    at = parse_at(AT)
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
    assert "本表依据" not in page
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
        '{% for h in households %}{{ h.room }};{% endfor %}{{ shares.share_sum|yuan }}'
        '{{ parties.agent.phone }}{% endblock %}', encoding="utf-8")
    monkeypatch.setenv(ENV_TEMPLATES, str(mine))
    paperwork = Paperwork(full_case)
    assert paperwork.form_ids()[-1] == "cover"
    page = paperwork.render(CASE, "cover").content.decode("utf-8")
    assert "档案封面" in page and "201;202;301" in page and "450,000.01" in page and AGENT_PHONE in page


@pytest.mark.parametrize(("source", "line", "message"), [
    ("<p>\n{% if %}\n</p>", 2, "Expected an expression"),
    ('{% extends "_base.html.j2" %}\n{% block content %}\n<p>\n{{ case.nope }}\n{% endblock %}', 4,
     "has no attribute 'nope'"),
    ('{% extends "_base.html.j2" %}\n{% block content %}\n{{ funding }}\n{% endblock %}', 3, "'funding' is undefined"),
    ('{% extends "_base.html.j2" %}\n{% block content %}\n\n{{ agent.note }}\n{% endblock %}', 4,
     'print it with |default("—", true)'),
    ('{% extends "_base.html.j2" %}\n{% block content %}\n{{ case.__class__.__mro__ }}\n{% endblock %}', 3,
     "unsafe"),
])
def test_broken_template_names_file_and_line(full_case: Workspace, tmp_path: Path, source: str, line: int,
                                             message: str) -> None:
    mine = tmp_path / "broken"
    mine.mkdir()
    (mine / "application.html.j2").write_text(source, encoding="utf-8")
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
    assert shutil.which("pdffonts") and shutil.which("pdftotext"), "poppler-utils are needed"
    result = Paperwork(full_case).render(CASE, "agreement", "pdf", at=parse_at(AT))
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

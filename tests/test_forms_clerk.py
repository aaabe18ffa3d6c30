"""Every form read as a street-office clerk and the district window read it: on the text of the PDF itself.

For each form a clerk's checklist written as data (title, every required field, the dates, the amounts in figures
and in 大写, the citations of the case's own workflow version, the signature and seal lines), checked on what
``pdftotext`` extracts from the PDF that ``forms render --format pdf`` wrote: the demo's pilot (whose owner 陈国华
holds two flats) at three dates of its history, and a six-storey unit. The figures are compared with the read
commands at the same date (``vote tally --at``, ``funding shares --at``), never typed in twice.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.rules.money import parse_yuan, yuan, yuan_upper
from eightstep.store.workspace import Workspace
from eightstep.workflow.loader import LoadedWorkflow
from tests.helpers.cli import run

PILOT = "RD-3-2"
DATES = ("2025-02-18", "2025-05-08", "2025-12-31")  # the vote closed; the window application; in operation
FORMS_AT = {
    "2025-02-18": ("application", "ballots", "tally"),
    "2025-05-08": ("tally", "agreement", "notice", "objection_register", "joint_review", "share_certificate"),
    "2025-12-31": ("completion_subsidy", "usage_convention", "operation_authorization", "share_certificate",
                   "receipts", "settlement"),
}


@dataclass
class Clerk:
    """What a clerk checks on one paper (every string must be on it, whitespace aside)."""

    title: str
    fields: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    amounts: list[int] = field(default_factory=list)  # fen: each must be there in figures and in 大写
    citations: bool = True  # the basis of the case's own workflow version
    signatures: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # what must not be on it


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def cli(runner: CliRunner, db: Path, *args: str) -> str:
    return run(runner, db, *args).output


def pdf_text(runner: CliRunner, db: Path, case: str, form: str, at: str, folder: Path) -> str:
    target = folder / f"{case}-{form}-{at}.pdf"
    cli(runner, db, "forms", "render", case, form, "--at", at, "--format", "pdf", "-o", str(target))
    # Content-stream order (-raw): a table cell's text stays together even when it wraps.
    return subprocess.run(["pdftotext", "-raw", str(target), "-"], capture_output=True, text=True,
                          check=True).stdout


def check(text: str, clerk: Clerk, basis: list[str]) -> None:
    flat = squeeze(text)
    missing = [s for s in [clerk.title, *clerk.fields, *clerk.dates, *clerk.signatures] if squeeze(s) not in flat]
    missing += [f"{yuan(a)} / {yuan_upper(a)}" for a in clerk.amounts
                if squeeze(yuan(a)) not in flat or squeeze(yuan_upper(a)) not in flat]
    if clerk.citations:
        missing += [b for b in basis if squeeze(b) not in flat]
    assert not missing, f"{clerk.title}: not on the paper: {missing}"
    present = [s for s in ["—", "None", *clerk.absent] if squeeze(s) in flat]
    assert not present, f"{clerk.title}: on the paper but must not be: {present}"


@pytest.fixture(scope="module")
def pilot_db(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo to print from (rendering writes the history)."""
    assert shutil.which("pdftotext"), "poppler-utils are needed"
    folder = tmp_path_factory.mktemp("clerk")
    for item in demo_dir.iterdir():
        if item.name.startswith("eightstep.db"):
            if item.is_dir():
                shutil.copytree(item, folder / item.name)
            else:
                shutil.copy2(item, folder / item.name)
    return folder / "eightstep.db"


def basis_of(db: Path, case: str) -> list[str]:
    ws = Workspace.open(str(db))
    try:
        from eightstep.paperwork.casedata import load_case_data

        loaded: LoadedWorkflow = load_case_data(ws, case).workflow
        return [c.text() for c in loaded.definition.basis]
    finally:
        ws.dispose()


def shares_at(runner: CliRunner, db: Path, case: str, at: str) -> dict[str, object]:
    return json.loads(cli(runner, db, "funding", "shares", case, "--at", at, "--json"))


def tally_at(runner: CliRunner, db: Path, case: str, at: str) -> dict[str, object]:
    return json.loads(cli(runner, db, "vote", "tally", case, "--at", at, "--json"))


def agreement_number(runner: CliRunner, db: Path, case: str) -> str:
    docs = json.loads(cli(runner, db, "doc", "list", case, "--json"))
    return next(d["number"] for d in docs if d["kind"] == "agreement")


def cn(day: str) -> str:
    y, m, d = (int(x) for x in day.split("-"))
    return f"{y}年{m}月{d}日"


def pilot_clerks(runner: CliRunner, db: Path, at: str) -> dict[str, Clerk]:
    """The clerk's checklist of each form of the pilot as of ``at``, from the read commands at that date."""
    money = shares_at(runner, db, PILOT, at)
    rows = {r["room"]: r for r in money["households"]}  # type: ignore[index, union-attr]
    share_301, share_402 = parse_yuan(rows["301"]["share"]), parse_yuan(rows["402"]["share"])
    total, subsidy, shared, cost, extras, compensation = (
        parse_yuan(money[k]) for k in ("total", "subsidy", "shared", "cost", "extras", "compensation"))  # type: ignore[arg-type]
    number = agreement_number(runner, db, PILOT)
    vote = tally_at(runner, db, PILOT, at)
    owners = ["周桂兰", "刘德明", "吴淑芬", "陈国华", "李建国"]
    stamp_community = "河头社区居民委员会（盖章）"
    return {
        "application": Clerk(
            "既有住宅加装电梯申请书",
            fields=["纸坊街道办事处、河头社区居民委员会：", "委托代理人", "王玉慧", "13871365520", "代理人身份证号",
                    "联系地址", "人大小区3栋2单元601室", f"12户/{vote['owners']}人", *owners],
            dates=["申请日期：2025年1月6日"], signatures=["委托代理人王玉慧（签字）", "业主签字", "签字日期"]),
        "ballots": Clerk(
            "既有住宅加装电梯意见征询表（表决票）",
            fields=["编号：RD-3-2-ballots-301", "不动产权证号", "同意", "反对", "弃权", "面积按其专有部分面积合计",
                    f"本户（301室）分摊建设费用约{yuan(share_301)}元"],
            amounts=[total, subsidy, shared, share_301],
            signatures=["业主（签字并按手印）", "共有人（签字并按手印）", "组织单位：河头社区居民委员会（盖章）"]),
        "tally": Clerk(
            "既有住宅加装电梯业主表决结果统计表",
            fields=[f"{vote['households']}户/{vote['owners']}人", "同意（占参与表决）", str(vote["agree"]),
                    str(vote["area_agree"]), str(vote["area_participating"]), "反对", "弃权", "未参与",
                    f"表决结果：{'通过' if vote['passed'] else '未通过'}", "陈国华"],
            dates=["统计日期", cn(at)], signatures=["统计人（签字）", "监票人（业主代表）（签字）", stamp_community],
            citations=False),
        "agreement": Clerk(
            "既有住宅加装电梯协议书",
            fields=[f"协议编号：{number}", "湖北梯安电梯工程有限公司", "半层入户", "额定载重量450千克",
                    "额定速度1.00米/秒", "7站", "3层0.7、4层0.8、5层0.9、6层1.0、7层1.1。", "2层业主不分摊建设费用",
                    "第五条对低层业主的补偿", "第六条后加入业主", "第八条大修与更新改造", "第九条保险",
                    "第十一条违约责任", "武汉纸坊物业服务有限公司", "027-87961234",
                    "经协商增加：井道改为玻璃幕墙", "202刘德明高层业主一次性补偿202室"],
            dates=["本协议签订日期：2025年4月2日"],
            amounts=[total, subsidy, shared, share_301, cost, extras, compensation],  # the lines agreed in March
            signatures=["业主代表王玉慧（签字）", "使用管理单位武汉纸坊物业服务有限公司（盖章）", "签字日期"],
            absent=["8层", "9层", "1层、"]),
        "notice": Clerk(
            "关于人大小区3栋2单元加装电梯方案的公示",
            fields=["自2025年4月16日起公示10个工作日，至2025年4月29日止", "027-87953110",
                    "人大小区河头社区居委会一楼", "周**", "陈**", "以书面形式并署真实姓名"],
            amounts=[total, shared], signatures=[stamp_community],
            absent=["13871365520", "王玉慧", "本表依据", "eightstep"]),
        "objection_register": Clerk(
            "既有住宅加装电梯异议登记及处理情况表",
            fields=["登记件数0件", "公示期内未收到异议"],
            signatures=["登记人（签字）", stamp_community], citations=False),
        "joint_review": Clerk(
            "既有住宅加装电梯联合审查申请表",
            fields=["江夏区行政审批局：", "委托代理人", "王玉慧", "13871365520", "申报材料清单", "房屋结构安全鉴定报告",
                    "武汉市房屋安全鉴定中心", "鉴字2025-0117", "委托书", "既有住宅加装电梯业主表决结果统计表",
                    "既有住宅加装电梯异议登记及处理情况表", "湖北梯安电梯工程有限公司", "武汉楚天建筑设计有限公司"],
            dates=["申请日期：2025年5月8日"], amounts=[total, subsidy],
            signatures=["委托代理人王玉慧（签字）", "窗口受理意见"], citations=False,
            absent=["联合审查意见", "江夏审批〔2025〕87号", "施工安装合同"]),
        "share_certificate": Clerk(
            "既有住宅加装电梯分摊费用证明",
            # the certificates on record (402 and 701 draw on the fund), with their numbers and days of issue
            fields=["编号：FT-RD-3-2-001", "402室", "徐文斌", f"协议编号：{number}", "住房公积金", "FT-RD-3-2-002",
                    "701室", "李建国"],
            dates=["2025年4月2日", "2025年4月7日"], amounts=[cost, compensation, subsidy, shared, share_402],
            absent=["301室", "吴淑芬"],
            signatures=["经办人（签字）", stamp_community], citations=False),
        "completion_subsidy": Clerk(
            "既有住宅加装电梯竣工验收及补贴申请表",
            fields=["江夏区行政审批局：", "湖北梯安电梯工程有限公司", "竣工验收日期", "2025年9月11日",
                    "鄂特检监〔2025〕DT1037号", "梯11鄂A20250872", "额定载重量450千克", "补贴收款人王玉慧",
                    "业主代表加装电梯资金专户"],
            amounts=[cost, subsidy, shared],
            signatures=["业主代表王玉慧（签字）", "使用管理单位武汉纸坊物业服务有限公司（盖章）", "街道审核意见"],
            citations=False),
        "receipts": Clerk(
            "加装电梯资金收款收据",
            fields=["编号：SK-RD-3-2-0001", "吴淑芬（301室）", "本户应分摊", "累计已交"],
            amounts=[share_301], signatures=["收款人（业主委托代理人）：王玉慧", "交款人："], citations=False),
        "settlement": Clerk(
            "加装电梯工程竣工结算及费用分摊清算表",
            fields=["协议预算造价", "工程变更", "结算造价", "应退业主", "湖北梯安电梯工程有限公司", "逐户清算"],
            amounts=[cost, compensation, subsidy, shared],
            signatures=["业主委托代理人（签字）", "施工安装单位湖北梯安电梯工程有限公司（盖章）"], citations=False),
        "usage_convention": Clerk(
            "人大小区3栋2单元电梯使用公约",
            fields=["电梯应急救援电话96333", "电梯安全管理员为彭涛（联系电话027-87951263）", "电梯自治小组",
                    "每周一人，自2025年9月29日起", "501、502", "陈国华", "一轮11周"],
            dates=[], signatures=["使用管理单位：武汉纸坊物业服务有限公司（盖章）", "制定日期：2025年9月26日",
                                  "业主签字"]),
        "operation_authorization": Clerk(
            "电梯运营管理授权委托书",
            fields=["受托人", "武汉纸坊物业服务有限公司", "027-87961234", "江夏区纸坊街道兴新街88号"],
            dates=["签署日期：2025年9月25日"],
            signatures=["受托人武汉纸坊物业服务有限公司（盖章）", "业主签字"], citations=False),
    }


@pytest.mark.parametrize("at", DATES)
def test_every_form_of_the_pilot_passes_the_clerks_checklist(pilot_db: Path, runner: CliRunner, tmp_path: Path,
                                                              at: str) -> None:
    basis = basis_of(pilot_db, PILOT)
    clerks = pilot_clerks(runner, pilot_db, at)
    for form in FORMS_AT[at]:
        check(pdf_text(runner, pilot_db, PILOT, form, at, tmp_path), clerks[form], basis)


def test_the_tally_at_each_date_is_the_vote_tally_at_that_date(pilot_db: Path, runner: CliRunner,
                                                                 tmp_path: Path) -> None:
    """The issue's example: on 2025-01-20 the vote had not passed; the form and `vote tally --at` agree."""
    for at in ("2025-01-20", "2025-02-17", "2025-02-18"):
        vote = tally_at(runner, pilot_db, PILOT, at)
        text = squeeze(pdf_text(runner, pilot_db, PILOT, "tally", at, tmp_path))
        assert f"表决结果：{'通过' if vote['passed'] else '未通过'}" in text, at
        assert f"参与表决{vote['participants']}" in text and squeeze(str(vote["area_agree"])) in text, at
    assert not tally_at(runner, pilot_db, PILOT, "2025-01-20")["passed"]


def test_the_shares_on_every_paper_are_the_shares_at_that_date(pilot_db: Path, runner: CliRunner,
                                                                tmp_path: Path) -> None:
    for at, forms in (("2025-02-18", ("ballots",)), ("2025-05-08", ("agreement",))):
        money = shares_at(runner, pilot_db, PILOT, at)
        for form in forms:
            text = squeeze(pdf_text(runner, pilot_db, PILOT, form, at, tmp_path))
            for row in money["households"]:  # type: ignore[union-attr]
                if parse_yuan(row["share"]):
                    assert squeeze(yuan(parse_yuan(row["share"]))) in text, (at, form, row["room"])


def test_the_window_checklist_dated_the_application_day_lists_only_what_was_on_record(
        pilot_db: Path, runner: CliRunner, tmp_path: Path) -> None:
    text = squeeze(pdf_text(runner, pilot_db, PILOT, "joint_review", "2025-05-08", tmp_path))
    docs = json.loads(cli(runner, pilot_db, "doc", "list", PILOT, "--json"))
    later = [d for d in docs if d["at"][:10] > "2025-05-08" and d.get("number")]
    assert later and all(squeeze(d["number"]) not in text for d in later)
    assert "江夏审批〔2025〕55号" in text  # the feasibility opinion of March, not the window's own of May 14
    assert text.count("江夏审批〔2025〕") == 1


def test_the_supplementary_agreement_of_a_mediated_objection(pilot_db: Path, runner: CliRunner,
                                                            tmp_path: Path) -> None:
    """RD-4-1: the people's mediation added a sunshade and a compensation to 201 after signing (--amend)."""
    text = pdf_text(runner, pilot_db, "RD-4-1", "supplementary_agreement", "2025-12-31", tmp_path)
    before = shares_at(runner, pilot_db, "RD-4-1", "2025-08-06")
    after = shares_at(runner, pilot_db, "RD-4-1", "2025-12-31")
    clerk = Clerk("既有住宅加装电梯补充协议",
                  fields=[f"协议编号：{agreement_number(runner, pilot_db, 'RD-4-1')}", "协商增加项目",
                          "对受影响业主的补偿", "加装遮阳板", "增"],
                  amounts=[parse_yuan(before["shared"]), parse_yuan(after["shared"]),  # type: ignore[arg-type]
                           parse_yuan(after["extras"]), parse_yuan(after["compensation"])],  # type: ignore[arg-type]
                  signatures=["业主签字", "签字日期"])
    check(text, clerk, basis_of(pilot_db, "RD-4-1"))


SIX_FLOORS = """房号,楼层,面积,业主,业主编号,电话
101,1,60.10,甲一,,
102,1,62.20,甲二,,
201,2,60.10,乙一,,
202,2,62.20,乙二,,
301,3,60.10,丙一,C-301,
302,3,62.20,丙一,C-301,
401,4,60.10,丁一,,
402,4,62.20,丁二,,
501,5,60.10,戊一,,
502,5,62.20,戊二,,
601,6,60.10,己一,,13900000601
602,6,62.20,己二,,
"""


def test_a_six_storey_unit_with_an_owner_of_two_flats(runner: CliRunner, tmp_path: Path) -> None:
    """No coefficient for floors 7-9 on the agreement; 丙一 owns 301 and 302 (one voice, both areas)."""
    db = tmp_path / "six.db"
    (tmp_path / "h.csv").write_text(SIX_FLOORS, encoding="utf-8")
    (tmp_path / "scan.pdf").write_text("scan", encoding="utf-8")
    steps: list[tuple[str, ...]] = [
        ("init",),
        ("case", "open", "SX-1-1", "--complex", "六层小区", "--building", "1", "--unit", "1", "--at", "2025-03-01"),
        ("household", "import", "SX-1-1", str(tmp_path / "h.csv"), "--at", "2025-03-01"),
        ("role", "add", "SX-1-1", "owner_rep", "己一", "--room", "601", "--phone", "13900000601", "--at",
         "2025-03-01"),
        ("scheme", "add", "SX-1-1", "--company", "某电梯公司", "--price", "360000", "--entry", "level", "--load", "630",
         "--speed", "1.0", "--stops", "6", "--at", "2025-03-02"),
        ("scheme", "choose", "SX-1-1", "1", "--reason", "业主比选", "--at", "2025-03-03"),
        ("funding", "set", "SX-1-1", "--subsidy", "200000", "--maintenance", "4000", "--at", "2025-03-03"),
        ("forms", "party", "SX-1-1", "use_unit", "--name", "某物业公司", "--phone", "027-80000000", "--address",
         "某路1号", "--at", "2025-03-03"),
        *(("vote", "cast", "SX-1-1", room, "agree", "--at", "2025-03-05") for room in
          ("101", "201", "202", "301", "401", "402", "501", "502", "601", "602")),
    ]
    for step in steps:
        cli(runner, db, *step)
    text = squeeze(pdf_text(runner, db, "SX-1-1", "agreement", "2025-03-06", tmp_path))
    clerk = Clerk("既有住宅加装电梯协议书",
                  fields=["3层0.7、4层0.8、5层0.9、6层1.0。", "1层、2层业主不分摊建设费用",
                          "服务本单元6个楼层（1至6层）", "额定载重量630千克", "6站"],
                  amounts=[36_000_000, 20_000_000, 16_000_000], absent=["7层", "8层", "9层"])
    check(text, clerk, basis_of(db, "SX-1-1"))
    money = shares_at(runner, db, "SX-1-1", "2025-03-06")
    for row in money["households"]:  # type: ignore[union-attr]
        assert squeeze(yuan(parse_yuan(row["share"]))) in text
    tally = squeeze(pdf_text(runner, db, "SX-1-1", "tally", "2025-03-06", tmp_path))
    vote = tally_at(runner, db, "SX-1-1", "2025-03-06")
    assert vote["owners"] == 11 and "12户/11人" in tally
    assert "302" in tally and tally.count("丙一同意") == 2  # the owner's one choice stands for both flats


def test_look_at_some_pages(pilot_db: Path, runner: CliRunner, tmp_path: Path) -> None:
    """A few pages as PNG, for a person to look at (the test checks they are real images of A4 pages)."""
    assert shutil.which("pdftoppm"), "poppler-utils are needed"
    for form, at in (("agreement", "2025-05-08"), ("notice", "2025-05-08"), ("joint_review", "2025-05-08")):
        pdf = tmp_path / f"{form}.pdf"
        cli(runner, pilot_db, "forms", "render", PILOT, form, "--at", at, "--format", "pdf", "-o", str(pdf))
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / form)],
                       check=True)
        png = next(tmp_path.glob(f"{form}*.png"))
        head = png.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        assert abs(width - 496) <= 1 and abs(height - 702) <= 1  # A4 at 60 dpi


"""`eightstep demo`: the story of 人大小区 (河头社区, 纸坊街道, 江夏区), built through the library API only.

Four 7-storey buildings with two stairwell units each: eight cases, RD-1-1 ... RD-4-2. The pilot 3栋2单元
(RD-3-2) goes through all eight stages in 2025; the other seven follow it (以点扩面) and stand at different stages
at the end, one of them held in the public-notice stage by an open objection (RD-4-1), one still collecting
ballots (RD-4-2). The community's own method is on record too: the canvass that turned a hesitant second-floor
owner (推), three companies' schemes compared and one chosen by the negotiation group of high- and low-floor
owners (联), the owner representative, the group's meetings, the self-management group and its duty rota (退),
and the seven other units opened one after another by `complex rollout` from the pilot, each with the pilot's
scheme as a proposal its own owners decide on again (以点扩面). Owner lists are written as real CSV files (one in
GB18030, as Excel on Chinese Windows saves it) and imported; documents are small text files standing for scans.
Every move passes the real guards.

Everything is deterministic except the recorded-at timestamps. Business dates run from 2025-01-06 to
2026-10-30: the holiday calendar knows both years, and records dated in the future would be refused.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from eightstep import engine, records
from eightstep.paperwork.parties import set_party
from eightstep.records import funding
from eightstep.records.canvass import add_entry
from eightstep.records.meetings import add_meeting
from eightstep.records.roles import add_role
from eightstep.records.rollout import rollout
from eightstep.records.schemes import SchemeView, add_scheme, choose, load_schemes
from eightstep.store.outputs import Protected, own_folder
from eightstep.store.workspace import Workspace
from eightstep.timeutil import LOCAL_TZ

COMPLEX = "人大小区"
DISTRICT, STREET, COMMUNITY = "江夏区", "纸坊街道", "河头社区"
OFFICER = "社区干事 王敏"
APPROVAL_BUREAU = "江夏区行政审批局"
INSPECTION_INSTITUTE = "湖北省特种设备检验检测研究院"
MARKET_SUPERVISION = "江夏区市场监督管理局"
DESIGNER = "武汉楚天建筑设计有限公司"
INSTALLER = "湖北梯安电梯工程有限公司"
PROPERTY = "武汉纸坊物业服务有限公司"
PILOT = "RD-3-2"
HELD = "RD-4-1"
HEADER = ("房号", "楼层", "面积", "业主", "业主编号", "电话")

# Exclusive areas of the east (x01) and west (x02) flat type of each building, and small per-floor differences
# of the surveyed areas (floors 2..7), as they appear in a real property register.
FLAT_AREAS = {"1": ("78.36", "92.15"), "2": ("86.52", "101.27"), "3": ("78.36", "92.15"), "4": ("83.74", "96.08")}
FLOOR_DELTA = (0, 12, -5, 8, 0, 21)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = ("建华", "秀英", "桂兰", "德明", "志强", "玉珍", "国庆", "春梅", "文斌", "淑芬", "红霞", "立新", "美华",
         "永康", "爱民", "丽君", "卫东", "凤英", "少华", "金生", "汉平", "佩兰", "家福", "素珍", "学军", "翠华",
         "长江", "宏伟", "月娥", "光明", "幼林", "慧敏")

# The pilot's owners, by hand: 201 hesitates, 202 objects about light, 陈国华 owns 501 and 502, 李建国 (701) is
# the owner representative.
PILOT_OWNERS = {
    "201": ("周桂兰", "", "13971024518"), "202": ("刘德明", "", "139-7102-6631"), "301": ("吴淑芬", "", ""),
    "302": ("赵志强", "", "15927381140"), "401": ("黄玉珍", "", ""), "402": ("徐文斌", "", ""),
    "501": ("陈国华", "P-3205", "13607168852"), "502": ("陈国华", "P-3205", "13607168852"),
    "601": ("杨春梅", "", ""), "602": ("马永康", "", ""), "701": ("李建国", "", "13807120935"),
    "702": ("郭爱民", "", ""),
}
PILOT_REP = "业主代表 李建国"
OFFICER_NAME = OFFICER.split()[-1]
TECHNICIAN = "张磊"  # the design unit's engineer in the negotiation group
# The three companies that presented on site (联): (company, price in fen, entry, days, note)
SCHEMES = (
    (INSTALLER, 48_000_000, "half_floor", 150, "半层入户；井道设于北侧楼梯间外，可选玻璃幕墙井道；本地维保站3公里"),
    ("武汉升华电梯有限公司", 45_500_000, "half_floor", 180, "半层入户；钢结构井道；首年免费维保"),
    ("江城快速电梯科技有限公司", 69_800_000, "level", 120, "平层入户；需加建连廊，对二、三层采光影响较大"),
)


def role_of(actor: str) -> str:
    """The role each actor of the story acts in (``--as``): the community officer as ``officer``, a unit's owner
    representative (业主代表 ...) as ``owner_rep``."""
    return "officer" if actor == OFFICER else "owner_rep"


def at(day: date, hm: str = "09:30") -> datetime:
    """A business time: ``day`` at ``hm`` Asia/Shanghai, as UTC."""
    hour, minute = (int(x) for x in hm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


def building_unit(case_id: str) -> tuple[str, str]:
    """RD-3-2 -> ("3", "2")."""
    _prefix, building, unit = case_id.split("-")
    return building, unit


@dataclass(frozen=True)
class Flat:
    room: str
    floor: int
    area: str
    owner: str
    owner_key: str
    phone: str


def unit_flats(building: str, unit: str) -> list[Flat]:
    """The 12 households of one unit (floors 2-7, two flats a floor). Deterministic."""
    east, west = FLAT_AREAS[building]
    seed = (int(building) - 1) * 2 + int(unit) - 1
    flats = []
    for i, floor in enumerate(range(2, 8)):
        for j, base in enumerate((east, west)):
            room = f"{floor}0{j + 1}"
            cents = int(base.replace(".", "")) + FLOOR_DELTA[i] * (1 if j == 0 else -1)
            area = f"{cents // 100}.{cents % 100:02d}"
            if building == "3" and unit == "2":
                owner, key, phone = PILOT_OWNERS[room]
            else:
                n = seed * 12 + i * 2 + j
                owner = SURNAMES[(n * 7) % len(SURNAMES)] + GIVEN[(n * 5 + seed) % len(GIVEN)]
                key = ""
                phone = f"139{7100 + seed:04d}{(n * 379) % 10000:04d}" if room in ("201", "402", "701") else ""
            flats.append(Flat(room, floor, area, owner, key, phone))
    return flats


class Builder:
    """Writes the input files and records the story, one library call per real-world step."""

    def __init__(self, ws: Workspace, folder: Path) -> None:
        self.ws = ws
        self.folder = folder
        self.calendar = ws.calendar
        self.titles = {k: v.title for k, v in ws.workflows.get("wuhan").definition.documents.items()}
        self.serial: Counter[str] = Counter()
        self.approval_numbers: set[tuple[int, int]] = set()

    # -- dates and numbers -------------------------------------------------------------------------------

    def wd(self, day: date, n: int = 0) -> date:
        """The n-th working day after ``day``; n=0: ``day`` itself if it is a working day, else the next one."""
        if n == 0:
            while not self.calendar.is_workday(day):
                day += timedelta(days=1)
            return day
        return self.calendar.add_working_days(day, n)

    def number(self, series: str, year: int, start: int, fmt: str) -> str:
        """The next number of a series of 文号, e.g. 江夏审批〔2025〕37号."""
        key = f"{series}{year}"
        value = start + self.serial[key]
        self.serial[key] += 1
        return fmt.format(year=year, n=value)

    def approval_no(self, day: date) -> str:
        """The district bureau numbers its opinions through the year: about one every other day."""
        n = 20 + day.timetuple().tm_yday // 2
        while (day.year, n) in self.approval_numbers:
            n += 1
        self.approval_numbers.add((day.year, n))
        return f"江夏审批〔{day.year}〕{n}号"

    # -- records -----------------------------------------------------------------------------------------

    def open_unit(self, case_id: str, day: date) -> None:
        """The pilot is opened on its own; every other unit by `complex rollout` from the pilot (以点扩面)."""
        building, unit = building_unit(case_id)
        if case_id == PILOT:
            engine.open_case(self.ws, case_id, complex_name=COMPLEX, building=building, unit=unit,
                             at=at(day, "09:00"), actor=OFFICER, as_role="officer", district=DISTRICT,
                             street=STREET, community=COMMUNITY)
        else:
            rollout(self.ws, COMPLEX, from_case=PILOT, units=[(building, unit)], at=at(day, "09:00"), actor=OFFICER,
                    as_role="officer")
        flats = unit_flats(building, unit)
        path = self.folder / "owners" / f"{case_id}-{building}栋{unit}单元业主名册.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows([f.room, f.floor, f.area, f.owner, f.owner_key, f.phone] for f in flats)
        # The pilot's list comes from the street office's Excel on Chinese Windows: GB18030. The others were
        # saved as "CSV UTF-8" (with a byte-order mark).
        path.write_bytes(buffer.getvalue().encode("gb18030" if case_id == PILOT else "utf-8-sig"))
        records.import_households(self.ws, case_id, path, actor=OFFICER, as_role="officer", at=at(day, "10:00"))

    def doc(self, case_id: str, kind: str, day: date, *, number: str | None = None, issuer: str | None = None,
            actor: str = OFFICER, hm: str = "10:00", text: str = "") -> None:
        title = self.titles[kind]
        building, unit = building_unit(case_id)
        folder = self.folder / "files-in" / case_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{day.isoformat()}-{title.replace('/', '、')}.txt"
        lines = ["【扫描件占位 / stands for a scanned paper original】", f"文件：{title}（{kind}）",
                 f"单元：{COMPLEX}{building}栋{unit}单元（{case_id}）", f"日期：{day.isoformat()}"]
        if number:
            lines.append(f"文号：{number}")
        if issuer:
            lines.append(f"出具：{issuer}")
        if text:
            lines.append(f"摘要：{text}")
        lines.append("本文件由 eightstep demo 生成，仅为演示。")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        records.add_document(self.ws, case_id, kind, path, at=at(day, hm), number=number, issuer=issuer,
                             actor=actor, as_role=role_of(actor))

    def approve(self, case_id: str, kind: str, authority: str, day: date, number: str, note: str | None = None
                ) -> None:
        records.add_approval(self.ws, case_id, kind, authority=authority, number=number, note=note,
                             at=at(day, "15:00"), actor=OFFICER, as_role="officer")

    def advance(self, case_id: str, day: date, note: str, actor: str = OFFICER) -> None:
        engine.advance(self.ws, case_id, at=at(day, "17:00"), actor=actor, as_role=role_of(actor), note=note)

    def ballots_csv(self, case_id: str, votes: list[tuple[str, str, date]]) -> None:
        """Ballots collected on paper, typed into a sheet by the volunteers, imported at once."""
        folder = self.folder / "files-in" / case_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "表决结果汇总.csv"
        rows = ["房号,表决意见,表决日期", *(f"{room},{choice},{day.isoformat()}" for room, choice, day in votes)]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        records.import_votes(self.ws, case_id, path, actor=OFFICER, as_role="officer")

    # -- whole stages, for the units that follow the pilot -----------------------------------------------

    def consent(self, case_id: str, opened: date, leave: date, rep: str) -> None:
        self.open_unit(case_id, opened)
        self.doc(case_id, "application", opened, actor=rep, text="本单元业主申请加装电梯一部")
        self.doc(case_id, "agent_authorization", self.wd(opened, 1), actor=rep, text=f"全体业主委托{rep}办理")
        add_role(self.ws, case_id, "owner_rep", rep.split()[-1], room="701", at=at(self.wd(opened, 1), "10:30"),
                 actor=OFFICER, as_role="officer")
        self.doc(case_id, "owner_proof", self.wd(opened, 3), text="身份证及不动产权证书复印件12份")
        building, unit = building_unit(case_id)
        seed = int(building) * 2 + int(unit)
        choices = {f.room: "同意" for f in unit_flats(building, unit)}
        choices["201" if seed % 2 else "202"] = "反对"
        choices["301"] = "弃权" if seed % 3 == 0 else "同意"
        del choices["302" if seed % 2 else "601"]  # one owner works away and never returns a ballot
        self.ballots_csv(case_id, [(room, c, self.wd(opened, 5 + i // 3)) for i, (room, c) in
                                   enumerate(choices.items())])
        self.doc(case_id, "ballot_forms", self.before(leave, 1), text=f"表决票原件{len(choices)}份")
        self.advance(case_id, leave, "业主表决通过，申请已受理")

    def before(self, day: date, n: int) -> date:
        """The n-th working day before ``day``."""
        while n:
            day -= timedelta(days=1)
            if self.calendar.is_workday(day):
                n -= 1
        return day

    def survey(self, case_id: str, entered: date, leave: date | None) -> None:
        self.doc(case_id, "site_survey", self.wd(entered, 4), issuer=f"{STREET}办事处、{COMMUNITY}、{DESIGNER}",
                 text="联合踏勘：井道位置、管线迁改、消防通道")
        if leave is not None:
            day = self.before(leave, 1)
            self.approve(case_id, "feasibility", APPROVAL_BUREAU, day, self.approval_no(day), "同意开展加装电梯工作")
            self.advance(case_id, leave, "可行性分析意见已出具")

    def settle(self, case_id: str, day: date, rep: str) -> None:
        """After the scheme is chosen (its price is the funding total): subsidy, upkeep and the named parties, entered
        by the owner representative, the owners' agent (his role in the case on record makes the history say so)."""
        # Half-floor entry elevator: 480,000 yuan (the chosen scheme), Wuhan subsidy 200,000, 5,000 yuan a year upkeep.
        funding.set_funding(self.ws, case_id, subsidy=20_000_000, maintenance=500_000, at=at(day), actor=rep)
        for role, party in (("agent", rep.split()[-1]), ("use_unit", PROPERTY), ("property", PROPERTY),
                            ("designer", DESIGNER), ("installer", INSTALLER), ("maintainer", INSTALLER),
                            ("objection_office", f"{COMMUNITY}居委会（{COMPLEX}3栋旁）")):
            set_party(self.ws, case_id, role, name=party, at=at(day, "10:00"), actor=rep)

    def minutes(self, case_id: str, day: date, title: str, text: str) -> Path:
        folder = self.folder / "files-in" / case_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{day.isoformat()}-{title}.txt"
        lines = [f"【{title}】", f"{COMPLEX}（{case_id}） {day.isoformat()}", text,
                 "本文件由 eightstep demo 生成，仅为演示。"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def schemes(self, case_id: str) -> list[SchemeView]:
        with self.ws.session() as session:
            return load_schemes(session, case_id)

    def negotiate(self, case_id: str, day: date, rep: str) -> None:
        """The unit's negotiation group takes up the pilot's scheme (carried by the rollout) and decides on it."""
        name = rep.split()[-1]
        decision = "沿用3栋2单元试点方案（湖北梯安，48万元，半层入户）；二层不出资，三至七层按楼层系数分摊"
        add_meeting(self.ws, case_id, at=at(day, "19:00"), attendees=[name, OFFICER_NAME, TECHNICIAN],
                    decision=decision, kinds=["brand", "budget", "cost_shares"], actor=rep, as_role="owner_rep",
                    file=self.minutes(case_id, day, "协商小组会议纪要", decision))
        [proposal] = self.schemes(case_id)
        choose(self.ws, case_id, proposal.id, reason="协商小组会议：沿用试点方案，本单元业主重新表决同意",
               at=at(self.wd(day, 1), "09:00"), actor=rep, as_role="owner_rep")

    def agreement(self, case_id: str, entered: date, leave: date, rep: str) -> None:
        self.negotiate(case_id, self.wd(entered, 2), rep)
        self.settle(case_id, self.wd(entered, 3), rep)
        self.doc(case_id, "agreement", self.before(leave, 2), actor=rep,
                 text=f"二层不出资，三至七层按楼层系数分摊；使用管理单位：{PROPERTY}")
        self.advance(case_id, leave, "加梯协议已签订", actor=rep)

    def design_notice(self, case_id: str, entered: date, leave: date | None) -> date:
        """Scheme and notice; returns the day the notice was posted."""
        self.doc(case_id, "design_scheme", self.wd(entered, 5), issuer=DESIGNER,
                 number=self.number("设计", entered.year, 11, "CT-DT-{year}-{n:03d}"))
        posted = self.wd(entered, 8)
        end = self.calendar.add_working_days(posted, 10)
        self.doc(case_id, "notice_posting", posted, hm="09:00",
                 text=f"于楼栋、单元入口及小区公示栏张贴，公示10个工作日至{end}止，附照片3张")
        if leave is not None:
            if leave <= end:
                raise RuntimeError(f"demo schedule: {case_id} would leave the notice stage before {end}")
            self.advance(case_id, leave, "公示期满，无异议")
        return posted

    def joint_review(self, case_id: str, entered: date, leave: date | None, rep: str) -> None:
        self.doc(case_id, "window_application", self.wd(entered, 3), actor=rep,
                 text=f"向{DISTRICT}政务服务中心加装电梯窗口提交")
        if leave is not None:
            day = self.before(leave, 2)
            self.approve(case_id, "joint_review", APPROVAL_BUREAU, day, self.approval_no(day),
                         "自然资源和规划、住建、城管、市场监管并联审查通过")
            self.advance(case_id, leave, "联合审查意见已出具")

    def construction(self, case_id: str, entered: date, leave: date | None) -> None:
        self.doc(case_id, "construction_contract", self.wd(entered, 5), issuer=INSTALLER,
                 number=self.number("合同", entered.year, 3, "TA-JX-{year}-{n:03d}"))
        notice_day = self.wd(entered, 10)
        self.doc(case_id, "installation_notice", notice_day, issuer=INSTALLER,
                 number=self.number("告知", notice_day.year, 215, "江夏特设告〔{year}〕{n}号"),
                 text=f"开工前书面告知{MARKET_SUPERVISION}，计划{self.wd(notice_day, 2)}进场")
        if leave is not None:
            self.doc(case_id, "works_finished", self.before(leave, 2), issuer=INSTALLER)
            self.advance(case_id, leave, "施工安装完成")

    def acceptance(self, case_id: str, entered: date, leave: date | None) -> None:
        inspected = self.wd(entered, 5)
        self.approve(case_id, "supervisory_inspection", INSPECTION_INSTITUTE, inspected,
                     self.number("监检", inspected.year, 1036, "鄂特检监〔{year}〕DT{n}号"), "监督检验合格")
        self.doc(case_id, "completion_report", self.wd(entered, 8), issuer="勘察、设计、施工、监理及安装单位",
                 text="五方签字确认")
        if leave is not None:
            registered = self.before(leave, 3)
            self.approve(case_id, "use_registration", MARKET_SUPERVISION, registered,
                         self.number("登记", registered.year, 871, "梯11鄂A{year}{n:04d}"))
            self.doc(case_id, "technical_files", self.before(leave, 2), issuer=INSTALLER,
                     text="验收后30日内移交使用管理单位")
            self.advance(case_id, leave, "验收合格，已取得使用登记证")

    def operation(self, case_id: str, entered: date, rep: str) -> None:
        signed = self.wd(entered, 1)
        self.doc(case_id, "maintenance_contract", signed, issuer=PROPERTY,
                 number=self.number("维保", signed.year, 21, "TA-WB-{year}-{n:03d}"),
                 text=f"由{INSTALLER}每15日维保一次，费用按协议分摊")
        self.doc(case_id, "operation_authorization", self.wd(entered, 2), actor=rep,
                 text=f"全体业主授权{PROPERTY}与电梯运营方签订运营合同")
        self.doc(case_id, "usage_convention", self.wd(entered, 3), actor=rep,
                 text="电梯自治小组制定；每户出一名轮值管理员，每周轮换")

    def self_management(self, case_id: str, day: date, rep: str) -> None:
        """The elevator self-management group and its duty rota: one administrator from every household."""
        flats = unit_flats(*building_unit(case_id))
        by_room = {f.room: f for f in flats}
        for i, (room, note) in enumerate((("701", "组长"), ("601", None), ("402", None), ("201", "低层业主代表"))):
            add_role(self.ws, case_id, "self_management", by_room[room].owner, room=room, note=note,
                     at=at(day, f"14:{i:02d}"), actor=rep, as_role="owner_rep")
        owners: dict[str, str] = {}
        for f in flats:
            owners.setdefault(f.owner_key or f.room, f.room)  # an owner of two flats takes one turn
        for week, room in enumerate(owners.values(), start=1):
            add_role(self.ws, case_id, "duty_rota", by_room[room].owner, room=room, note=f"第{week}周",
                     at=at(day, f"15:{week:02d}"), actor=rep, as_role="owner_rep")


def _pilot(b: Builder) -> None:
    """3栋2单元: the pilot, through all eight stages in 2025."""
    c, rep = PILOT, PILOT_REP
    b.open_unit(c, d("2025-01-06"))
    b.doc(c, "application", d("2025-01-06"), actor=rep, hm="11:00", text="本单元业主申请加装电梯一部")
    b.doc(c, "agent_authorization", d("2025-01-08"), actor=rep, text="全体业主委托李建国（701室）为业主代表")
    add_role(b.ws, c, "owner_rep", "李建国", room="701", phone="13807120935", at=at(d("2025-01-08"), "10:30"),
             actor=OFFICER, as_role="officer")
    b.doc(c, "owner_proof", d("2025-01-10"), text="身份证及不动产权证书复印件12份")
    first = {"201": "oppose", "202": "oppose", "301": "abstain", "401": "agree", "402": "agree", "501": "agree",
             "502": "agree", "601": "agree", "602": "agree", "701": "agree", "702": "agree"}
    for i, (room, choice) in enumerate(first.items()):
        records.cast_vote(b.ws, c, room, choice, at=at(d("2025-01-13") + timedelta(days=i // 4), "19:30"),
                          actor=OFFICER, as_role="officer")
    # The first count falls short (7 of 10 participating owners agree, 3/4 needed): `vote whatif` names the
    # households that would carry it, and the canvass log records what holds each of them back (推).
    visits = (("201", "hesitant", "二楼用不上电梯，还担心运行噪音影响休息"),
              ("202", "opposed", "井道紧贴北侧卧室窗，担心采光和通风"),
              ("301", "hesitant", "费用怎么分摊还不清楚"))
    for i, (room, stance, concern) in enumerate(visits):
        add_entry(b.ws, c, room, stance=stance, concern=concern, at=at(d("2025-01-16"), f"19:{i * 20:02d}"),
                  actor=OFFICER, as_role="officer")
    add_entry(b.ws, c, "302", stance="supportive", by=f"{OFFICER_NAME}（电话）", at=at(d("2025-01-20"), "20:00"),
              actor=OFFICER, as_role="officer")
    # 302 works in Shenzhen and votes when he is home for the Spring Festival; 201 (82, second floor) went to
    # see a finished elevator in 文化路社区 with the community and changes her ballot: the later one counts.
    records.cast_vote(b.ws, c, "302", "agree", at=at(d("2025-01-26"), "10:00"), actor=OFFICER, as_role="officer")
    add_entry(b.ws, c, "201", stance="supportive", concern="参观文化路社区已建电梯：运行安静，不再担心噪音",
              kinds=["noise"], at=at(d("2025-02-08"), "16:30"), actor=OFFICER, as_role="officer")
    records.cast_vote(b.ws, c, "201", "agree", at=at(d("2025-02-17"), "16:00"), actor=OFFICER, as_role="officer")
    b.doc(c, "ballot_forms", d("2025-02-18"), text="表决票原件12份（201室2月17日重新表决）")
    b.advance(c, d("2025-02-19"), "同意9人/参与11人，面积同意过3/4；申请已受理")

    b.doc(c, "site_survey", d("2025-02-25"), issuer=f"{STREET}办事处、{COMMUNITY}、{DESIGNER}",
          text="联合踏勘：井道设于北侧楼梯间外，燃气管需迁改")
    b.doc(c, "structural_appraisal", d("2025-03-04"), issuer="武汉市房屋安全鉴定中心", number="鉴字2025-0117")
    b.approve(c, "feasibility", APPROVAL_BUREAU, d("2025-03-12"), b.approval_no(d("2025-03-12")),
              "同意开展加装电梯工作")
    b.advance(c, d("2025-03-13"), "可行性分析意见已出具（15个工作日内）")

    # The negotiation group (退): high- and low-floor owners, the community and a technician.
    group = (("李建国", "701", "high_floor"), ("马永康", "602", "high_floor"), ("周桂兰", "201", "low_floor"),
             ("吴淑芬", "301", "low_floor"), (OFFICER_NAME, None, "community"), (TECHNICIAN, None, "technician"))
    for i, (name, room, side) in enumerate(group):
        add_role(b.ws, c, "negotiator", name, room=room, side=side, at=at(d("2025-03-14"), f"10:{i:02d}"),
                 actor=OFFICER, as_role="officer",
                 note=f"{DESIGNER}工程师" if side == "technician" else None)
    # Three companies present their schemes on site (联); the residents compare everyone's share.
    for i, (company, price, entry, days, note) in enumerate(SCHEMES):
        proposal = b.minutes(c, d("2025-03-15"), f"加梯方案-{company}", f"{company}：{note}；报价{price // 100}元")
        add_scheme(b.ws, c, company=company, price=price, entry=entry, duration_days=days, note=note, file=proposal,
                   at=at(d("2025-03-15"), f"{10 + i}:00"), actor=OFFICER, as_role="officer")
    decision = ("选定湖北梯安电梯工程有限公司方案（48万元，半层入户，工期150天）；申请补贴20万元；"
                "二层不出资，三至七层按楼层系数0.7/0.8/0.9/1.0/1.1乘面积分摊")
    add_meeting(b.ws, c, at=at(d("2025-03-19"), "19:00"), kinds=["brand", "budget", "cost_shares"],
                attendees=[name for name, _room, _side in group], decision=decision, actor=rep, as_role="owner_rep",
                file=b.minutes(c, d("2025-03-19"), "协商小组会议纪要", decision))
    [chosen] = [s for s in b.schemes(c) if s.company == INSTALLER]
    choose(b.ws, c, chosen.id, at=at(d("2025-03-20"), "09:00"), actor=rep, as_role="owner_rep",
           reason="协商小组3月19日会议：价格居中、工期较短、本地维保响应快；玻璃幕墙井道可缓解低层采光顾虑")
    b.settle(c, d("2025-03-20"), rep)
    b.doc(c, "agreement", d("2025-04-02"), actor=rep,
          text="二层不出资；三至七层按系数0.7/0.8/0.9/1.0/1.1乘面积分摊；电费、维保费同比例；"
               f"使用管理单位：{PROPERTY}")
    b.advance(c, d("2025-04-03"), "加梯协议已签订（12户）", actor=rep)

    b.doc(c, "design_scheme", d("2025-04-15"), issuer=DESIGNER,
          number=b.number("设计", 2025, 11, "CT-DT-{year}-{n:03d}"),
          text="三家电梯企业现场比选后定稿：半层入户，井道北侧")
    b.doc(c, "notice_posting", d("2025-04-21"), hm="09:00",
          text="于3栋2单元入口及小区公示栏张贴，公示10个工作日，遇五一假期顺延至2025-05-07，附照片3张")
    objection = records.add_objection(
        b.ws, c, room="202", objector="刘德明", grounds="采光：井道紧贴202室北侧卧室窗，影响采光和通风",
        written=True, real_name=True, at=at(d("2025-04-24"), "10:20"), actor=OFFICER, as_role="officer")
    assert objection.id is not None
    records.mediate_objection(b.ws, c, objection.id, step="negotiation", at=at(d("2025-04-28"), "19:00"),
                              note="协商小组（高低层业主代表、社区、设计单位）上门沟通，提出改用玻璃井道",
                              actor=OFFICER, as_role="officer")
    records.mediate_objection(b.ws, c, objection.id, step="coordination", at=at(d("2025-05-06"), "15:00"),
                              note="河头社区组织协调会，设计单位出具采光分析，高层业主同意补偿", actor=OFFICER,
                              as_role="officer")
    remedy = "井道改为玻璃幕墙（增加约1.8万元，由三至七层分摊）；高层业主一次性补偿202室8000元"
    add_meeting(b.ws, c, at=at(d("2025-05-08"), "19:00"), kinds=["objection_remedy"], decision=remedy,
                attendees=["李建国", "马永康", "刘德明", OFFICER_NAME, TECHNICIAN], actor=OFFICER, as_role="officer")
    b.doc(c, "objection_withdrawal", d("2025-05-09"), actor=OFFICER, hm="15:30",
          text="202室刘德明：同意玻璃幕墙井道及补偿方案，撤回对加装电梯方案的异议")
    records.resolve_objection(b.ws, c, objection.id, at=at(d("2025-05-09"), "16:00"), actor=OFFICER, as_role="officer",
                              basis="objection_withdrawal",
                              outcome="井道改为玻璃幕墙（增加约1.8万元，由三至七层分摊）；高层业主一次性补偿"
                                      "202室8000元，写入补充协议，刘德明书面撤回异议")
    b.advance(c, d("2025-05-12"), "公示期满，异议已化解")

    b.doc(c, "window_application", d("2025-05-16"), actor=rep, text=f"向{DISTRICT}政务服务中心加装电梯窗口提交")
    b.approve(c, "joint_review", APPROVAL_BUREAU, d("2025-05-29"), b.approval_no(d("2025-05-29")),
              "自然资源和规划、住建、城管、市场监管并联审查通过")
    b.advance(c, d("2025-06-03"), "联合审查意见已出具")

    b.doc(c, "construction_contract", d("2025-06-06"), issuer=INSTALLER, actor=rep,
          number=b.number("合同", 2025, 3, "TA-JX-{year}-{n:03d}"))
    b.doc(c, "installation_notice", d("2025-06-13"), issuer=INSTALLER,
          number=b.number("告知", 2025, 215, "江夏特设告〔{year}〕{n}号"),
          text=f"开工前书面告知{MARKET_SUPERVISION}，2025-06-16进场")
    b.doc(c, "works_finished", d("2025-10-17"), issuer=INSTALLER, text="井道、轿厢安装及调试完成；业主代表全程监督")
    b.advance(c, d("2025-10-20"), "施工安装完成", actor=rep)

    b.approve(c, "supervisory_inspection", INSPECTION_INSTITUTE, d("2025-10-28"),
              b.number("监检", 2025, 1036, "鄂特检监〔{year}〕DT{n}号"),
              "监督检验合格")
    b.doc(c, "completion_report", d("2025-10-31"), issuer="勘察、设计、施工、监理及安装单位", text="五方签字确认")
    b.approve(c, "use_registration", MARKET_SUPERVISION, d("2025-11-07"),
              b.number("登记", 2025, 871, "梯11鄂A{year}{n:04d}"))
    b.doc(c, "technical_files", d("2025-11-10"), issuer=INSTALLER, text="技术资料移交使用管理单位")
    b.advance(c, d("2025-11-12"), "验收合格，取得使用登记证，交付使用")

    b.operation(c, d("2025-11-12"), rep)
    b.self_management(c, d("2025-11-17"), rep)
    # Maintenance every 15 days; the yearly periodic inspection, requested a month before the certificate runs out.
    day = d("2025-11-27")
    while day < d("2026-10-27"):
        b.doc(c, "maintenance_record", b.wd(day), issuer=INSTALLER, text="半月维保，运行正常")
        day += timedelta(days=15)
    b.doc(c, "periodic_inspection", d("2026-10-27"), issuer=INSPECTION_INSTITUTE, number="鄂特检定〔2026〕DT2288号",
          text="定期检验合格，下次检验日期2027-11")


def _rollout(b: Builder) -> None:
    """The other seven units, started one after another as the pilot showed the way (以点扩面)."""
    def rep(case_id: str) -> str:
        return "业主代表 " + unit_flats(*building_unit(case_id))[10].owner  # the owner of 701

    # RD-1-1: in acceptance; inspected and the completion report signed, registration pending.
    c = "RD-1-1"
    b.consent(c, d("2025-10-13"), d("2025-12-01"), rep(c))
    b.survey(c, d("2025-12-01"), d("2025-12-19"))
    b.agreement(c, d("2025-12-19"), d("2026-02-06"), rep(c))
    b.design_notice(c, d("2026-02-06"), d("2026-03-27"))
    b.joint_review(c, d("2026-03-27"), d("2026-04-24"), rep(c))
    b.construction(c, d("2026-04-24"), d("2026-10-16"))
    b.acceptance(c, d("2026-10-16"), None)

    # RD-1-2: in construction; the installer notified market supervision before the works started.
    c = "RD-1-2"
    b.consent(c, d("2025-12-08"), d("2026-01-26"), rep(c))
    b.survey(c, d("2026-01-26"), d("2026-03-06"))
    b.agreement(c, d("2026-03-06"), d("2026-05-15"), rep(c))
    b.design_notice(c, d("2026-05-15"), d("2026-07-10"))
    b.joint_review(c, d("2026-07-10"), d("2026-08-03"), rep(c))
    b.construction(c, d("2026-08-03"), None)

    # RD-2-1: window application filed, waiting for the joint review opinion.
    c = "RD-2-1"
    b.consent(c, d("2026-01-12"), d("2026-03-16"), rep(c))
    b.survey(c, d("2026-03-16"), d("2026-04-03"))
    b.agreement(c, d("2026-04-03"), d("2026-08-14"), rep(c))
    b.design_notice(c, d("2026-08-14"), d("2026-10-19"))
    b.joint_review(c, d("2026-10-19"), None, rep(c))

    # RD-4-1: notice over, but a written real-name objection from the second floor is still open.
    c = HELD
    b.consent(c, d("2026-03-16"), d("2026-05-18"), rep(c))
    b.survey(c, d("2026-05-18"), d("2026-06-05"))
    b.agreement(c, d("2026-06-05"), d("2026-08-17"), rep(c))
    posted = b.design_notice(c, d("2026-08-17"), None)
    objector = unit_flats("4", "1")[0].owner
    objection = records.add_objection(
        b.ws, c, room="201", objector=objector, grounds="采光和噪音：井道正对201室客厅窗，担心运行噪音",
        written=True, real_name=True, at=at(b.wd(posted, 2), "10:00"), actor=OFFICER, as_role="officer")
    assert objection.id is not None
    steps = [("negotiation", b.wd(posted, 6), "协商小组上门，提出玻璃井道及低噪音曳引机，201室要求井道外移"),
             ("coordination", d("2026-09-24"), "社区组织协调会，设计单位核算井道外移方案，补偿金额未谈拢"),
             ("mediation", d("2026-10-22"), "提交纸坊街道人民调解委员会，双方同意11月再次调解")]
    for step, day, note in steps:
        records.mediate_objection(b.ws, c, objection.id, step=step, note=note, at=at(day, "15:00"), actor=OFFICER,
                                  as_role="officer")

    # RD-2-2: survey done; the agreement (cost shares) is still being negotiated.
    c = "RD-2-2"
    b.consent(c, d("2026-04-13"), d("2026-07-06"), rep(c))
    b.survey(c, d("2026-07-06"), d("2026-08-31"))
    add_meeting(b.ws, c, at=at(d("2026-09-15"), "19:00"), kinds=["budget"], actor=rep(c), as_role="owner_rep",
                attendees=[rep(c).split()[-1], OFFICER_NAME, TECHNICIAN],
                decision="原则同意沿用试点方案（48万元）；二层业主要求补偿，分摊比例下次再议")

    # RD-3-1: consent reached, survey done, waiting for the feasibility opinion.
    c = "RD-3-1"
    b.consent(c, d("2026-06-01"), d("2026-10-12"), rep(c))
    b.survey(c, d("2026-10-12"), None)

    # RD-4-2: just started; half the ballots are in.
    c = "RD-4-2"
    opened = d("2026-09-07")
    b.open_unit(c, opened)
    b.doc(c, "application", opened, actor=rep(c), text="本单元业主申请加装电梯一部")
    b.doc(c, "owner_proof", d("2026-09-15"), text="身份证及不动产权证书复印件（已收7份）")
    b.ballots_csv(c, [("701", "同意", d("2026-09-19")), ("702", "同意", d("2026-09-19")),
                      ("601", "同意", d("2026-09-20")), ("602", "同意", d("2026-09-27")),
                      ("502", "同意", d("2026-10-10")), ("201", "反对", d("2026-10-28"))])
    visits = (("201", "opposed", "担心噪音，二楼不想出钱"), ("202", "hesitant", "井道会不会挡住厨房采光"),
              ("301", "hesitant", "想先去3栋2单元看看已建电梯"))
    for i, (room, stance, concern) in enumerate(visits):
        add_entry(b.ws, c, room, stance=stance, concern=concern, at=at(d("2026-10-29"), f"19:{i * 20:02d}"),
                  actor=OFFICER, as_role="officer")
    b.doc(c, "ballot_forms", d("2026-10-30"), text="已收回表决票6份（第一批）")


def build_demo(folder: Path, protected: Protected | None = None) -> Workspace:
    """Create ``folder`` (new, or an empty folder; its parent must exist) with a database holding the story of
    人大小区; returns the open workspace. ``protected``: paths the folder must not be (another database's files).
    On failure what was created is removed again."""
    folder = Path(folder)
    owned = own_folder(folder, protected or Protected((), ()))
    ws: Workspace | None = None
    try:
        (folder / "owners").mkdir()
        ws, _ = Workspace.init(str(folder / "eightstep.db"))
        builder = Builder(ws, folder)
        _pilot(builder)
        _rollout(builder)
    except BaseException:
        if ws is not None:
            ws.dispose()
        owned.remove()
        raise
    return ws

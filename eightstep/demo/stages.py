"""Whole stages of a unit that follows its complex's pilot: each records what the stage needs, on dates that keep
within the workflow's stall limits, and returns the day the unit leaves it (or None where the story stops)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from eightstep import records
from eightstep.demo import money
from eightstep.demo.builder import Builder
from eightstep.demo.people import (
    APPROVAL_BUREAU,
    BUDGET,
    DESIGNER,
    DISTRICT,
    END,
    INSPECTION_INSTITUTE,
    INSTALLER,
    MARKET_SUPERVISION,
    OBJECTION_PHONES,
    OFFICER,
    OFFICER_NAME,
    PROPERTY,
    REP_ROOM,
    SAFETY_MANAGER,
    STREET,
    TECHNICIAN,
    UNIT_CONTACT,
    at,
    id_number,
    place_of,
    rep_of,
    unit_flats,
)
from eightstep.paperwork.parties import set_party
from eightstep.records.funding import set_funding
from eightstep.records.meetings import add_meeting
from eightstep.records.roles import add_role, set_rota
from eightstep.records.schemes import add_scheme, choose

ORDER = ("consent", "survey", "agreement", "design_notice", "joint_review", "construction", "acceptance", "operation")
SUBSIDY_FEN = 20_000_000  # Wuhan: 200,000 yuan per elevator
UPKEEP_FEN = 500_000  # 5,000 yuan a year: maintenance, electricity, the yearly inspection


class Unit:
    """One stairwell unit following its pilot through the stages, ``leave`` dates computed from the calendar."""

    def __init__(self, b: Builder, case_id: str, pilot: str | None) -> None:
        self.b, self.case_id, self.pilot = b, case_id, pilot
        self.rep = rep_of(case_id)
        self.entered: dict[str, date] = {}
        # What happens in operation (maintenance, the subsidy, incidents, the settlement), recorded in date order
        # by ``finish`` once the story has planned it all: a case's history runs forward in time.
        self.agenda: list[tuple[date, str, int, Callable[[], object]]] = []
        self.planned = 0
        self.works: list[Callable[[], object]] = []  # recorded during the works (change orders)

    def plan(self, day: date, hm: str, action: Callable[[], object]) -> None:  # what it returns is not used
        if day > END:
            raise RuntimeError(f"demo schedule: {self.case_id} plans a record on {day}, after the story's end")
        self.planned += 1
        self.agenda.append((day, hm, self.planned, action))

    def finish(self) -> None:
        """Record the agenda in date order; an action may plan more (a settlement plans its refunds)."""
        while self.agenda:
            first = min(self.agenda, key=lambda item: item[:3])
            self.agenda.remove(first)
            first[3]()

    def run(self, entered: date, until: str, *, leave: dict[str, date] | None = None, start: str = "consent"
            ) -> None:
        """From ``start`` (entered on ``entered``; consent: the case is opened then) through every stage before
        ``until``, then the records of ``until`` that happen by the story's end (it is not left there). ``leave``
        overrides computed leave days."""
        leave = leave or {}
        self.entered[start] = entered
        for stage in ORDER[ORDER.index(start): ORDER.index(until) + 1]:
            staying = stage == until
            out = getattr(self, stage)(self.entered[stage], None if staying else leave.get(stage), staying)
            if staying:
                return
            assert out is not None
            self.entered[ORDER[ORDER.index(stage) + 1]] = out

    # -- the stages: (entered, requested leave day or None, staying in it) -> the day it was left -------------

    def consent(self, opened: date, leave: date | None, staying: bool) -> date | None:
        b, c, rep = self.b, self.case_id, self.rep
        b.open_unit(c, opened, self.pilot)
        b.doc(c, "application", opened, actor=rep, text="本单元业主申请加装电梯一部")
        self.budget(opened)
        b.doc(c, "agent_authorization", b.wd(opened, 1), actor=rep, text=f"全体业主委托{rep.split()[-1]}为业主代表")
        self.representative(b.wd(opened, 1))
        b.doc(c, "owner_proof", b.wd(opened, 3), text="身份证及不动产权证书复印件12份")
        _place, building, unit = place_of(c)
        seed = int(building) * 2 + int(unit)
        flats = unit_flats(c)
        choices = {f.room: "同意" for f in flats}
        low = [f.room for f in flats if f.floor == min(x.floor for x in flats)]
        choices[low[seed % 2]] = "反对"
        del choices[flats[4 + seed % 3].room]  # one owner works away and never returns a ballot
        b.ballots_csv(c, [(room, choice, b.wd(opened, 5 + i // 3)) for i, (room, choice) in
                          enumerate(choices.items())])
        leave = leave or b.wd(opened + timedelta(days=42))
        b.doc(c, "ballot_forms", b.before(leave, 1), text=f"表决票原件{len(choices)}份")
        b.advance(c, leave, "业主表决通过，申请已受理")
        return leave

    def survey(self, entered: date, leave: date | None, staying: bool) -> date | None:
        b, c = self.b, self.case_id
        b.doc(c, "site_survey", b.wd(entered, 4), issuer=f"{STREET}办事处、{place_of(c)[0].community}、{DESIGNER}",
              text="联合踏勘：井道位置、管线迁改、消防通道")
        if staying:
            return None
        leave = leave or b.wd(entered, 12)
        day = b.before(leave, 1)
        b.approve(c, "feasibility", APPROVAL_BUREAU, day, b.approval_no(day), "同意开展加装电梯工作")
        b.advance(c, leave, "可行性分析意见已出具")
        return leave

    def agreement(self, entered: date, leave: date | None, staying: bool) -> date | None:
        b, c, rep = self.b, self.case_id, self.rep
        self.negotiate(b.wd(entered, 2))
        self.settle(b.wd(entered, 3))
        if staying:
            return None
        leave = leave or b.wd(entered + timedelta(days=30))
        signed = b.before(leave, 2)
        b.doc(c, "agreement", signed, actor=rep, number=b.number("协议", signed.year, 1, c + "-XY-{year}-{n:03d}"),
              text=f"二层及以下不出资，以上按楼层系数分摊；使用管理单位：{PROPERTY}")
        b.advance(c, leave, "加梯协议已签订", actor=rep)
        money.pay_shares(self, leave)
        return leave

    def design_notice(self, entered: date, leave: date | None, staying: bool) -> date | None:
        b, c = self.b, self.case_id
        b.doc(c, "design_scheme", b.wd(entered, 5), issuer=DESIGNER,
              number=b.number("设计", entered.year, 11, "CT-DT-{year}-{n:03d}"))
        self.posted = posted = b.wd(entered, 8)
        end = b.calendar.add_working_days(posted, 10)
        b.doc(c, "notice_posting", posted, hm="09:00",
              text=f"于楼栋、单元入口及小区公示栏张贴，公示10个工作日至{end}止，附照片3张")
        if staying:
            return None
        leave = leave or b.wd(end, 1)
        if leave <= end:
            raise RuntimeError(f"demo schedule: {c} would leave the notice stage before {end}")
        b.advance(c, leave, "公示期满，无异议")
        return leave

    def joint_review(self, entered: date, leave: date | None, staying: bool) -> date | None:
        b, c = self.b, self.case_id
        b.doc(c, "window_application", b.wd(entered, 3), actor=self.rep,
              text=f"向{DISTRICT}政务服务中心加装电梯窗口提交")
        if staying:
            return None
        leave = leave or b.wd(entered, 9)
        day = b.before(leave, 2)
        b.approve(c, "joint_review", APPROVAL_BUREAU, day, b.approval_no(day),
                  "自然资源和规划、住建、城管、市场监管并联审查通过")
        b.advance(c, leave, "联合审查意见已出具")
        return leave

    def construction(self, entered: date, leave: date | None, staying: bool) -> date | None:
        b, c = self.b, self.case_id
        b.doc(c, "construction_contract", b.wd(entered, 5), issuer=INSTALLER, actor=self.rep,
              number=b.number("合同", entered.year, 3, "TA-JX-{year}-{n:03d}"))
        notice_day = b.wd(entered, 10)
        b.doc(c, "installation_notice", notice_day, issuer=INSTALLER,
              number=b.number("告知", notice_day.year, 215, "江夏特设告〔{year}〕{n}号"),
              text=f"开工前书面告知{MARKET_SUPERVISION}，计划{b.wd(notice_day, 2)}进场")
        for action in self.works:
            action()
        if staying:
            return None
        leave = leave or b.wd(entered + timedelta(days=108))
        b.doc(c, "works_finished", b.before(leave, 2), issuer=INSTALLER,
              text="井道、轿厢安装及调试完成；业主代表全程监督")
        b.advance(c, leave, "施工安装完成", actor=self.rep)
        return leave

    def acceptance(self, entered: date, leave: date | None, staying: bool) -> date | None:
        b, c = self.b, self.case_id
        self.inspected = inspected = b.wd(entered, 5)
        b.approve(c, "supervisory_inspection", INSPECTION_INSTITUTE, inspected,
                  b.number("监检", inspected.year, 1036, "鄂特检监〔{year}〕DT{n}号"), "监督检验合格")
        self.completed = b.wd(entered, 8)
        b.doc(c, "completion_report", self.completed, issuer="勘察、设计、施工、监理及安装单位", text="五方签字确认")
        if staying:
            return None
        leave = leave or b.wd(entered, 16)
        self.registered = registered = b.before(leave, 3)
        self.registration_code = b.number("登记", registered.year, 871, "梯11鄂A{year}{n:04d}")
        b.approve(c, "use_registration", MARKET_SUPERVISION, registered, self.registration_code)
        b.doc(c, "technical_files", b.before(leave, 2), issuer=INSTALLER, text="验收后30日内移交使用管理单位")
        b.advance(c, leave, "验收合格，已取得使用登记证，交付使用")
        return leave

    def operation(self, entered: date, leave: date | None, staying: bool) -> date | None:
        b, c, rep = self.b, self.case_id, self.rep
        money.accepted(self, entered)
        signed = b.wd(entered, 1)
        b.doc(c, "maintenance_contract", signed, issuer=PROPERTY,
              number=b.number("维保", signed.year, 21, "TA-WB-{year}-{n:03d}"),
              text=f"由{INSTALLER}每15日维保一次，费用按协议分摊")
        b.doc(c, "operation_authorization", b.wd(entered, 2), actor=rep,
              text=f"全体业主授权{PROPERTY}与电梯运营方签订运营合同")
        b.doc(c, "usage_convention", b.wd(entered, 3), actor=rep,
              text="电梯自治小组制定；每户出一名轮值管理员，每周轮换；应急救援电话96333")
        self.self_management(b.wd(entered, 4))
        self.maintain(entered)
        applied = b.wd(entered, 5)
        self.plan(applied, "10:30", lambda: money.apply(self, applied))
        return None

    # -- pieces of stages ------------------------------------------------------------------------------------

    def budget(self, day: date) -> None:
        """The budget the owners vote on, so that each ballot states the flat's estimated share."""
        total, subsidy, upkeep = BUDGET
        set_funding(self.b.ws, self.case_id, total=total, subsidy=subsidy, maintenance=upkeep, at=at(day, "10:00"),
                    actor=OFFICER, as_role="officer")

    def representative(self, day: date, phone: str | None = None, note: str | None = None) -> None:
        """The owner representative, who is also the owners' agent at the window (phone, ID number, address)."""
        b, c = self.b, self.case_id
        place, building, unit = place_of(c)
        flat = next(f for f in unit_flats(c) if f.room == REP_ROOM)
        add_role(b.ws, c, "owner_rep", flat.owner, room=REP_ROOM, phone=phone or flat.phone, id_number=id_number(c),
                 address=f"{place.complex}{building}栋{unit}单元{REP_ROOM}室", note=note, at=at(day, "10:30"),
                 actor=OFFICER, as_role="officer")

    def negotiate(self, day: date) -> None:
        """The unit's negotiation group takes up the pilot's scheme (carried by the rollout) and decides on it."""
        b, c, rep = self.b, self.case_id, self.rep
        name = rep.split()[-1]
        if not b.schemes(c):  # a complex's first unit: one company's scheme, taken without comparing others
            add_scheme(b.ws, c, company=INSTALLER, price=43_600_000, entry="half_floor", duration_days=150,
                       load_kg=450, speed_cms=100, stops=len(place_of(c)[0].floors) + 1,
                       note="半层入户；六层停靠", at=at(b.before(day, 1), "10:00"), actor=OFFICER, as_role="officer")
        decision = "选定湖北梯安方案（半层入户）；二层及以下不出资，以上按楼层系数分摊"
        add_meeting(b.ws, c, at=at(day, "19:00"), attendees=[name, OFFICER_NAME, TECHNICIAN], decision=decision,
                    kinds=["brand", "budget", "cost_shares"], actor=rep, as_role="owner_rep",
                    file=b.minutes(c, day, "协商小组会议纪要", decision))
        [proposal] = b.schemes(c)
        choose(b.ws, c, proposal.id, reason="协商小组会议：沿用试点方案，本单元业主重新表决同意",
               at=at(b.wd(day, 1), "09:00"), actor=rep, as_role="owner_rep")

    def settle(self, day: date) -> None:
        """After the scheme is chosen (its price is the funding total): the expected subsidy, upkeep and the named
        parties, entered by the owner representative, the owners' agent."""
        b, c, rep = self.b, self.case_id, self.rep
        set_funding(b.ws, c, subsidy=SUBSIDY_FEN, maintenance=UPKEEP_FEN, at=at(day), actor=rep)
        community = place_of(c)[0].community
        for role in ("use_unit", "property"):
            set_party(b.ws, c, role, name=PROPERTY, at=at(day, "10:00"), actor=rep, **UNIT_CONTACT)
        for role, party in (("agent", rep.split()[-1]), ("designer", DESIGNER), ("installer", INSTALLER),
                            ("maintainer", INSTALLER)):
            set_party(b.ws, c, role, name=party, at=at(day, "10:00"), actor=rep)
        set_party(b.ws, c, "objection_office", name=f"{community}居民委员会", phone=OBJECTION_PHONES[community],
                  address=f"{place_of(c)[0].complex}{community}居委会一楼", at=at(day, "10:00"), actor=rep)

    def self_management(self, day: date) -> None:
        """The elevator self-management group and its duty rota: one administrator from every household."""
        b, c, rep = self.b, self.case_id, self.rep
        flats = unit_flats(c)
        by_room = {f.room: f for f in flats}
        low = min(f.floor for f in flats)
        members = ((REP_ROOM, "组长"), (f"{max(f.floor for f in flats)}02", None), ("402", None),
                   (f"{low}01", "低层业主代表"))
        for i, (room, note) in enumerate(members):
            add_role(b.ws, c, "self_management", by_room[room].owner, room=room, note=note,
                     at=at(day, f"14:{i:02d}"), actor=rep, as_role="owner_rep")
        owners: dict[str, str] = {}
        for f in flats:
            owners.setdefault(f.owner_key or f.room, f.room)  # an owner of two flats takes one turn
        for week, room in enumerate(owners.values(), start=1):
            add_role(b.ws, c, "duty_rota", by_room[room].owner, room=room, note=f"第{week}周",
                     at=at(day, f"15:{week:02d}"), actor=rep, as_role="owner_rep")
        monday = day + timedelta(days=7 - day.weekday())
        set_rota(b.ws, c, every="week", starts_on=monday, at=at(day, "16:00"), actor=rep, as_role="owner_rep")
        name, phone = SAFETY_MANAGER
        set_party(b.ws, c, "safety_manager", name=name, phone=phone, at=at(day, "16:10"), actor=rep)

    def maintain(self, entered: date, until: date = END) -> None:
        """Maintenance every 14 days from a week after entering operation up to the story's end (the rule: at
        least every 15 days)."""
        day = entered + timedelta(days=7)
        while day <= until:
            self.plan(day, "15:00", partial(self.b.doc, self.case_id, "maintenance_record", day, issuer=INSTALLER,
                                            hm="15:00", text="半月维保，运行正常"))
            day += timedelta(days=14)


def objection(b: Builder, case_id: str, room: str, grounds: str, lodged: date) -> int:
    """A written, real-name objection lodged during the notice; returns its id."""
    owner = next(f.owner for f in unit_flats(case_id) if f.room == room)
    found = records.add_objection(b.ws, case_id, room=room, objector=owner, grounds=grounds, written=True,
                                  real_name=True, at=at(lodged, "10:00"), actor=OFFICER, as_role="officer")
    assert found.id is not None
    return found.id

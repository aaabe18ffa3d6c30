"""The other seven units of 人大小区, opened one after another from the pilot as it showed the way (以点扩面):
by the story's end six elevators run and two are at acceptance. 4栋1单元 met an objection during its notice,
settled by the people's mediation route with a sunshade and a compensation, and is the last to finish."""

from __future__ import annotations

from functools import partial

from eightstep import records
from eightstep.demo import money
from eightstep.demo.builder import Builder
from eightstep.demo.people import OFFICER, PILOT, at, d
from eightstep.demo.stages import Unit, objection
from eightstep.records.payments import add_line, record_payment

# (unit, opened, the stage it stands in at the story's end, the subsidy approved on, paid on, settled on)
UNITS = (("RD-3-1", "2025-03-24", "operation", "2026-01-16", "2026-02-10", "2026-02-12"),
         ("RD-1-1", "2025-04-07", "operation", "2026-02-06", None, None),
         ("RD-1-2", "2025-04-07", "operation", "2026-02-06", None, None),
         ("RD-2-1", "2025-04-21", "operation", None, None, None),
         ("RD-2-2", "2025-04-28", "operation", None, None, None),
         ("RD-4-2", "2025-05-26", "acceptance", None, None, None))
OBJECTING = "RD-4-1"


def story(b: Builder) -> list[Unit]:
    units = []
    for case_id, opened, until, approved, paid, settled in UNITS:
        unit = Unit(b, case_id, PILOT)
        unit.run(d(opened), until)
        for step, day in ((money.approve, approved), (money.receive, paid), (money.settle, settled)):
            if day is not None:
                unit.plan(d(day), "15:00", partial(step, unit, d(day)))
        units.append(unit)
    units.append(_objection_settled(b))
    return units


def _objection_settled(b: Builder) -> Unit:
    """4栋1单元: 201 objects to the shaft before her living-room window; negotiation, coordination and the street's
    people's mediation committee settle it within a month (a sunshade, and a compensation written into a
    supplementary agreement); the unit then catches up with the others."""
    c = OBJECTING
    unit = Unit(b, c, PILOT)
    unit.run(d("2025-05-12"), "design_notice")
    lodged = b.wd(unit.posted, 2)
    oid = objection(b, c, "201", "采光和噪音：井道正对201室客厅窗，担心运行噪音", lodged)
    steps = [("negotiation", b.wd(lodged, 4), "协商小组上门，提出玻璃井道及低噪音曳引机，201室要求再作补偿"),
             ("coordination", b.wd(lodged, 10), "社区组织协调会，设计单位出具采光分析，同意加装遮阳板"),
             ("mediation", b.wd(lodged, 16), "纸坊街道人民调解委员会调解：加装遮阳板，高层业主补偿201室5000元")]
    for step, day, note in steps:
        records.mediate_objection(b.ws, c, oid, step=step, note=note, at=at(day, "15:00"), actor=OFFICER,
                                  as_role="officer")
    resolved = b.wd(lodged, 18)
    b.doc(c, "objection_withdrawal", resolved, actor=OFFICER, hm="15:30",
          text="201室：同意加装遮阳板及补偿方案，撤回对加装电梯方案的异议")
    records.resolve_objection(b.ws, c, oid, at=at(resolved, "16:00"), actor=OFFICER, as_role="officer",
                              basis="objection_withdrawal",
                              outcome="加装遮阳板；高层业主一次性补偿201室5000元，写入补充协议；201室书面撤回异议")
    # The remedy is money, written into a supplementary agreement: the signed shares change (--amend), and each
    # household pays the difference.
    amend = "补充协议（人民调解）：加装遮阳板3000元，高层业主补偿201室5000元"
    add_line(b.ws, c, "extra", 300_000, "201室窗外加装遮阳板", amend=amend, at=at(resolved, "16:30"), actor=unit.rep)
    add_line(b.ws, c, "compensation", 500_000, "补偿201室采光和噪音影响", room="201", amend=amend,
             at=at(resolved, "16:40"), actor=unit.rep)
    money.pay_outstanding(unit, b.wd(resolved, 1), "补充协议分摊差额")
    record_payment(b.ws, c, "201", 500_000, kind="compensation", note="补充协议约定的补偿款",
                   at=at(b.wd(resolved, 1), "16:00"), actor=unit.rep)
    b.advance(c, b.wd(resolved, 1), "异议经人民调解化解，公示期满")
    unit.run(b.wd(resolved, 1), "acceptance", start="joint_review")
    return unit

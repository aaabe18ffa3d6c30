"""桥头小区 (凤凰社区), a smaller complex of the same street that started earlier without the method, so that the
audit has something to show at the story's end: its first unit runs but the subsidy applied for in September
2025 is still unpaid (flagged after the workflow's 90 days); one unit is held in the notice stage by an objection
that mediation has not settled (stage overdue); one unit's public notice is still running (not stalled: it is
within its period)."""

from __future__ import annotations

from functools import partial

from eightstep import records
from eightstep.demo import money
from eightstep.demo.builder import Builder
from eightstep.demo.people import HELD, OFFICER, RUNNING, SECOND_PILOT, at, d
from eightstep.demo.stages import Unit, objection


def story(b: Builder) -> list[Unit]:
    first = Unit(b, SECOND_PILOT, None)
    first.run(d("2024-09-02"), "operation")
    first.plan(d("2025-07-15"), "15:00", partial(money.approve, first, d("2025-07-15")))  # approved, never paid
    held = Unit(b, HELD, SECOND_PILOT)
    held.run(d("2025-05-12"), "design_notice")
    lodged = b.wd(held.posted, 2)
    oid = objection(b, HELD, "101", "采光和隐私：井道紧贴101室卧室窗，连廊正对客厅，要求井道外移或补偿", lodged)
    steps = [("negotiation", b.wd(lodged, 5), "协商小组上门，提出玻璃井道，101室要求井道外移"),
             ("coordination", d("2025-10-21"), "社区组织协调会，设计单位核算井道外移方案，补偿金额未谈拢"),
             ("mediation", d("2025-12-09"), "提交纸坊街道人民调解委员会，双方同意春节后再次调解")]
    for step, day, note in steps:
        records.mediate_objection(b.ws, HELD, oid, step=step, note=note, at=at(day, "15:00"), actor=OFFICER,
                                  as_role="officer")
    running = Unit(b, RUNNING, SECOND_PILOT)
    running.run(d("2025-10-27"), "design_notice")
    return [first, held, running]

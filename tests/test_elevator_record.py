"""The elevator after acceptance: its record (warranty at least two years), insurance, incidents and repairs
shared by the usage convention's rule; the audit's warnings before the warranty or the insurance ends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit import stalled as audit
from eightstep.cli import main
from eightstep.errors import InputError
from eightstep.records.elevator import add_incident, add_policy, add_repair, elevator_view, set_elevator
from eightstep.records.funding import set_funding
from eightstep.store.workspace import Workspace
from tests.test_money_flow import CASE, at, money_flow

pytestmark = pytest.mark.backends("sqlite", "postgresql")


@pytest.fixture
def flow(tmp_path: Path, db_url: str) -> Iterator[Workspace]:
    yield from money_flow(tmp_path, db_url)


RECORD = {"registration_code": "梯11鄂A20250001", "maker": "奥升电梯", "model": "ASP-450", "load_kg": 450,
          "speed_cms": 100, "stops": 7, "safety_manager": "彭涛", "maintainer": "湖北梯安",
          "maintainer_licence": "TS3442107-2028", "warranty_from": date(2025, 6, 3),
          "warranty_until": date(2027, 6, 2)}


def in_operation(ws: Workspace, tmp_path: Path) -> None:
    """The flow's case taken to operation (agreement signed, nothing to pay, inspected and registered)."""
    scan = tmp_path / "agreement.txt"
    scan.write_text("协议书", encoding="utf-8")
    set_funding(ws, CASE, total=100_000, subsidy=100_000, maintenance=120_000, at=at("2025-03-05"))
    records.add_document(ws, CASE, "agreement", scan, at=at("2025-03-20"))
    engine.advance(ws, CASE, at=at("2025-03-21"))
    engine.advance(ws, CASE, at=at("2025-04-11"))
    records.add_approval(ws, CASE, "supervisory_inspection", authority="检验院", at=at("2025-06-03"))
    records.add_approval(ws, CASE, "use_registration", authority="市场监管局", at=at("2025-06-06"))
    engine.advance(ws, CASE, at=at("2025-06-09"))


def findings(ws: Workspace, day: str, kind: str) -> list[audit.Finding]:
    return [f for f in audit.find(ws, as_of=date.fromisoformat(day)).findings if f.type == kind]


def test_record_refused_before_acceptance_and_with_a_short_warranty(flow: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no use registration on record"):
        set_elevator(flow, CASE, at=at("2025-03-02"), **RECORD)
    in_operation(flow, tmp_path)
    with pytest.raises(InputError, match="shorter than the workflow's minimum of 730 days"):
        set_elevator(flow, CASE, at=at("2025-06-09"), **{**RECORD, "warranty_until": date(2027, 6, 1)})
    with pytest.raises(InputError, match="needs maintainer_licence"):
        set_elevator(flow, CASE, at=at("2025-06-09"), **{**RECORD, "maintainer_licence": None})
    set_elevator(flow, CASE, at=at("2025-06-09"), **RECORD)
    set_elevator(flow, CASE, at=at("2025-07-01"), maintainer="武汉另一维保公司", maintainer_licence="TS3442999")
    view = elevator_view(flow, CASE)
    assert view.elevator is not None and (view.elevator.maintainer, view.elevator.stops) == ("武汉另一维保公司", 7)


@pytest.mark.parametrize("load", [0, 20_000, "450"], ids=["zero", "too-heavy", "text"])
def test_an_implausible_number_is_refused_with_its_field(flow: Workspace, load: object) -> None:
    """Text where a number belongs is refused like an implausible number (it raised a bare TypeError)."""
    with pytest.raises(InputError, match=r"load_kg: .* is not a plausible value"):
        set_elevator(flow, CASE, at=at("2025-06-09"), **{**RECORD, "load_kg": load})


def test_warranty_warning_before_it_ends(flow: Workspace, tmp_path: Path) -> None:
    in_operation(flow, tmp_path)
    set_elevator(flow, CASE, at=at("2025-06-09"), **RECORD)
    assert findings(flow, "2027-05-02", audit.WARRANTY_ENDING) == []  # 31 days before the last day
    [warning] = findings(flow, "2027-05-03", audit.WARRANTY_ENDING)
    assert (warning.due, warning.days_over, warning.subject) == (date(2027, 6, 2), -30, "warranty")
    assert findings(flow, "2027-06-02", audit.WARRANTY_ENDING)[0].days_over == 0
    assert findings(flow, "2027-06-03", audit.WARRANTY_ENDING) == []  # over: nothing left to act on


def test_insurance_ending_renewed_or_lapsed(flow: Workspace, tmp_path: Path) -> None:
    in_operation(flow, tmp_path)
    add_policy(flow, CASE, insurer="人保财险", starts=date(2025, 6, 6), ends=date(2026, 6, 5), policy_number="P1",
               at=at("2025-06-09"))
    assert findings(flow, "2026-05-05", audit.INSURANCE_ENDING) == []
    [ending] = findings(flow, "2026-05-06", audit.INSURANCE_ENDING)
    assert ending.due == date(2026, 6, 5) and "人保财险" in ending.message
    [lapsed] = findings(flow, "2026-06-10", audit.INSURANCE_LAPSED)
    assert (lapsed.due, lapsed.days_over) == (date(2026, 6, 5), 5)
    add_policy(flow, CASE, insurer="人保财险", starts=date(2026, 6, 6), ends=date(2027, 6, 5), policy_number="P2",
               at=at("2026-05-20"))
    assert findings(flow, "2026-05-25", audit.INSURANCE_ENDING) == []  # the renewal is on record
    assert findings(flow, "2026-06-10", audit.INSURANCE_LAPSED) == []
    assert [f.due for f in findings(flow, "2027-05-20", audit.INSURANCE_ENDING)] == [date(2027, 6, 5)]


def test_repair_cost_shared_by_the_conventions_rule(flow: Workspace, tmp_path: Path, db_url: str) -> None:
    in_operation(flow, tmp_path)
    incident = add_incident(flow, CASE, kind="entrapment", description="门锁触点故障，困人15分钟",
                            resolved_at=at("2025-07-01", "11:00"), at=at("2025-07-01", "10:30"))
    free = add_repair(flow, CASE, cost=0, contractor="湖北梯安", description="更换门锁触点（保修期内）",
                      incident_id=incident.id, at=at("2025-07-01", "12:00"))
    assert sum(free.shares.values()) == 0
    paid = add_repair(flow, CASE, cost=68_000, contractor="湖北梯安", description="轿厢按钮面板人为损坏，更换",
                      at=at("2025-08-01"))
    assert sum(paid.shares.values()) == 68_000
    assert paid.shares["201"] == paid.shares["202"] == 0  # like the maintenance: floors 1-2 exempt
    policy = add_policy(flow, CASE, insurer="人保财险", starts=date(2025, 6, 6), ends=date(2026, 6, 5),
                        at=at("2025-08-02"))
    # Each event carries the row it made, ids included (the history can rebuild the rows).
    told = {e.action: json.loads(e.details) for e in engine.history(flow, CASE) if e.action.startswith("elevator.")}
    assert told["elevator.incident"]["incident_id"] == incident.id
    assert (told["elevator.repair"]["repair_id"], told["elevator.repair"]["shares"]["701"]) == (
        paid.id, f"{paid.shares['701'] // 100}.{paid.shares['701'] % 100:02d}")
    assert told["elevator.insure"]["policy_id"] == policy.id
    from eightstep.audit.rows import verify_records

    _count, problems = verify_records(flow)  # the rows, days included, are what the history says
    assert problems == []
    with flow.session() as session:
        session.get(type(policy), policy.id).ends = date(2026, 12, 31)  # edited behind eightstep's back
        session.commit()
    _count, problems = verify_records(flow)
    assert [(p.table, p.field) for p in problems] == [("insurance_policies", "ends")]
    out = CliRunner().invoke(main, ["--db", db_url, "--workflows", str(tmp_path / "flows"), "elevator",
                                    "show", CASE])
    assert out.exit_code == 0, out.output
    assert "incident #1 passengers trapped" in out.output and "680.00 yuan" in out.output
    out = CliRunner().invoke(main, ["--lang", "zh", "--db", db_url, "--workflows", str(tmp_path / "flows"),
                                    "elevator", "show", CASE])
    assert "事件 #1 困人" in out.output and "entrapment" not in out.output, out.output  # the kind, not its code


def test_calendar_deadlines_after_acceptance(flow: Workspace, tmp_path: Path) -> None:
    """The calendar holds the warranty's and the insurance's last days (a renewal moves the latter) and the day an
    open subsidy application is due to be paid by; a paid subsidy leaves it."""
    from eightstep.audit.deadlines import INSURANCE_ENDS, SUBSIDY_DUE, WARRANTY_ENDS, deadlines
    from eightstep.records.subsidy import apply_for_subsidy, pay_subsidy

    def days() -> dict[str, date]:
        return {d.kind: d.day for d in deadlines(flow, case_id=CASE)
                if d.kind in (WARRANTY_ENDS, INSURANCE_ENDS, SUBSIDY_DUE)}

    in_operation(flow, tmp_path)
    assert days() == {}
    set_elevator(flow, CASE, at=at("2025-06-09"), **RECORD)
    add_policy(flow, CASE, insurer="人保财险", starts=date(2025, 6, 6), ends=date(2026, 6, 5), at=at("2025-06-09"))
    apply_for_subsidy(flow, CASE, to="区住房和城市更新局", amount=100_000, at=at("2025-06-10"))
    assert days() == {WARRANTY_ENDS: date(2027, 6, 2), INSURANCE_ENDS: date(2026, 6, 5),
                      SUBSIDY_DUE: date(2025, 9, 8)}  # the workflow's 90 days after the application
    [late] = [f for f in audit.find(flow, as_of=date(2025, 9, 9)).findings if f.type == audit.SUBSIDY_UNPAID]
    assert late.due == days()[SUBSIDY_DUE]  # the day the audit counts from
    pay_subsidy(flow, CASE, 100_000, payer="区住房和城市更新局", account="业主代表专户", at=at("2025-10-15"))
    add_policy(flow, CASE, insurer="人保财险", starts=date(2026, 6, 6), ends=date(2027, 6, 5), at=at("2026-05-20"))
    assert days() == {WARRANTY_ENDS: date(2027, 6, 2), INSURANCE_ENDS: date(2027, 6, 5)}

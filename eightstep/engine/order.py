"""The order and the clocks the law sets between records (a stage's ``requires.order``), and what case check
notes besides its blockers.

The ``order`` guard blocks a stage while a record its rules name is out of order (a works record dated before the
written installation notice, 特种设备安全法 art. 23; a use registration before the supervisory inspection passed,
art. 25) or overdue (no use registration 30 days after the elevator entered use, art. 33; technical files not
handed over 30 days after acceptance). Days are Asia/Shanghai days; a period does not count its first day and
ends at 24:00 of its last (Civil Code arts. 201, 203).

``case_notes`` says what does not block but should be known: a record on file that came later than its rule
allows (it happened; it is kept), and records that only make sense in a later stage (an S5 approval recorded in
S1), which are kept and count once the case gets there.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from eightstep.engine.guards import Blocker, CaseRecords, GuardContext, Reads, guard, provisional_note
from eightstep.i18n import _
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.timeutil import as_utc, local_date, local_midnight_utc, now_utc
from eightstep.workflow.schema import OrderRule, Requirements, Stage, Workflow

if TYPE_CHECKING:
    from eightstep.store.workspace import Workspace


def kind_title(wf: Workflow, kind: str) -> str:
    spec = wf.documents.get(kind) or wf.approvals.get(kind)
    return spec.title if spec is not None else kind


def record_days(records: CaseRecords, kind: str, counts: Any) -> list[date]:
    """The days (Asia/Shanghai) of the records of ``kind`` that count: documents, and approvals granted."""
    days = [local_date(d.issued_at) for d in records.documents if d.kind == kind and counts(d.issued_at)]
    days += [local_date(a.decided_at) for a in records.approvals
             if a.kind == kind and a.decision == "approved" and counts(a.decided_at)]
    return sorted(days)


def due_day(calendar: WorkCalendar, rule: OrderRule, first: date) -> date:
    assert rule.within is not None
    return calendar.add_days(first, rule.within.days, working=rule.within.calendar == "working")


def _out_of_order(wf: Workflow, rule: OrderRule, first: list[date], then: list[date]) -> str | None:
    earlier, later = kind_title(wf, rule.earlier), kind_title(wf, rule.later)
    if not first:
        return _("{later} is on record ({day}) but {earlier} is not: {basis} requires {earlier} first").format(
            later=later, day=then[0], earlier=earlier, basis=rule.basis)
    if then[0] < first[0]:
        return _("out of order: {later} is dated {day}, before {earlier} ({first}): {basis} requires {earlier} "
                 "first").format(later=later, day=then[0], earlier=earlier, first=first[0], basis=rule.basis)
    return None


def order_reads(req: Requirements) -> Reads:
    """The documents and approvals of the kinds a stage's order rules name."""
    kinds = frozenset(k for rule in req.order for k in (rule.earlier, rule.later))
    return {"documents": kinds, "approvals": kinds} if kinds else {}


@guard("order", reads=order_reads)
def in_order(ctx: GuardContext) -> list[Blocker]:
    out = []
    for rule in ctx.stage.requires.order:
        first = record_days(ctx.records, rule.earlier, ctx.counts)
        then = record_days(ctx.records, rule.later, ctx.counts)
        if rule.ordered and then:
            wrong = _out_of_order(ctx.workflow, rule, first, then)
            if wrong is not None:
                out.append(Blocker("order", wrong, kind=rule.later))
        if rule.within is None or not first or then:
            continue
        due = due_day(ctx.calendar, rule, first[0])
        over_from = local_midnight_utc(due + timedelta(days=1))  # overdue from this instant on
        if local_date(ctx.at) <= due:
            ctx.holds(until=over_from)
            continue
        ctx.holds(since=over_from)
        years = ctx.calendar.provisional_years(first[0], due) if rule.within.calendar == "working" else []
        message = _("overdue: {later} was due by {due}, {days} days after {earlier} ({first}) ({basis})").format(
            later=kind_title(ctx.workflow, rule.later), due=due, days=rule.within.days,
            earlier=kind_title(ctx.workflow, rule.earlier), first=first[0], basis=rule.basis)
        if years:
            message += f" ({provisional_note(years)})"
        out.append(Blocker("order", message, kind=rule.later, until=due, provisional=bool(years)))
    return out


# --- what case check notes -------------------------------------------------------------------------------

def late_records(wf: Workflow, stage: Stage, records: CaseRecords, calendar: WorkCalendar,
                 at: datetime) -> list[str]:
    """Records of the stage's order rules on file later than their rule allows."""
    def counts(when: datetime) -> bool:
        return as_utc(when) <= at and (records.evidence_from is None or as_utc(when) >= as_utc(records.evidence_from))

    out = []
    for rule in stage.requires.order:
        first = record_days(records, rule.earlier, counts)
        then = record_days(records, rule.later, counts)
        if rule.within is None or not first or not then:
            continue
        due = due_day(calendar, rule, first[0])
        if then[0] > due:
            out.append(_("late: {later} is dated {day}, after {due}, the end of the {days} days from {earlier} "
                         "({first}) that {basis} allows; it is kept on record").format(
                later=kind_title(wf, rule.later), day=then[0], due=due, days=rule.within.days,
                earlier=kind_title(wf, rule.earlier), first=first[0], basis=rule.basis))
    return out


def later_stage_records(wf: Workflow, stage_id: str, records: CaseRecords) -> list[str]:
    """Records on file whose kind only a later stage asks for: kept; they count when the case gets there."""
    position = wf.stage_positions[stage_id]
    asked: dict[str, int] = {}  # kind -> the first stage that requires it
    for index, stage in enumerate(wf.stages):
        for kind in [*stage.requires.documents, *stage.requires.approvals]:
            asked.setdefault(kind, index)
    out = []
    seen: set[str] = set()
    for kind, day in [*((d.kind, local_date(d.issued_at)) for d in records.documents),
                      *((a.kind, local_date(a.decided_at)) for a in records.approvals)]:
        first = asked.get(kind)
        if first is None or first <= position or kind in seen:
            continue
        seen.add(kind)
        later = wf.stages[first]
        out.append(_("{title} ({day}) belongs to S{index} {stage} {stage_title}, a later stage: it is kept on "
                     "record and counts when the case gets there").format(
            title=kind_title(wf, kind), day=day, index=first + 1, stage=later.id, stage_title=later.title))
    return out


def case_notes(ws: Workspace, case_id: str, at: datetime | None = None) -> list[str]:
    """What ``case check`` says besides the blockers: late records and records of a later stage."""
    from eightstep.store import read  # (the read layer: no ORM classes imported for a read)

    at = now_utc() if at is None else as_utc(at)
    with ws.reading() as conn:
        case = read.case(conn, case_id)
        loaded = read.workflow(conn, ws.workflows, case)
        documents = read.records(conn, "documents", [case_id], names=("case_id", "kind", "issued_at"))
        approvals = read.records(conn, "approvals", [case_id],
                                 names=("case_id", "kind", "decision", "decided_at"))
    records = CaseRecords(documents=documents.get(case_id, []), approvals=approvals.get(case_id, []),
                          households=[], ballots=[], objections=[], evidence_from=case.evidence_from)
    wf = loaded.definition
    return [*late_records(wf, wf.stage(case.stage), records, ws.calendar, at),
            *later_stage_records(wf, case.stage, records)]

"""The coming deadlines of cases, for a calendar: when a stage's stall limit ends, when a public notice ends,
when a suspension is to be reviewed, when the elevator's maintenance is due and when its periodic inspection
must be requested and expires; after acceptance, when the installation's warranty and the safety-liability
insurance end, and by when a subsidy applied for should be paid (the workflow's ``subsidy.paid_within``).

Every date is a day in Asia/Shanghai, counted as the audit counts it (working days with the statutory holidays
where the workflow says so; a stage clock stands still while a case is suspended). Each deadline has a stable
``key`` (case, what, stage or subject), so that an exported calendar updates its events when re-imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, select

from eightstep.audit.aftercare import ELEVATORS, POLICIES, STEPS, StepRow, coverage
from eightstep.audit.stalled import CASES, Limit, add_days
from eightstep.engine.checking import check_many
from eightstep.engine.views import list_cases
from eightstep.i18n import _, pick
from eightstep.rules.money import yuan
from eightstep.rules.subsidy import subsidy_status
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import read
from eightstep.store.tables import ACTIVE, SUSPENDED
from eightstep.store.workspace import Workspace
from eightstep.timeutil import local_date
from eightstep.workflow.schema import Workflow

STAGE_LIMIT = "stage_limit"
NOTICE_ENDS = "notice_ends"
SUSPENSION_REVIEW = "suspension_review"
MAINTENANCE_DUE = "maintenance_due"
INSPECTION_REQUEST = "inspection_request"
INSPECTION_EXPIRES = "inspection_expires"
WARRANTY_ENDS = "warranty_ends"
INSURANCE_ENDS = "insurance_ends"
SUBSIDY_DUE = "subsidy_due"


@dataclass(frozen=True)
class Deadline:
    case: str
    complex: str
    unit: str  # 3栋2单元
    kind: str  # one of the constants above
    day: date  # the last day (Asia/Shanghai)
    title: str  # in the chosen language
    detail: str
    subject: str  # the stage id, or what the deadline is about
    provisional: bool = False  # counted in working days across a year without official holiday data

    @property
    def key(self) -> str:
        """Stable across exports: the same deadline of the same case keeps its key when its day moves."""
        return f"{self.case}.{self.kind}.{self.subject}"

    def as_dict(self) -> dict[str, str | bool]:
        return {"case": self.case, "kind": self.kind, "day": self.day.isoformat(), "subject": self.subject,
                "title": self.title, "detail": self.detail, "key": self.key, "provisional": self.provisional}


def deadlines(ws: Workspace, *, complex_name: str | None = None, case_id: str | None = None,
              since: date | None = None) -> list[Deadline]:
    """The deadlines of active and suspended cases (of one complex, or one case), soonest first: all of them
    (a passed one is overdue), or those on or after ``since``."""
    views = {v.id: v for v in list_cases(ws, complex_name=complex_name, include_withdrawn=False)
             if case_id is None or v.id == case_id}
    found: list[Deadline] = []
    with ws.engine.connect() as conn:
        workflows = read.workflows(conn, ws.workflows)
        rows = [r for r in conn.execute(select(CASES).where(CASES.c.id.in_(list(views))))] if views else []
        after = _after_acceptance_records(conn, [r.id for r in rows])
    notice_ends = _notice_ends(ws, [r.id for r in rows if r.status == ACTIVE and
                                    workflows[r.workflow_sha256].definition.stage(r.stage).requires.notice])
    for row in rows:
        wf = workflows[row.workflow_sha256].definition
        view = views[row.id]
        unit = f"{view.building}栋{view.unit}单元"
        for kind, day, subject, title, detail, counted_from in (*_of_case(ws, wf, row, notice_ends.get(row.id)),
                                                                *_after_acceptance(ws, wf, row.id, after)):
            if since is None or day >= since:
                provisional = counted_from is not None and bool(ws.calendar.provisional_years(counted_from, day))
                if provisional:
                    detail += " " + _("(provisional: counted with weekends only for a year without official "
                                      "holiday data)")
                found.append(Deadline(row.id, view.complex, unit, kind, day, title, detail, subject, provisional))
    return sorted(found, key=lambda d: (d.day, d.case, d.kind))


def _notice_ends(ws: Workspace, case_ids: list[str]) -> dict[str, tuple[date, bool]]:
    """The last day of each running public notice (from the guards, which count it), and whether it is
    provisional."""
    out = {}
    for case_id, result in check_many(ws, case_ids).items():
        for blocker in result.blockers:
            if blocker.type == "notice" and blocker.until is not None:
                out[case_id] = (blocker.until, blocker.provisional)
    return out


Found = tuple[str, date, str, str, str, date | None]  # kind, day, subject, title, detail, working days counted from


class CaseRow(Protocol):
    """The columns of a case the deadlines are computed from (a row of the read layer)."""

    @property
    def stage(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def status_reason(self) -> str | None: ...
    @property
    def stage_entered_at(self) -> datetime: ...
    @property
    def clock_started_at(self) -> datetime: ...
    @property
    def suspended_at(self) -> datetime | None: ...
    @property
    def review_at(self) -> datetime | None: ...
    @property
    def maintained_at(self) -> datetime | None: ...
    @property
    def inspected_at(self) -> datetime | None: ...


def _of_case(ws: Workspace, wf: Workflow, row: CaseRow, notice_end: tuple[date, bool] | None) -> Iterator[Found]:
    cal = ws.calendar
    stage = wf.stage(row.stage)
    title = pick(stage.title, stage.title_en)
    status = row.status
    if status == ACTIVE and stage.stall_limit is not None:
        limit = Limit.of(stage.stall_limit)
        started = local_date(row.clock_started_at)
        yield (STAGE_LIMIT, add_days(cal, started, limit.days, limit.working), stage.id,
               _("{stage}: stall limit ends").format(stage=title),
               _("in the stage since {day}; limit {limit}").format(day=started, limit=limit),
               started if limit.working else None)
    if notice_end is not None:
        end, provisional = notice_end
        yield (NOTICE_ENDS, end, stage.id, _("public notice ends"),
               _("the case may move on from the next day if nothing else blocks it"), end if provisional else None)
    if status == SUSPENDED:
        yield from _suspension(ws, wf, row)
    if status == ACTIVE and wf.next_of(stage.id) is None and wf.upkeep is not None:
        yield from _upkeep(ws, wf, row)


def _suspension(ws: Workspace, wf: Workflow, row: CaseRow) -> Iterator[Found]:
    reason = row.status_reason or ""
    review: datetime | None = row.review_at
    if review is not None:
        yield (SUSPENSION_REVIEW, local_date(review), "suspension", _("review the suspension"), reason, None)
    elif row.suspended_at is not None:
        limit = Limit.of(wf.suspension.review_within)
        start = local_date(row.suspended_at)
        day = add_days(ws.calendar, start, limit.days, limit.working)
        yield (SUSPENSION_REVIEW, day, "suspension", _("review the suspension (no review date was set)"), reason,
               start if limit.working else None)


def _upkeep(ws: Workspace, wf: Workflow, row: CaseRow) -> Iterator[Found]:
    upkeep = wf.upkeep
    assert upkeep is not None
    cal = ws.calendar
    entered = local_date(row.stage_entered_at)
    maintained = row.maintained_at
    every = Limit.of(upkeep.maintenance_every)
    since = max(entered, local_date(maintained)) if maintained else entered
    doc = wf.documents[upkeep.maintenance_document]
    yield (MAINTENANCE_DUE, add_days(cal, since, every.days, every.working), upkeep.maintenance_document,
           _("maintenance due: {what}").format(what=pick(doc.title, doc.title_en)),
           _("last on {day}; every {limit}").format(day=since, limit=every), since if every.working else None)
    inspected = row.inspected_at
    base = max(entered, local_date(inspected)) if inspected else entered
    valid, before = Limit.of(upkeep.inspection_valid), Limit.of(upkeep.request_before)
    expires = add_days(cal, base, valid.days, valid.working)
    request_by = _days_before(cal, expires, before)
    yield (INSPECTION_REQUEST, request_by, upkeep.inspection_document, _("request the periodic inspection"),
           _("the inspection expires on {day}").format(day=expires), base if valid.working or before.working else None)
    yield (INSPECTION_EXPIRES, expires, upkeep.inspection_document, _("periodic inspection expires"),
           _("inspected on {day}").format(day=base), base if valid.working else None)


AfterAcceptance = tuple[dict[str, list[Any]], dict[str, list[Any]], dict[str, list[Any]]]


def _after_acceptance_records(conn: Connection, case_ids: list[str]) -> AfterAcceptance:
    """The elevators' warranties, the insurance policies and the subsidy steps of ``case_ids``, by case."""
    return (read.records(conn, ELEVATORS, case_ids, names=("case_id", "warranty_from", "warranty_until")),
            read.records(conn, POLICIES, case_ids, names=("id", "case_id", "insurer", "starts", "ends")),
            read.records(conn, STEPS, case_ids, names=("id", "case_id", "step", "at", "amount_fen", "payer")))


def _after_acceptance(ws: Workspace, wf: Workflow, case_id: str, records: AfterAcceptance) -> Iterator[Found]:
    """The warranty's last day, the last day the insurance on record covers (a renewal moves it), and the day an
    open subsidy application is due to be paid by."""
    elevators, policies, steps = (found.get(case_id, []) for found in records)
    for elevator in elevators:
        yield (WARRANTY_ENDS, elevator.warranty_until, "warranty", _("installation warranty ends"),
               _("under warranty since {day}: have the elevator checked and defects repaired before it ends").format(
                   day=elevator.warranty_from), None)
    periods = coverage(policies)
    if periods:
        _first, last, insurer = periods[-1]
        yield (INSURANCE_ENDS, last, "insurance", _("safety-liability insurance ends"),
               _("{insurer}: renew the policy before then").format(insurer=insurer), None)
    status = subsidy_status([StepRow(r) for r in steps])
    if wf.subsidy is not None and status.open and status.applied_on is not None:
        limit = Limit.of(wf.subsidy.paid_within)
        yield (SUBSIDY_DUE, add_days(ws.calendar, status.applied_on, limit.days, limit.working), "subsidy",
               _("subsidy to be paid"),
               _("{amount} yuan applied for on {day}, {unpaid} yuan unpaid; limit {limit}").format(
                   amount=yuan(status.expected), day=status.applied_on, unpaid=yuan(status.unpaid), limit=limit),
               status.applied_on if limit.working else None)


def _days_before(cal: WorkCalendar, end: date, limit: Limit) -> date:
    """The day from which ``end`` is at most ``limit`` away (the audit's "request it this long before")."""
    day = end
    while cal.days_between(day, end, working=limit.working) < limit.days:
        day -= timedelta(days=1)
    return day

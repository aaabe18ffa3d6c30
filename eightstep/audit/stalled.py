"""The audit: which cases are stuck, where, since when, waiting on whom, and what exactly is missing.

Every rule is "more than N days since some date", N in calendar or working days (Chinese statutory calendar).
How days are counted (the same everywhere in eightstep, like notice periods):

* Days are Asia/Shanghai calendar dates. The starting day is not counted: a stage entered on 09-29 has spent
  1 day in it on 09-30. In working days only working days in ``(start, as_of]`` count (调休 weekends count,
  holidays do not), so a stage whose limit is in working days also shows its age in working days.
* A case *exceeds* its limit when the count is strictly greater than the limit: on the N-th day it is still
  within the limit (the ``due`` date), from the next day on it is over. ``days_over`` = count - limit.

The audit never loads every case. For each stored workflow snapshot (there are few) and each rule, the
latest start date that is still within the limit is computed in Python (``over_cutoff``), and SQL filters with
an OR of ``(workflow_sha256 = :w AND stage = :s AND clock_started_at < :cutoff)``, which SQLite answers with one
range search per term on ``ix_cases_stage_clock`` (see ``tests/test_audit.py::test_stall_query_uses_the_index``
for the plan). Only the cases found are then checked with the engine for their blockers, reusing the answers
kept for cases that have not changed since (``eightstep.engine.checkcache``).

``as_of`` judges every case as it stood at the end of that date: records dated after it (documents, mediation
steps, ballots, ...) are ignored, and a case that has moved since (a later advance, return, suspension, ...) is
judged in the stage and status it had then, replayed from its history (``eightstep.engine.asof``). So the same date
gives the same answer however the cases have moved on. The SQL path serves every case that has not moved
since, which for today's audit is all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Row, and_, exists, false, or_, select

from eightstep import engine
from eightstep.engine import asof
from eightstep.engine.guards import Blocker
from eightstep.engine.recordload import light_columns
from eightstep.errors import NotFoundError
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import models
from eightstep.store.models import ACTIVE, SUSPENDED, WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, local_date, local_midnight_utc, now_utc
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workflow.schema import Period, Stage, Workflow

STAGE_OVERDUE = "stage_overdue"
OBJECTION_UNMEDIATED = "objection_unmediated"
MAINTENANCE_OVERDUE = "maintenance_overdue"
INSPECTION_DUE = "inspection_due"
INSPECTION_OVERDUE = "inspection_overdue"
SUSPENSION_REVIEW_OVERDUE = "suspension_review_overdue"
FINDING_TYPES = (STAGE_OVERDUE, OBJECTION_UNMEDIATED, MAINTENANCE_OVERDUE, INSPECTION_OVERDUE, INSPECTION_DUE,
                 SUSPENSION_REVIEW_OVERDUE)

ONE_DAY = timedelta(days=1)
_IN_CHUNK = 500  # ids per IN (...) list: far below any database's limit on bound parameters
_SEARCH_HORIZON_DAYS = 1 << 15  # ~90 years: far beyond any limit a workflow may set (3650 days)


# --- counting days ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    """A limit of ``days`` calendar days or working days."""

    days: int
    calendar: str  # calendar | working

    @classmethod
    def of(cls, period: Period) -> Limit:
        return cls(period.days, period.calendar)

    @property
    def working(self) -> bool:
        return self.calendar == "working"

    @property
    def unit(self) -> str:
        return "working days" if self.working else "days"

    @property
    def unit_zh(self) -> str:
        return "个工作日" if self.working else "日"

    def __str__(self) -> str:
        return f"{self.days} {'wd' if self.working else 'd'}"

    def as_dict(self) -> dict[str, Any]:
        return {"days": self.days, "calendar": self.calendar}


def today() -> date:
    """Today in Asia/Shanghai: the default audit date."""
    return local_date(now_utc())


def end_of(day: date) -> datetime:
    """The first instant after ``day`` ends in Asia/Shanghai (UTC): everything before it counts as of ``day``."""
    return local_midnight_utc(day + ONE_DAY)


def check_time(day: date) -> datetime:
    """What the guards are asked about: the last instant of ``day`` (for a future day, the blockers that will
    still stand then, such as a notice period running past it)."""
    return end_of(day) - timedelta(microseconds=1)


@lru_cache(maxsize=1 << 16)
def count_days(calendar: WorkCalendar, start: date, end: date, working: bool) -> int:
    """Days in ``(start, end]``: the start day is not counted. (Cached: an audit asks about the same few
    hundred start dates thousands of times; a calendar never changes once loaded.)"""
    return calendar.days_between(start, end, working=working)


@lru_cache(maxsize=1 << 16)
def add_days(calendar: WorkCalendar, start: date, days: int, working: bool) -> date:
    """The last day within a limit of ``days`` counted after ``start``."""
    return calendar.add_days(start, days, working=working)


def signed_days(calendar: WorkCalendar, due: date, as_of: date, working: bool) -> int:
    """Days from ``due`` to ``as_of``: positive when past it, negative when still ahead."""
    if as_of >= due:
        return count_days(calendar, due, as_of, working)
    return -count_days(calendar, as_of, due, working)


def over_cutoff(as_of: date, over: Callable[[date], bool]) -> date | None:
    """The cutoff C with ``over(d) <=> d < C`` for every ``d <= as_of``; None when no date is over.

    ``over`` must be monotone: true for old enough dates, false from some date on (every rule of the audit
    is "too long since d"). Exponential search back from ``as_of``, then bisection: a dozen or two calls.
    """
    if over(as_of):
        return as_of + ONE_DAY
    within = as_of  # over(within) is False
    step = 1
    while True:
        probe = as_of - timedelta(days=step)
        if over(probe):
            break
        within = probe
        if step > _SEARCH_HORIZON_DAYS:
            return None
        step *= 2
    while (within - probe).days > 1:  # over(probe) and not over(within)
        middle = probe + timedelta(days=(within - probe).days // 2)
        if over(middle):
            probe = middle
        else:
            within = middle
    return within


def limit_cutoff(calendar: WorkCalendar, as_of: date, limit: Limit) -> date | None:
    """Dates before the cutoff are more than ``limit`` days before ``as_of``."""
    return over_cutoff(as_of, lambda d: count_days(calendar, d, as_of, limit.working) > limit.days)


def clock_days(calendar: WorkCalendar, case: models.Case | Row[Any], stage: Stage, as_of: date) -> int:
    """How long the case has been in its stage as of ``as_of``, suspended time excluded.

    Counted in working days when the stage limit is in working days, else in calendar days. The clock starts
    at ``clock_started_at`` (stage entry moved forward by earlier suspensions) and stands still while the case
    is suspended.
    """
    working = stage.stall_limit is not None and stage.stall_limit.calendar == "working"
    end = as_of
    if case.status == SUSPENDED and case.suspended_at is not None:
        end = min(end, local_date(case.suspended_at))
    return count_days(calendar, local_date(case.clock_started_at), end, working)


# --- findings --------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Finding:
    """One thing the audit flags about one case.

    ``since`` is the date this finding's clock counts from (stage: clock start; objection: lodged; maintenance:
    last record or entry into operation; inspection: last inspection or entry into operation; suspension: the
    day it was suspended). ``due`` is the last day within the limit (inspection: the expiry date; suspension:
    the review date). ``days_over`` counts days after ``due`` in the limit's unit; it is negative for
    ``inspection_due`` (days left before expiry).
    """

    type: str
    case: str
    complex: str
    building: str
    unit: str
    workflow_id: str
    workflow_version: str
    stage: str
    stage_index: int
    stage_title: str
    status: str
    entered_on: date
    days_in_stage: int
    days_in_stage_unit: str  # calendar | working
    limit: Limit | None
    since: date
    due: date
    days_over: int
    waiting_on: str
    subject: str
    message: str
    blockers: tuple[Blocker, ...] = ()
    provisional: bool = False  # working days counted across a year without official holiday data

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type, "case": self.case, "complex": self.complex, "building": self.building,
            "unit": self.unit, "workflow": {"id": self.workflow_id, "version": self.workflow_version},
            "stage": self.stage, "stage_index": self.stage_index, "stage_title": self.stage_title,
            "status": self.status, "entered_on": self.entered_on.isoformat(),
            "days_in_stage": self.days_in_stage, "days_in_stage_unit": self.days_in_stage_unit,
            "limit": self.limit.as_dict() if self.limit else None, "since": self.since.isoformat(),
            "due": self.due.isoformat(), "days_over": self.days_over, "waiting_on": self.waiting_on,
            "subject": self.subject, "message": self.message, "provisional": self.provisional,
            "blockers": [b.as_dict() for b in self.blockers],
        }


@dataclass(frozen=True)
class AuditResult:
    as_of: date
    complex: str | None
    findings: list[Finding]
    cases_checked: int = 0  # cases the engine checked for blockers (the ones found)


CASES = models.Case.__table__
COMPLEXES = models.Complex.__table__
DOCUMENTS = models.Document.__table__
OBJECTIONS = models.Objection.__table__
MEDIATION_STEPS = models.MediationStep.__table__
# What a finding reads of its case (Core rows: an audit of a city builds tens of thousands of findings).
CASE_COLUMNS = ("id", "complex_id", "building", "unit", "workflow_id", "workflow_version", "workflow_sha256",
                "stage", "status", "status_reason", "review_at", "stage_entered_at", "clock_started_at",
                "suspended_at", "maintained_at", "inspected_at")


@dataclass(frozen=True)
class StageInfo:
    """What every finding of one stage of one workflow shares."""

    stage: Stage
    index: int  # 1-based position in the workflow
    working: bool  # the stage's limit (and so its age) is in working days
    responsible: str  # the title of the party responsible for the stage


@dataclass
class AuditScope:
    """What every query of one audit shares: the date, the complex filter, the workflows in use."""

    ws: Workspace
    conn: Connection
    as_of: date
    complex_id: int | None
    workflows: dict[str, LoadedWorkflow] = field(default_factory=dict)
    complex_names: dict[int, str] = field(default_factory=dict)
    moved: set[str] = field(default_factory=set)  # cases that moved after the audit date: judged as they were
    _stages: dict[tuple[str, str], StageInfo] = field(default_factory=dict)

    @property
    def end(self) -> datetime:
        return end_of(self.as_of)

    @property
    def calendar(self) -> WorkCalendar:
        return self.ws.calendar

    def cases(self, query: Any) -> Any:
        """Restrict a query on cases to the complex, if one was asked for."""
        if self.complex_id is not None:
            query = query.where(CASES.c.complex_id == self.complex_id)
        return query

    def rows(self, query: Any) -> list[Row[Any]]:
        """Run ``query``; the names of the complexes of its rows are read too (one query per few hundred)."""
        rows = self.conn.execute(query).all()
        unnamed = sorted({row.complex_id for row in rows} - self.complex_names.keys())
        for i in range(0, len(unnamed), _IN_CHUNK):
            chunk = unnamed[i:i + _IN_CHUNK]
            self.complex_names.update((row.id, row.name) for row in self.conn.execute(
                select(COMPLEXES.c.id, COMPLEXES.c.name).where(COMPLEXES.c.id.in_(chunk))))
        return rows

    def current(self, query: Any) -> list[Row[Any]]:
        """``rows`` of the cases whose row still says how they stood on the audit date."""
        return [row for row in self.rows(query) if row.id not in self.moved]

    def past_cases(self, case_ids: list[str]) -> tuple[list[Any], dict[str, asof.State]]:
        """Cases that have moved since the audit date, as they stood at its end (``eightstep.engine.asof``): their rows
        with the stage and status of then, and those states; cases opened later are left out."""
        states = asof.states_at(self.conn, case_ids, self.end)
        rows = self.rows(case_query(self, CASES.c.id.in_(sorted(states))))
        return [asof.as_then(row._asdict(), states[row.id]) for row in rows], states

    def stage_info(self, sha256: str, stage_id: str) -> StageInfo:
        key = (sha256, stage_id)
        info = self._stages.get(key)
        if info is None:
            wf = self.workflows[sha256].definition
            stage = wf.stage(stage_id)
            working = stage.stall_limit is not None and stage.stall_limit.calendar == "working"
            info = self._stages[key] = StageInfo(stage, wf.stage_ids().index(stage_id) + 1, working,
                                                 authority_title(wf, stage.responsible))
        return info

    def finding(self, case: Any, kind: str, *, limit: Limit | None, since: date, due: date,
                days_over: int, waiting_on: str | None, subject: str, message: str) -> Finding:
        info = self.stage_info(case.workflow_sha256, case.stage)
        return Finding(
            type=kind, case=case.id, complex=self.complex_names.get(case.complex_id, "?"), building=case.building,
            unit=case.unit, workflow_id=case.workflow_id, workflow_version=case.workflow_version, stage=case.stage,
            stage_index=info.index, stage_title=info.stage.title, status=case.status,
            entered_on=local_date(case.stage_entered_at),
            days_in_stage=clock_days(self.calendar, case, info.stage, self.as_of),
            days_in_stage_unit="working" if info.working else "calendar", limit=limit, since=since, due=due,
            days_over=days_over, waiting_on=waiting_on or info.responsible, subject=subject, message=message,
            provisional=limit is not None and limit.working
            and bool(self.calendar.provisional_years(since, max(due, self.as_of))),
        )


def authority_title(wf: Workflow, authority_id: str) -> str:
    auth = wf.authorities.get(authority_id)
    return auth.title if auth else authority_id


def load_workflows(ws: Workspace, conn: Connection) -> dict[str, LoadedWorkflow]:
    """Every stored workflow snapshot, by hash. A district has a handful, not one per case."""
    snapshots = models.WorkflowSnapshot.__table__
    rows = conn.execute(select(snapshots.c.sha256, snapshots.c.workflow_id, snapshots.c.version,
                               snapshots.c.content)).all()
    return {r.sha256: ws.workflows.from_snapshot(r.content, r.sha256, f"{r.workflow_id} {r.version}") for r in rows}


def final_stages(wf: Workflow) -> list[Stage]:
    return [s for s in wf.stages if wf.next_of(s.id) is None]


def case_query(scope: AuditScope, *where: Any) -> Any:
    """The finding columns of the cases matching ``where`` (and the audit's complex)."""
    return scope.cases(select(*light_columns(scope.conn.dialect.name, CASES, CASE_COLUMNS)).where(*where))


# --- the rules -------------------------------------------------------------------------------------------

def stall_terms(scope: AuditScope) -> list[Any]:
    """One ``(workflow_sha256 = :w AND stage = :s AND clock_started_at < :cutoff)`` per stage with a limit."""
    terms = []
    for sha, loaded in scope.workflows.items():
        for stage in loaded.definition.stages:
            if stage.stall_limit is None:
                continue
            cutoff = limit_cutoff(scope.calendar, scope.as_of, Limit.of(stage.stall_limit))
            if cutoff is None:
                continue
            terms.append(and_(CASES.c.workflow_sha256 == sha, CASES.c.stage == stage.id,
                              CASES.c.clock_started_at < local_midnight_utc(cutoff)))
    return terms


def stall_query(scope: AuditScope) -> Any:
    """Active cases past their stage's limit (the SQL does the filtering, on ``ix_cases_stage_clock``)."""
    terms = stall_terms(scope)
    return case_query(scope, CASES.c.status == ACTIVE, or_(*terms) if terms else false())


Past = list[Any] | None  # the rules' second argument: cases as they stood on a past audit date (``past_cases``)


def stalled_stages(scope: AuditScope, past: Past = None) -> list[Finding]:
    """Active cases longer in their stage than its limit: found by SQL, or among ``past``."""
    out = []
    for case in scope.current(stall_query(scope)) if past is None else past:
        finding = _stalled_stage(scope, case)
        if finding is not None:
            out.append(finding)
    return out


def _stalled_stage(scope: AuditScope, case: Any) -> Finding | None:
    stage = scope.stage_info(case.workflow_sha256, case.stage).stage
    if case.status != ACTIVE or stage.stall_limit is None:
        return None
    limit = Limit.of(stage.stall_limit)
    start = local_date(case.clock_started_at)
    days = count_days(scope.calendar, start, scope.as_of, limit.working)
    if days <= limit.days:  # (for the SQL's rows this cannot happen: its cutoff is exact)
        return None
    return scope.finding(
        case, STAGE_OVERDUE, limit=limit, since=start,
        due=add_days(scope.calendar, start, limit.days, limit.working), days_over=days - limit.days,
        waiting_on=None, subject=f"stage {case.stage}",
        message=f"{stage.title}已{days}{limit.unit_zh}，时限{limit.days}{limit.unit_zh}，超出{days - limit.days}"
                f"{limit.unit_zh} / {days} {limit.unit} in {stage.title_en}, limit {limit.days}: "
                f"{days - limit.days} over")


def unmediated_objections(scope: AuditScope, past: Past = None) -> list[Finding]:
    """Open objections (counted ones) with no mediation step at all, lodged longer ago than the workflow allows,
    of cases not withdrawn (on the audit date, for ``past``)."""
    terms = []
    limits: dict[str, Limit] = {}
    for sha, loaded in scope.workflows.items():
        policy = loaded.definition.objections
        limits[sha] = Limit.of(policy.mediation_within)
        cutoff = limit_cutoff(scope.calendar, scope.as_of, limits[sha])
        if cutoff is None:
            continue
        term = and_(CASES.c.workflow_sha256 == sha, OBJECTIONS.c.lodged_at < local_midnight_utc(cutoff))
        if policy.only_written_real_name:
            term = and_(term, OBJECTIONS.c.written.is_(True), OBJECTIONS.c.real_name.is_(True))
        terms.append(term)
    if not terms:
        return []
    end = scope.end
    stepped = exists().where(MEDIATION_STEPS.c.objection_id == OBJECTIONS.c.id, MEDIATION_STEPS.c.at < end)
    dialect = scope.conn.dialect.name
    objection_columns = [c.label(f"objection_{c.name}") for c in light_columns(
        dialect, OBJECTIONS, ("id", "room", "objector", "grounds", "lodged_at"))]
    query = scope.cases(
        select(*light_columns(dialect, CASES, CASE_COLUMNS), *objection_columns)
        .join_from(OBJECTIONS, CASES, CASES.c.id == OBJECTIONS.c.case_id)
        .where(or_(*terms), ~stepped, or_(OBJECTIONS.c.resolved_at.is_(None), OBJECTIONS.c.resolved_at >= end)))
    if past is None:
        rows = scope.current(query.where(CASES.c.status != WITHDRAWN))
    else:
        then = {case.id: case for case in past}
        rows = [SimpleNamespace(**{**row._asdict(), **vars(then[row.id])})
                for row in scope.rows(query.where(CASES.c.id.in_(sorted(then)))) if then[row.id].status != WITHDRAWN]
    out = []
    for row in rows:
        limit = limits[row.workflow_sha256]
        lodged = local_date(row.objection_lodged_at)
        days = count_days(scope.calendar, lodged, scope.as_of, limit.working)
        oid = row.objection_id
        who = f"{row.objection_room}室" if row.objection_room else (row.objection_objector or "匿名")
        out.append(scope.finding(
            row, OBJECTION_UNMEDIATED, limit=limit, since=lodged,
            due=add_days(scope.calendar, lodged, limit.days, limit.working), days_over=days - limit.days,
            waiting_on=None, subject=f"objection #{oid}",
            message=f"异议#{oid}（{who}：{row.objection_grounds}）{lodged}提出，{days}{limit.unit_zh}无调解记录（时限"
                    f"{limit.days}{limit.unit_zh}） / objection #{oid} lodged {lodged}: no mediation step in "
                    f"{days} {limit.unit} (limit {limit.days})"))
    return out


def _latest_documents(scope: AuditScope, case_ids: list[str], kind: str) -> dict[str, date]:
    """The date of the latest document of ``kind`` issued up to the audit date, per case."""
    latest: dict[str, date] = {}
    issued = light_columns(scope.conn.dialect.name, DOCUMENTS, ("issued_at",))[0]
    for i in range(0, len(case_ids), _IN_CHUNK):
        rows = scope.conn.execute(select(DOCUMENTS.c.case_id, issued).where(
            DOCUMENTS.c.case_id.in_(case_ids[i:i + _IN_CHUNK]), DOCUMENTS.c.kind == kind,
            DOCUMENTS.c.issued_at < scope.end))
        for case_id, when in rows:
            day = local_date(when)
            if case_id not in latest or day > latest[case_id]:
                latest[case_id] = day
    return latest


def upkeep_cases(scope: AuditScope, sha: str, wf: Workflow, column: str, kind: str, cutoff: date
                 ) -> list[tuple[Row[Any], date | None]]:
    """Active cases of workflow ``sha`` in a final stage whose last ``kind`` record up to the audit date (or their
    entry into the stage, whichever is later) is before ``cutoff``, each with the date of that record.

    ``column`` is the case's latest ``kind`` record of all (``Case.maintained_at`` or ``inspected_at``): when it
    is before the cutoff or missing, that is the answer, found by a range search on ``(stage, column)``. Only a
    case with a record after the audit date (a past audit) needs its documents read.
    """
    border = local_midnight_utc(cutoff)
    end = scope.end
    latest = CASES.c[column]
    base = (CASES.c.workflow_sha256 == sha, CASES.c.stage.in_([s.id for s in final_stages(wf)]),
            CASES.c.status == ACTIVE, CASES.c.stage_entered_at < border)
    found: list[tuple[Row[Any], date | None]] = []
    for before in (latest.is_(None), latest < border):  # two range searches (an OR of both would scan the stage)
        for case in scope.current(case_query(scope, *base, before)):
            value = getattr(case, column)
            found.append((case, local_date(value) if value is not None else None))
    recent = exists().where(DOCUMENTS.c.case_id == CASES.c.id, DOCUMENTS.c.kind == kind,
                            DOCUMENTS.c.issued_at >= border, DOCUMENTS.c.issued_at < end)
    later = scope.current(case_query(scope, *base, latest >= end, ~recent))
    dates = _latest_documents(scope, [case.id for case in later], kind)
    found.extend((case, dates.get(case.id)) for case in later)
    return found


def past_upkeep_cases(scope: AuditScope, past: list[Any], sha: str, wf: Workflow, kind: str
                      ) -> list[tuple[Any, date | None]]:
    """``upkeep_cases`` among ``past``: active, in a final stage then, with their last ``kind`` record by then
    (the rule's limit is applied by the caller)."""
    finals = {s.id for s in final_stages(wf)}
    cases = [c for c in past if c.workflow_sha256 == sha and c.stage in finals and c.status == ACTIVE]
    dates = _latest_documents(scope, [c.id for c in cases], kind)
    return [(c, dates.get(c.id)) for c in cases]


def upkeep_findings(scope: AuditScope, past: Past = None) -> list[Finding]:
    """Cases in operation: maintenance older than the interval, periodic inspection due soon or past due."""
    out: list[Finding] = []
    cal, as_of = scope.calendar, scope.as_of
    for sha, loaded in scope.workflows.items():
        wf = loaded.definition
        upkeep = wf.upkeep
        if upkeep is None:
            continue
        every = Limit.of(upkeep.maintenance_every)
        cutoff = limit_cutoff(cal, as_of, every)
        if cutoff is not None:
            doc = wf.documents[upkeep.maintenance_document]
            issuer = authority_title(wf, doc.issuer)
            kind = upkeep.maintenance_document
            found = (upkeep_cases(scope, sha, wf, "maintained_at", kind, cutoff) if past is None
                     else past_upkeep_cases(scope, past, sha, wf, kind))
            for case, last in found:
                entered = local_date(case.stage_entered_at)
                since = max(entered, last) if last else entered
                days = count_days(cal, since, as_of, every.working)
                if days <= every.days:  # (for upkeep_cases' rows this cannot happen: its cutoff is exact)
                    continue
                what = f"上次{doc.title}{since}" if last else f"{entered}投入使用后无{doc.title}"
                what_en = f"last {doc.title_en} {since}" if last else f"no {doc.title_en} since {entered}"
                out.append(scope.finding(
                    case, MAINTENANCE_OVERDUE, limit=every, since=since,
                    due=add_days(cal, since, every.days, every.working), days_over=days - every.days,
                    waiting_on=issuer, subject=upkeep.maintenance_document,
                    message=f"{what}，已{days}{every.unit_zh}（每{every.days}{every.unit_zh}一次） / {what_en}: "
                            f"{days} {every.unit} ago, due every {every.days}"))
        out.extend(_inspection_findings(scope, sha, wf, past))
    return out


def _inspection_findings(scope: AuditScope, sha: str, wf: Workflow, past: Past) -> list[Finding]:
    upkeep = wf.upkeep
    assert upkeep is not None
    cal, as_of = scope.calendar, scope.as_of
    valid, before = Limit.of(upkeep.inspection_valid), Limit.of(upkeep.request_before)

    def expiry(base: date) -> date:
        return add_days(cal, base, valid.days, valid.working)

    def due_soon(base: date) -> bool:  # expires within ``request_before`` (or has expired)
        return count_days(cal, as_of, expiry(base), before.working) <= before.days

    cutoff = over_cutoff(as_of, due_soon)
    if cutoff is None:
        return []
    doc = wf.documents[upkeep.inspection_document]
    out = []
    kind = upkeep.inspection_document
    found = (upkeep_cases(scope, sha, wf, "inspected_at", kind, cutoff) if past is None
             else past_upkeep_cases(scope, past, sha, wf, kind))
    for case, last in found:
        entered = local_date(case.stage_entered_at)
        since = max(entered, last) if last else entered
        if not due_soon(since):  # (for upkeep_cases' rows this cannot happen: its cutoff is exact)
            continue
        expires = expiry(since)
        over = signed_days(cal, expires, as_of, valid.working)
        kind = INSPECTION_OVERDUE if over > 0 else INSPECTION_DUE
        basis = f"{doc.title}{since}" if last else f"{entered}投入使用（尚无{doc.title}）"
        basis_en = f"{doc.title_en} of {since}" if last else f"in operation since {entered}, no {doc.title_en} yet"
        if over > 0:
            state = f"已于{expires}到期{over}{valid.unit_zh}"
            state_en = f"expired on {expires}, {over} {valid.unit} ago"
        else:
            state = f"将于{expires}到期，应提前{before.days}{before.unit_zh}申请定期检验"
            state_en = f"expires on {expires}: request the periodic inspection {before.days} {before.unit} before"
        out.append(scope.finding(
            case, kind, limit=valid, since=since, due=expires, days_over=over,
            waiting_on=None, subject=upkeep.inspection_document,
            message=f"{basis}，{state} / {basis_en}: {state_en}"))
    return out


def overdue_reviews(scope: AuditScope, past: Past = None) -> list[Finding]:
    """Suspended cases whose review date has passed (the review day itself is not yet past), and those suspended
    without a review date for longer than the workflow's ``suspension.review_within``."""
    passed = local_midnight_utc(scope.as_of)
    query = case_query(scope, CASES.c.status == SUSPENDED, CASES.c.review_at.is_not(None),
                       CASES.c.review_at < passed)
    out = []
    for case in scope.current(query) if past is None else past:
        if case.status != SUSPENDED or case.review_at is None or as_utc(case.review_at) >= passed:
            continue
        review = local_date(case.review_at)
        suspended = local_date(case.suspended_at) if case.suspended_at else local_date(case.stage_entered_at)
        days = (scope.as_of - review).days
        out.append(scope.finding(
            case, SUSPENSION_REVIEW_OVERDUE, limit=None, since=suspended, due=review, days_over=days,
            waiting_on=None, subject="suspension",
            message=f"案件{suspended}暂停（{case.status_reason}），复查日期{review}已过{days}日 / suspended on "
                    f"{suspended} ({case.status_reason}); review date {review} passed {days} days ago"))
    return out + _unreviewed_suspensions(scope, past)


def _unreviewed_suspensions(scope: AuditScope, past: Past) -> list[Finding]:
    out = []
    for sha, loaded in scope.workflows.items():
        limit = Limit.of(loaded.definition.suspension.review_within)
        cutoff = limit_cutoff(scope.calendar, scope.as_of, limit)
        if cutoff is None:
            continue
        if past is None:
            cases = scope.current(case_query(scope, CASES.c.workflow_sha256 == sha, CASES.c.status == SUSPENDED,
                                             CASES.c.review_at.is_(None),
                                             CASES.c.suspended_at < local_midnight_utc(cutoff)))
        else:
            cases = [c for c in past if c.workflow_sha256 == sha and c.status == SUSPENDED and c.review_at is None]
        for case in cases:
            if case.suspended_at is None:
                continue
            suspended = local_date(case.suspended_at)
            days = count_days(scope.calendar, suspended, scope.as_of, limit.working)
            if days <= limit.days:
                continue
            due = add_days(scope.calendar, suspended, limit.days, limit.working)
            out.append(scope.finding(
                case, SUSPENSION_REVIEW_OVERDUE, limit=limit, since=suspended, due=due, days_over=days - limit.days,
                waiting_on=None, subject="suspension",
                message=f"案件{suspended}暂停（{case.status_reason}）未定复查日期，已{days}{limit.unit_zh}（时限"
                        f"{limit.days}{limit.unit_zh}） / suspended on {suspended} ({case.status_reason}) with no "
                        f"review date: {days} {limit.unit} (limit {limit.days})"))
    return out


RULES: tuple[Callable[[AuditScope, Past], list[Finding]], ...] = (
    stalled_stages, unmediated_objections, upkeep_findings, overdue_reviews)


# --- the audit -------------------------------------------------------------------------------------------

def waiting_on(finding: Finding, blockers: list[Blocker]) -> str:
    """For a stalled stage: the authority of the missing approval(s) if any is missing, else as found."""
    if finding.type != STAGE_OVERDUE:
        return finding.waiting_on
    authorities = list(dict.fromkeys(b.authority for b in blockers if b.type == "approval" and b.authority))
    return "、".join(authorities) if authorities else finding.waiting_on


def sort_key(finding: Finding) -> tuple[Any, ...]:
    return (-finding.days_over, FINDING_TYPES.index(finding.type), finding.complex, finding.case, finding.subject)


def find(ws: Workspace, *, as_of: date | None = None, complex_name: str | None = None,
         with_blockers: bool = True) -> AuditResult:
    """Every finding as of ``as_of`` (default: today in Asia/Shanghai), most overdue first.

    Each case is judged as it stood at the end of ``as_of``: its stage and status then (a case that has moved
    since is replayed from its history, ``eightstep.engine.asof``) and its records dated by then. With
    ``with_blockers`` each finding carries the engine's blockers for its case (checked as of the end of
    ``as_of``), and a stalled stage names the authority of a missing approval as what it waits on.
    """
    day = as_of or today()
    with ws.engine.connect() as conn:
        complex_id = None
        if complex_name is not None:
            complex_id = conn.execute(select(COMPLEXES.c.id).where(COMPLEXES.c.name == complex_name)).scalar()
            if complex_id is None:
                raise NotFoundError(f"no complex named {complex_name!r}")
        scope = AuditScope(ws, conn, day, complex_id, load_workflows(ws, conn))
        if day < today():  # a case that has moved since is judged as it stood then (nothing can move later)
            scope.moved = asof.moved_since(conn, scope.end)
        findings = [f for rule in RULES for f in rule(scope, None)]
        moved = sorted(scope.moved)
        then: dict[str, asof.State] = {}
        for i in range(0, len(moved), _IN_CHUNK):
            past, states = scope.past_cases(moved[i:i + _IN_CHUNK])
            findings.extend(f for rule in RULES for f in rule(scope, past))
            then.update(states)
    checked = 0
    if with_blockers:
        found_ids = [f.case for f in findings]
        results = engine.check_many(ws, found_ids, at=check_time(day), cache=True,
                                    states={cid: then[cid] for cid in found_ids if cid in then})
        blockers: dict[str, list[Blocker]] = {
            case_id: [b for b in result.blockers if b.type != "final"] for case_id, result in results.items()}
        checked = len(blockers)
        for finding in findings:
            found = blockers[finding.case]
            finding.blockers = tuple(found)  # filled in once, here (a Finding is built first, blockers later)
            finding.waiting_on = waiting_on(finding, found)
    return AuditResult(day, complex_name, sorted(findings, key=sort_key), checked)


def stalled_case_ids(ws: Workspace, *, as_of: date, complex_name: str | None = None) -> dict[str, list[str]]:
    """Case id -> the finding types flagged for it (no blockers computed): what the overview highlights."""
    flagged: dict[str, list[str]] = {}
    for f in find(ws, as_of=as_of, complex_name=complex_name, with_blockers=False).findings:
        flagged.setdefault(f.case, [])
        if f.type not in flagged[f.case]:
            flagged[f.case].append(f.type)
    return flagged

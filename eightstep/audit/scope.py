"""What one audit shares (the date, the complex, the workflows in use, the complexes' names) and what it finds:
``Finding`` rows built from the cases' Core rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from sys import intern
from typing import Any

from sqlalchemy import Connection, Row

from eightstep.audit.days import Limit, clock_days, end_of
from eightstep.engine import asof
from eightstep.engine.guards import Blocker
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import read, tables
from eightstep.store.read import CaseIdentity
from eightstep.store.workspace import Workspace
from eightstep.timeutil import local_date
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workflow.schema import Stage, Workflow

STAGE_OVERDUE = "stage_overdue"
OBJECTION_UNMEDIATED = "objection_unmediated"
MAINTENANCE_OVERDUE = "maintenance_overdue"
INSPECTION_DUE = "inspection_due"
INSPECTION_OVERDUE = "inspection_overdue"
SUSPENSION_REVIEW_OVERDUE = "suspension_review_overdue"
# Money and the elevator after acceptance: the rules are in ``eightstep.audit.aftercare``.
SUBSIDY_UNPAID = "subsidy_unpaid"
INSURANCE_LAPSED = "insurance_lapsed"
INSURANCE_ENDING = "insurance_ending"
WARRANTY_ENDING = "warranty_ending"
FINDING_TYPES = (STAGE_OVERDUE, OBJECTION_UNMEDIATED, MAINTENANCE_OVERDUE, INSPECTION_OVERDUE, INSPECTION_DUE,
                 SUSPENSION_REVIEW_OVERDUE, SUBSIDY_UNPAID, INSURANCE_LAPSED, INSURANCE_ENDING, WARRANTY_ENDING)

@dataclass(frozen=True, slots=True)
class Finding(CaseIdentity):
    """One thing the audit flags about one case (``id``: the case's).

    ``since`` is the date this finding's clock counts from (stage: clock start; objection: lodged; maintenance:
    last record or entry into operation; inspection: last inspection or entry into operation; suspension: the
    day it was suspended). ``due`` is the last day within the limit (inspection: the expiry date; suspension:
    the review date). ``days_over`` counts days after ``due`` in the limit's unit; it is negative for
    ``inspection_due`` (days left before expiry).
    """

    type: str
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

    @property
    def case(self) -> str:
        return self.id

    def blocked(self, blockers: tuple[Blocker, ...], waiting_on: str) -> Finding:
        """This finding with the engine's blockers of its case, set in place: the audit does it once, on findings
        it has built and not yet handed out (``dataclasses.replace`` costs ~9 µs a finding, a city has 76,000)."""
        object.__setattr__(self, "blockers", blockers)
        object.__setattr__(self, "waiting_on", waiting_on)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type, **self.identity_dict("case"), "stage": self.stage, "stage_index": self.stage_index,
            "stage_title": self.stage_title, "status": self.status, "entered_on": self.entered_on.isoformat(),
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


CASES = tables.cases
DOCUMENTS = tables.documents
OBJECTIONS = tables.objections
MEDIATION_STEPS = tables.mediation_steps
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

    def rows(self, query: Any) -> Sequence[Row[Any]]:
        """Run ``query``; the names of the complexes of its rows are read too (one query per few hundred)."""
        rows = self.conn.execute(query).all()
        self._name_complexes(rows)
        return rows

    def _name_complexes(self, rows: Sequence[Row[Any]]) -> None:
        self.complex_names.update(read.complex_names(self.conn, {row.complex_id for row in rows}
                                                     - self.complex_names.keys()))

    def current(self, query: Any) -> list[Row[Any]]:
        """``rows`` of the cases whose row still says how they stood on the audit date."""
        return [row for row in self.rows(query) if row.id not in self.moved]

    def each(self, query: Any, size: int = 2000) -> Iterator[Row[Any]]:
        """``current`` read ``size`` rows at a time (their complexes' names with them): a rule that keeps only
        what it finds never holds a city's rows at once."""
        for part in self.conn.execute(query).partitions(size):
            self._name_complexes(part)
            yield from (row for row in part if row.id not in self.moved)

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
        # The few distinct values every finding repeats are shared (interned), not one copy per row read: a city's
        # audit holds its 76,000 findings until they are written (memory: ~790 -> ~500 bytes a finding).
        return Finding(
            type=kind, id=case.id, complex=self.complex_names.get(case.complex_id, "?"),
            building=intern(case.building), unit=intern(case.unit), workflow_id=intern(case.workflow_id),
            workflow_version=intern(case.workflow_version), stage=info.stage.id,
            stage_index=info.index, stage_title=info.stage.title, status=intern(case.status),
            entered_on=local_date(case.stage_entered_at),
            days_in_stage=clock_days(self.calendar, case, info.stage, self.as_of),
            days_in_stage_unit="working" if info.working else "calendar", limit=limit, since=since, due=due,
            days_over=days_over, waiting_on=waiting_on or info.responsible, subject=intern(subject), message=message,
            provisional=limit is not None and limit.working
            and bool(self.calendar.provisional_years(since, max(due, self.as_of))),
        )


def authority_title(wf: Workflow, authority_id: str) -> str:
    auth = wf.authorities.get(authority_id)
    return auth.title if auth else authority_id


def final_stages(wf: Workflow) -> list[Stage]:
    return [s for s in wf.stages if wf.next_of(s.id) is None]


def case_query(scope: AuditScope, *where: Any) -> Any:
    """The finding columns of the cases matching ``where`` (and the audit's complex)."""
    return scope.cases(read.case_query(scope.conn.dialect.name, CASE_COLUMNS).where(*where))

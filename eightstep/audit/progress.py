"""Progress of a complex (以点扩面): units per stage, units in operation against a target, and a forecast.

How the forecast works (``METHOD``): every completed passage of a stage in this complex (entered by opening,
advancing or being returned; left by advancing) gives that stage's duration in calendar days, suspensions
included. A stage's expected duration is the median of its passages (rounded up); a stage no unit of the
complex has completed yet falls back to its workflow stall limit. Each unit then needs what is left of its
current stage (expected minus the days already spent, at least 0) plus the expected duration of every later
stage before the final one. Units of the target that have no case yet start on the day of the forecast. The
date of the last unit is the latest of these.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from eightstep.engine.checking import machine_of
from eightstep.errors import InputError
from eightstep.i18n import N_, _
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import read, tables
from eightstep.store.tables import SUSPENDED, WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, local_date, now_utc
from eightstep.workflow.machine import CaseMachine
from eightstep.workflow.schema import Workflow

METHOD = N_("each unit's remaining stages at the median duration observed in this complex (calendar days, "
          "suspensions included; days already spent in the current stage deducted); stages no unit has "
          "completed yet use the workflow's stall limit; units without a case start today")


@dataclass(frozen=True)
class StageCount:
    stage: str
    index: int
    title: str
    cases: list[str]
    suspended: int

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "index": self.index, "title": self.title, "units": len(self.cases),
                "cases": self.cases, "suspended": self.suspended}


@dataclass(frozen=True)
class Expected:
    stage: str
    days: int | None
    basis: str  # observed | stall_limit | none
    observed: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "days": self.days, "basis": self.basis, "observed": self.observed}


@dataclass(frozen=True)
class UnitForecast:
    case: str
    stage: str
    finish: date | None
    overdue: bool  # longer in its stage than expected

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case, "stage": self.stage, "finish": self.finish, "overdue": self.overdue}


@dataclass(frozen=True)
class Progress:
    complex: str
    as_of: date
    units: int
    target: int
    in_operation: int
    stages: list[StageCount]
    expected: list[Expected]
    forecasts: list[UnitForecast]
    not_started: int
    not_started_finish: date | None
    last_unit: date | None
    last_case: str | None
    missing_basis: list[str]  # stages with neither observations nor a stall limit

    def as_dict(self) -> dict[str, Any]:
        return {"complex": self.complex, "as_of": self.as_of, "units": self.units, "target": self.target,
                "in_operation": self.in_operation, "stages": [s.as_dict() for s in self.stages],
                "forecast": {"last_unit": self.last_unit, "last_case": self.last_case, "method": METHOD,
                             "stage_days": [e.as_dict() for e in self.expected],
                             "units": [f.as_dict() for f in self.forecasts], "not_started": self.not_started,
                             "not_started_finish": self.not_started_finish, "missing_basis": self.missing_basis}}


def observed_durations(events: list[Any]) -> dict[str, list[int]]:
    """Stage -> days of each completed passage, from one case's events (in order)."""
    out: dict[str, list[int]] = {}
    stage: str | None = None
    entered: datetime | None = None
    for e in events:
        at = as_utc(e.business_at)
        if e.action == "advance" and stage is not None and entered is not None and e.from_stage == stage:
            out.setdefault(stage, []).append((local_date(at) - local_date(entered)).days)
        if e.action in ("open", "advance", "return") and e.to_stage:
            stage, entered = e.to_stage, at
    return out


def _limit_days(wf: Workflow, stage_id: str, calendar: WorkCalendar, today: date) -> int | None:
    limit = wf.stage(stage_id).stall_limit
    if limit is None:
        return None
    if limit.calendar == "working":
        return (calendar.add_days(today, limit.days, working=True) - today).days
    return limit.days


def _expected(wf: Workflow, seen: dict[str, list[int]], calendar: WorkCalendar, today: date) -> list[Expected]:
    out = []
    for stage in wf.stages:
        if stage.final:
            continue
        days = sorted(seen.get(stage.id, []))
        if days:
            out.append(Expected(stage.id, math.ceil(statistics.median(days)), "observed", days))
        else:
            limit = _limit_days(wf, stage.id, calendar, today)
            out.append(Expected(stage.id, limit, "stall_limit" if limit is not None else "none", []))
    return out


def _remaining(machine: CaseMachine, stage_id: str, spent: int, expected: dict[str, Expected]
               ) -> tuple[int | None, bool]:
    """Days still needed from ``stage_id`` (``spent`` days in) to the final stage, along the stages the case
    machine advances through, and whether it is overdue."""
    first = expected[stage_id].days
    if first is None:
        return None, False
    total = max(0, first - spent)
    current = machine.next_stage(stage_id)
    while current is not None and not machine.workflow.stage(current).final:
        days = expected[current].days
        if days is None:
            return None, spent > first
        total += days
        current = machine.next_stage(current)
    return total, spent > first


def progress(ws: Workspace, complex_name: str, *, target: int | None = None,
             at: datetime | None = None) -> Progress:
    """Where the units of ``complex_name`` stand and when the last one should be in operation."""
    at = now_utc() if at is None else as_utc(at)
    today = local_date(at)
    if target is not None and target < 1:
        raise InputError(_("the number of units to put into operation, at least 1"), field="target")
    cases_table, events = tables.cases, tables.events
    with ws.engine.connect() as conn:
        cx = read.complex_id(conn, complex_name)
        cases = [c for c in conn.execute(read.case_query(conn.dialect.name).where(cases_table.c.complex_id == cx)
                                         .order_by(cases_table.c.building, cases_table.c.unit, cases_table.c.id))
                 if c.status != WITHDRAWN]
        if not cases:
            raise InputError(_("{complex} has no active cases").format(complex=complex_name))
        workflows = read.workflows(conn, ws.workflows, {c.workflow_sha256 for c in cases})
        machines = {c.id: machine_of(ws, workflows.get(c.workflow_sha256) or read.workflow(conn, ws.workflows, c))
                    for c in cases}
        by_case = read.records(conn, events, [c.id for c in cases], where=(events.c.business_at <= at,),
                               order="seq")
    seen: dict[str, list[int]] = {}
    for case_events in by_case.values():
        for stage_id, durations in observed_durations(case_events).items():
            seen.setdefault(stage_id, []).extend(durations)

    flows = {case_id: machine.workflow for case_id, machine in machines.items()}
    main = flows[cases[0].id]
    counts: dict[str, StageCount] = {}
    for wf in [main, *flows.values()]:
        for i, stage in enumerate(wf.stages, start=1):
            counts.setdefault(stage.id, StageCount(stage.id, i, stage.title, [], 0))
    for c in cases:
        counts[c.stage].cases.append(c.id)
    stages = [StageCount(s.stage, s.index, s.title, s.cases, sum(1 for c in cases if c.id in s.cases and
                                                                   c.status == SUSPENDED))
              for s in counts.values()]

    expected_by_flow = {id(wf): {e.stage: e for e in _expected(wf, seen, ws.calendar, today)}
                        for wf in flows.values()}
    in_operation = 0
    forecasts = []
    for c in cases:
        wf = flows[c.id]
        if wf.stage(c.stage).final:
            in_operation += 1
            continue
        spent = max(0, (today - local_date(c.stage_entered_at)).days)
        days, overdue = _remaining(machines[c.id], c.stage, spent, expected_by_flow[id(wf)])
        forecasts.append(UnitForecast(c.id, c.stage, None if days is None else today + timedelta(days=days),
                                      overdue))
    target = len(cases) if target is None else target
    not_started = max(0, target - len(cases))
    start, _overdue = _remaining(machines[cases[0].id], main.initial, 0, expected_by_flow[id(main)])
    not_started_finish = None if not not_started or start is None else today + timedelta(days=start)
    missing = sorted({e.stage for exp in expected_by_flow.values() for e in exp.values() if e.days is None})
    last_unit, last_case = _last(forecasts, not_started, not_started_finish)
    return Progress(complex_name, today, len(cases), target, in_operation, stages,
                    list(expected_by_flow[id(main)].values()), forecasts, not_started, not_started_finish,
                    last_unit, last_case, missing)


def _last(forecasts: list[UnitForecast], not_started: int,
          not_started_finish: date | None) -> tuple[date | None, str | None]:
    """The latest finish and its case; None when every unit is in operation or one cannot be forecast."""
    if any(f.finish is None for f in forecasts) or (not_started and not_started_finish is None):
        return None, None
    dated = [(f.finish, f.case) for f in forecasts if f.finish is not None]
    if not_started and not_started_finish is not None:
        dated.append((not_started_finish, f"{not_started} unit(s) without a case"))
    if not dated:
        return None, None
    return max(dated)

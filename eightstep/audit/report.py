"""The overview of a complex (or of every case): one typed row per case, totals per stage, an HTML page.

The rows are plain data; the CLI prints them as a table and :func:`render_html` turns them into one
self-contained page (inline CSS and script, no external resource, a CSP that forbids fetching any).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from eightstep.audit import stalled as audit
from eightstep.audit.stalled import Limit
from eightstep.engine import asof
from eightstep.engine.checking import check_many
from eightstep.engine.guards import Blocker
from eightstep.i18n import _
from eightstep.store import read, tables
from eightstep.store.read import CaseIdentity
from eightstep.store.tables import SUSPENDED, WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, local_date

TIMELINE_ACTIONS = asof.MOVES  # the timeline, and the replay of a case that has moved since the date
TEMPLATE = "pages/report.html.j2"  # in the templates folder
FILLED, EMPTY = "●", "○"


@dataclass(frozen=True)
class StageEntry:
    """The case entered ``stage`` at ``at`` (by opening, advancing or being returned)."""

    stage: str
    index: int
    title: str
    at: datetime
    action: str


@dataclass(frozen=True)
class Pause:
    """A suspension; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class OverviewRow(CaseIdentity):
    status: str
    stage: str
    stage_index: int
    stage_count: int
    stage_title: str
    entered_on: date
    days_in_stage: int
    limit: Limit | None
    flags: tuple[str, ...]
    blockers: tuple[Blocker, ...]
    timeline: tuple[StageEntry, ...]
    pauses: tuple[Pause, ...]

    @property
    def case(self) -> str:
        return self.id

    @property
    def stalled(self) -> bool:
        return audit.STAGE_OVERDUE in self.flags

    @property
    def track(self) -> str:
        """The case on the track of its workflow's stages, e.g. ``●●●○○○○○ S3``."""
        return f"{FILLED * self.stage_index}{EMPTY * (self.stage_count - self.stage_index)} S{self.stage_index}"

    @property
    def days_label(self) -> str:
        """``16/15 wd``: days in stage against the limit, in the limit's unit (``12 d`` without a limit)."""
        if self.limit is None:
            return f"{self.days_in_stage} d"
        return f"{self.days_in_stage}/{self.limit}"

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.identity_dict("case"), "status": self.status,
            "stage": self.stage, "stage_index": self.stage_index, "stage_count": self.stage_count,
            "stage_title": self.stage_title, "entered_on": self.entered_on.isoformat(),
            "days_in_stage": self.days_in_stage, "limit": self.limit.as_dict() if self.limit else None,
            "stalled": self.stalled, "flags": list(self.flags), "blockers": [b.as_dict() for b in self.blockers],
            "timeline": [{"stage": e.stage, "index": e.index, "at": e.at.isoformat(), "action": e.action}
                         for e in self.timeline],
        }


@dataclass(frozen=True)
class StageTotal:
    index: int
    stage: str
    title: str
    cases: int
    stalled: int
    suspended: int


@dataclass(frozen=True)
class Overview:
    as_of: date
    complex: str | None
    rows: list[OverviewRow]
    totals: list[StageTotal]
    withdrawn: int  # withdrawn cases, left out of the rows

    @property
    def stalled(self) -> int:
        return sum(1 for r in self.rows if r.stalled)


# --- building the rows -----------------------------------------------------------------------------------

def overview(ws: Workspace, *, complex_name: str | None = None, as_of: date | None = None) -> Overview:
    """One row per case opened by ``as_of`` (default today in Asia/Shanghai) and not withdrawn.

    Like the audit, it shows each case as it stood at the end of ``as_of``: its stage and status then (replayed
    from its history when it has moved since, ``eightstep.engine.asof``) and its records dated by then.
    """
    day = as_of or audit.today()
    end = audit.end_of(day)
    cases, complexes = tables.cases, tables.complexes
    with ws.engine.connect() as conn:
        query = (read.case_query(conn.dialect.name, place=True)
                 .where(cases.c.opened_at < end)  # not yet opened on that date
                 .order_by(complexes.c.name, cases.c.building, cases.c.unit, cases.c.id))
        if complex_name is not None:
            read.complex_id(conn, complex_name)
            query = query.where(complexes.c.name == complex_name)
        found: Sequence[Any] = conn.execute(query).all()
        workflows = read.workflows(conn, ws.workflows, {c.workflow_sha256 for c in found})
        events = _timeline_events(conn, [c.id for c in found], end)
        moved = asof.moved_since(conn, end) if day < audit.today() else set()
    states: dict[str, asof.State] = {}
    for case in found:
        state = asof.replay((e.action, e.business_at, e.to_stage, e.note, e.details)
                            for e in events.get(case.id, ())) if case.id in moved else None
        if state is not None:
            states[case.id] = state
    judged = [asof.as_then(c._asdict(), states[c.id]) if c.id in states else c for c in found]
    withdrawn = sum(1 for c in judged if c.status == WITHDRAWN)
    judged = [c for c in judged if c.status != WITHDRAWN]
    flags = audit.stalled_case_ids(ws, as_of=day, complex_name=complex_name)
    checks = check_many(ws, [case.id for case in judged], at=audit.check_time(day), cache=True,
                        states={c.id: states[c.id] for c in judged if c.id in states})
    rows = []
    for case in judged:
        wf = workflows[case.workflow_sha256].definition
        stage = wf.stage(case.stage)
        ids = wf.stage_ids()
        check = checks[case.id]
        timeline, pauses = _timeline(events.get(case.id, []), ids, {s.id: s.title for s in wf.stages})
        rows.append(OverviewRow(
            id=case.id, complex=case.complex_name, building=case.building, unit=case.unit,
            workflow_id=case.workflow_id, workflow_version=case.workflow_version, status=case.status,
            stage=case.stage, stage_index=ids.index(case.stage) + 1, stage_count=len(ids), stage_title=stage.title,
            entered_on=local_date(case.stage_entered_at),
            days_in_stage=audit.clock_days(ws.calendar, case, stage, day),
            limit=Limit.of(stage.stall_limit) if stage.stall_limit else None,
            flags=tuple(flags.get(case.id, ())), blockers=tuple(b for b in check.blockers if b.type != "final"),
            timeline=timeline, pauses=pauses))
    return Overview(day, complex_name, rows, _totals(rows), withdrawn)


def _timeline_events(conn: Connection, case_ids: list[str], end: datetime) -> dict[str, list[Any]]:
    """Case id -> its moves (``TIMELINE_ACTIONS``) before ``end``, in order."""
    events = tables.events
    return read.records(conn, events, case_ids, names=("case_id", "seq", "action", "business_at", "to_stage", "note",
                                                       "details"),
                        where=(events.c.action.in_(TIMELINE_ACTIONS), events.c.business_at < end), order="seq")


def _timeline(events: Iterable[Any], ids: list[str],
              titles: dict[str, str]) -> tuple[tuple[StageEntry, ...], tuple[Pause, ...]]:
    entries: list[StageEntry] = []
    pauses: list[Pause] = []
    for e in events:
        at = as_utc(e.business_at)
        if e.action in ("open", "advance", "return") and e.to_stage in titles:
            entries.append(StageEntry(e.to_stage, ids.index(e.to_stage) + 1, titles[e.to_stage], at, e.action))
        elif e.action == "suspend":
            pauses.append(Pause(at, None))
        elif e.action == "resume" and pauses and pauses[-1].end is None:
            pauses[-1] = Pause(pauses[-1].start, at)
    return tuple(entries), tuple(pauses)


def _totals(rows: list[OverviewRow]) -> list[StageTotal]:
    groups: dict[tuple[int, str], list[OverviewRow]] = {}
    for row in rows:
        groups.setdefault((row.stage_index, row.stage), []).append(row)
    return [StageTotal(index, stage, members[0].stage_title, len(members), sum(1 for r in members if r.stalled),
                       sum(1 for r in members if r.status == SUSPENDED))
            for (index, stage), members in sorted(groups.items())]


_CJK = re.compile(r"[\u3400-\u9fff]")


def chinese_part(message: str) -> str:
    """The Chinese of a bilingual message: ``缺少文件：X / missing document: Y`` gives ``缺少文件：X``; a message
    that goes on in Chinese after the English (``业主表决未达标 / owner consent not reached: 参与表决面积不足 /
    ...``) keeps that too."""
    head, *rest = message.split(" / ")
    for part in rest:
        tail = part.split(": ", 1)[1] if ": " in part else ""
        if _CJK.search(tail):
            head += f"：{tail}"
    return head


def blocker_summary(blockers: Iterable[Blocker], limit: int = 2) -> str:
    """The first blockers (in the chosen language), and how many more there are."""
    items = list(blockers)
    shown = [chinese_part(b.message) for b in items[:limit]]
    more = f" (+{len(items) - limit})" if len(items) > limit else ""
    return _("; ").join(shown) + more


# --- the HTML page ---------------------------------------------------------------------------------------

def chart_data(ov: Overview) -> dict[str, Any]:
    """What the page's script draws: per case, its stage segments (ISO dates) and suspensions."""
    legend: dict[int, list[str]] = {}
    cases = []
    end = ov.as_of.isoformat()
    for row in ov.rows:
        segments = []
        for i, entry in enumerate(row.timeline):
            legend.setdefault(entry.index, [])
            if entry.title not in legend[entry.index]:
                legend[entry.index].append(entry.title)
            until = row.timeline[i + 1].at if i + 1 < len(row.timeline) else None
            segments.append({"index": entry.index, "stage": entry.stage, "title": entry.title,
                             "from": local_date(entry.at).isoformat(),
                             "to": local_date(until).isoformat() if until else end})
        pauses = [{"from": local_date(p.start).isoformat(), "to": local_date(p.end).isoformat() if p.end else end}
                  for p in row.pauses]
        cases.append({"id": row.case, "label": f"{row.case} {row.complex}{row.unit_label}", "track": row.track,
                      "stalled": row.stalled, "flags": list(row.flags), "status": row.status,
                      "segments": segments, "pauses": pauses})
    return {"asOf": end, "stages": [{"index": i, "title": " / ".join(t)} for i, t in sorted(legend.items())],
            "cases": cases}


def render_html(ov: Overview) -> str:
    """One self-contained page: the table, totals per stage and the timeline chart (drawn by inline script)."""
    from eightstep.templating import TemplateEnvironment

    env = TemplateEnvironment(filters={"zh": chinese_part}, none_shown=False)
    return env.render(TEMPLATE, {"ov": ov, "chart": chart_data(ov)})

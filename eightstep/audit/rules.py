"""The audit's rules: stalled stages, unmediated objections, upkeep of elevators in operation, suspensions past
their review. Each finds its cases by SQL (range searches on indexes) as of the audit date, or among ``past``:
the cases that have moved since, as they stood then."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row, and_, exists, false, or_, select

from eightstep.audit.days import Limit, add_days, count_days, limit_cutoff, over_cutoff, signed_days
from eightstep.audit.scope import (
    CASE_COLUMNS,
    CASES,
    DOCUMENTS,
    INSPECTION_DUE,
    INSPECTION_OVERDUE,
    MAINTENANCE_OVERDUE,
    MEDIATION_STEPS,
    OBJECTION_UNMEDIATED,
    OBJECTIONS,
    STAGE_OVERDUE,
    SUSPENSION_REVIEW_OVERDUE,
    AuditScope,
    Finding,
    authority_title,
    case_query,
    final_stages,
)
from eightstep.engine.guards import is_complaint
from eightstep.i18n import _, pick
from eightstep.store import read
from eightstep.store.tables import ACTIVE, SUSPENDED, WITHDRAWN, not_voided
from eightstep.timeutil import as_utc, local_date, local_midnight_utc
from eightstep.workflow.schema import Workflow


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
    for case in scope.each(stall_query(scope)) if past is None else past:
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
        message=_("{stage}: {days} in the stage, limit {limit}: {over} over").format(
            stage=pick(stage.title, stage.title_en), days=limit.text(days), limit=limit.text(),
            over=limit.text(days - limit.days)))


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
    stepped = exists().where(MEDIATION_STEPS.c.objection_id == OBJECTIONS.c.id, MEDIATION_STEPS.c.at < end,
                             not_voided(MEDIATION_STEPS))
    dialect = scope.conn.dialect.name
    objection_columns = [c.label(f"objection_{c.name}") for c in read.columns(
        dialect, OBJECTIONS, ("id", "room", "objector", "grounds", "lodged_at", "stage"))]
    query = scope.cases(
        select(*read.columns(dialect, CASES, CASE_COLUMNS), *objection_columns)
        .join_from(OBJECTIONS, CASES, CASES.c.id == OBJECTIONS.c.case_id)
        .where(or_(*terms), ~stepped, or_(OBJECTIONS.c.resolved_at.is_(None), OBJECTIONS.c.resolved_at >= end),
               not_voided(OBJECTIONS)))
    rows: list[Any]  # the rows, or stand-ins with the stage and status of the audit date
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
        who = (_("room {room}").format(room=row.objection_room) if row.objection_room
               else row.objection_objector or _("anonymous"))
        out.append(scope.finding(
            row, OBJECTION_UNMEDIATED, limit=limit, since=lodged,
            due=add_days(scope.calendar, lodged, limit.days, limit.working), days_over=days - limit.days,
            waiting_on=None, subject=f"objection #{oid}",
            message=_("objection #{id} ({who}: {grounds}) lodged {lodged}: no mediation step in {days} (limit "
                      "{limit}); lodged in stage {stage}").format(
                id=oid, who=who, grounds=row.objection_grounds, lodged=lodged, days=limit.text(days),
                limit=limit.text(), stage=row.objection_stage)
                    + (_(", a complaint after the notice") if is_complaint(
                        scope.workflows[row.workflow_sha256].definition, row.objection_stage) else "")))
    return out


def _latest_documents(scope: AuditScope, case_ids: list[str], kind: str) -> dict[str, date]:
    """The date of the latest document of ``kind`` issued up to the audit date, per case."""
    latest: dict[str, date] = {}
    found = read.records(scope.conn, DOCUMENTS, case_ids, names=("case_id", "issued_at"), kinds=(kind,),
                         where=(DOCUMENTS.c.issued_at < scope.end,))
    for case_id, documents in found.items():
        latest[case_id] = max(local_date(d.issued_at) for d in documents)
    return latest


def upkeep_cases(scope: AuditScope, sha: str, wf: Workflow, column: str, kind: str, cutoff: date
                 ) -> Iterator[tuple[Row[Any], date | None]]:
    """Active cases of workflow ``sha`` in a final stage whose last ``kind`` record up to the audit date (or their
    entry into the stage, whichever is later) is before ``cutoff``, each with the date of that record.

    ``column`` is the case's latest ``kind`` record of all (``Case.maintained_at`` or ``inspected_at``): when it
    is before the cutoff or missing, that is the answer, found by a range search on ``(stage, column)``. Only a
    case with a record after the audit date (a past audit) needs its documents read. The rows are read a few
    thousand at a time (a city has tens of thousands of elevators past their maintenance).
    """
    border = local_midnight_utc(cutoff)
    end = scope.end
    latest = CASES.c[column]
    base = (CASES.c.workflow_sha256 == sha, CASES.c.stage.in_([s.id for s in final_stages(wf)]),
            CASES.c.status == ACTIVE, CASES.c.stage_entered_at < border)
    for before in (latest.is_(None), latest < border):  # two range searches (an OR of both would scan the stage)
        for case in scope.each(case_query(scope, *base, before)):
            value = getattr(case, column)
            yield case, local_date(value) if value is not None else None
    recent = exists().where(DOCUMENTS.c.case_id == CASES.c.id, DOCUMENTS.c.kind == kind,
                            DOCUMENTS.c.issued_at >= border, DOCUMENTS.c.issued_at < end, not_voided(DOCUMENTS))
    later = scope.current(case_query(scope, *base, latest >= end, ~recent))
    dates = _latest_documents(scope, [case.id for case in later], kind)
    yield from ((case, dates.get(case.id)) for case in later)


def past_upkeep_cases(scope: AuditScope, past: list[Any], sha: str, wf: Workflow, kind: str
                      ) -> list[tuple[Any, date | None]]:
    """``upkeep_cases`` among ``past``: active, in a final stage then, with their last ``kind`` record by then
    (the rule's limit is applied by the caller)."""
    finals = {s.id for s in final_stages(wf)}
    cases = [c for c in past if c.workflow_sha256 == sha and c.stage in finals and c.status == ACTIVE]
    dates = _latest_documents(scope, [c.id for c in cases], kind)
    return [(c, dates.get(c.id)) for c in cases]


def upkeep_since(scope: AuditScope, past: Past, sha: str, wf: Workflow, column: str, kind: str, cutoff: date
                 ) -> Iterator[tuple[Any, date | None, date, date]]:
    """The cases of ``upkeep_cases`` (as of a past audit date: of ``past_upkeep_cases``), each with the date of
    its last ``kind`` record (None: none yet), the day it entered its stage, and the day the upkeep interval
    counts from (the later of the two)."""
    found: Iterable[tuple[Any, date | None]] = (upkeep_cases(scope, sha, wf, column, kind, cutoff) if past is None
                                                else past_upkeep_cases(scope, past, sha, wf, kind))
    for case, last in found:
        entered = local_date(case.stage_entered_at)
        yield case, last, entered, max(entered, last) if last else entered


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
            for case, last, entered, since in upkeep_since(scope, past, sha, wf, "maintained_at", kind, cutoff):
                days = count_days(cal, since, as_of, every.working)
                if days <= every.days:  # (for upkeep_cases' rows this cannot happen: its cutoff is exact)
                    continue
                title = pick(doc.title, doc.title_en)
                what = (_("last {document} {since}").format(document=title, since=since) if last
                        else _("no {document} since {entered}").format(document=title, entered=entered))
                out.append(scope.finding(
                    case, MAINTENANCE_OVERDUE, limit=every, since=since,
                    due=add_days(cal, since, every.days, every.working), days_over=days - every.days,
                    waiting_on=issuer, subject=upkeep.maintenance_document,
                    message=_("{what}: {days} ago, due every {every}").format(
                        what=what, days=every.text(days), every=every.text())))
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
    for case, last, entered, since in upkeep_since(scope, past, sha, wf, "inspected_at", kind, cutoff):
        if not due_soon(since):  # (for upkeep_cases' rows this cannot happen: its cutoff is exact)
            continue
        expires = expiry(since)
        over = signed_days(cal, expires, as_of, valid.working)
        kind = INSPECTION_OVERDUE if over > 0 else INSPECTION_DUE
        title = pick(doc.title, doc.title_en)
        basis = (_("{document} of {since}").format(document=title, since=since) if last
                 else _("in operation since {entered}, no {document} yet").format(entered=entered, document=title))
        if over > 0:
            state = _("expired on {expires}, {over} ago").format(expires=expires, over=valid.text(over))
        else:
            state = _("expires on {expires}: request the periodic inspection {before} before").format(
                expires=expires, before=before.text())
        out.append(scope.finding(
            case, kind, limit=valid, since=since, due=expires, days_over=over,
            waiting_on=None, subject=upkeep.inspection_document,
            message=_("{basis}: {state}").format(basis=basis, state=state)))
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
            message=_("suspended on {suspended} ({reason}); review date {review} passed {days} ago").format(
                suspended=suspended, reason=case.status_reason, review=review,
                days=_("{days} days").format(days=days))))
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
                message=_("suspended on {suspended} ({reason}) with no review date: {days} (limit {limit})").format(
                    suspended=suspended, reason=case.status_reason, days=limit.text(days), limit=limit.text())))
    return out


RULES: tuple[Callable[[AuditScope, Past], list[Finding]], ...] = (
    stalled_stages, unmediated_objections, upkeep_findings, overdue_reviews)

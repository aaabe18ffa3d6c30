"""The audit's rules on money and on the elevator after acceptance: a subsidy applied for and not paid within
the workflow's ``subsidy.paid_within``; the installation's warranty about to end; the safety-liability insurance
about to end (no renewal on record) or lapsed (``upkeep.warn_before``; ``upkeep.insurance_required``).

Each rule judges the cases as they stood at the end of the audit date, like the rules of ``stalled``: records
dated after it are left out (a subsidy step by its date, a policy or warranty by its start). A finding's
``days_over`` is negative while there is still time (days left before the end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Row, select

from eightstep.audit.days import Limit, add_days, count_days, limit_cutoff
from eightstep.audit.rules import Past
from eightstep.audit.scope import (
    CASES,
    INSURANCE_ENDING,
    INSURANCE_LAPSED,
    SUBSIDY_UNPAID,
    WARRANTY_ENDING,
    AuditScope,
    Finding,
    case_query,
    final_stages,
)
from eightstep.i18n import _
from eightstep.rules.money import yuan
from eightstep.rules.subsidy import subsidy_status
from eightstep.store import read, tables
from eightstep.store.tables import WITHDRAWN
from eightstep.timeutil import local_date, local_midnight_utc

STEPS = tables.subsidy_steps
ELEVATORS = tables.elevators
POLICIES = tables.insurance_policies


class StepRow:
    """A subsidy step row as ``rules.subsidy`` reads it."""

    __slots__ = ("amount_fen", "on", "payer", "step")

    def __init__(self, row: Row[Any]) -> None:
        self.step, self.on, self.amount_fen, self.payer = row.step, local_date(row.at), row.amount_fen, row.payer


def _cases(scope: AuditScope, past: Past, ids: Iterable[str]) -> list[Any]:
    """The cases ``ids`` not withdrawn on the audit date: their rows (current) or as they stood then (``past``)."""
    wanted = set(ids)
    if past is not None:
        return [c for c in past if c.id in wanted and c.status != WITHDRAWN]
    out: list[Any] = []
    for chunk in read.batches(sorted(wanted)):
        out.extend(scope.current(case_query(scope, CASES.c.id.in_(list(chunk)), CASES.c.status != WITHDRAWN)))
    return out


def unpaid_subsidies(scope: AuditScope, past: Past = None) -> list[Finding]:
    """Subsidies applied for and still not (fully) paid longer after the application than ``paid_within``."""
    out = []
    for sha, loaded in scope.workflows.items():
        rule = loaded.definition.subsidy
        if rule is None:
            continue
        limit = Limit.of(rule.paid_within)
        cutoff = limit_cutoff(scope.calendar, scope.as_of, limit)
        if cutoff is None:
            continue
        found: Sequence[str] = scope.conn.execute(select(STEPS.c.case_id).distinct().join_from(
            STEPS, CASES, CASES.c.id == STEPS.c.case_id).where(
            CASES.c.workflow_sha256 == sha, STEPS.c.step == "applied",
            STEPS.c.at < local_midnight_utc(cutoff), tables.not_voided(STEPS))).scalars().all()
        cases = _cases(scope, past, found)
        steps = read.records(scope.conn, STEPS, [c.id for c in cases],
                             names=("id", "case_id", "step", "at", "amount_fen", "payer"),
                             where=(STEPS.c.at < scope.end,))
        for case in cases:
            mine = [StepRow(r) for r in steps.get(case.id, [])]
            status = subsidy_status(mine, scope.as_of)
            if not status.open or status.applied_on is None:
                continue
            days = count_days(scope.calendar, status.applied_on, scope.as_of, limit.working)
            if days <= limit.days:
                continue
            applied_to = next((s.payer for s in reversed(mine) if s.step == "applied" and s.payer), None)
            out.append(scope.finding(
                case, SUBSIDY_UNPAID, limit=limit, since=status.applied_on,
                due=add_days(scope.calendar, status.applied_on, limit.days, limit.working),
                days_over=days - limit.days, waiting_on=applied_to, subject="subsidy",
                message=_("subsidy of {amount} yuan applied for on {applied}: {unpaid} yuan still unpaid after "
                          "{elapsed} (limit {limit})").format(
                    amount=yuan(status.expected), applied=status.applied_on, unpaid=yuan(status.unpaid),
                    elapsed=limit.text(days), limit=limit.text())))
    return out


def _ending(scope: AuditScope, case: Any, kind: str, ends: date, limit: Limit, since: date, subject: str,
            message: str, **fields: object) -> Finding | None:
    """A finding when ``ends`` (the last day covered) is no more than ``limit`` ahead of the audit date;
    ``message`` is formatted with ``ends``, ``left`` (the days left, with their unit) and ``fields``."""
    if ends < scope.as_of:
        return None
    left = count_days(scope.calendar, scope.as_of, ends, limit.working)
    if left > limit.days:
        return None
    return scope.finding(case, kind, limit=limit, since=since, due=ends, days_over=-left, waiting_on=None,
                         subject=subject, message=message.format(ends=ends, left=limit.text(left), **fields))


def warranty_findings(scope: AuditScope, past: Past = None) -> list[Finding]:
    """Elevators whose installation warranty ends within the workflow's ``upkeep.warn_before``."""
    leads = [Limit.of(loaded.definition.upkeep.warn_before) for loaded in scope.workflows.values()
             if loaded.definition.upkeep is not None]
    if not leads:
        return []
    # the first day past every lead (a day before it is within the lead, counted as ``_ending`` counts)
    horizon = max(add_days(scope.calendar, scope.as_of, lead.days + 1, lead.working) for lead in leads)
    rows = scope.conn.execute(select(ELEVATORS.c.case_id, ELEVATORS.c.warranty_from, ELEVATORS.c.warranty_until)
                              .where(ELEVATORS.c.warranty_from <= scope.as_of,
                                     ELEVATORS.c.warranty_until >= scope.as_of,
                                     ELEVATORS.c.warranty_until < horizon, tables.not_voided(ELEVATORS))).all()
    by_case = {r.case_id: r for r in rows}
    out = []
    for case in _cases(scope, past, by_case):
        upkeep = scope.workflows[case.workflow_sha256].definition.upkeep
        if upkeep is None:
            continue
        row = by_case[case.id]
        found = _ending(scope, case, WARRANTY_ENDING, row.warranty_until, Limit.of(upkeep.warn_before),
                        row.warranty_from, "warranty",
                        _("the installation's warranty ends on {ends}, in {left}: have the elevator checked "
                          "and defects repaired under it before then"))
        if found is not None:
            out.append(found)
    return out


def insurance_findings(scope: AuditScope, past: Past = None) -> list[Finding]:
    """Elevators in operation whose safety-liability insurance ends soon with no renewal on record, or has lapsed
    (or, where the workflow requires it, was never taken out)."""
    out = []
    for sha, loaded in scope.workflows.items():
        wf = loaded.definition
        if wf.upkeep is None:
            continue
        finals = [s.id for s in final_stages(wf)]
        limit = Limit.of(wf.upkeep.warn_before)
        if past is None:
            query = case_query(scope, CASES.c.workflow_sha256 == sha, CASES.c.stage.in_(finals),
                               CASES.c.status != WITHDRAWN)
            if not wf.upkeep.insurance_required:  # only an elevator with a policy ending by the horizon is flagged
                query = query.where(CASES.c.id.in_(select(POLICIES.c.case_id).where(
                    POLICIES.c.ends < add_days(scope.calendar, scope.as_of, limit.days + 1, limit.working),
                    tables.not_voided(POLICIES))))
            cases = scope.current(query)
        else:
            cases = [c for c in past if c.workflow_sha256 == sha and c.stage in finals and c.status != WITHDRAWN]
        policies = read.records(scope.conn, POLICIES, [c.id for c in cases],
                                names=("id", "case_id", "insurer", "starts", "ends"))
        for case in cases:
            found = _insurance(scope, case, policies.get(case.id, []), limit, wf.upkeep.insurance_required)
            if found is not None:
                out.append(found)
    return out


def coverage(policies: Iterable[Any]) -> list[tuple[date, date, str]]:
    """The periods covered without a gap, each (first day, last day, insurer of its last policy): a policy that
    starts by the day after the one before ends continues the cover."""
    periods: list[tuple[date, date, str]] = []
    for p in sorted(policies, key=lambda p: (p.starts, p.ends)):
        if periods and p.starts <= periods[-1][1] + timedelta(days=1):
            first, last, insurer = periods[-1]
            periods[-1] = (first, p.ends, p.insurer) if p.ends > last else (first, last, insurer)
        else:
            periods.append((p.starts, p.ends, p.insurer))
    return periods


def _insurance(scope: AuditScope, case: Any, policies: list[Row[Any]], limit: Limit, required: bool
               ) -> Finding | None:
    """A renewal counts once its policy is on record, whenever it starts (it is entered when bought)."""
    as_of = scope.as_of
    periods = coverage(policies)
    current = next((p for p in periods if p[0] <= as_of <= p[1]), None)
    if current is not None:
        return _ending(scope, case, INSURANCE_ENDING, current[1], limit, current[0], "insurance",
                       _("the safety-liability insurance ({insurer}) ends on {ends}, in {left}, and no "
                         "renewal is on record"), insurer=current[2])
    ended = [p for p in periods if p[1] < as_of]
    if ended:
        first, last, insurer = ended[-1]
        days = (as_of - last).days
        return scope.finding(case, INSURANCE_LAPSED, limit=None, since=first, due=last, days_over=days,
                             waiting_on=None, subject="insurance",
                             message=_("the safety-liability insurance ({insurer}) ended on {ends}, {days} days ago, "
                                       "and no policy covers the elevator since").format(
                                 insurer=insurer, ends=last, days=days))
    if not required:
        return None
    entered = local_date(case.stage_entered_at)
    days = (as_of - entered).days
    return scope.finding(case, INSURANCE_LAPSED, limit=None, since=entered, due=entered, days_over=days,
                         waiting_on=None, subject="insurance",
                         message=_("no safety-liability insurance covers the elevator, in operation since {entered}")
                         .format(entered=entered))


RULES: tuple[Callable[[AuditScope, Past], list[Finding]], ...] = (
    unpaid_subsidies, warranty_findings, insurance_findings)

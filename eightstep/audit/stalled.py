"""The audit: which cases are stuck, where, since when, waiting on whom, and what exactly is missing.

Every rule is "more than N days since some date", N in calendar or working days: how days are counted is in
``eightstep.audit.days``, the shared state and the findings in ``eightstep.audit.scope``, the rules in
``eightstep.audit.rules``; this module runs them and adds the engine's blockers. (Its names are the audit's
public interface: everything the other modules define that callers use is importable from here.)

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

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from eightstep import engine
from eightstep.audit.blocked import blocker_dicts
from eightstep.audit.days import (
    ONE_DAY,
    Limit,
    add_days,
    check_time,
    clock_days,
    count_days,
    end_of,
    limit_cutoff,
    over_cutoff,
    signed_days,
    today,
)
from eightstep.audit.rules import (
    RULES,
    Past,
    overdue_reviews,
    stall_query,
    stall_terms,
    stalled_stages,
    unmediated_objections,
    upkeep_cases,
    upkeep_findings,
)
from eightstep.audit.scope import (
    CASE_COLUMNS,
    CASES,
    FINDING_TYPES,
    INSPECTION_DUE,
    INSPECTION_OVERDUE,
    INSURANCE_ENDING,
    INSURANCE_LAPSED,
    MAINTENANCE_OVERDUE,
    OBJECTION_UNMEDIATED,
    STAGE_OVERDUE,
    SUBSIDY_UNPAID,
    SUSPENSION_REVIEW_OVERDUE,
    WARRANTY_ENDING,
    AuditResult,
    AuditScope,
    Finding,
    StageInfo,
    authority_title,
    case_query,
    final_stages,
)
from eightstep.engine import asof
from eightstep.engine.gcpause import fewer_collections
from eightstep.engine.guards import Blocker
from eightstep.store import read
from eightstep.store.workspace import Workspace

__all__ = [
    "CASES",
    "CASE_COLUMNS",
    "FINDING_TYPES",
    "INSPECTION_DUE",
    "INSPECTION_OVERDUE",
    "INSURANCE_ENDING",
    "INSURANCE_LAPSED",
    "MAINTENANCE_OVERDUE",
    "OBJECTION_UNMEDIATED",
    "ONE_DAY",
    "RULES",
    "STAGE_OVERDUE",
    "SUBSIDY_UNPAID",
    "SUSPENSION_REVIEW_OVERDUE",
    "WARRANTY_ENDING",
    "AuditResult",
    "AuditScope",
    "Finding",
    "Limit",
    "Past",
    "StageInfo",
    "add_days",
    "all_rules",
    "authority_title",
    "case_query",
    "check_time",
    "clock_days",
    "count_days",
    "end_of",
    "final_stages",
    "find",
    "limit_cutoff",
    "over_cutoff",
    "overdue_reviews",
    "signed_days",
    "sort_key",
    "stall_query",
    "stall_terms",
    "stalled_case_ids",
    "stalled_stages",
    "stream",
    "stream_json",
    "today",
    "unmediated_objections",
    "upkeep_cases",
    "upkeep_findings",
    "waiting_on",
]


def all_rules() -> tuple[Callable[[AuditScope, Past], list[Finding]], ...]:
    """``RULES`` and the rules on money and the elevator after acceptance (``eightstep.audit.aftercare``)."""
    from eightstep.audit.aftercare import RULES as AFTERCARE

    return (*RULES, *AFTERCARE)


def waiting_on(finding: Finding, blockers: list[Blocker]) -> str:
    """For a stalled stage: the authority of the missing approval(s) if any is missing, else as found."""
    return _waiting_on(finding, (b.authority for b in blockers if b.type == "approval"))


def _waiting_on(finding: Finding, approvals: Iterable[str | None]) -> str:
    """``waiting_on`` given the authorities of the case's approval blockers."""
    if finding.type != STAGE_OVERDUE:
        return finding.waiting_on
    authorities = list(dict.fromkeys(a for a in approvals if a))
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
    result, blocked = stream(ws, as_of=as_of, complex_name=complex_name)
    if not with_blockers:
        return replace(result, cases_checked=0)
    return replace(result, findings=list(blocked))


Chunk = Callable[[list[Finding]], list[Finding]]  # what ``stream`` does to each chunk after its blockers


def stream(ws: Workspace, *, as_of: date | None = None, complex_name: str | None = None,
           finish: Chunk | None = None, chunk: int = 500) -> tuple[AuditResult, Iterator[Finding]]:
    """``find`` for large outputs: the findings without their blockers (most overdue first), and an iterator
    that takes them out of that list ``chunk`` at a time, in order, gives each its blockers and passes them
    through ``finish`` (the masking of an output that leaves the office). A caller that drops each finding once
    written never holds the blockers of a city's findings at once; ``result.findings`` is empty at the end."""
    result, then = _found(ws, as_of, complex_name)
    return result, _blocked(ws, result.findings, result.as_of, then, finish, chunk)


def _found(ws: Workspace, as_of: date | None, complex_name: str | None
           ) -> tuple[AuditResult, dict[str, asof.State]]:
    """The findings without blockers, sorted, and the states then of the cases that have moved since."""
    day = as_of or today()
    with fewer_collections():
        findings, then = _find(ws, day, complex_name)
    return AuditResult(day, complex_name, findings, len({f.case for f in findings})), then


def _blocked(ws: Workspace, findings: list[Finding], day: date, then: dict[str, asof.State],
             finish: Chunk | None, chunk: int) -> Iterator[Finding]:
    at = check_time(day)
    with fewer_collections():
        while findings:
            part = findings[:chunk]
            del findings[:chunk]  # handed over: the caller's list holds none of their blockers
            ids = list(dict.fromkeys(f.case for f in part))
            results = engine.check_many(ws, ids, at=at, cache=True,
                                        states={cid: then[cid] for cid in ids if cid in then})
            for finding in part:
                blockers = tuple(b for b in results[finding.case].blockers if b.type != "final")
                finding.blocked(blockers, waiting_on(finding, list(blockers)))
            yield from (finish(part) if finish is not None else part)


Items = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]  # what ``stream_json`` does to each chunk
_NO_BLOCKERS = '"blockers": []}'  # how the JSON text of a finding without blockers ends (its last key)


def stream_json(ws: Workspace, *, as_of: date | None = None, complex_name: str | None = None,
                finish: Items | None = None, chunk: int = 500) -> tuple[AuditResult, Iterator[str]]:
    """``stream`` for a JSON output: each finding as the JSON text of its ``Finding.as_dict`` with its blockers
    (the compact encoding of ``json.JSONEncoder(ensure_ascii=False)``), in order. ``finish`` gets each chunk's
    objects first (the masking, in place, same order); a case's blockers that it need not see (kept in
    ``case_checks``, nothing to mask or leave out: ``eightstep.audit.blocked``) are spliced in as stored."""
    result, then = _found(ws, as_of, complex_name)
    return result, _blocked_texts(ws, result.findings, result.as_of, then, finish, chunk)


def _blocked_texts(ws: Workspace, findings: list[Finding], day: date, then: dict[str, asof.State],
                   finish: Items | None, chunk: int) -> Iterator[str]:
    at = check_time(day)
    encode = json.JSONEncoder(ensure_ascii=False).encode
    with fewer_collections():
        while findings:
            part = findings[:chunk]
            del findings[:chunk]
            found = blocker_dicts(ws, list(dict.fromkeys(f.case for f in part)), at, then)
            items: list[dict[str, Any]] = []
            stored: list[str | None] = []
            for finding in part:
                blockers = found[finding.case]
                item = finding.as_dict()
                if isinstance(blockers, str):  # spliced after encoding: nothing in it is read or changed
                    stored.append(blockers)
                else:
                    stored.append(None)
                    item["waiting_on"] = _waiting_on(finding, (b.get("authority") for b in blockers
                                                               if b["type"] == "approval"))
                    item["blockers"] = blockers  # shared by a case's findings: ``finish`` copies what it changes
                items.append(item)
            for item, text in zip(finish(items) if finish is not None else items, stored, strict=True):
                line = encode(item)
                yield line if text is None else line[:-len(_NO_BLOCKERS)] + '"blockers": ' + text + "}"


def _find(ws: Workspace, day: date, complex_name: str | None) -> tuple[list[Finding], dict[str, asof.State]]:
    """The findings without blockers, sorted, and the states then of the cases that have moved since."""
    with ws.engine.connect() as conn:
        complex_id = read.complex_id(conn, complex_name) if complex_name is not None else None
        scope = AuditScope(ws, conn, day, complex_id, read.workflows(conn, ws.workflows))
        if day < today():  # a case that has moved since is judged as it stood then (nothing can move later)
            scope.moved = asof.moved_since(conn, scope.end)
        rules = all_rules()
        findings = [f for rule in rules for f in rule(scope, None)]
        then: dict[str, asof.State] = {}
        for part in read.batches(sorted(scope.moved)):
            past, states = scope.past_cases(list(part))
            findings.extend(f for rule in rules for f in rule(scope, past))
            then.update(states)
    findings.sort(key=sort_key)
    return findings, then


def stalled_case_ids(ws: Workspace, *, as_of: date, complex_name: str | None = None) -> dict[str, list[str]]:
    """Case id -> the finding types flagged for it (no blockers computed): what the overview highlights."""
    flagged: dict[str, list[str]] = {}
    for f in find(ws, as_of=as_of, complex_name=complex_name, with_blockers=False).findings:
        flagged.setdefault(f.case, [])
        if f.type not in flagged[f.case]:
            flagged[f.case].append(f.type)
    return flagged

"""Moves of a case: advance, return for rework, suspend, resume, withdraw.

Where the case's workflow has ``permissions``, each move is an action like any record (``case.advance``,
``case.return``, ``case.suspend``, ``case.resume``, ``case.withdraw``; ``case.*`` for all): the actor must hold
one of its roles in the case (``engine.permissions``).

Every change runs in one transaction that also appends the case's event and bumps its version, so two clerks
working on the same case at once never lose an update: one wins, the other gets ConflictError.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, update
from transitions import Machine

from eightstep.engine.actors import acting_role, checked_role
from eightstep.engine.cases import default_actor, editing, refuse_stale_or_withdrawn
from eightstep.engine.checking import _status_blocker, guard_context, machine_of
from eightstep.engine.events import GENESIS, append_event, event_row, with_role
from eightstep.engine.guards import before_the_stage
from eightstep.engine.litigation import litigation_pending
from eightstep.engine.permissions import check_permission
from eightstep.errors import BlockedError, ConflictError, InputError
from eightstep.i18n import _
from eightstep.store import read, tables
from eightstep.store.tables import ACTIVE, SUSPENDED, WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, business_time, iso_local, now_utc, show
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workflow.machine import ADVANCE, return_trigger

_STATUS_MACHINE = Machine(
    model=None, states=[ACTIVE, SUSPENDED, WITHDRAWN], initial=ACTIVE, auto_transitions=False,
    model_attribute="status",
    transitions=[
        {"trigger": "suspend", "source": ACTIVE, "dest": SUSPENDED},
        {"trigger": "resume", "source": SUSPENDED, "dest": ACTIVE},
        {"trigger": "withdraw", "source": [ACTIVE, SUSPENDED], "dest": WITHDRAWN},
    ],
)


@dataclass(frozen=True)
class Move:
    case_id: str
    action: str
    from_stage: str | None
    to_stage: str | None
    at: datetime
    details: dict[str, Any]
    version: int  # the case's version after the move: pass it as expected_version to the next one


def _not_before_stage(case: Any, at: datetime, what: str) -> None:
    if at < as_utc(case.stage_entered_at):
        raise InputError(f"{what} {show(at)} would be before the case entered its stage "
                         f"({show(case.stage_entered_at)}); check --at")


def advance(ws: Workspace, case_id: str, *, at: datetime | None = None, actor: str | None = None,
            note: str | None = None, expected_version: int | None = None, as_role: str | None = None) -> Move:
    """Move to the next stage if no blocker remains; otherwise BlockedError listing every blocker.

    The most frequent write, so it runs on Core statements (the ORM's unit of work cost as much as everything
    else together): the case row (its workflow snapshot is parsed once per workspace), the guards' records
    (``checking.GuardReader``), then a compare-and-set ``UPDATE cases ... WHERE version = :seen`` (the same as
    the bulk advance's) with the event and, leaving a consent stage, the consent record, in one transaction.
    """
    at = business_time(at)
    who = default_actor(actor)
    as_role = checked_role(as_role)
    with ws.writing() as session:  # a busy database or a duplicate event becomes ConflictError there
        conn = session.connection()
        case, loaded = _move_head(ws, conn, case_id, expected_version)
        wf = loaded.definition
        if case.status != ACTIVE:
            blocker = _status_blocker(case)
            raise BlockedError(_("case {case} is {status}").format(case=case_id, status=case.status),
                               [blocker] if blocker else [], case=case.id)
        if wf.next_of(case.stage) is None:
            raise InputError(_("case {case} is in the last stage ({stage}): there is nothing to advance to").format(
                case=case_id, stage=case.stage))
        early = before_the_stage(case.stage_entered_at, at)
        if early is not None:
            raise BlockedError(_("case {case} cannot leave {stage} yet").format(case=case_id, stage=case.stage),
                               [early], case=case.id)
        granted = check_permission(conn, wf, case.id, "case.advance", who, as_role, at)
        ctx = guard_context(ws, conn, case, loaded, at)
        position = SimpleNamespace(stage=case.stage)  # what the machine moves (nothing is attached to it)
        if not machine_of(ws, loaded).events[ADVANCE].trigger(position, ctx=ctx):
            raise BlockedError(_("case {case} cannot leave {stage} yet").format(case=case_id, stage=case.stage),
                               ctx.blockers(), case=case.id)
        consent = ctx.consent_tally.as_dict() if ctx.consent_tally is not None else None
        cas, event, consent_record = advance_rows(case, position.stage, at=at, recorded_at=now_utc(), actor=who,
                                                  note=note, consent=consent,
                                                  role=granted or acting_role(session, case.id, who, as_role, at))
        if conn.execute(ADVANCE_CAS, cas).rowcount != 1:
            raise ConflictError(f"case {case_id} was changed by someone else while this command ran; nothing was "
                                "written. Look at `eightstep case show` and try again")
        conn.execute(insert(_EVENTS), event)
        if consent_record is not None:
            conn.execute(insert(_CONSENT_RECORDS), consent_record)
    details = {"consent": consent} if consent is not None else {}
    return Move(case.id, "advance", case.stage, position.stage, at, details, case.version + 1)


def advance_rows(case: Any, to_stage: str, *, at: datetime, recorded_at: datetime, actor: str, note: str | None,
                 consent: dict[str, Any] | None, role: str | None
                 ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """What moving ``case`` (its row as read) on to ``to_stage`` writes, for ``engine.advance`` and the bulk
    advance alike: the ``ADVANCE_CAS`` parameters, the event (the next link of the case's chain) and, when it
    leaves a consent stage with the tally ``consent``, its consent record."""
    details = {"consent": consent} if consent is not None else {}
    event = event_row(case.id, case.event_count + 1, case.last_hash or GENESIS, at=at, recorded_at=recorded_at,
                      actor=actor, action="advance", from_stage=case.stage, to_stage=to_stage, note=note,
                      details=with_role(details, role))
    cas = {"b_id": case.id, "b_seen": case.version, "b_stage": to_stage, "b_at": at, "b_seq": event["seq"],
           "b_hash": event["hash"], "b_version": case.version + 1}
    record = None if consent is None else {
        "case_id": case.id, "stage": case.stage, "at": at, "rule": json.dumps(consent["rule"], ensure_ascii=False),
        "tally": json.dumps(consent, ensure_ascii=False)}
    return cas, event, record


# The compare-and-set move of a case to its next stage (engine.advance, bulk.write_batch): it matches only while
# the case is still at the version that was read.
_CASES = tables.cases
ADVANCE_CAS = (update(_CASES)
               .where(_CASES.c.id == bindparam("b_id"), _CASES.c.version == bindparam("b_seen"))
               .values(stage=bindparam("b_stage"), stage_entered_at=bindparam("b_at"),
                       clock_started_at=bindparam("b_at"), event_count=bindparam("b_seq"),
                       last_hash=bindparam("b_hash"), version=bindparam("b_version")))
_EVENTS = tables.events
_CONSENT_RECORDS = tables.consent_records


def _move_head(ws: Workspace, conn: Connection, case_id: str, expected_version: int | None
               ) -> tuple[Row[Any], LoadedWorkflow]:
    """The case row (Core) and its rules, refused as ``editing`` refuses: another version, a withdrawn case."""
    row = read.case(conn, case_id)
    refuse_stale_or_withdrawn(row, expected_version)
    return row, read.workflow(conn, ws.workflows, row)


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise InputError("--reason is required and must not be empty: say why, for the record")
    return reason.strip()


def return_to(ws: Workspace, case_id: str, to: str, *, reason: str, at: datetime | None = None,
              actor: str | None = None, expected_version: int | None = None, keep_records: bool = False,
              as_role: str | None = None) -> Move:
    """Send the case back to an earlier stage (驳回), with the reason on record.

    The work is then done again: documents, approvals, ballots, scheme choices and meetings dated before the
    return no longer count toward any stage (``Case.evidence_from``), so the reworked scheme is noticed again,
    the vote taken again, and so on. ``keep_records`` keeps them counting (a return to add a missing paper).
    """
    reason = _reason(reason)
    at = business_time(at)
    who = default_actor(actor)
    as_role = checked_role(as_role)
    with editing(ws, case_id, expected_version=expected_version) as (session, case, loaded):
        wf = loaded.definition
        if case.status != ACTIVE:
            raise InputError(f"case {case_id} is {case.status}: resume it before returning it")
        allowed = wf.return_targets(case.stage)
        if to not in allowed:
            raise InputError(f"case {case_id} in {case.stage} can be returned to: {', '.join(allowed) or 'nothing'}"
                             f" (not {to!r})")
        _not_before_stage(case, at, "returning at")
        granted = check_permission(session.connection(), wf, case.id, "case.return", who, as_role, at)
        source = case.stage
        machine_of(ws, loaded).events[return_trigger(to)].trigger(case)
        case.stage_entered_at = at
        case.clock_started_at = at
        if not keep_records:
            case.evidence_from = at
        details = {"records": "kept" if keep_records else "restarted"}
        append_event(session, case, at=at, actor=who, action="return", from_stage=source, to_stage=to,
                     note=reason, details=details, role=granted or as_role)
    return Move(case.id, "return", source, to, at, details, case.version)


def _status_move(ws: Workspace, case_id: str, trigger: str, reason: str | None, at: datetime | None,
                 actor: str | None, review_at: datetime | None = None,
                 expected_version: int | None = None, as_role: str | None = None) -> Move:
    reason = _reason(reason)
    at = business_time(at)
    who = default_actor(actor)
    as_role = checked_role(as_role)
    if review_at is not None:
        if review_at.tzinfo is None:
            raise InputError(f"review at {review_at}: no time zone; pass an aware datetime (UTC or Asia/Shanghai)")
        review_at = as_utc(review_at)
        if review_at < at:
            raise InputError(f"--review-at {show(review_at)} is before the suspension ({show(at)}): the review "
                             "comes after the case is suspended; check --review-at and --at")
    with editing(ws, case_id, expected_version=expected_version) as (session, case, loaded):
        before = case.status
        if trigger not in _STATUS_MACHINE.get_triggers(before):
            raise InputError(f"case {case_id} is {before}: it cannot {trigger}")
        _not_before_stage(case, at, f"{trigger} at")
        granted = check_permission(session.connection(), loaded.definition, case.id, f"case.{trigger}", who,
                                   as_role, at)
        pending = litigation_pending(session, case_id, loaded.definition, at) if trigger == "resume" else None
        if pending is not None:
            raise InputError(pending[0], remedy=pending[1])
        if trigger == "resume" and case.suspended_at is not None:
            if at < as_utc(case.suspended_at):
                raise InputError(f"resuming at {show(at)} is before the suspension ({show(case.suspended_at)})")
            # The stall clock does not run while a case is suspended.
            case.clock_started_at = as_utc(case.clock_started_at) + (at - as_utc(case.suspended_at))
        _STATUS_MACHINE.events[trigger].trigger(case)
        case.status_reason = reason
        case.suspended_at = at if trigger == "suspend" else None
        case.review_at = review_at if trigger == "suspend" else None
        details = {"status": {"from": before, "to": case.status}}
        if review_at is not None:
            details["review_at"] = iso_local(review_at)
        append_event(session, case, at=at, actor=who, action=trigger, from_stage=case.stage,
                     to_stage=case.stage, note=reason, details=details, role=granted or as_role)
    return Move(case.id, trigger, case.stage, case.stage, at, details, case.version)


def suspend(ws: Workspace, case_id: str, *, reason: str, at: datetime | None = None, actor: str | None = None,
            review_at: datetime | None = None, as_role: str | None = None) -> Move:
    """Pause the case (mediation, litigation, ...); its stall clock stops until it is resumed. ``review_at``
    (when the suspension is to be looked at again) may lie ahead, but not before the suspension."""
    return _status_move(ws, case_id, "suspend", reason, at, actor, review_at, as_role=as_role)


def resume(ws: Workspace, case_id: str, *, reason: str, at: datetime | None = None,
           actor: str | None = None, as_role: str | None = None) -> Move:
    return _status_move(ws, case_id, "resume", reason, at, actor, as_role=as_role)


def withdraw(ws: Workspace, case_id: str, *, reason: str, at: datetime | None = None,
             actor: str | None = None, as_role: str | None = None) -> Move:
    """Withdraw the case for good (已撤销); the unit may then get a new case."""
    return _status_move(ws, case_id, "withdraw", reason, at, actor, as_role=as_role)

"""Moves of a case: advance, return for rework, suspend, resume, withdraw.

Where the case's workflow has ``permissions``, each move is an action like any record (``case.advance``,
``case.return``, ``case.suspend``, ``case.resume``, ``case.withdraw``; ``case.*`` for all): the actor must hold
one of its roles in the case (``engine.permissions``).

The case machine of the workflow version decides each move (``eightstep.workflow.machine``, fired on a
``Position``): where it goes, and whether it may; a refusal says why with the machine's own conditions. Every
change runs in one transaction that also appends the case's event and bumps its version, so two clerks working
on the same case at once never lose an update: one wins, the other gets ConflictError. The advance, the most
frequent write, runs on Core statements shared with the bulk advance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, update

from eightstep.engine.actors import acting_role, checked_role
from eightstep.engine.cases import default_actor, editing, refuse_stale_or_withdrawn
from eightstep.engine.checking import guard_context, machine_of
from eightstep.engine.events import GENESIS, append_event, event_row, with_role
from eightstep.engine.litigation import litigation_pending
from eightstep.engine.permissions import check_permission
from eightstep.engine.position import Position
from eightstep.errors import BlockedError, ConflictError, InputError, Remedy
from eightstep.i18n import _
from eightstep.store import read, tables
from eightstep.store.workspace import Workspace
from eightstep.suggest import did_you_mean
from eightstep.timeutil import as_utc, business_time, iso_local, now_utc, show
from eightstep.workflow.loaded import LoadedWorkflow
from eightstep.workflow.machine import (
    ACTIVE_CONDITION,
    ADVANCE,
    RESUME,
    RETURN_PREFIX,
    SUSPEND,
    WITHDRAW,
    Unavailable,
    return_trigger,
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
        # who may move it first, as the bulk advance asks (the permissions are not the case machine's)
        granted = check_permission(conn, loaded.definition, case.id, "case.advance", who, as_role, at)
        ctx = guard_context(ws, conn, case, loaded, at)
        position = Position.of(case, ADVANCE, at, ctx)
        machine = machine_of(ws, loaded)
        try:
            moved = machine.fire(ADVANCE, position)
        except Unavailable:
            raise InputError(_("case {case} is in the last stage ({stage}): there is nothing to advance to").format(
                case=case_id, stage=case.stage)) from None
        if not moved:
            blockers = position.refusal(machine)
            message = (_("case {case} is {status}").format(case=case_id, status=case.status)
                       if blockers and blockers[0].type == "status" else
                       _("case {case} cannot leave {stage} yet").format(case=case_id, stage=case.stage))
            raise BlockedError(message, blockers, case=case.id)
        consent = ctx.consent_tally.as_dict() if ctx.consent_tally is not None else None
        cas, event, consent_record = advance_rows(case, position.stage, at=at, recorded_at=now_utc(), actor=who,
                                                  note=note, consent=consent,
                                                  role=granted or acting_role(session, case.id, who, as_role, at))
        if conn.execute(ADVANCE_CAS, cas).rowcount != 1:
            raise ConflictError(_("case {case} was changed by someone else while this command ran; nothing was "
                                  "written. Look at the case and try again").format(case=case_id),
                                remedy=Remedy("case.show", {"case": case_id}))
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
        raise InputError(_("is required and must not be empty: say why, for the record"), field="reason")
    return reason.strip()


def _decide(ws: Workspace, case: Any, loaded: LoadedWorkflow, trigger: str, at: datetime) -> Position:
    """Fire ``trigger`` on ``case``: the position the machine moves it to, or InputError saying why not."""
    machine = machine_of(ws, loaded)
    position = Position.of(case, trigger, at)
    try:
        moved = machine.fire(trigger, position)
    except Unavailable:  # explained by what is most wrong: the status, else the stages it may go back to
        if not position.allows(ACTIVE_CONDITION):
            raise InputError(position.problems(ACTIVE_CONDITION)[0].message) from None
        allowed = machine.return_targets(case.stage)
        to = trigger.removeprefix(RETURN_PREFIX)
        raise InputError(_("case {case} in {stage} can be returned to: {allowed} (not {to!r}{suggestion})").format(
            case=case.id, stage=case.stage, allowed=", ".join(allowed) or _("nothing"), to=to,
            suggestion=did_you_mean(to, allowed)), field="to") from None
    if not moved:
        raise InputError(position.refusal(machine)[0].message)
    return position


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
        source = case.stage
        position = _decide(ws, case, loaded, return_trigger(to), at)
        granted = check_permission(session.connection(), loaded.definition, case.id, "case.return", who, as_role, at)
        case.stage = position.stage
        case.stage_entered_at = at
        case.clock_started_at = at
        if not keep_records:
            case.evidence_from = at
        details = {"records": "kept" if keep_records else "restarted"}
        append_event(session, case, at=at, actor=who, action="return", from_stage=source, to_stage=case.stage,
                     note=reason, details=details, role=granted or as_role)
    return Move(case.id, "return", source, case.stage, at, details, case.version)


def _status_move(ws: Workspace, case_id: str, trigger: str, reason: str | None, at: datetime | None,
                 actor: str | None, review_at: datetime | None = None,
                 expected_version: int | None = None, as_role: str | None = None) -> Move:
    reason = _reason(reason)
    at = business_time(at)
    who = default_actor(actor)
    as_role = checked_role(as_role)
    if review_at is not None:
        if review_at.tzinfo is None:
            raise InputError(_("{at}: no time zone; pass an aware datetime (UTC or Asia/Shanghai)").format(
                at=review_at), field="review_at")
        review_at = as_utc(review_at)
        if review_at < at:
            raise InputError(_("{review} is before the suspension ({at}): the review comes after the case is "
                               "suspended; check both dates").format(review=show(review_at), at=show(at)),
                             field="review_at")
    with editing(ws, case_id, expected_version=expected_version) as (session, case, loaded):
        before = case.status
        position = _decide(ws, case, loaded, trigger, at)
        granted = check_permission(session.connection(), loaded.definition, case.id, f"case.{trigger}", who,
                                   as_role, at)
        pending = litigation_pending(session, case_id, loaded.definition, at) if trigger == RESUME else None
        if pending is not None:
            raise InputError(pending[0], remedy=pending[1])
        if trigger == RESUME and case.suspended_at is not None:
            # The stall clock does not run while a case is suspended.
            case.clock_started_at = as_utc(case.clock_started_at) + (at - as_utc(case.suspended_at))
        case.status = position.status
        case.status_reason = reason
        case.suspended_at = at if trigger == SUSPEND else None
        case.review_at = review_at if trigger == SUSPEND else None
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
    return _status_move(ws, case_id, SUSPEND, reason, at, actor, review_at, as_role=as_role)


def resume(ws: Workspace, case_id: str, *, reason: str, at: datetime | None = None,
           actor: str | None = None, as_role: str | None = None) -> Move:
    return _status_move(ws, case_id, RESUME, reason, at, actor, as_role=as_role)


def withdraw(ws: Workspace, case_id: str, *, reason: str, at: datetime | None = None,
             actor: str | None = None, as_role: str | None = None) -> Move:
    """Withdraw the case for good (已撤销); the unit may then get a new case."""
    return _status_move(ws, case_id, WITHDRAW, reason, at, actor, as_role=as_role)

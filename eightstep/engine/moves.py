"""Moves of a case: advance, return for rework, suspend, resume, withdraw.

Where the case's workflow has ``permissions``, each move is an action like any record (``case.advance``,
``case.return``, ``case.suspend``, ``case.resume``, ``case.withdraw``; ``case.*`` for all): the actor must hold
one of its roles in the case (``engine.permissions``).

The case machine of the workflow version decides each move (``eightstep.workflow.machine``, fired on a
``Position``): where it goes, and whether it may; a refusal says why with the machine's own conditions. Every
move is a recording (``engine.recording``, with ``move``: time, actor, role, permission, lock and event in one
place): one transaction that writes the case row compare-and-set on its version with the case's event, so two
clerks working on the same case at once never lose an update: one wins, the other gets ConflictError. The
advance's writes are shared with the bulk advance (``advance_rows``, ``ADVANCE_CAS``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eightstep.engine.events import cas_statement, json_object, json_text, move_rows
from eightstep.engine.litigation import litigation_pending
from eightstep.engine.position import Position
from eightstep.engine.recording import recording
from eightstep.errors import BlockedError, InputError
from eightstep.i18n import _
from eightstep.store import tables
from eightstep.store.workspace import Workspace
from eightstep.suggest import did_you_mean
from eightstep.timeutil import as_utc, business_time, iso_local, show
from eightstep.workflow.loaded import LoadedWorkflow
from eightstep.workflow.machine import (
    ACTIVE_CONDITION,
    ADVANCE,
    RESUME,
    RETURN_PREFIX,
    SUSPEND,
    WITHDRAW,
    CaseMachine,
    Unavailable,
    return_trigger,
)

if TYPE_CHECKING:
    from eightstep.rules.consent import Tally


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

    The most frequent write: the recording of a move reads the case row with Core (its workflow snapshot is
    parsed once per workspace), the guards read their records (``checking.GuardReader``), and the move is
    written with the compare-and-set ``UPDATE cases ... WHERE version = :seen`` (the bulk advance's, batched),
    its event and, leaving a consent stage, the consent record, in one transaction.
    """
    with recording(ws, case_id, "case.advance", move="advance", at=at, actor=actor, as_role=as_role,
                   expected_version=expected_version) as rec:
        from eightstep.engine.checking import guard_context, machine_of  # the guards (the workflow schema)

        case, loaded = rec.case, rec.loaded
        ctx = guard_context(ws, rec.conn, case, loaded, rec.at)
        position = Position.of(case, ADVANCE, rec.at, ctx)
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
        rec.set(**_arrival(position.stage, rec.at))
        rec.note = note
        if consent is not None:
            rec.details = {"consent": consent}
            rec.also(_CONSENT_RECORDS, consent_record(case, consent["rule"], rec.at, json_text(consent)))
    return Move(case.id, "advance", case.stage, rec.stage, rec.at, rec.details, rec.version)


def _arrival(stage: str, at: datetime) -> dict[str, Any]:
    """What entering ``stage`` at ``at`` sets on the case row (its stall clock starts again)."""
    return {"stage": stage, "stage_entered_at": at, "clock_started_at": at}


def consent_record(case: Any, rule: dict[str, Any], at: datetime, tally: str) -> dict[str, Any]:
    """The consent record of ``case`` leaving its (consent) stage at ``at`` under ``rule`` with the tally
    ``tally`` (encoded: ``events.json_text`` of the tally's dict, or ``tally_text``)."""
    return {"case_id": case.id, "stage": case.stage, "at": at, "rule": json.dumps(rule, ensure_ascii=False),
            "tally": tally}


def tally_text(tally: Tally) -> str:
    """``events.json_text(tally.as_dict())``, the same text, with the per-owner report written straight from the
    owners (``Tally.per_owner_json``) instead of built as dicts and encoded."""
    return json_object(tally.as_dict(report=False), {"per_owner": tally.per_owner_json()})


def advance_rows(case: Any, to_stage: str, *, at: datetime, recorded_at: datetime, actor: str, note: str | None,
                 consent: Tally | None, role: str | None
                 ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """What moving ``case`` (its row as read) on to ``to_stage`` writes, for the bulk advance (one batch,
    executemany): the ``ADVANCE_CAS`` parameters, the event (the next link of the case's chain) and, when it
    leaves a consent stage with the tally ``consent``, its consent record; as ``engine.advance`` writes them. The
    tally is encoded as JSON once, for the event and the consent record (the same text as encoding it twice)."""
    tally = None if consent is None else tally_text(consent)
    cas, event = move_rows(case, "advance", _arrival(to_stage, at), at=at, recorded_at=recorded_at, actor=actor,
                           note=note, details={}, role=role, encoded=None if tally is None else {"consent": tally})
    return cas, event, None if consent is None or tally is None else consent_record(case, consent.rule, at, tally)


# The compare-and-set move of a case to its next stage (engine.advance, bulk.write_batch): it matches only while
# the case is still at the version that was read.
ADVANCE_CAS = cas_statement(("stage", "stage_entered_at", "clock_started_at"))
_CONSENT_RECORDS = tables.consent_records


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise InputError(_("is required and must not be empty: say why, for the record"), field="reason")
    return reason.strip()


def moves_machine_of(ws: Workspace, loaded: LoadedWorkflow) -> CaseMachine:
    """The case machine for the moves that run no guard (return, suspend, resume, withdraw): the workflow's own
    when this workspace has built it, else the same transitions built once from the outline's plain graph (no
    workflow schema, no guards imported)."""
    machine = ws.machines.get(loaded.sha256)
    if isinstance(machine, CaseMachine):
        return machine
    key = f"{loaded.sha256}:moves"
    machine = ws.machines.get(key)
    if not isinstance(machine, CaseMachine):
        machine = ws.machines[key] = CaseMachine.of_graph(loaded.outline.graph)
    return machine


def _decide(ws: Workspace, case: Any, loaded: LoadedWorkflow, trigger: str, at: datetime) -> Position:
    """Fire ``trigger`` on ``case``: the position the machine moves it to, or InputError saying why not."""
    machine = moves_machine_of(ws, loaded)
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
    with recording(ws, case_id, "case.return", move="return", at=at, actor=actor, as_role=as_role,
                   expected_version=expected_version) as rec:
        position = _decide(ws, rec.case, rec.loaded, return_trigger(to), rec.at)
        rec.set(**_arrival(position.stage, rec.at))
        if not keep_records:
            rec.set(evidence_from=rec.at)
        rec.note = reason
        rec.details = {"records": "kept" if keep_records else "restarted"}
    return Move(case_id, "return", rec.case.stage, rec.stage, rec.at, rec.details, rec.version)


def _status_move(ws: Workspace, case_id: str, trigger: str, reason: str | None, at: datetime | None,
                 actor: str | None, review_at: datetime | None = None,
                 expected_version: int | None = None, as_role: str | None = None) -> Move:
    reason = _reason(reason)
    if review_at is not None:
        if review_at.tzinfo is None:
            raise InputError(_("{at}: no time zone; pass an aware datetime (UTC or Asia/Shanghai)").format(
                at=review_at), field="review_at")
        review_at = as_utc(review_at)
        when = business_time(at)
        if review_at < when:
            raise InputError(_("{review} is before the suspension ({at}): the review comes after the case is "
                               "suspended; check both dates").format(review=show(review_at), at=show(when)),
                             field="review_at")
        at = when
    with recording(ws, case_id, f"case.{trigger}", move=trigger, at=at, actor=actor, as_role=as_role,
                   expected_version=expected_version) as rec:
        case, at = rec.case, rec.at
        position = _decide(ws, case, rec.loaded, trigger, at)
        ends = rec.loaded.outline.litigation_ends
        pending = litigation_pending(rec.conn, case_id, ends, at) if trigger == RESUME else None
        if pending is not None:
            raise InputError(pending[0], remedy=pending[1])
        if trigger == RESUME and case.suspended_at is not None:
            # The stall clock does not run while a case is suspended.
            rec.set(clock_started_at=as_utc(case.clock_started_at) + (at - as_utc(case.suspended_at)))
        rec.set(status=position.status, status_reason=reason, suspended_at=at if trigger == SUSPEND else None,
                review_at=review_at if trigger == SUSPEND else None)
        rec.note = reason
        rec.details = {"status": {"from": case.status, "to": position.status}}
        if review_at is not None:
            rec.details["review_at"] = iso_local(review_at)
    return Move(case_id, trigger, case.stage, case.stage, at, rec.details, rec.version)


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

"""Recording what happens in a case: households, ballots, documents, approvals, objections.

Each function is one transaction with one event in the case's history, naming who acted and in which role
(``as_role``, the commands' ``--as``; default: the actor's role on record in the case, see ``eightstep.actors``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from eightstep import tabular
from eightstep.consent import AGREE, CHOICES, Tally, tally
from eightstep.engine import default_actor, editing, get_case, load_records, workflow_of
from eightstep.errors import InputError, NotFoundError
from eightstep.guards import current_ballots, voters
from eightstep.history import append_event
from eightstep.store import models
from eightstep.timeutil import as_utc, business_time, now_utc, parse_at, show
from eightstep.workflow.schema import ConsentRule, Workflow
from eightstep.workspace import Workspace

CHOICE_WORDS = {
    "agree": AGREE, "yes": AGREE, "同意": AGREE, "赞成": AGREE,
    "oppose": "oppose", "no": "oppose", "反对": "oppose", "不同意": "oppose",
    "abstain": "abstain", "弃权": "abstain",
}
MEDIATION_STEPS = ("negotiation", "coordination", "mediation", "hearing", "litigation")

HOUSEHOLD_COLUMNS = (
    tabular.Column("room", ("room", "房号", "室号", "房间号", "门牌号"), tabular.parse_text),
    tabular.Column("floor", ("floor", "楼层", "层"), tabular.parse_int_range(-5, 100)),
    tabular.Column("area", ("area", "面积", "建筑面积", "专有面积", "专有部分面积"), tabular.parse_decimal(2)),
    tabular.Column("owner", ("owner", "业主", "业主姓名", "姓名", "产权人"), tabular.parse_text),
    tabular.Column("owner_key", ("owner_key", "业主编号", "产权人编号", "owner id"), tabular.parse_text,
                   required=False),
    tabular.Column("phone", ("phone", "电话", "联系电话", "手机", "手机号"), tabular.parse_phone, required=False),
)
VOTE_COLUMNS = (
    tabular.Column("room", ("room", "房号", "室号", "房间号", "门牌号"), tabular.parse_text),
    tabular.Column("choice", ("choice", "表决", "表决意见", "意见", "vote"), tabular.parse_choice(CHOICE_WORDS)),
    tabular.Column("at", ("at", "date", "日期", "时间", "表决日期"), tabular.parse_text, required=False),
)


def area_centi(area: Decimal) -> int:
    return int((area * 100).to_integral_exact())


# --- households ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    warnings: list[str]


def import_households(ws: Workspace, case_id: str, path: Path, *, replace: bool = False,
                      actor: str | None = None, at: datetime | None = None,
                      as_role: str | None = None) -> ImportResult:
    """Load the unit's owners from CSV/xlsx (header: room, floor, area, owner[, owner_key][, phone]).

    All rows are checked first; a bad row names its line and field and nothing is written. Rooms already
    recorded are refused unless ``replace`` (then they are updated in place; their ballots stay).
    """
    rows = tabular.read_table(path, HOUSEHOLD_COLUMNS)
    if not rows:
        raise InputError(f"{path}: no household rows below the header")
    problems = []
    seen: dict[str, int] = {}
    for row in rows:
        room = row.values["room"]
        if room in seen:
            problems.append(f"{path}:{row.line}: room {room!r} appears twice (first on line {seen[room]})")
        seen.setdefault(room, row.line)
    if problems:
        raise InputError("\n".join(problems))
    warnings = _shared_name_warnings(rows)
    with editing(ws, case_id) as (session, case, _loaded):
        existing = {h.room: h for h in session.exec(select(models.Household).where(
            models.Household.case_id == case_id))}
        clashes = [f"{path}:{r.line}: room {r.values['room']!r} is already recorded in case {case_id}; use "
                   "--replace to update it" for r in rows if r.values["room"] in existing and not replace]
        if clashes:
            raise InputError("\n".join(clashes))
        added = updated = 0
        for row in rows:
            v = row.values
            values = {"floor": v["floor"], "area_centi": area_centi(v["area"]), "owner": v["owner"],
                      "owner_key": v["owner_key"] or f"room:{v['room']}", "phone": v["phone"]}
            household = existing.get(v["room"])
            if household is None:
                session.add(models.Household(case_id=case_id, room=v["room"], **values))
                added += 1
            else:
                for key, value in values.items():
                    setattr(household, key, value)
                session.add(household)
                updated += 1
        append_event(session, case, at=business_time(at), actor=default_actor(actor), action="household.import",
                     from_stage=case.stage, to_stage=case.stage,
                     details={"file": path.name, "added": added, "updated": updated}, role=as_role)
    return ImportResult(added, updated, warnings)


def _shared_name_warnings(rows: list[tabular.Row]) -> list[str]:
    """Same owner name on several flats without an owner_key: probably one person, counted twice."""
    by_name: dict[str, list[str]] = {}
    for row in rows:
        if not row.values["owner_key"]:
            by_name.setdefault(row.values["owner"], []).append(row.values["room"])
    return [f"rooms {', '.join(rooms)} all name {name} and have no owner_key: they count as {len(rooms)} owners. "
            "If they are one person, give them the same owner_key so they count once"
            for name, rooms in by_name.items() if len(rooms) > 1]


def list_households(ws: Workspace, case_id: str) -> list[dict[str, Any]]:
    with ws.session() as session:
        get_case(session, case_id)
        records = load_records(session, case_id)
    ballots = current_ballots(records.ballots, None, records.evidence_from)
    out = []
    for h in sorted(records.households, key=lambda h: (h.floor, h.room)):
        ballot = ballots.get(h.id or -1)
        out.append({"room": h.room, "floor": h.floor, "area": f"{h.area_centi / 100:.2f}", "owner": h.owner,
                    "owner_key": h.owner_key, "phone": h.phone, "vote": ballot.choice if ballot else None})
    return out


# --- votes -----------------------------------------------------------------------------------------------

def _household(session: Session, case_id: str, room: str) -> models.Household:
    household = session.exec(select(models.Household).where(
        models.Household.case_id == case_id, models.Household.room == room)).first()
    if household is None:
        raise NotFoundError(f"case {case_id} has no room {room!r}: `eightstep household list {case_id}`")
    return household


def _set_ballot(session: Session, case_id: str, household: models.Household, choice: str,
                at: datetime) -> str | None:
    """Add a ballot (earlier ones stay, so a tally as of an earlier date is still right); return the
    household's previous choice."""
    earlier = list(session.exec(select(models.Ballot).where(models.Ballot.household_id == household.id)))
    since = get_case(session, case_id).evidence_from
    before = current_ballots(earlier, None, since).get(household.id or -1)
    session.add(models.Ballot(case_id=case_id, household_id=household.id or 0, choice=choice, cast_at=at,
                              recorded_at=now_utc()))
    return before.choice if before else None


def cast_vote(ws: Workspace, case_id: str, room: str, choice: str, *, at: datetime | None = None,
              actor: str | None = None, as_role: str | None = None) -> str | None:
    """Record a household's ballot (a later ballot replaces an earlier one); returns the previous choice."""
    if choice not in CHOICES:
        raise InputError(f"choice {choice!r}: use agree, oppose or abstain")
    at = business_time(at)
    with editing(ws, case_id) as (session, case, _loaded):
        household = _household(session, case_id, room)
        before = _set_ballot(session, case_id, household, choice, at)
        append_event(session, case, at=at, actor=default_actor(actor), action="vote.cast",
                     from_stage=case.stage, to_stage=case.stage,
                     details={"room": room, "choice": choice, "previous": before}, role=as_role)
    return before


def import_votes(ws: Workspace, case_id: str, path: Path, *, at: datetime | None = None,
                 actor: str | None = None, as_role: str | None = None) -> int:
    """Record ballots from CSV/xlsx (header: room, choice[, at]); all rows checked before anything is written."""
    rows = tabular.read_table(path, VOTE_COLUMNS)
    default_at = business_time(at)
    problems: list[str] = []
    parsed: list[tuple[str, str, datetime]] = []
    with ws.session() as session:
        get_case(session, case_id)
        rooms = {h.room for h in session.exec(select(models.Household).where(
            models.Household.case_id == case_id))}
    seen: set[str] = set()
    for row in rows:
        room = row.values["room"]
        if room not in rooms:
            problems.append(f"{path}:{row.line}: field 'room': case {case_id} has no room {room!r}")
        if room in seen:
            problems.append(f"{path}:{row.line}: field 'room': room {room!r} appears twice in the file")
        seen.add(room)
        when = default_at
        if row.values["at"]:
            try:
                when = parse_at(row.values["at"], field=f"{path}:{row.line}: field 'at'")
            except InputError as exc:
                problems.append(str(exc))
        parsed.append((room, row.values["choice"], when))
    if problems:
        raise InputError("\n".join(problems))
    if not parsed:
        raise InputError(f"{path}: no ballot rows below the header")
    with editing(ws, case_id) as (session, case, _loaded):
        for room, choice, when in parsed:
            _set_ballot(session, case_id, _household(session, case_id, room), choice, when)
        counts = {c: sum(1 for _, x, _ in parsed if x == c) for c in CHOICES}
        append_event(session, case, at=max(w for _, _, w in parsed), actor=default_actor(actor),
                     action="vote.import", from_stage=case.stage, to_stage=case.stage,
                     details={"file": path.name, "ballots": len(parsed), **counts}, role=as_role)
    return len(parsed)


def consent_rule(wf: Workflow) -> tuple[str, ConsentRule]:
    for stage in wf.stages:
        if stage.requires.consent is not None:
            return stage.id, stage.requires.consent
    raise InputError(f"workflow {wf.id} has no owner-consent requirement in any stage")


def vote_tally(ws: Workspace, case_id: str, at: datetime | None = None) -> Tally:
    """The tally under the case's own rule, as of ``at`` (default: every ballot recorded)."""
    with ws.session() as session:
        case = get_case(session, case_id)
        loaded = workflow_of(ws, session, case)
        records = load_records(session, case_id)
    _stage, rule = consent_rule(loaded.definition)
    if not records.households:
        raise InputError(f"case {case_id} has no households yet: `eightstep household import {case_id} FILE`")
    return tally(voters(records, at), rule)


# --- documents and approvals -----------------------------------------------------------------------------

def add_document(ws: Workspace, case_id: str, kind: str, path: Path, *, at: datetime | None = None,
                 number: str | None = None, issuer: str | None = None, actor: str | None = None,
                 as_role: str | None = None) -> models.Document:
    """Attach a file as a document of ``kind``: copied into the store by content hash, never referenced."""
    at = business_time(at)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with editing(ws, case_id) as (session, case, loaded):
        kinds = loaded.definition.documents
        if kind not in kinds:
            raise InputError(f"unknown document kind {kind!r} for workflow {loaded.id}; known: {', '.join(kinds)}")
        digest, size = ws.files.put(path)  # content-addressed: a rolled-back copy is harmless and reused
        doc = models.Document(case_id=case_id, kind=kind, stage=case.stage, issued_at=at,
                              issuer=issuer or loaded.definition.authorities[kinds[kind].issuer].title,
                              number=number, original_name=path.name, sha256=digest, size=size,
                              recorded_at=now_utc())
        session.add(doc)
        _note_upkeep(case, loaded.definition, kind, at)
        append_event(session, case, at=at, actor=default_actor(actor), action="doc.add", from_stage=case.stage,
                     to_stage=case.stage, role=as_role,
                     details={"kind": kind, "file": path.name, "sha256": digest, "number": number,
                              "issuer": doc.issuer})
        session.flush()
        return doc


def _note_upkeep(case: models.Case, wf: Workflow, kind: str, issued_at: datetime) -> None:
    """Keep the case's latest maintenance and inspection dates (``Case.maintained_at``, ``inspected_at``)."""
    if wf.upkeep is None:
        return
    for column, upkeep_kind in (("maintained_at", wf.upkeep.maintenance_document),
                                ("inspected_at", wf.upkeep.inspection_document)):
        latest = getattr(case, column)
        if kind == upkeep_kind and (latest is None or as_utc(latest) < issued_at):
            setattr(case, column, issued_at)


def add_approval(ws: Workspace, case_id: str, kind: str, *, authority: str, rejected: bool = False,
                 number: str | None = None, note: str | None = None, at: datetime | None = None,
                 actor: str | None = None, as_role: str | None = None) -> models.Approval:
    at = business_time(at)
    if not authority or not authority.strip():
        raise InputError("--authority must name who issued the approval, e.g. 江夏区行政审批局")
    with editing(ws, case_id) as (session, case, loaded):
        kinds = loaded.definition.approvals
        if kind not in kinds:
            raise InputError(f"unknown approval kind {kind!r} for workflow {loaded.id}; known: {', '.join(kinds)}")
        approval = models.Approval(case_id=case_id, kind=kind, authority=authority.strip(),
                                   decision="rejected" if rejected else "approved", decided_at=at, number=number,
                                   note=note, recorded_at=now_utc())
        session.add(approval)
        append_event(session, case, at=at, actor=default_actor(actor), action="approval.add",
                     from_stage=case.stage, to_stage=case.stage, role=as_role,
                     details={"kind": kind, "authority": approval.authority, "decision": approval.decision,
                              "number": number})
        session.flush()
        return approval


# --- objections ------------------------------------------------------------------------------------------

def add_objection(ws: Workspace, case_id: str, *, grounds: str, room: str | None = None,
                  objector: str | None = None, written: bool = True, real_name: bool = True,
                  at: datetime | None = None, actor: str | None = None,
                  as_role: str | None = None) -> models.Objection:
    """Register an objection (异议); returns it with its id."""
    if not grounds or not grounds.strip():
        raise InputError("--grounds must say what the objection is about (采光, 噪音, 费用, ...)")
    if not room and not objector:
        raise InputError("name the objector's room (--room) or the objector (--objector)")
    at = business_time(at)
    with editing(ws, case_id) as (session, case, _loaded):
        if room:
            _household(session, case_id, room)
        objection = models.Objection(case_id=case_id, room=room, objector=objector, grounds=grounds.strip(),
                                     written=written, real_name=real_name, stage=case.stage, lodged_at=at)
        session.add(objection)
        session.flush()
        append_event(session, case, at=at, actor=default_actor(actor), action="objection.add",
                     from_stage=case.stage, to_stage=case.stage, role=as_role,
                     details={"objection": objection.id, "room": room, "objector": objector,
                              "grounds": objection.grounds, "written": written, "real_name": real_name})
        return objection


def _objection(session: Session, case_id: str, objection_id: int) -> models.Objection:
    obj = session.get(models.Objection, objection_id)
    if obj is None or obj.case_id != case_id:
        raise NotFoundError(f"case {case_id} has no objection #{objection_id}: `eightstep objection list {case_id}`")
    return obj


def mediate_objection(ws: Workspace, case_id: str, objection_id: int, *, step: str, note: str,
                      at: datetime | None = None, actor: str | None = None,
                      as_role: str | None = None) -> models.MediationStep:
    """Record a step on the way to resolving an objection: negotiation, coordination, mediation, ..."""
    if step not in MEDIATION_STEPS:
        raise InputError(f"--step {step!r}: use one of {', '.join(MEDIATION_STEPS)}")
    if not note or not note.strip():
        raise InputError("--note must say what happened in this step")
    at = business_time(at)
    who = default_actor(actor)
    with editing(ws, case_id) as (session, case, _loaded):
        obj = _objection(session, case_id, objection_id)
        if obj.status != "open":
            raise InputError(f"objection #{objection_id} is already {obj.status}")
        if at < as_utc(obj.lodged_at):
            raise InputError(f"the step at {show(at)} would be before the objection was lodged ({show(obj.lodged_at)})")
        record = models.MediationStep(objection_id=objection_id, step=step, note=note.strip(), at=at, actor=who)
        session.add(record)
        append_event(session, case, at=at, actor=who, action="objection.mediate", from_stage=case.stage,
                     to_stage=case.stage, role=as_role,
                     details={"objection": objection_id, "step": step, "note": record.note})
        return record


def resolve_objection(ws: Workspace, case_id: str, objection_id: int, *, outcome: str,
                      at: datetime | None = None, actor: str | None = None,
                      as_role: str | None = None) -> models.Objection:
    if not outcome or not outcome.strip():
        raise InputError("--outcome must say how the objection was resolved")
    at = business_time(at)
    with editing(ws, case_id) as (session, case, _loaded):
        obj = _objection(session, case_id, objection_id)
        if obj.status != "open":
            raise InputError(f"objection #{objection_id} is already {obj.status}")
        if at < as_utc(obj.lodged_at):
            raise InputError(f"resolving at {show(at)} would be before the objection was lodged "
                             f"({show(obj.lodged_at)})")
        obj.status, obj.outcome, obj.resolved_at = "resolved", outcome.strip(), at
        session.add(obj)
        append_event(session, case, at=at, actor=default_actor(actor), action="objection.resolve",
                     from_stage=case.stage, to_stage=case.stage, role=as_role,
                     details={"objection": objection_id, "outcome": obj.outcome})
        return obj


def list_objections(ws: Workspace, case_id: str) -> list[dict[str, Any]]:
    with ws.session() as session:
        get_case(session, case_id)
        objections = list(session.exec(select(models.Objection).where(models.Objection.case_id == case_id)
                                       .order_by(models.Objection.id)))
        steps = list(session.exec(select(models.MediationStep).where(
            models.MediationStep.objection_id.in_([o.id for o in objections]))  # type: ignore[union-attr]
            .order_by(models.MediationStep.at)))
    return [{"id": o.id, "room": o.room, "objector": o.objector, "grounds": o.grounds, "written": o.written,
             "real_name": o.real_name, "status": o.status, "lodged_at": as_utc(o.lodged_at),
             "outcome": o.outcome, "resolved_at": o.resolved_at and as_utc(o.resolved_at),
             "steps": [{"step": s.step, "note": s.note, "at": as_utc(s.at), "actor": s.actor}
                       for s in steps if s.objection_id == o.id]}
            for o in objections]


def consent_records(ws: Workspace, case_id: str) -> list[dict[str, Any]]:
    with ws.session() as session:
        rows = session.exec(select(models.ConsentRecord).where(models.ConsentRecord.case_id == case_id)
                            .order_by(models.ConsentRecord.id))
        return [{"stage": r.stage, "at": as_utc(r.at), "rule": json.loads(r.rule), "tally": json.loads(r.tally)}
                for r in rows]

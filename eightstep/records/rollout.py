"""From the pilot to the whole complex (以点扩面): open the sibling units' cases in one go.

Each new case starts at the first stage of the pilot's workflow (its current version) and gets the pilot's
chosen scheme as a proposal, with the pilot's cost-share rule attached, for its own owners to vote on again.
Nothing else is carried: no households, ballots, signed documents, roles or funding.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from eightstep.engine.cases import CASE_ID, default_actor, get_case, new_case, opening_details, snapshot, workflow_of
from eightstep.engine.recording import record_in
from eightstep.errors import InputError, NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.records.funding import load_agreed
from eightstep.records.schemes import SchemeView, current_choice, load_schemes
from eightstep.rules.money import yuan_plain
from eightstep.store import models
from eightstep.store.models import WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.timeutil import business_time, local_date
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workflow.schema import CostSharing

_UNIT = re.compile(r"^([^\s,，\-]+)-([^\s,，\-]+)$")


def parse_units(text: str) -> list[tuple[str, str]]:
    """``"1-1,1-2, 4-2"`` -> [("1", "1"), ("1", "2"), ("4", "2")]: building-unit pairs, in the order given."""
    tokens = [t for t in re.split(r"[,，\s]+", text.strip()) if t]
    if not tokens:
        raise InputError(_("name the units as BUILDING-UNIT, e.g. 1-1,1-2,4-2"), field="units")
    out = []
    for token in tokens:
        match = _UNIT.match(token)
        if match is None:
            raise InputError(_("{token!r} is not BUILDING-UNIT (e.g. 1-2 for 1栋2单元)").format(
                                 token=token), field="units")
        pair = (match.group(1), match.group(2))
        if pair in out:
            raise InputError(_("{token} is named twice").format(token=token), field="units")
        out.append(pair)
    return out


def sibling_id(pilot_id: str, building: str, unit: str, new_building: str, new_unit: str) -> str:
    """The pilot's id pattern with another building and unit: RD-3-2 -> RD-1-1 (else PREFIX-B-U)."""
    b, u = re.escape(building), re.escape(unit)
    match = re.fullmatch(rf"(.*)(?<![0-9]){b}(?![0-9])(.*?)(?<![0-9]){u}(?![0-9])(.*)", pilot_id)
    if match:
        return f"{match.group(1)}{new_building}{match.group(2)}{new_unit}{match.group(3)}"
    prefix = re.match(r"[A-Za-z]+", pilot_id)
    return f"{prefix.group(0) if prefix else 'U'}-{new_building}-{new_unit}"


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 30, text)


def share_rule(sharing: CostSharing, agreed: dict[str, Any] | None) -> dict[str, Any]:
    """The pilot's cost-share rule as plain data (coefficients as text, exact)."""
    return {"method": sharing.method, "exempt_floors": list(sharing.exempt_floors),
            "coefficients": {str(f): str(c) for f, c in sorted(sharing.coefficients.items())},
            "maintenance": sharing.maintenance, "agreed": agreed or None}


@dataclass(frozen=True)
class Opened:
    case_id: str
    building: str
    unit: str
    scheme_id: int | None  # the proposal's id in the new case

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "building": self.building, "unit": self.unit, "scheme": self.scheme_id}


@dataclass(frozen=True)
class RolloutResult:
    complex: str
    pilot: str
    at: datetime
    workflow: dict[str, str]
    opened: list[Opened]
    scheme: SchemeView | None  # the pilot's chosen scheme, carried as a proposal
    share_rule: dict[str, Any]
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"complex": self.complex, "from": self.pilot, "at": self.at, "workflow": self.workflow,
                "opened": [o.as_dict() for o in self.opened],
                "scheme": self.scheme.as_dict() if self.scheme else None, "share_rule": self.share_rule,
                "notes": self.notes}


def _units_to_open(cases: list[models.Case], units: list[tuple[str, str]] | None,
                   complex_name: str) -> list[tuple[str, str]]:
    active = {(c.building, c.unit): c.id for c in cases if c.status != WITHDRAWN}
    if units is None:  # every unit of the complex's buildings that has no active case
        buildings = sorted({c.building for c in cases}, key=_natural)
        numbers = sorted({c.unit for c in cases}, key=_natural)
        units = [(b, u) for b in buildings for u in numbers if (b, u) not in active]
        if not units:
            raise InputError(_("{complex}: every unit known from its cases has an active case; name the units to "
                               "open, e.g. 1-1,1-2").format(complex=complex_name), field="units")
        return units
    busy = [f"{b}-{u} ({active[(b, u)]})" for b, u in units if (b, u) in active]
    if busy:
        raise InputError(_("{complex}: unit(s) {busy} already have an active case; nothing was opened. Leave them "
                           "out (or withdraw a case to start it again)").format(
                             complex=complex_name, busy=", ".join(busy)), field="units")
    return units


def rollout(ws: Workspace, complex_name: str, *, from_case: str, units: list[tuple[str, str]] | None = None,
            at: datetime | None = None, actor: str | None = None, as_role: str | None = None) -> RolloutResult:
    """Open a case for each unit (one transaction: all or none; one "open" event per new case)."""
    at = business_time(at)
    who = default_actor(actor)
    with ws.writing() as session:
        cx = session.exec(select(models.Complex).where(models.Complex.name == complex_name)).first()
        if cx is None:
            raise NotFoundError(_("no complex named {complex!r}").format(complex=complex_name),
                                remedy=Remedy("case.list"))
        pilot = get_case(session, from_case)
        if pilot.complex_id != cx.id:
            raise InputError(_("case {from_case} is not in {complex}").format(
                                 from_case=from_case, complex=complex_name))
        cases = list(session.exec(select(models.Case).where(models.Case.complex_id == cx.id)))
        todo = _units_to_open(cases, units, complex_name)
        ids = [sibling_id(pilot.id, pilot.building, pilot.unit, b, u) for b, u in todo]
        bad = [i for i in ids if not CASE_ID.match(i)]
        taken = [i for i in ids if session.get(models.Case, i) is not None]
        if bad or taken or len(set(ids)) != len(ids):
            raise InputError(_("cannot name the new cases after {pilot}: {ids} ({why}); nothing was opened").format(
                pilot=pilot.id, ids=", ".join(bad + taken) or _("two units get the same id"),
                why=_("invalid") if bad else _("already taken") if taken else _("duplicate")))
        loaded = ws.workflows.in_force(pilot.workflow_id, local_date(at))  # the rules of the opening day
        snapshot(session, loaded)
        sharing = workflow_of(ws, session, pilot).definition.cost_sharing
        agreed, _upkeep = load_agreed(session, pilot.id)
        rule = share_rule(sharing, {room: str(w) for room, w in agreed.items()})
        scheme = _chosen(session, pilot.id)
        notes = [] if scheme else [_("{pilot} has no chosen scheme yet: no scheme was carried").format(
            pilot=pilot.id)]
        if loaded.definition.cost_sharing != sharing:
            notes.append(_("the current {workflow} {version} shares costs differently from {pilot}'s version "
                           "{pilot_version}: the pilot's rule is carried as a proposal only").format(
                workflow=loaded.id, version=loaded.version, pilot=pilot.id, pilot_version=pilot.workflow_version))
        opened = [_open(session, pilot, loaded, cx, case_id, b, u, scheme, rule, at, who, as_role)
                  for case_id, (b, u) in zip(ids, todo, strict=True)]
    return RolloutResult(complex_name, pilot.id, at, {"id": loaded.id, "version": loaded.version}, opened,
                         scheme, rule, notes)


def _chosen(session: Session, case_id: str) -> SchemeView | None:
    choice = current_choice(session, case_id)
    if choice is None:
        return None
    return next(s for s in load_schemes(session, case_id) if s.id == choice.scheme_id)


def _open(session: Session, pilot: models.Case, loaded: LoadedWorkflow, cx: models.Complex, case_id: str,
          building: str, unit: str, scheme: SchemeView | None, rule: dict[str, Any], at: datetime, who: str,
          as_role: str | None) -> Opened:
    case = new_case(session, loaded, cx, case_id, building, unit, at)
    with record_in(session, case, loaded, "open", at=at, actor=who, as_role=as_role) as rec:
        rec.from_stage = None
        proposal = None
        if scheme is not None:
            proposal = rec.add(models.Scheme(
                case_id=case_id, company=scheme.company, price_fen=scheme.price, entry=scheme.entry,
                duration_days=scheme.duration_days, load_kg=scheme.load_kg, speed_cms=scheme.speed_cms,
                stops=scheme.stops, note=scheme.note, file_name=scheme.file_name,
                file_sha256=scheme.file_sha256, proposed_from=pilot.id,
                share_rule=json.dumps(rule, ensure_ascii=False, sort_keys=True), added_at=at), with_id=True)
        carried = None if proposal is None else {"scheme": proposal.id, "company": scheme.company if scheme else None,
                                                 "price": yuan_plain(proposal.price_fen)}
        rec.details = {**opening_details(cx, case),
                       "rollout": {"from": pilot.id, "proposal": carried, "share_rule": rule}}
    return Opened(case_id, building, unit, proposal.id if proposal else None)

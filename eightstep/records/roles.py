"""The register of the people and organisations a case names, and the roles they hold (退 and the papers).

One register per case (issue 14): a person or organisation is recorded once, by name, with how to reach them
(``case_people``); the roles they hold are dated rows (``case_roles``): the owner representative, the negotiation
group with each member's side, the self-management group and the duty rota, and the parties the papers name (the
agent, the use-management unit, the property company, the design unit, ...). ``role add`` and ``forms party``
both record here: naming the owner representative's name as the agent names the same person, with the phone on
record. A role held by one at a time (``eightstep.roles``) passes to whoever is named next; the earlier holder's
term ends then (``until``) and stays on record. ``role rota`` records how the duty rota turns.

The history keeps who holds which role, not their phone or ID number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from eightstep.engine.actors import ACTOR_ROLES, MAX_ROLE_TEXT, acting_role, recorded_role
from eightstep.engine.cases import get_case
from eightstep.engine.recording import Recording, households_of, recording
from eightstep.errors import InputError, NotFoundError
from eightstep.i18n import _
from eightstep.records import tabular
from eightstep.records.views import PARTY_ROLES, RoleView, view
from eightstep.roles import ONE, ROLES, ROTA_EVERY, SIDES
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import now_utc

__all__ = ["ACTOR_ROLES", "MAX_ROLE_TEXT", "PARTY_ROLES", "ROLES", "SIDES", "RoleList", "RoleView", "acting_role",
           "add_role", "list_roles", "recorded_role", "set_contact", "set_rota", "view"]

_ID_NUMBER = re.compile(r"^(\d{17}[\dX]|\d{15})$")
CONTACT = ("phone", "id_number", "address")


def parse_id_number(text: str) -> str:
    value = text.strip().upper()
    if not _ID_NUMBER.match(value):
        raise InputError(_("{value!r} is not a resident ID number (18 characters: 17 digits and a digit or X)")
                         .format(value=text), field="id_number")
    return value


def _contact(phone: str | None, id_number: str | None, address: str | None) -> dict[str, str]:
    """The contact details given, checked (blank ones left out)."""
    out: dict[str, str] = {}
    if phone and phone.strip():
        try:
            out["phone"] = tabular.parse_phone(phone)
        except ValueError as exc:
            raise InputError(str(exc), field="phone") from None
    if id_number and id_number.strip():
        out["id_number"] = parse_id_number(id_number)
    if address and address.strip():
        out["address"] = address.strip()
    return out


def _check(role: str, side: str | None, room: str | None) -> None:
    if role not in ROLES:
        known = "; ".join(f"{k} ({v.title})" for k, v in ROLES.items())
        raise InputError(_("unknown role {role!r}; use one of: {known}").format(
                             role=role, known=known))
    if role == "negotiator" and side is None:
        raise InputError(_("a negotiation-group member needs a side: {sides}").format(sides=", ".join(SIDES)),
                         field="side")
    if side is not None:
        if role != "negotiator":
            raise InputError(_("is for negotiation-group members (role negotiator) only"), field="side")
        if side not in SIDES:
            raise InputError(_("{side!r}: use one of {sides}").format(
                                 side=side, sides=', '.join(SIDES)), field="side")
    if role == "duty_rota" and not room:
        raise InputError(_("a duty rota member is drawn from a household: give the room"), field="room")


def _person(rec: Recording, name: str, details: dict[str, str]) -> tuple[models.CasePerson, list[str]]:
    """The person ``name`` of the register (recorded on first sight) with ``details`` set; the fields changed."""
    person = rec.session.exec(select(models.CasePerson).where(
        models.CasePerson.case_id == rec.case_id, models.CasePerson.name == name)).first()
    if person is None:  # new: nothing of theirs changed
        return rec.add(models.CasePerson(case_id=rec.case_id, name=name, recorded_at=now_utc(), **details),
                       with_id=True), []
    changed = sorted(k for k, v in details.items() if getattr(person, k) != v)
    if changed:
        rec.change(person, **{k: details[k] for k in changed})
    return person, changed


def _held(session: Session, case_id: str, role: str) -> list[models.CaseRole]:
    return list(session.exec(select(models.CaseRole).where(
        models.CaseRole.case_id == case_id, models.CaseRole.role == role, models.CaseRole.until.is_(None),
        models.not_voided(models.CaseRole.__table__))))


def _one_turn(rec: Recording, room: str) -> None:
    """An owner of several flats takes one turn of the duty rota."""
    household = rec.household(room)
    rooms = {h.room for h in rec.session.exec(select(models.Household).where(
        models.Household.case_id == rec.case_id, models.Household.owner_key == household.owner_key))}
    taken = [r for r in _held(rec.session, rec.case_id, "duty_rota") if r.room in rooms]
    if taken:
        raise InputError(_("the owner of room {room} already takes a turn of the duty rota (room {other}, {name}): "
                           "an owner of several flats takes one turn").format(room=room, other=taken[0].room,
                                                                              name=taken[0].name))


def add_role(ws: Workspace, case_id: str, role: str, name: str, *, room: str | None = None,
             side: str | None = None, phone: str | None = None, id_number: str | None = None,
             address: str | None = None, note: str | None = None, at: datetime | None = None,
             actor: str | None = None, as_role: str | None = None) -> RoleView:
    """Name ``name`` to ``role`` in the case (one transaction, one event ``role.add``).

    The person is recorded once per case: contact details given are kept on their one record (a later role of
    the same name finds them). A role held by one at a time passes from its earlier holder; naming the current
    holder again only updates their contact details.
    """
    name = (name or "").strip()
    if not name:
        raise InputError(_("must not be empty"), field="name")
    room = room.strip() if room and room.strip() else None
    _check(role, side, room)
    details = _contact(phone, id_number, address)
    with recording(ws, case_id, "role.add", at=at, actor=actor, as_role=as_role) as rec:
        if room is not None:
            rec.household(room)
        current = _held(rec.session, case_id, role)
        person, changed = _person(rec, name, details)
        mine = [r for r in current if r.person_id == person.id and r.side == side]
        if mine and (changed or ROLES[role].holders == ONE):
            row = mine[0]  # the holder again: their contact details, nothing else, change
            rec.details = {"role_id": row.id, "member_role": role, "name": name, "contact": changed}
            return view(row, person)  # (the recording ends with its event as the block is left)
        if mine:
            raise InputError(_("{name} is already {title} ({role}) of case {case}").format(
                name=name, title=ROLES[role].title, role=role, case=case_id))
        if role == "duty_rota" and room is not None:
            _one_turn(rec, room)
        previous = None
        if ROLES[role].holders == ONE:
            for old in current:  # the role passes: the earlier holder's term ends now
                rec.change(old, until=rec.at)
                previous = old.name
        row = rec.add(models.CaseRole(case_id=case_id, role=role, person_id=person.id or 0, name=name, room=room,
                                      side=side, note=note.strip() if note and note.strip() else None,
                                      since=rec.at, recorded_at=now_utc()), with_id=True)
        rec.details = {"role_id": row.id, "member_role": role, "name": name, "room": room, "side": side}
        if previous is not None:
            rec.details["previous"] = previous
        if changed:
            rec.details["contact"] = changed
        return view(row, person)


def set_contact(ws: Workspace, case_id: str, name: str, *, phone: str | None = None, id_number: str | None = None,
                address: str | None = None, at: datetime | None = None, actor: str | None = None,
                as_role: str | None = None) -> list[str]:
    """Record how to reach someone of the register (``role contact``); returns the fields changed."""
    details = _contact(phone, id_number, address)
    if not details:
        raise InputError(_("give a phone number, an ID number or an address"))
    with recording(ws, case_id, "role.contact", at=at, actor=actor, as_role=as_role) as rec:
        person = rec.session.exec(select(models.CasePerson).where(
            models.CasePerson.case_id == case_id, models.CasePerson.name == name.strip())).first()
        if person is None:
            raise NotFoundError(_("case {case} names nobody called {name}").format(case=case_id, name=name))
        changed = _person(rec, person.name, details)[1]
        rec.details = {"name": person.name, "contact": changed}
    return changed


def set_rota(ws: Workspace, case_id: str, *, every: str, starts_on: date, at: datetime | None = None,
             actor: str | None = None, as_role: str | None = None) -> models.RotaPlan:
    """Record how the duty rota turns (``role rota``): one member each week or month from ``starts_on``, in the
    order the members were named. A later plan replaces an earlier one from its own date."""
    if every not in ROTA_EVERY:
        raise InputError(_("{every!r}: use week or month").format(every=every), field="every")
    with recording(ws, case_id, "role.rota", at=at, actor=actor, as_role=as_role) as rec:
        plan = rec.add(models.RotaPlan(case_id=case_id, every=every, starts_on=starts_on, at=rec.at,
                                       recorded_at=now_utc()))
        rec.details = {"every": every, "starts_on": starts_on.isoformat()}
    return plan


@dataclass(frozen=True)
class RoleList:
    roles: list[RoleView]
    households: int
    rota_rooms: list[str]  # rooms whose owner has a duty rota member
    rota_missing: list[str]  # rooms whose owner has none

    def as_dict(self) -> dict[str, Any]:
        return {"roles": [r.as_dict() for r in self.roles],
                "duty_rota": {"households": self.households, "covered": self.rota_rooms,
                              "missing": self.rota_missing}}


def load_roles(session: Session, case_id: str) -> list[RoleView]:
    """Every role of the case with its holder's record, by role then when named (ended terms included)."""
    rows = session.exec(select(models.CaseRole, models.CasePerson).where(
        models.CaseRole.case_id == case_id, models.CasePerson.id == models.CaseRole.person_id)).all()
    order = list(ROLES)
    return sorted((view(r, p) for r, p in rows),
                  key=lambda v: (order.index(v.role) if v.role in order else len(order), v.since, v.id))


def list_roles(ws: Workspace, case_id: str) -> RoleList:
    """Every role of the case; and which households the duty rota covers (an owner of several flats covers them
    all)."""
    with ws.session() as session:
        get_case(session, case_id)
        views = load_roles(session, case_id)
        households = households_of(session, case_id)
    owner_of = {h.room: h.owner_key for h in households}
    on_rota = {owner_of[v.room] for v in views if v.role == "duty_rota" and v.until is None and v.room in owner_of}
    rooms = [h.room for h in sorted(households, key=lambda h: (h.floor, h.room))]
    covered = [r for r in rooms if owner_of[r] in on_rota]
    return RoleList(views, len(rooms), covered, [r for r in rooms if owner_of[r] not in on_rota])



"""Who does what in a case (退): owner representative, agent, the negotiation group with its sides, the elevator
self-management group and its duty rota. The role an actor acts in, for the history, is ``eightstep.engine.actors``
(its names are re-exported here).

A member may hold several roles (the owner representative often sits in the negotiation group too). Roles are
added, not edited: the history keeps who was named when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from eightstep.engine.actors import ACTOR_ROLES, MAX_ROLE_TEXT, ROLES, acting_role, recorded_role
from eightstep.engine.cases import get_case
from eightstep.engine.recording import households_of, recording
from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.records import tabular
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, now_utc

__all__ = ["ACTOR_ROLES", "MAX_ROLE_TEXT", "ROLES", "SIDES", "RoleList", "RoleView", "acting_role", "add_role",
           "list_roles", "recorded_role"]

SIDES: dict[str, tuple[str, str]] = {
    "high_floor": ("高层业主", "high-floor owners"),
    "low_floor": ("低层业主", "low-floor owners"),
    "community": ("社区", "community"),
    "technician": ("技术人员", "technician"),
}


@dataclass(frozen=True)
class RoleView:
    id: int
    role: str
    name: str
    room: str | None
    side: str | None
    phone: str | None
    note: str | None
    since: datetime

    @property
    def title(self) -> str:
        title = ROLES[self.role][0] if self.role in ROLES else self.role
        return f"{title}（{SIDES[self.side][0]}）" if self.side in SIDES else title

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "title": self.title, "name": self.name, "room": self.room,
                "side": self.side, "phone": self.phone, "note": self.note, "since": self.since}


def _view(row: models.CaseRole) -> RoleView:
    return RoleView(row.id or 0, row.role, row.name, row.room, row.side, row.phone, row.note, as_utc(row.since))


def _check(role: str, side: str | None, room: str | None) -> None:
    if role not in ROLES:
        known = "; ".join(f"{k} ({v[0]})" for k, v in ROLES.items())
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


def add_role(ws: Workspace, case_id: str, role: str, name: str, *, room: str | None = None,
             side: str | None = None, phone: str | None = None, note: str | None = None,
             at: datetime | None = None, actor: str | None = None, as_role: str | None = None) -> RoleView:
    """Name someone to a role in the case (one transaction, one event)."""
    name = (name or "").strip()
    if not name:
        raise InputError(_("must not be empty"), field="name")
    room = room.strip() if room and room.strip() else None
    _check(role, side, room)
    if phone:
        try:
            phone = tabular.parse_phone(phone)
        except ValueError as exc:
            raise InputError(str(exc), field="phone") from None
    with recording(ws, case_id, "role.add", at=at, actor=actor, as_role=as_role) as rec:
        if room is not None:
            rec.household(room)
        same = rec.session.exec(select(models.CaseRole).where(
            models.CaseRole.case_id == case_id, models.CaseRole.role == role, models.CaseRole.name == name,
            models.not_voided(models.CaseRole.__table__))).all()
        if any(r.side == side for r in same):
            raise InputError(_("{name} is already {title} ({role}) of case {case}").format(
                                 name=name, title=ROLES[role][0], role=role, case=case_id))
        row = rec.add(models.CaseRole(case_id=case_id, role=role, name=name, room=room, side=side,
                                      phone=phone or None, note=note.strip() if note and note.strip() else None,
                                      since=rec.at, recorded_at=now_utc()), with_id=True)
        # The history keeps who holds which role, not their phone number.
        rec.details = {"role_id": row.id, "member_role": role, "name": name, "room": room, "side": side}
    return _view(row)


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


def list_roles(ws: Workspace, case_id: str) -> RoleList:
    """Every role of the case, by role then when named; and which households the duty rota covers (an owner of
    several flats covers them all)."""
    with ws.session() as session:
        get_case(session, case_id)
        rows = session.exec(select(models.CaseRole).where(
            models.CaseRole.case_id == case_id, models.not_voided(models.CaseRole.__table__))).all()
        households = households_of(session, case_id)
    order = list(ROLES)
    views = sorted((_view(r) for r in rows), key=lambda v: (order.index(v.role), v.since, v.id))
    owner_of = {h.room: h.owner_key for h in households}
    on_rota = {owner_of[v.room] for v in views if v.role == "duty_rota" and v.room in owner_of}
    rooms = [h.room for h in sorted(households, key=lambda h: (h.floor, h.room))]
    covered = [r for r in rooms if owner_of[r] in on_rota]
    return RoleList(views, len(rooms), covered, [r for r in rooms if owner_of[r] not in on_rota])

"""Who the paperwork names besides the owners: the agent, the use-management unit, the property company, ...

One party per role and case; setting a role again replaces it (the event log keeps the earlier one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from eightstep.engine.cases import get_case
from eightstep.engine.recording import recording
from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.paperwork.roles import ROLES
from eightstep.records import tabular
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import now_utc

_ID_NUMBER = re.compile(r"^(\d{17}[\dX]|\d{15})$")


@dataclass(frozen=True)
class Party:
    role: str
    role_title: str
    name: str
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"role": self.role, "role_title": self.role_title, "name": self.name, "phone": self.phone,
                "id_number": self.id_number, "address": self.address}


def party_of(row: models.CaseParty) -> Party:
    return Party(row.role, ROLES.get(row.role, (row.role, ""))[0], row.name, row.phone, row.id_number, row.address)


def _check_role(role: str) -> None:
    if role not in ROLES:
        known = "; ".join(f"{k} ({v[0]})" for k, v in ROLES.items())
        raise InputError(_("unknown party role {role!r}; use one of: {known}").format(
                             role=role, known=known))


def parse_id_number(text: str) -> str:
    value = text.strip().upper()
    if not _ID_NUMBER.match(value):
        raise InputError(_("{text!r} is not a resident ID number (18 characters: 17 digits and a digit or X)").format(
                             text=text), field="id_number")
    return value


def set_party(ws: Workspace, case_id: str, role: str, *, name: str, phone: str | None = None,
              id_number: str | None = None, address: str | None = None, at: datetime | None = None,
              actor: str | None = None, as_role: str | None = None) -> Party:
    """Name the party of ``role`` for the case's forms (replacing an earlier one), logged as ``party.set``;
    ``as_role``: the role the actor acts in (``--as``; default: the actor's role on record in the case)."""
    _check_role(role)
    if not name or not name.strip():
        raise InputError(_("must not be empty"), field="name")
    if phone:
        try:
            phone = tabular.parse_phone(phone)
        except ValueError as exc:
            raise InputError(str(exc), field="phone") from None
    id_number = parse_id_number(id_number) if id_number else None
    with recording(ws, case_id, "party.set", at=at, actor=actor, as_role=as_role) as rec:
        row = rec.session.exec(select(models.CaseParty).where(models.CaseParty.case_id == case_id,
                                                              models.CaseParty.role == role)).first()
        before = party_of(row).name if row and row.voided_at is None else None
        row = rec.change(row or models.CaseParty(case_id=case_id, role=role, name=""), name=name.strip(),
                         phone=phone or None, id_number=id_number,
                         address=address.strip() if address and address.strip() else None, recorded_at=now_utc(),
                         voided_at=None, void_reason=None)  # set again after a void: named anew
        # The history keeps who was named, not their phone or ID number.
        rec.details = {"role": role, "name": name.strip(), "previous": before}
    return party_of(row)


def load_parties(session: Session, case_id: str) -> dict[str, Party]:
    rows = session.exec(select(models.CaseParty).where(models.CaseParty.case_id == case_id,
                                                       models.not_voided(models.CaseParty.__table__)))
    return {r.role: party_of(r) for r in rows}


def list_parties(ws: Workspace, case_id: str) -> list[Party]:
    with ws.session() as session:
        get_case(session, case_id)
        parties = load_parties(session, case_id)
    return [parties[r] for r in ROLES if r in parties]

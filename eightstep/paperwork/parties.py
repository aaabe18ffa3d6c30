"""Who the paperwork names besides the owners: the agent, the use-management unit, the property company, ...

They are the case's register (``eightstep.records.roles``): ``forms party`` names someone to a role held by one
at a time, exactly as ``role add`` does, so a person named both ways is one person with one phone. The agent the
forms name is the one named as agent, else the owner representative.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from eightstep.records.views import PARTY_ROLES, RoleView
from eightstep.timeutil import now_utc

if TYPE_CHECKING:
    from eightstep.store.workspace import Workspace

Party = RoleView  # what a form prints of a named person or organisation


def set_party(ws: Workspace, case_id: str, role: str, *, name: str, phone: str | None = None,
              id_number: str | None = None, address: str | None = None, at: datetime | None = None,
              actor: str | None = None, as_role: str | None = None) -> Party:
    """Name the party of ``role`` for the case's forms (``forms party``): ``role add`` for a role held by one."""
    from eightstep.records.roles import add_role  # recording: the ORM (the forms read without it)

    if role not in PARTY_ROLES:
        from eightstep.errors import InputError
        from eightstep.i18n import _

        raise InputError(_("unknown party role {role!r}; use one of: {known}").format(
            role=role, known=", ".join(PARTY_ROLES)))
    return add_role(ws, case_id, role, name, phone=phone, id_number=id_number, address=address, at=at,
                    actor=actor, as_role=as_role)


def current(views: list[RoleView], role: str, when: datetime) -> RoleView | None:
    """Who holds ``role`` at ``when`` (the agent: the one named as agent, else the latest owner representative)."""
    held = [v for v in views if v.role == role and v.held_at(when)]
    if held:
        return held[-1]
    if role == "agent":
        reps = [v for v in views if v.role == "owner_rep" and v.held_at(when)]
        return replace(reps[-1], role="agent") if reps else None
    return None


def list_parties(ws: Workspace, case_id: str) -> list[Party]:
    """The parties the forms name now, one per role."""
    from eightstep.engine.cases import get_case
    from eightstep.records.roles import load_roles

    with ws.session() as session:
        get_case(session, case_id)
        views = load_roles(session, case_id)
    now = now_utc()
    found = [current(views, role, now) for role in PARTY_ROLES]
    return [p for p in found if p is not None]
